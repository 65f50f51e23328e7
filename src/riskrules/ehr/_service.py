"""A CDS Hooks service (ASGI, Starlette): EHR hook calls in, riskrules cards out.

Needs the ``service`` extra (``pip install riskrules[service]``). Endpoints (CDS Hooks 2.0):

- ``GET /cds-services``: discovery; one service, :data:`SERVICE_ID`, listed once per hook it
  answers (``patient-view``, ``encounter-start``).
- ``POST /cds-services/{id}``: the hook call; the assessment comes from ``prefetch``
  (:mod:`riskrules.ehr._prefetch`) -> ``{"cards": [...]}``.
- ``POST /cds-services/{id}/feedback``: outcomes on the cards, checked and audited
  (:mod:`riskrules.ehr._feedback`).

Tokens are checked by :mod:`riskrules.ehr._auth`, configuration is
:mod:`riskrules.ehr._serviceconfig`, and the server limits are :mod:`riskrules.ehr._server`.
Scoring and feedback recording run in a thread pool, off the event loop. Every rejection is a
4xx JSON body ``{"error": ...}``. Logs name the service, the ruleset fingerprint, levels and
status codes, never values or identifiers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from riskrules.ehr._auth import Authenticator
from riskrules.ehr._feedback import FeedbackRecorder
from riskrules.ehr._hook import HookHandler, site_mappings
from riskrules.ehr._replay import LocalReplayStore, ReplayStore, SqliteReplayStore
from riskrules.ehr._serviceconfig import HOOKS, ServiceConfig
from riskrules.errors import ConfigError, ServiceRequestError
from riskrules.scoring._scorer import Scorer

__all__ = ["MAX_DEPTH", "SERVICE_ID", "create_app", "discovery_document"]

log = logging.getLogger("riskrules.service")

SERVICE_ID = "riskrules-occupational-risk"
"""The id of the one CDS service."""
MAX_DEPTH = 64
"""Deepest JSON nesting accepted in a request body."""
PREFETCH_TEMPLATE = "QuestionnaireResponse?patient={{context.patientId}}&status=completed,amended"
"""The prefetch query: ``patient`` is the search parameter US Core servers must support."""

_T = TypeVar("_T")


def discovery_document() -> dict[str, Any]:
    """The discovery response: the service once per hook (same id, as the spec allows)."""
    description = (
        "Explainable screening of occupational risks in mental-health practice: one card per "
        "hazard at moderate or above, and one for hazards not ruled out. Decision support, "
        "not a diagnosis."
    )
    return {
        "services": [
            {
                "id": SERVICE_ID,
                "hook": hook,
                "title": "riskrules occupational risk",
                "description": description,
                "prefetch": {"questionnaireResponses": PREFETCH_TEMPLATE},
                "usageRequirements": (
                    "Prefetch 'questionnaireResponses' (a searchset Bundle of "
                    "QuestionnaireResponse) or 'assessment' (an assessment object)."
                ),
            }
            for hook in HOOKS
        ]
    }


def _depth_within(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list) and depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _parse_json(raw: bytes) -> Any:
    def constant(name: str) -> object:
        raise ValueError(name)

    try:
        data = json.loads(raw, parse_constant=constant)
    except (ValueError, RecursionError):
        raise ServiceRequestError(400, "request body is not valid JSON") from None
    if not _depth_within(data, MAX_DEPTH):
        raise ServiceRequestError(400, f"request body is nested deeper than {MAX_DEPTH} levels")
    return data


def _replay_store(config: ServiceConfig) -> ReplayStore:
    if config.replay_store is not None:
        return SqliteReplayStore(config.replay_store)
    return LocalReplayStore(config.replay_max_entries)


class _Service:
    """The state behind the app: handler, authenticator, feedback recorder and thread pool."""

    def __init__(
        self, scorer: Scorer, config: ServiceConfig, replay: ReplayStore | None = None
    ) -> None:
        self.config = config
        self.key = config.card_key or os.urandom(32)
        self.replay = replay if replay is not None else _replay_store(config)
        self.auth = (
            None
            if config.insecure_dev
            else Authenticator(
                config.issuers, max_lifetime=config.max_token_lifetime, replay=self.replay
            )
        )
        self.hooks = HookHandler(scorer, config, self.key, site_mappings(config.mappings))
        self.feedback = FeedbackRecorder(self.key, config.audit_log)
        self.pool = ThreadPoolExecutor(config.scoring_threads, thread_name_prefix="riskrules")
        self.base = config.audience.rstrip("/")

    def authenticate(self, request: Request, *audiences: str) -> None:
        if self.auth is not None:
            urls = [f"{self.base}{path}" for path in audiences]
            self.auth.verify(request.headers.get("authorization", ""), urls)

    async def body(self, request: Request) -> Any:
        cap = self.config.max_body
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > cap):
            raise ServiceRequestError(413, f"request body exceeds {cap} bytes")
        chunks = bytearray()
        try:
            async with asyncio.timeout(self.config.body_timeout):
                async for chunk in request.stream():
                    chunks.extend(chunk)
                    if len(chunks) > cap:
                        raise ServiceRequestError(413, f"request body exceeds {cap} bytes")
        except TimeoutError:
            raise ServiceRequestError(408, "request body was not received in time") from None
        return _parse_json(bytes(chunks))

    async def off_loop(self, function: Callable[[Any], _T], argument: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, function, argument)


def _reply(status: int, payload: Any) -> Response:
    log.info("service=%s status=%d", SERVICE_ID, status)
    headers = {"Connection": "close"} if status in (408, 413) else None
    return JSONResponse(payload, status_code=status, headers=headers)


def _routes(service: _Service) -> list[Route]:
    async def discovery(request: Request) -> Response:
        return JSONResponse(discovery_document())

    async def handle(request: Request, feedback: bool) -> Response:
        service_id = request.path_params["service_id"]
        try:
            if service_id != SERVICE_ID:
                raise ServiceRequestError(404, "unknown CDS service")
            path = f"/cds-services/{SERVICE_ID}"
            if feedback:
                service.authenticate(request, f"{path}/feedback", path)
                entries = service.feedback.parse(await service.body(request))
                count = await service.off_loop(service.feedback.record, entries)
                return _reply(200, {"recorded": count})
            service.authenticate(request, path)
            data = await service.body(request)
            return _reply(200, await service.off_loop(service.hooks.handle, data))
        except ServiceRequestError as exc:
            return _reply(exc.status, {"error": exc.message})
        except ClientDisconnect:
            log.info("service=%s client disconnected before the body was read", SERVICE_ID)
            return Response(status_code=400)

    async def call(request: Request) -> Response:
        return await handle(request, feedback=False)

    async def feedback(request: Request) -> Response:
        return await handle(request, feedback=True)

    return [
        Route("/cds-services", discovery, methods=["GET"]),
        Route("/cds-services/{service_id}", call, methods=["POST"]),
        Route("/cds-services/{service_id}/feedback", feedback, methods=["POST"]),
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    detail = exc.detail if isinstance(exc, HTTPException) else "bad request"
    return JSONResponse({"error": str(detail).lower()}, status_code=status, headers=None)


def _check(config: ServiceConfig) -> None:
    if config.insecure_dev:
        log.warning("authentication is DISABLED (--insecure-dev): for local trials only")
        return
    if not config.issuers or not config.audience:
        raise ConfigError("configure at least one issuer and the audience, or use insecure_dev")
    if not config.audience.startswith(("https://", "http://")):
        raise ConfigError("'audience' must be the service's base URL (https://...)")


def create_app(
    *,
    ruleset: Any = "default",
    engine: str = "auto",
    config: ServiceConfig | None = None,
    scorer: Scorer | None = None,
    replay_store: ReplayStore | None = None,
) -> Starlette:
    """The ASGI app. One Scorer is compiled here and reused for every call.

    ``replay_store`` replaces the store the configuration names (any :class:`ReplayStore`,
    e.g. one over Redis shared by several hosts).
    """
    config = config or ServiceConfig()
    _check(config)
    service = _Service(scorer or Scorer(ruleset, engine=engine), config, replay_store)
    middleware = []
    if config.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            )
        )
    handlers: Mapping[Any, Any] = {HTTPException: _http_error}
    app = Starlette(routes=_routes(service), middleware=middleware, exception_handlers=handlers)
    app.state.service = service
    return app
