"""Scoring: compile a ruleset once, then validate an assessment, run the engine, aggregate.

:class:`Scorer` owns the compiled parts and is safe to share between threads; this module also
binds parameters (:func:`bind_params`) and picks the engine (:func:`compile_engine`).
:func:`score` keeps a small cache of Scorers so one-off calls do not recompile. A native Scorer
runs one generated source (:mod:`riskrules.scoring._generated`: validation, engine, aggregation)
and assembles its reports (:mod:`riskrules.scoring._assembly`); the others validate with
:mod:`riskrules.scoring._validation` and aggregate with :mod:`riskrules.scoring._aggregation`,
the reference the generated code is tested against. Aggregation is not in the engines, so every
engine yields the same report for the same firings.

>>> from riskrules import Ruleset, Scorer
>>> rs = Ruleset.model_validate({
...     "ruleset": "demo", "version": "1", "title": "Demo",
...     "inputs": {"clinician.active_clients": {"type": "integer", "min": 0}},
...     "hazards": {"caseload": {"title": "Caseload", "bands": {"low": 0, "high": 3}}},
...     "rules": [{"id": "caseload.over", "hazard": "caseload",
...                "when": {"field": "clinician.active_clients", "gt": 35},
...                "then": {"points": 3}, "because": "Above the service limit."}],
... })
>>> with Scorer(rs, engine="native") as scorer:
...     scorer.score({"clinician": {"active_clients": 40}}).overall_level
'high'
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Literal, Protocol, TypeAlias, cast, overload

from riskrules._types import Number, RulesetSource
from riskrules.engines._base import Engine, Program
from riskrules.errors import AssessmentError, EngineError, RiskRulesError, RulesetError
from riskrules.report import RiskReport
from riskrules.ruleset._locations import source_files
from riskrules.ruleset._spec import Ruleset, did_you_mean
from riskrules.scoring._aggregation import Aggregator
from riskrules.scoring._assembly import Assembler
from riskrules.scoring._generated import ScorerCode
from riskrules.scoring._validation import AssessmentValidator

__all__ = ["ENGINES", "Scorer", "score"]

logger = logging.getLogger("riskrules")

ENGINES: tuple[str, ...] = ("auto", "durable", "native")
"""Engine names a Scorer accepts; ``auto`` is native (generated code) on every Python."""

EngineName: TypeAlias = Literal["auto", "durable", "native"]


def bind_params(ruleset: Ruleset, overrides: Mapping[str, Any] | None) -> dict[str, Number]:
    """Every parameter's effective value (defaults overridden), sorted by name.

    Raises RulesetError (path ``parameters.<name>``) for an unknown name or a value of the
    wrong type or outside the parameter's bounds.
    """
    values: dict[str, Number] = {
        name: param.default for name, param in sorted(ruleset.parameters.items())
    }
    if overrides is None:
        return values
    if not isinstance(overrides, Mapping):
        raise RulesetError(
            f"params must be a mapping of parameter name to number, not {type(overrides).__name__}",
            path="parameters",
        )
    for name, value in overrides.items():
        param = ruleset.parameters.get(name) if isinstance(name, str) else None
        if param is None:
            raise RulesetError(
                f"unknown parameter {name!r}{did_you_mean(str(name), ruleset.parameters)}",
                path=f"parameters.{name}",
            )
        try:
            param.check_value(value, name)
        except ValueError as exc:
            raise RulesetError(str(exc), path=f"parameters.{name}") from None
        values[name] = value
    return values


class _EngineModule(Protocol):
    def compile(self, program: Program) -> Engine: ...


def _engine_module(name: str) -> _EngineModule:
    return cast(_EngineModule, importlib.import_module(f"riskrules.engines._{name}"))


def compile_engine(name: str, program: Program) -> Engine:
    """Compile ``program`` with the named engine.

    ``auto`` and ``native`` generate one Python function for the program
    (:mod:`riskrules.engines._compiled`); ``durable`` runs durable-rules' Rete network;
    ``closure``, the reference interpreter the generated code is tested against, is accepted
    too but not listed in :data:`ENGINES`.
    """
    if name == "closure":
        return _engine_module("native").compile(program)
    if name not in ENGINES:
        raise EngineError(
            f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}"
            f"{did_you_mean(str(name), ENGINES)}"
        )
    if name == "durable":
        try:
            module = _engine_module("durable")
        except ImportError as exc:
            raise EngineError(f"the durable engine cannot be loaded: {exc}") from exc
        return module.compile(program)
    return _engine_module("compiled").compile(program)


def _load(source: Any) -> Ruleset:
    if isinstance(source, Ruleset):
        return source
    from riskrules.ruleset._loader import load_ruleset

    return load_ruleset(source)


def _slow_path(assessment: Any) -> None:
    """Where a ruleset's names rule out the generated validation: the full validator decides."""


class Scorer:
    """A ruleset compiled for scoring: validate -> engine -> aggregate -> RiskReport.

    ``ruleset`` is a :class:`Ruleset` or anything ``load_ruleset`` accepts (a path, a YAML
    string, a built-in name such as ``"default"``). ``engine`` is ``"durable"``, ``"native"`` or
    ``"auto"`` (native). ``params`` overrides ruleset parameters.
    Compilation happens once here; ``score`` is then safe to call from many threads. Close the
    Scorer (or use it as a context manager) to release engine resources promptly; they are also
    released when it is garbage-collected.
    """

    def __init__(
        self,
        ruleset: RulesetSource,
        *,
        engine: EngineName | str = "auto",
        params: Mapping[str, Number] | None = None,
    ) -> None:
        rs = _load(ruleset)
        effective = bind_params(rs, params)
        self._ruleset = rs
        self._params = effective
        self._validate = AssessmentValidator(rs)
        program = Program.build(rs, effective)
        self._code: ScorerCode | None = None
        if engine in ("auto", "native"):
            self._code = ScorerCode(rs, program)
            compiled: Engine = self._code.engine
        else:
            compiled = compile_engine(engine, program)
        self._engine = compiled
        self._engine_name: str = compiled.name
        self._fast: tuple[Callable[..., Any], ...] | None = None
        if self._code is not None:
            assembler = Assembler(rs, program, effective, compiled.name)
            code = self._code
            self._values = code.values
            self._fast = (code.nested or _slow_path, code.score, assembler.assemble)
        else:
            self._aggregate = Aggregator(rs, program, effective, compiled.name)
        self._lock = threading.Lock()
        self._closed = False
        self._finalizer = weakref.finalize(self, compiled.close)
        logger.debug(
            "compiled ruleset %s %s (%s) for the %s engine",
            rs.ruleset,
            rs.version,
            rs.fingerprint,
            compiled.name,
        )

    @property
    def ruleset(self) -> Ruleset:
        """The compiled ruleset."""
        return self._ruleset

    @property
    def engine(self) -> str:
        """The name of the engine in use (``durable`` or ``native``)."""
        return self._engine_name

    @property
    def params(self) -> dict[str, Number]:
        """Every parameter's effective value, sorted by name (a copy)."""
        return dict(self._params)

    def score(self, assessment: Mapping[str, Any]) -> RiskReport:
        """Score one assessment (nested objects and/or dotted keys; null = not assessed).

        Raises AssessmentError when the assessment does not fit the ruleset's inputs.
        """
        if self._closed:
            raise EngineError("this Scorer is closed")
        if self._fast is not None:
            report: RiskReport = self._fast[2](*self._run(assessment))
        else:
            facts = self._validate(assessment)
            try:
                evaluation = self._engine.run(facts)
            except RiskRulesError:
                raise
            except Exception as exc:
                raise self._failed(exc) from exc
            report = self._aggregate.report(facts, evaluation)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "scored with %s: overall %s; fired %s",
                self._ruleset.ruleset,
                report.overall_level,
                ", ".join(report._fired_rule_ids()) or "none",
            )
        return report

    def _failed(self, exc: Exception) -> EngineError:
        return EngineError(f"the {self._engine_name} engine failed: {type(exc).__name__}: {exc}")

    def _run(self, assessment: Mapping[str, Any]) -> tuple[Any, ...]:
        """What the generated code returns for one assessment, before the report is assembled
        (a native Scorer only): small plain data, which parallel scoring sends from its workers
        to the parent, whose own Scorer assembles the same report from it."""
        if self._closed:
            raise EngineError("this Scorer is closed")
        assert self._fast is not None
        nested, run, _ = self._fast
        try:
            values = nested(assessment)
            if values is None:
                values = self._values(self._validate(assessment))
            return cast("tuple[Any, ...]", run(values))
        except RiskRulesError:
            raise
        except Exception as exc:
            raise self._failed(exc) from exc

    @overload
    def score_many(
        self,
        assessments: Iterable[Mapping[str, Any]],
        *,
        workers: int = ...,
        chunk_size: int = ...,
        on_error: Literal["raise"] = ...,
    ) -> Iterator[RiskReport]: ...

    @overload
    def score_many(
        self,
        assessments: Iterable[Mapping[str, Any]],
        *,
        workers: int = ...,
        chunk_size: int = ...,
        on_error: Literal["return"],
    ) -> Iterator[RiskReport | AssessmentError]: ...

    def score_many(
        self,
        assessments: Iterable[Mapping[str, Any]],
        *,
        workers: int = 1,
        chunk_size: int = 256,
        on_error: Literal["raise", "return"] = "raise",
    ) -> Iterator[RiskReport] | Iterator[RiskReport | AssessmentError]:
        """Score assessments lazily, one result per assessment, in order.

        ``workers > 1`` scores in that many processes, each compiling the ruleset once; chunks
        of ``chunk_size`` assessments travel to them, at most two chunks per worker in flight, so
        memory stays constant however long the input. ``on_error="return"`` yields the
        AssessmentError of a bad assessment in its place instead of raising it, so one bad
        record does not end the stream.
        """
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive integer, not {workers!r}")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, not {chunk_size!r}")
        if on_error not in ("raise", "return"):
            raise ValueError(f"on_error must be 'raise' or 'return', not {on_error!r}")
        if self._closed:
            raise EngineError("this Scorer is closed")
        if workers == 1:
            return self._score_serial(assessments, on_error)
        from riskrules.scoring._parallel import score_parallel

        return score_parallel(
            self._ruleset,
            self._params,
            self._engine_name,
            assessments,
            workers=workers,
            chunk_size=chunk_size,
            on_error=on_error,
            assemble=None if self._fast is None else self._fast[2],
        )

    def _score_serial(
        self, assessments: Iterable[Mapping[str, Any]], on_error: str
    ) -> Iterator[RiskReport | AssessmentError]:
        for assessment in assessments:
            if on_error == "raise":
                yield self.score(assessment)
                continue
            try:
                report = self.score(assessment)
            except AssessmentError as exc:
                yield exc
            else:
                yield report

    def close(self) -> None:
        """Release engine resources; the Scorer cannot score afterwards. Idempotent.

        Close a shared Scorer only once the threads using it are done scoring.
        """
        with self._lock:
            self._closed = True
        self._finalizer()

    def __enter__(self) -> Scorer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return (
            f"<Scorer {self._ruleset.ruleset} {self._ruleset.version} "
            f"engine={self._engine_name}{state}>"
        )


class _ByFingerprint:
    """A cache key for a Ruleset object: rulesets with the same semantics share a Scorer."""

    __slots__ = ("fingerprint", "ruleset")

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self.fingerprint = ruleset.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByFingerprint) and other.fingerprint == self.fingerprint


def _stamp(files: tuple[str, ...]) -> tuple[tuple[str, int, int], ...]:
    """Modification time and size of each of ``files`` (-1 when it cannot be read)."""
    out = []
    for name in files:
        try:
            st = os.stat(name)
            out.append((name, st.st_mtime_ns, st.st_size))
        except (OSError, ValueError):
            out.append((name, -1, -1))
    return tuple(out)


class _FileStamps:
    """For each ruleset source given by value (a path or a name): the files it was loaded
    from, their stamps at that time, and a generation that grows when one of them changes."""

    _MAX = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[Any, tuple[tuple[str, ...], tuple[Any, ...], int]] = {}

    def generation(self, source: Any) -> int:
        """The generation of ``source``: a new one when a file it came from has changed."""
        with self._lock:
            seen = self._seen.get(source)
            if seen is None:
                return 0
            files, stamp, generation = seen
            now = _stamp(files)
            if now != stamp:  # load again; the files are listed anew after the load
                generation += 1
                self._seen[source] = ((), (), generation)
            return generation

    def loaded(self, source: Any, generation: int, ruleset: Ruleset) -> None:
        """Remember the files ``source`` was loaded from, when first seen or newly loaded."""
        with self._lock:
            seen = self._seen.get(source)
            if seen is not None and seen[2] == generation and seen[0]:
                return
            files = source_files(ruleset)
            if len(self._seen) >= self._MAX:
                self._seen.pop(next(iter(self._seen)))
            self._seen[source] = (files, _stamp(files), generation)


_FILE_STAMPS = _FileStamps()


@functools.lru_cache(maxsize=32)
def _cached_scorer(
    key: Any, engine: str, params: tuple[tuple[str, str, Any], ...] | None
) -> Scorer:
    source = key.ruleset if isinstance(key, _ByFingerprint) else key[0]
    overrides = None if params is None else {name: value for name, _, value in params}
    return Scorer(source, engine=engine, params=overrides)


def score(
    assessment: Mapping[str, Any],
    *,
    ruleset: RulesetSource = "default",
    engine: EngineName | str = "auto",
    params: Mapping[str, Number] | None = None,
) -> RiskReport:
    """Score one assessment with a cached :class:`Scorer` for (ruleset, engine, params).

    The built-in ``default`` ruleset is used unless another is given. A Ruleset object is cached
    by its fingerprint; a path or name by its value and the modification time and size of every
    file it was loaded from, so that an edited file (or an edited include) is loaded again.
    """
    key: Any = _ByFingerprint(ruleset) if isinstance(ruleset, Ruleset) else ruleset
    try:
        if not isinstance(key, _ByFingerprint):
            key = (ruleset, _FILE_STAMPS.generation(ruleset))
        if params is not None and not isinstance(params, Mapping):
            raise TypeError("not a mapping")
        frozen = (
            None
            if params is None
            else tuple(sorted((k, type(v).__name__, v) for k, v in params.items()))
        )
        scorer = _cached_scorer(key, engine, frozen)
        if not isinstance(key, _ByFingerprint):
            _FILE_STAMPS.loaded(ruleset, key[1], scorer.ruleset)
    except TypeError:
        # arguments that cannot be cache keys: Scorer itself says what is wrong with them
        scorer = Scorer(ruleset, engine=engine, params=params)
    return scorer.score(assessment)
