"""Scoring: compile a ruleset once, then validate an assessment, run the engine, aggregate.

:class:`Scorer` owns the compiled parts (input validator, engine program, aggregation tables) and
is safe to share between threads. :func:`score` keeps a small cache of Scorers so one-off calls
do not recompile. Aggregation lives here, not in the engines, so every engine yields the same
report for the same firings.

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
import graphlib
import importlib
import logging
import math
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from os import PathLike
from types import TracebackType
from typing import Any, Literal, Protocol, TypeAlias, cast, overload

from riskrules.engines._base import Engine, Evaluation, Program
from riskrules.errors import AssessmentError, EngineError, RiskRulesError, RulesetError
from riskrules.report import RiskReport, RulesetInfo
from riskrules.ruleset._conditions import FieldLeaf, Truth, fields_read, findings_read, walk
from riskrules.ruleset._spec import URGENCIES, Input, Ruleset, did_you_mean

__all__ = ["ENGINES", "Scorer", "score"]

logger = logging.getLogger("riskrules")

ENGINES: tuple[str, ...] = ("auto", "durable", "native")
"""Engine names a Scorer accepts; ``auto`` is durable where it imports, else native."""

EngineName: TypeAlias = Literal["auto", "durable", "native"]
RulesetSource: TypeAlias = "Ruleset | str | PathLike[str]"
Number: TypeAlias = int | float
Value: TypeAlias = bool | int | float | str

_MAX_EXACT_INT = 2**53 - 1
"""Largest integer a JSON number (an IEEE double) represents exactly; engines must agree."""


# --------------------------------------------------------------------------- parameters


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


# --------------------------------------------------------------------------- assessment input


def _kind(value: Any) -> str:
    """What a JSON reader would call this value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number" if math.isfinite(value) else f"{value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"


def _bounds(name: str, spec: Input, value: Number) -> None:
    if spec.min is not None and value < spec.min:
        raise AssessmentError(name, value, f"must be >= {spec.min}")
    if spec.max is not None and value > spec.max:
        raise AssessmentError(name, value, f"must be <= {spec.max}")


def _check_integer(name: str, spec: Input, value: Any) -> Value:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AssessmentError(name, value, f"must be an integer, not {_kind(value)}")
    if abs(value) > _MAX_EXACT_INT:
        raise AssessmentError(name, value, "must be an integer of magnitude below 2**53")
    _bounds(name, spec, value)
    if spec.values is not None and value not in spec.values:
        raise AssessmentError(name, value, f"must be one of {', '.join(map(str, spec.values))}")
    return int(value)


def _check_number(name: str, spec: Input, value: Any) -> Value:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AssessmentError(name, value, f"must be a number, not {_kind(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AssessmentError(name, value, "must be a finite number")
        result: Number = float(value)
    else:
        if abs(value) > _MAX_EXACT_INT:
            raise AssessmentError(name, value, "must be a number of magnitude below 2**53")
        result = int(value)
    _bounds(name, spec, result)
    return result


def _check_boolean(name: str, spec: Input, value: Any) -> Value:
    if not isinstance(value, bool):
        raise AssessmentError(name, value, f"must be true or false, not {_kind(value)}")
    return bool(value)


def _check_enum(name: str, spec: Input, value: Any) -> Value:
    allowed = spec.labels
    if not isinstance(value, str):
        raise AssessmentError(
            name, value, f"must be one of {', '.join(map(repr, allowed))}, not {_kind(value)}"
        )
    if value not in allowed:
        raise AssessmentError(
            name,
            value,
            f"must be one of {', '.join(map(repr, allowed))}{did_you_mean(value, allowed)}",
        )
    return str(value)


_CHECKS = {
    "integer": _check_integer,
    "number": _check_number,
    "boolean": _check_boolean,
    "enum": _check_enum,
}


class _AssessmentValidator:
    """Turns an assessment (nested objects, dotted keys or both) into engine facts.

    Facts map each assessed input's dotted name to its validated value; ``None`` (JSON null)
    means "not assessed" and leaves the field out (for a whole group too). Anything else that
    does not fit the ruleset's declared inputs raises AssessmentError naming the field, value and
    constraint. Types are strict: a boolean is never a number, a string never a number, an
    integer input takes no floats, numbers must be finite, and integers must lie within
    +/-(2**53 - 1) so that every engine compares them exactly.
    """

    def __init__(self, ruleset: Ruleset) -> None:
        self._ruleset_id = ruleset.ruleset
        self._inputs: dict[str, Input] = dict(ruleset.inputs)
        groups: set[str] = set()
        for name in self._inputs:
            parts = name.split(".")
            groups.update(".".join(parts[:i]) for i in range(1, len(parts)))
        self._groups = frozenset(groups)
        self._known = tuple(sorted(set(self._inputs) | groups))

    def __call__(self, assessment: Any) -> dict[str, Value]:
        if not isinstance(assessment, Mapping):
            raise AssessmentError(
                "",
                assessment,
                f"an assessment must be an object of fields, not {_kind(assessment)}",
            )
        given: dict[str, Value | None] = {}
        self._collect(assessment, "", given)
        return {name: value for name, value in given.items() if value is not None}

    def _collect(
        self, mapping: Mapping[Any, Any], prefix: str, out: dict[str, Value | None]
    ) -> None:
        for key, value in mapping.items():
            if not isinstance(key, str):
                raise AssessmentError(prefix, key, "field names must be strings")
            name = f"{prefix}.{key}" if prefix else key
            if name in self._inputs and not (isinstance(value, Mapping) and name in self._groups):
                if name in out:
                    raise AssessmentError(
                        name, value, "given twice (as a dotted key and inside an object)"
                    )
                spec = self._inputs[name]
                out[name] = None if value is None else _CHECKS[spec.type](name, spec, value)
            elif name in self._groups:
                if value is None:
                    continue
                if not isinstance(value, Mapping):
                    raise AssessmentError(
                        name, value, f"must be an object of fields, not {_kind(value)}"
                    )
                self._collect(value, name, out)
            else:
                hint = did_you_mean(name, self._known)
                if not hint:
                    hint = f" (ruleset {self._ruleset_id!r} reads no such input)"
                raise AssessmentError(name, value, "unknown field" + hint)


# --------------------------------------------------------------------------- aggregation


@dataclass(frozen=True, slots=True)
class _RuleFacts:
    """What aggregation needs to know about one rule, computed once per Scorer."""

    id: str
    hazard: str
    points: Number
    floor: int | None
    floor_name: str | None
    because: str
    fields: tuple[str, ...]
    value_fields: tuple[str, ...]
    """Fields read by value tests (not present/absent), the ones whose absence is unknown."""
    findings: tuple[str, ...]
    asserts: tuple[str, ...]
    recommend: tuple[str, ...]


def _rule_facts(ruleset: Ruleset) -> tuple[_RuleFacts, ...]:
    scale = ruleset.scale
    out = []
    for rule in ruleset.rules:
        value_fields: dict[str, None] = {}
        for node, _, _ in walk(rule.when):
            if isinstance(node, FieldLeaf) and node.op not in ("present", "absent"):
                value_fields.setdefault(node.field, None)
        floor = rule.then.floor
        out.append(
            _RuleFacts(
                id=rule.id,
                hazard=rule.hazard,
                points=rule.then.points,
                floor=None if floor is None else scale.index(floor),
                floor_name=floor,
                because=rule.because,
                fields=fields_read(rule.when),
                value_fields=tuple(value_fields),
                findings=tuple(dict.fromkeys(f for f, _ in findings_read(rule.when))),
                asserts=rule.then.assert_,
                recommend=rule.then.recommend,
            )
        )
    return tuple(out)


def _dependency_order(
    rules: tuple[_RuleFacts, ...], program: Program
) -> tuple[dict[int, int], bool]:
    """A rank for every rule such that asserting rules come before the rules reading their
    findings (when there is no cycle of findings), and whether that order is exact."""
    asserters: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        for finding in rule.asserts:
            asserters.setdefault(finding, []).append(i)
    graph = {
        i: {j for f in rule.findings for j in asserters.get(f, ()) if j != i}
        for i, rule in enumerate(rules)
    }
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError:
        # stratum order still visits most upstream rules first; a fixpoint finishes the job
        by_stratum = sorted(program.rules, key=lambda r: (r.stratum, r.index))
        return {r.index: k for k, r in enumerate(by_stratum)}, False
    return {i: k for k, i in enumerate(order)}, True


@dataclass(frozen=True, slots=True)
class _HazardFacts:
    """What aggregation needs to know about one hazard."""

    title: str
    bands: tuple[tuple[int, Number], ...]
    """(level index, threshold), lowest first."""
    cap: Number | None
    priority: int
    recommend: tuple[tuple[int, tuple[str, ...]], ...]
    """(level index, protocols) recommended once the hazard reaches that level."""
    rules: tuple[int, ...]


class _Aggregator:
    """Engine-independent scoring: firings and statuses -> hazards, recommendations, report."""

    def __init__(
        self, ruleset: Ruleset, program: Program, params: dict[str, Number], engine: str
    ) -> None:
        scale = ruleset.scale
        self._ruleset = ruleset
        self._scale = scale
        self._rules = _rule_facts(ruleset)
        self._info = RulesetInfo(
            id=ruleset.ruleset, version=ruleset.version, fingerprint=ruleset.fingerprint
        )
        self._params = params
        self._engine = engine
        self._hazards = {
            hid: _HazardFacts(
                title=hazard.title,
                bands=tuple((scale.index(level), t) for level, t in hazard.bands.items()),
                cap=hazard.cap,
                priority=hazard.priority,
                recommend=tuple(
                    (scale.index(level), protocols) for level, protocols in hazard.recommend.items()
                ),
                rules=tuple(i for i, r in enumerate(self._rules) if r.hazard == hid),
            )
            for hid, hazard in ruleset.hazards.items()
        }
        self._protocols = {
            pid: (protocol.title, protocol.urgency, URGENCIES.index(protocol.urgency))
            for pid, protocol in ruleset.protocols.items()
        }
        self._rank, self._acyclic = _dependency_order(self._rules, program)
        # Cohorts repeat the same pattern of firings and missing inputs again and again.
        self._shape = functools.lru_cache(maxsize=256)(self._build_shape)

    def _level(self, hazard: _HazardFacts, rules: Iterable[int]) -> tuple[Number, int]:
        """Score (capped) and level index (floors applied) of ``rules`` firing."""
        facts = self._rules
        score: Number = 0
        floor = 0
        for i in rules:
            score += facts[i].points
            rule_floor = facts[i].floor
            if rule_floor is not None and rule_floor > floor:
                floor = rule_floor
        if hazard.cap is not None and score > hazard.cap:
            score = hazard.cap
        level = 0
        for index, threshold in hazard.bands:
            if threshold <= score:
                level = index
        return score, max(level, floor)

    def _missing(
        self, present: frozenset[str], indeterminate: list[int], asserted: Mapping[str, None]
    ) -> dict[int, frozenset[str]]:
        """Absent inputs behind each indeterminate rule, followed through UNKNOWN findings.

        A finding is UNKNOWN when an indeterminate rule asserts it and no fired rule did; the
        inputs missing for those asserting rules are missing for every rule that reads it.
        """
        rules = self._rules
        unknown_by: dict[str, list[int]] = {}
        for i in indeterminate:
            for finding in rules[i].asserts:
                if finding not in asserted:
                    unknown_by.setdefault(finding, []).append(i)
        missing: dict[int, frozenset[str]] = {}
        upstream: dict[int, list[int]] = {}
        for i in indeterminate:
            missing[i] = frozenset(f for f in rules[i].value_fields if f not in present)
            preds = [j for f in rules[i].findings for j in unknown_by.get(f, ())]
            if preds:
                upstream[i] = preds
        order = sorted(upstream, key=self._rank.__getitem__)
        changed = True
        while changed:
            changed = False
            for i in order:
                grown = missing[i].union(*(missing[j] for j in upstream[i]))
                if len(grown) != len(missing[i]):
                    missing[i] = grown
                    changed = True
            # in dependency order one pass is enough; cycles of findings need a fixpoint
            changed = changed and not self._acyclic
        return missing

    def report(self, facts: Mapping[str, Value], evaluation: Evaluation) -> RiskReport:
        """The report of one run: the cached shape plus the values the fired rules read."""
        shape = self._shape(evaluation.fired, evaluation.status, frozenset(facts))
        data = dict(shape)
        data["fired"] = [
            {**firing, "reads": {f: facts.get(f) for f in self._rules[i].fields}}
            for i, firing in zip(evaluation.fired, shape["fired"], strict=True)
        ]
        # One validation of plain data: pydantic-core builds the frozen models faster than
        # constructing them one by one, and checks the report's shape on the way.
        return RiskReport.model_validate(data)._attach(self._ruleset)

    def _build_shape(
        self, fired: tuple[int, ...], status: tuple[Truth, ...], present: frozenset[str]
    ) -> dict[str, Any]:
        """Everything in a report except input values: it depends only on the firings, the
        statuses and which inputs are present, so equal runs share it (see ``_shape``)."""
        rules = self._rules
        scale = self._scale
        indeterminate = [i for i, truth in enumerate(status) if truth is Truth.UNKNOWN]

        findings: dict[str, None] = {}
        for i in fired:
            for finding in rules[i].asserts:
                findings.setdefault(finding, None)
        missing = self._missing(present, indeterminate, findings)

        fired_by: dict[str, list[int]] = {}
        for i in sorted(fired):
            fired_by.setdefault(rules[i].hazard, []).append(i)
        open_by: dict[str, list[int]] = {}
        for i in indeterminate:
            open_by.setdefault(rules[i].hazard, []).append(i)

        hazards: dict[str, dict[str, Any]] = {}
        levels: dict[str, int] = {}
        for hid, hazard in self._hazards.items():
            mine = fired_by.get(hid, [])
            score, level = self._level(hazard, mine)
            still_open = open_by.get(hid)
            if still_open:
                _, possible = self._level(hazard, sorted(mine + still_open))
                absent = frozenset().union(*(missing[i] for i in still_open))
            else:
                possible, absent = level, frozenset()
            levels[hid] = level
            hazards[hid] = {
                "title": hazard.title,
                "score": score,
                "level": scale[level],
                "possible_level": scale[max(possible, level)],
                "complete": not still_open,
                "missing": tuple(sorted(absent)),
            }

        return {
            "ruleset": self._info,
            "params": self._params,
            "overall_level": scale[max(levels.values(), default=0)],
            "complete": not indeterminate,
            "hazards": hazards,
            "findings": tuple(findings),
            "fired": [
                {
                    "rule": rules[i].id,
                    "hazard": rules[i].hazard,
                    "points": rules[i].points,
                    "floor": rules[i].floor_name,
                    "because": rules[i].because,
                    "findings_read": rules[i].findings,
                }
                for i in fired
            ],
            "indeterminate": [
                {
                    "rule": rules[i].id,
                    "hazard": rules[i].hazard,
                    "missing": tuple(sorted(missing[i])),
                }
                for i in indeterminate
            ],
            "recommendations": self._recommend(fired, fired_by, levels),
            "engine": self._engine,
        }

    def _recommend(
        self, fired: tuple[int, ...], fired_by: dict[str, list[int]], levels: dict[str, int]
    ) -> list[dict[str, Any]]:
        """Protocols named by fired rules and by reached bands, ranked (see RiskReport)."""
        rules = self._rules
        position = {index: k for k, index in enumerate(fired)}
        support: dict[str, set[int]] = {}
        sources: dict[str, set[str]] = {}
        for i in fired:
            for pid in rules[i].recommend:
                support.setdefault(pid, set()).add(i)
                sources.setdefault(pid, set()).add(rules[i].hazard)
        for hid, hazard in self._hazards.items():
            reached = levels[hid]
            for level, protocols in hazard.recommend:
                if level > reached:
                    continue
                backing = fired_by.get(hid, ())
                for pid in protocols:
                    support.setdefault(pid, set()).update(backing)
                    sources.setdefault(pid, set()).add(hid)
        ranked: list[tuple[tuple[int, int, int, int, str], dict[str, Any]]] = []
        for pid, rule_set in support.items():
            title, urgency, urgency_rank = self._protocols[pid]
            because = tuple(rules[i].id for i in sorted(rule_set, key=position.__getitem__))
            top = max(levels[h] for h in sources[pid])
            priority = max(self._hazards[h].priority for h in sources[pid])
            rec = {
                "protocol": pid,
                "title": title,
                "urgency": urgency,
                "level": self._scale[top],
                "because": because,
            }
            ranked.append(((-priority, -urgency_rank, -top, -len(because), pid), rec))
        ranked.sort(key=lambda item: item[0])
        return [rec for _, rec in ranked]


# --------------------------------------------------------------------------- engines


class _EngineModule(Protocol):
    def compile(self, program: Program) -> Engine: ...


def _engine_module(name: str) -> _EngineModule:
    return cast(_EngineModule, importlib.import_module(f"riskrules.engines._{name}"))


def compile_engine(name: str, program: Program) -> Engine:
    """Compile ``program`` with the named engine (``auto`` falls back to native)."""
    if name not in ENGINES:
        raise EngineError(
            f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}"
            f"{did_you_mean(str(name), ENGINES)}"
        )
    if name in ("auto", "durable"):
        try:
            try:
                module = _engine_module("durable")
            except ImportError as exc:
                raise EngineError(f"the durable engine cannot be loaded: {exc}") from exc
            return module.compile(program)
        except EngineError as exc:
            if name == "durable":
                raise
            logger.debug("durable engine unavailable (%s); using the native engine", exc)
    return _engine_module("native").compile(program)


# --------------------------------------------------------------------------- Scorer


def _load(source: Any) -> Ruleset:
    if isinstance(source, Ruleset):
        return source
    from riskrules.ruleset._loader import load_ruleset

    return load_ruleset(source)


class Scorer:
    """A ruleset compiled for scoring: validate -> engine -> aggregate -> RiskReport.

    ``ruleset`` is a :class:`Ruleset` or anything ``load_ruleset`` accepts (a path, a YAML
    string, a built-in name such as ``"default"``). ``engine`` is ``"durable"``, ``"native"`` or
    ``"auto"`` (durable where it imports, else native). ``params`` overrides ruleset parameters.
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
        self._validate = _AssessmentValidator(rs)
        program = Program.build(rs, effective)
        compiled = compile_engine(engine, program)
        self._engine = compiled
        self._engine_name: str = compiled.name
        self._aggregate = _Aggregator(rs, program, effective, compiled.name)
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
        facts = self._validate(assessment)
        try:
            evaluation = self._engine.run(facts)
        except RiskRulesError:
            raise
        except Exception as exc:
            raise EngineError(
                f"the {self._engine_name} engine failed: {type(exc).__name__}: {exc}"
            ) from exc
        report = self._aggregate.report(facts, evaluation)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "scored with %s: overall %s; fired %s",
                self._ruleset.ruleset,
                report.overall_level,
                ", ".join(f.rule for f in report.fired) or "none",
            )
        return report

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
        from riskrules.research._cohort import score_parallel

        return score_parallel(
            self._ruleset,
            self._params,
            self._engine_name,
            assessments,
            workers=workers,
            chunk_size=chunk_size,
            on_error=on_error,
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


# --------------------------------------------------------------------------- score()


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


@functools.lru_cache(maxsize=32)
def _cached_scorer(
    key: Any, engine: str, params: tuple[tuple[str, str, Any], ...] | None
) -> Scorer:
    source = key.ruleset if isinstance(key, _ByFingerprint) else key
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
    by its fingerprint, a path or name by its value (edit a file, then build a new Scorer).
    """
    key: Any = _ByFingerprint(ruleset) if isinstance(ruleset, Ruleset) else ruleset
    try:
        if params is not None and not isinstance(params, Mapping):
            raise TypeError("not a mapping")
        frozen = (
            None
            if params is None
            else tuple(sorted((k, type(v).__name__, v) for k, v in params.items()))
        )
        scorer = _cached_scorer(key, engine, frozen)
    except TypeError:
        # arguments that cannot be cache keys: Scorer itself says what is wrong with them
        scorer = Scorer(ruleset, engine=engine, params=params)
    return scorer.score(assessment)
