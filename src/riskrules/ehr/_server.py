"""Running the service under uvicorn with the site's connection limits.

uvicorn closes idle keep-alive connections, but a connection that never sends a complete
request head (half-open, or sending it byte by byte) stays open. :func:`uvicorn_config` uses
an HTTP/1.1 protocol that closes such connections after ``header_timeout`` seconds, answers
503 beyond ``max_connections`` open connections (uvicorn's ``limit_concurrency``), and keeps
uvicorn's access log off (it would log paths and clients). uvicorn's own messages go through
the application's logging configuration.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from riskrules.ehr._serviceconfig import ServiceConfig
from riskrules.errors import ConfigError

__all__ = ["check_host", "uvicorn_config"]


class _HeadTimeoutProtocol(H11Protocol):
    """h11 protocol that drops a connection whose request head is not in within a deadline."""

    head_timeout: float = 10.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        if not self.transport.is_closing():
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()


def _protocol(head_timeout: float) -> type[H11Protocol]:
    return type("HeadTimeoutProtocol", (_HeadTimeoutProtocol,), {"head_timeout": head_timeout})


def check_host(host: str, *, insecure_dev: bool) -> None:
    """Refuse to serve without authentication anywhere but on a loopback address."""
    if not insecure_dev:
        return
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"--insecure-dev serves without authentication: only on a loopback host, not {host!r}"
        )


def uvicorn_config(
    app: Any, config: ServiceConfig, *, host: str, port: int, log_level: str = "info"
) -> uvicorn.Config:
    """The uvicorn configuration that applies ``config``'s timeouts and connection limit."""
    check_host(host, insecure_dev=config.insecure_dev)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=_protocol(config.header_timeout),
        limit_concurrency=config.max_connections,
        timeout_keep_alive=max(1, round(config.keep_alive_timeout)),
        access_log=False,
        log_config=None,  # the application's logging configuration applies
        lifespan="off",
        log_level=log_level,
    )
