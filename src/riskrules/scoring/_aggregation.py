"""Aggregation: an engine's firings and statuses to hazard scores, levels and recommendations.

:class:`Aggregator` is engine-independent, so every engine yields the same report for the same
firings. Per hazard it adds the points of the fired rules, caps the sum, reads the level off the
bands and raises it to the highest floor of a fired rule; the level still possible and the inputs
missing for it come from the indeterminate rules. Recommendations are the protocols named by
fired rules and by reached bands, ranked by hazard priority, urgency, level and support. The
report's shape (everything but the input values read) depends only on the firings, the statuses
and which inputs are present, and is cached.
"""

from __future__ import annotations

import functools
import graphlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel

from riskrules.engines._base import Evaluation, Program
from riskrules.engines._codegen import input_order
from riskrules.report import (
    DISCLAIMER,
    PENDING,
    Firing,
    HazardResult,
    Indeterminate,
    Recommendation,
    RiskReport,
    RulesetInfo,
)
from riskrules.ruleset._conditions import FieldLeaf, Truth, fields_read, findings_read, walk
from riskrules.ruleset._spec import URGENCIES, Ruleset

if TYPE_CHECKING:
    from riskrules._types import Number, Value

__all__ = ["Aggregator", "RuleFacts", "dependency_order", "rule_facts"]

_M = TypeVar("_M", bound=BaseModel)
_setattr = object.__setattr__


def _construct(model: type[_M], values: dict[str, Any]) -> _M:
    """A report model from values that are already valid (trusted construction).

    What ``model.model_construct(**values)`` does for these models (no aliases, defaults filled
    by the caller, no private attributes but RiskReport's one) without its per-field loop, which
    costs more than the rest of building a report. ``values`` must name every field, in
    declaration order; the tests check the result equals validating the same data.
    """
    instance = model.__new__(model)
    _setattr(instance, "__dict__", values)
    _setattr(instance, "__pydantic_fields_set__", set(values))
    _setattr(instance, "__pydantic_extra__", None)
    _setattr(instance, "__pydantic_private__", None)
    return instance


_FIRING_FIELDS = set(Firing.model_fields)
"""The fields set of every Firing built here (shared: frozen models never change it)."""
_REPORT_FIELDS = set(RiskReport.model_fields)


@dataclass(frozen=True, slots=True)
class _Shape:
    """Everything in a report but the input values read: shared by equal runs."""

    overall_level: str
    possible_level: str
    complete: bool
    hazards: dict[str, HazardResult]
    findings: tuple[str, ...]
    indeterminate: tuple[Indeterminate, ...]
    recommendations: tuple[Recommendation, ...]


@dataclass(frozen=True, slots=True)
class RuleFacts:
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


def rule_facts(ruleset: Ruleset) -> tuple[RuleFacts, ...]:
    scale = ruleset.scale
    out = []
    for rule in ruleset.rules:
        value_fields: dict[str, None] = {}
        for node, _, _ in walk(rule.when):
            if isinstance(node, FieldLeaf) and node.op not in ("present", "absent"):
                value_fields.setdefault(node.field, None)
        floor = rule.then.floor
        out.append(
            RuleFacts(
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


def dependency_order(
    rules: tuple[RuleFacts, ...], program: Program
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


def _first(item: tuple[Any, Any]) -> Any:
    return item[0]


class Aggregator:
    """Engine-independent scoring: firings and statuses -> hazards, recommendations, report."""

    def __init__(
        self, ruleset: Ruleset, program: Program, params: dict[str, Number], engine: str
    ) -> None:
        scale = ruleset.scale
        self._ruleset = ruleset
        self._scale = scale
        self._rules = rule_facts(ruleset)
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
        position = {name: k for k, name in enumerate(input_order(program))}
        self._firings: tuple[tuple[dict[str, Any], tuple[str, ...], tuple[int, ...]], ...] = tuple(
            (
                {
                    "rule": r.id,
                    "hazard": r.hazard,
                    "points": r.points,
                    "floor": r.floor_name,
                    "because": r.because,
                    "reads": None,  # filled per report, in its place in the field order
                    "findings_read": r.findings,
                },
                r.fields,
                tuple(position[f] for f in r.fields),
            )
            for r in self._rules
        )
        self._rank, self._acyclic = dependency_order(self._rules, program)
        # Cohorts repeat the same pattern of firings and missing inputs again and again.
        self._parts: dict[tuple[Any, ...], BaseModel] = {}
        self._cached_shape = functools.lru_cache(maxsize=256)(self._build_shape)
        self._shape: Callable[[tuple[int, ...], tuple[Truth, ...], AbstractSet[str]], _Shape] = (
            self._cached_shape
        )
        self._lookups = 0
        self._order = input_order(program)
        self._titles = tuple((hid, hazard.title) for hid, hazard in self._hazards.items())
        self._asserts = tuple(r.asserts for r in self._rules)
        self._bands = tuple(
            (k, hid, hazard.recommend)
            for k, (hid, hazard) in enumerate(self._hazards.items())
            if hazard.recommend
        )
        self._open_parts: list[dict[int, Indeterminate]] = [{} for _ in self._rules]
        self._mask_names: dict[int, tuple[str, ...]] = {}

    def _shape_of(self, evaluation: Evaluation, facts: Mapping[str, Value]) -> _Shape:
        """The shape of a run, from the cache while it pays: once 1,024 lookups found fewer
        than 1 in 10 shapes there (varied cohorts), hashing the key costs more than it saves
        and shapes are built directly. The result is the same either way."""
        if self._shape is self._build_shape:
            return self._build_shape(evaluation.fired, evaluation.status, facts.keys())
        shape = self._shape(evaluation.fired, evaluation.status, frozenset(facts))
        self._lookups += 1
        if self._lookups == 1024 and self._cached_shape.cache_info().hits < 102:
            self._shape = self._build_shape
        return shape

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
        self, present: AbstractSet[str], indeterminate: list[int], asserted: Mapping[str, None]
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
        """The report of one run: the cached shape plus the values the fired rules read.

        Every part was built from validated data (the ruleset, the engine's firings, validated
        facts), so the models are constructed without validating them again; this is the one
        place a RiskReport is put together.
        """
        shape = self._shape_of(evaluation, facts)
        return self._report(shape, evaluation.fired, facts)

    def _report(
        self,
        shape: _Shape,
        fired_order: Sequence[int],
        inputs: Mapping[str, Value] | tuple[Any, ...],
    ) -> RiskReport:
        """A report from its shape; ``fired`` (with the values the rules read from ``inputs``:
        the facts, or ``X`` by position in :func:`input_order`) is built on first use."""
        report = RiskReport.__new__(RiskReport)
        _setattr(
            report,
            "__dict__",
            {
                "ruleset": self._info,
                "params": dict(self._params),
                "overall_level": shape.overall_level,
                "possible_level": shape.possible_level,
                "complete": shape.complete,
                "hazards": dict(shape.hazards),
                "findings": shape.findings,
                "fired": PENDING,
                "indeterminate": shape.indeterminate,
                "recommendations": shape.recommendations,
                "disclaimer": DISCLAIMER,
                "engine": self._engine,
            },
        )
        _setattr(report, "__pydantic_fields_set__", _REPORT_FIELDS)
        _setattr(report, "__pydantic_extra__", None)
        details = functools.partial(self._fired, fired_order, inputs)
        _setattr(report, "__pydantic_private__", {"_ruleset": self._ruleset, "_details": details})
        return report

    def _fired(
        self, fired_order: Sequence[int], inputs: Mapping[str, Value] | tuple[Any, ...]
    ) -> tuple[Firing, ...]:
        """The fired rules' details, with the values they read from ``inputs``."""
        templates = self._firings
        new = Firing.__new__
        fields_set = _FIRING_FIELDS
        fired = []
        by_position = isinstance(inputs, tuple)
        get = inputs.__getitem__ if by_position else inputs.get  # type: ignore[union-attr]
        for i in fired_order:
            template, fields, positions = templates[i]
            values = template.copy()
            if by_position:
                values["reads"] = {f: get(k) for f, k in zip(fields, positions, strict=True)}
            else:
                values["reads"] = {f: get(f) for f in fields}
            firing = new(Firing)
            _setattr(firing, "__dict__", values)
            _setattr(firing, "__pydantic_fields_set__", fields_set)
            _setattr(firing, "__pydantic_extra__", None)
            _setattr(firing, "__pydantic_private__", None)
            fired.append(firing)
        return tuple(fired)

    def assemble(
        self,
        values: tuple[Any, ...],
        fired: list[int],
        status: list[int],
        aggregated: tuple[Any, ...],
    ) -> RiskReport:
        """The report of one run of the generated code (:mod:`riskrules.scoring._generated`):
        input values ``X``, firings, int statuses, and what its ``aggregate`` returned."""
        hazards, ranked_raw, masks, opened = aggregated
        parts = self._parts
        scale = self._scale
        results: dict[str, HazardResult] = {}
        top = reach = 0
        for (hid, title), result_key in zip(self._titles, hazards, strict=True):
            score, level, possible, still_open, absent = result_key
            key = (hid, type(score), result_key)
            result = cast("HazardResult | None", parts.get(key))
            if result is None:
                result = self._part(
                    key,
                    HazardResult,
                    {
                        "title": title,
                        "score": score,
                        "level": scale[level],
                        "possible_level": scale[possible],
                        "complete": not still_open,
                        "missing": self._names(absent),
                    },
                )
            results[hid] = result
            if level > top:
                top = level
            if possible > reach:
                reach = possible
        asserts = self._asserts
        findings = tuple(dict.fromkeys([f for i in fired for f in asserts[i]]))
        indeterminate = self._open(opened, masks) if masks is not None else ()
        because = self._because(fired, hazards)
        ranked = []
        for priority, urgency, level, pid in ranked_raw:
            support = tuple(because.get(pid, ()))
            key = (pid, -level, support)
            rec = cast("Recommendation | None", parts.get(key))
            if rec is None:
                title, urgency_name, _ = self._protocols[pid]
                values_ = {
                    "protocol": pid,
                    "title": title,
                    "urgency": urgency_name,
                    "level": scale[-level],
                    "because": support,
                }
                rec = self._part(key, Recommendation, values_)
            ranked.append(((priority, urgency, level, -len(support), pid), rec))
        ranked.sort(key=_first)
        return self._report(
            _Shape(
                overall_level=scale[top],
                possible_level=scale[reach],
                complete=masks is None,
                hazards=results,
                findings=findings,
                indeterminate=indeterminate,
                recommendations=tuple([rec for _, rec in ranked]),
            ),
            fired,
            values,
        )

    def _because(
        self, fired: list[int], hazards: tuple[tuple[Any, ...], ...]
    ) -> dict[str, list[str]]:
        """The fired rules behind each protocol, in firing order: the rules recommending it
        and, where a band of a hazard recommends it, every fired rule of that hazard."""
        banded: dict[str, tuple[str, ...]] = {}
        for k, hid, bands in self._bands:
            reached = hazards[k][1]
            pids = [pid for level, protocols in bands if level <= reached for pid in protocols]
            if pids:
                banded[hid] = tuple(dict.fromkeys(pids))
        out: dict[str, list[str]] = {}
        rules = self._rules
        for i in fired:
            rule = rules[i]
            own = rule.recommend
            for pid in own:
                out.setdefault(pid, []).append(rule.id)
            more = banded.get(rule.hazard) if banded else None
            if more:
                for pid in more:
                    if pid not in own:
                        out.setdefault(pid, []).append(rule.id)
        return out

    def _open(self, opened: list[int], masks: list[int]) -> tuple[Indeterminate, ...]:
        """The indeterminate rules' parts, with the inputs missing for each."""
        store = self._open_parts
        out = []
        for i in opened:
            mask = masks[i]
            mine = store[i]
            part = mine.get(mask)
            if part is None:
                rule = self._rules[i]
                part = _construct(
                    Indeterminate,
                    {"rule": rule.id, "hazard": rule.hazard, "missing": self._names(mask)},
                )
                if len(mine) >= 256:
                    mine.clear()
                mine[mask] = part
            out.append(part)
        return tuple(out)

    def _names(self, mask: int) -> tuple[str, ...]:
        """The input names of a bit mask over ``X`` (sorted, as ``X`` is)."""
        names = self._mask_names.get(mask)
        if names is None:
            order = self._order
            names = tuple(name for k, name in enumerate(order) if mask >> k & 1)
            if len(self._mask_names) >= 65536:
                self._mask_names.clear()
            self._mask_names[mask] = names
        return names

    def _build_shape(
        self, fired: tuple[int, ...], status: tuple[Truth, ...], present: AbstractSet[str]
    ) -> _Shape:
        """Everything in a report except input values: it depends only on the firings, the
        statuses and which inputs are present, so equal runs share it (see ``_shape``)."""
        rules = self._rules
        scale = self._scale
        unknown = Truth.UNKNOWN
        indeterminate = [i for i, truth in enumerate(status) if truth is unknown]

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

        hazards: dict[str, HazardResult] = {}
        levels: dict[str, int] = {}
        reach = 0
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
            reach = max(reach, possible, level)
            key = (hid, score, level, max(possible, level), not still_open, absent)
            result = cast("HazardResult | None", self._parts.get(key))
            if result is None:
                result = self._part(
                    key,
                    HazardResult,
                    {
                        "title": hazard.title,
                        "score": score,
                        "level": scale[level],
                        "possible_level": scale[max(possible, level)],
                        "complete": not still_open,
                        "missing": tuple(sorted(absent)),
                    },
                )
            hazards[hid] = result

        return _Shape(
            overall_level=scale[max(levels.values(), default=0)],
            possible_level=scale[reach],
            complete=not indeterminate,
            hazards=hazards,
            findings=tuple(findings),
            indeterminate=tuple(self._indeterminate(i, missing[i]) for i in indeterminate),
            recommendations=tuple(self._recommend(fired, fired_by, levels)),
        )

    def _part(self, key: tuple[Any, ...], model: type[_M], values: dict[str, Any]) -> _M:
        """Build a report part and keep it for the next report with the same part (frozen
        models are shared safely); the store is emptied when it grows large."""
        part = _construct(model, values)
        if len(self._parts) >= 65536:
            self._parts.clear()
        self._parts[key] = part
        return part

    def _indeterminate(self, i: int, missing: frozenset[str]) -> Indeterminate:
        part = cast("Indeterminate | None", self._parts.get((i, missing)))
        if part is None:
            rule = self._rules[i]
            values = {"rule": rule.id, "hazard": rule.hazard, "missing": tuple(sorted(missing))}
            part = self._part((i, missing), Indeterminate, values)
        return part

    def _recommend(
        self, fired: tuple[int, ...], fired_by: dict[str, list[int]], levels: dict[str, int]
    ) -> list[Recommendation]:
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
        ranked: list[tuple[tuple[int, int, int, int, str], Recommendation]] = []
        for pid, rule_set in support.items():
            title, urgency, urgency_rank = self._protocols[pid]
            because = tuple(rules[i].id for i in sorted(rule_set, key=position.__getitem__))
            top = max(levels[h] for h in sources[pid])
            priority = max(self._hazards[h].priority for h in sources[pid])
            key = (pid, top, because)
            rec = cast("Recommendation | None", self._parts.get(key))
            if rec is None:
                values = {
                    "protocol": pid,
                    "title": title,
                    "urgency": urgency,
                    "level": self._scale[top],
                    "because": because,
                }
                rec = self._part(key, Recommendation, values)
            ranked.append(((-priority, -urgency_rank, -top, -len(because), pid), rec))
        ranked.sort(key=lambda item: item[0])
        return [rec for _, rec in ranked]
