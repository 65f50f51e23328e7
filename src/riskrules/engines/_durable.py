"""The durable-rules engine: a :class:`~riskrules.engines._base.Program` run on durable's Rete.

Every use of durable-rules (its C extension ``durable_rules_engine``) lives in this module and the
``_durable_*`` modules it imports, and the extension itself is imported lazily by :func:`compile`,
so riskrules imports and works where durable-rules does not build (CPython 3.13+); there
:func:`compile` raises :class:`~riskrules.errors.EngineError`.

The engine is made of:

* :mod:`~riskrules.engines._durable_fields`: inputs encoded as small integers on fact properties;
* :mod:`~riskrules.engines._durable_forms`: conditions as ``$and``/``$or`` formulas over them;
* :mod:`~riskrules.engines._durable_plan`: formulas split and packed into durable rule
  definitions within durable's limits, and the tables a run reads;
* :mod:`~riskrules.engines._durable_rounds`: the evaluation rounds of one assessment;
* this module: :class:`DurableEngine`, which owns the native ruleset and a pool of sessions.

Sessions are pooled (at most :data:`MAX_SESSIONS` per engine, far below durable's 1,024): creating
one costs about 10 microseconds per durable rule and it is reused after its facts are retracted.
A session is opened by firing a sentinel rule, because ``delete_state`` on a session that never
started an action frees uninitialised memory; sessions are deleted only on close, before the
ruleset itself is deleted with the C extension's ``delete_ruleset`` (durable's Python API cannot
unregister a ruleset). A session that failed mid-run is discarded.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import logging
import threading
import weakref
from collections.abc import Mapping
from typing import Any, ClassVar

from riskrules.engines._base import Evaluation, Program
from riskrules.engines._durable_fields import encode
from riskrules.engines._durable_plan import compile_plan
from riskrules.engines._durable_rounds import Session, evaluate
from riskrules.errors import EngineError

__all__ = ["MAX_SESSIONS", "DurableEngine", "compile"]

MAX_SESSIONS = 32
"""Live durable sessions per engine; more concurrent runs wait for a free one."""

_session_ids = itertools.count()
logger = logging.getLogger(__name__)


def _load_durable() -> Any:
    """The durable-rules C extension, or EngineError when it is not installed."""
    try:
        return importlib.import_module("durable_rules_engine")
    except ImportError:
        raise EngineError(
            "the durable engine needs durable-rules 2.0.28, which is not installed "
            "(it builds on CPython 3.11 and 3.12 only); use engine='native'"
        ) from None


def _release(mod: Any, handle: int, sessions: list[Session]) -> None:
    """Delete the pooled sessions, then the ruleset (run on close or garbage collection)."""
    for session in sessions:
        try:
            mod.delete_state(handle, session.sid)
        except Exception:  # nothing more can be done for a broken session
            continue
    sessions.clear()
    try:
        mod.delete_ruleset(handle)
    except Exception:  # pragma: no cover - only an invalid handle fails
        return


class DurableEngine:
    """A :class:`~riskrules.engines._base.Program` compiled to durable-rules; thread-safe.

    Build it with :func:`compile`; call :meth:`close` (or drop it) to release the native
    ruleset and its sessions.
    """

    name: ClassVar[str] = "durable"

    def __init__(self, program: Program) -> None:
        mod = _load_durable()
        plan = compile_plan(program)
        try:
            handle = mod.create_ruleset(
                f"riskrules{next(_session_ids)}", json.dumps(plan.definitions)
            )
        except Exception as exc:
            raise EngineError(f"durable could not compile the program: {exc}") from None
        self._mod = mod
        self._plan = plan
        self._handle: int = handle
        self._idle: list[Session] = []
        self._live = 0
        self._busy = 0
        self._closed = False
        self._cond = threading.Condition()
        self._finalizer = weakref.finalize(self, _release, mod, handle, self._idle)
        logger.debug(
            "compiled %d rules to %d durable rules in %d groups",
            len(program.rules),
            len(plan.definitions) - 1,
            len(plan.groups),
        )

    @property
    def durable_rules(self) -> int:
        """How many durable rules the program compiled to (patterns plus the sentinel)."""
        return len(self._plan.definitions)

    def run(self, facts: Mapping[str, Any]) -> Evaluation:
        """Run one assessment's facts to the fixpoint; see :mod:`riskrules.engines._base`."""
        fields = encode(self._plan.fields, facts)
        session = self._acquire()
        ok = False
        try:
            result = evaluate(session, self._plan, fields)
            session.retract()
            ok = True
            return result
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"durable failed: {type(exc).__name__}: {exc}") from None
        finally:
            self._give_back(session, ok)

    def close(self) -> None:
        """Wait for running assessments, then release the native ruleset and sessions."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            while self._busy:
                self._cond.wait()
        self._finalizer()

    def __enter__(self) -> DurableEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _acquire(self) -> Session:
        with self._cond:
            while True:
                if self._closed:
                    raise EngineError("the durable engine was closed and cannot score any more")
                if self._idle:
                    self._busy += 1
                    return self._idle.pop()
                if self._live < MAX_SESSIONS:
                    self._live += 1
                    self._busy += 1
                    break
                self._cond.wait()
        try:
            # A session that failed to open is left alone: deleting it could crash.
            return Session.open(
                self._mod, self._handle, self._plan.actions, f"s{next(_session_ids)}"
            )
        except BaseException:
            with self._cond:
                self._live -= 1
                self._busy -= 1
                self._cond.notify_all()
            raise

    def _give_back(self, session: Session, ok: bool) -> None:
        """Return a session to the pool; one that failed mid-run is deleted instead."""
        if not ok:
            with contextlib.suppress(Exception):  # the session is abandoned either way
                self._mod.delete_state(self._handle, session.sid)
        with self._cond:
            self._busy -= 1
            if ok:
                self._idle.append(session)
            else:
                self._live -= 1
            self._cond.notify_all()


def compile(program: Program) -> DurableEngine:
    """Compile ``program`` for durable-rules (EngineError if durable-rules is unavailable)."""
    return DurableEngine(program)
