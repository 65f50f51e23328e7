"""Aggregation: an engine's firings and statuses to hazard scores, levels and recommendations.

:class:`Aggregator` is engine-independent, so every engine yields the same report for the same
firings; it is the reference that the native Scorer's generated aggregation
(:mod:`riskrules.scoring._gen_aggregation`, :mod:`riskrules.scoring._assembly`) is tested against,
and what the closure and durable engines' reports come from. Per hazard it adds the points of the
fired rules, caps the sum, reads the level off the bands and raises it to the highest floor of a
fired rule; the level still possible and the inputs missing for it come from the indeterminate
rules. Recommendations are the protocols named by fired rules and by reached bands, ranked by
hazard priority, urgency, level and support. The report's shape (everything but the input values
read) depends only on the firings, the statuses and which inputs are present, and is cached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from riskrules.engines._base import Evaluation, Program
from riskrules.report import HazardResult, Indeterminate, Recommendation, RiskReport
from riskrules.ruleset._conditions import Truth
from riskrules.ruleset._spec import URGENCIES, Ruleset
from riskrules.scoring._facts import HazardFacts, dependency_order, hazard_facts, rule_facts
from riskrules.scoring._parts import ReportMaker

if TYPE_CHECKING:
    from riskrules._types import Number, Value

__all__ = ["Aggregator"]


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


class Aggregator:
    """Engine-independent scoring: firings and statuses -> hazards, recommendations, report."""

    def __init__(
        self, ruleset: Ruleset, program: Program, params: dict[str, Number], engine: str
    ) -> None:
        self._scale = ruleset.scale
        self._rules = rule_facts(ruleset)
        self._maker = ReportMaker(ruleset, program, self._rules, params, engine)
        self._parts = self._maker.parts
        self._part = self._maker.part
        self._hazards = hazard_facts(ruleset, self._rules)
        self._urgency = {
            pid: URGENCIES.index(protocol.urgency) for pid, protocol in ruleset.protocols.items()
        }
        self._rank, self._acyclic = dependency_order(self._rules, program)
        # Cohorts repeat the same pattern of firings and missing inputs again and again.
        self._cached_shape = functools.lru_cache(maxsize=256)(self._build_shape)
        self._shape: Callable[[tuple[int, ...], tuple[Truth, ...], AbstractSet[str]], _Shape] = (
            self._cached_shape
        )
        self._lookups = 0

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

    def _level(self, hazard: HazardFacts, rules: Iterable[int]) -> tuple[Number, int]:
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
        facts), so the models are constructed without validating them again
        (:class:`~riskrules.scoring._parts.ReportMaker`).
        """
        shape = self._shape_of(evaluation, facts)
        return self._maker.report(
            overall_level=shape.overall_level,
            possible_level=shape.possible_level,
            complete=shape.complete,
            hazards=dict(shape.hazards),
            findings=shape.findings,
            indeterminate=shape.indeterminate,
            recommendations=shape.recommendations,
            fired=evaluation.fired,
            inputs=facts,
        )

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
            # the type too: 1 and 1.0 are equal keys but print differently
            key = (hid, type(score), score, level, max(possible, level), not still_open, absent)
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
            because = tuple(rules[i].id for i in sorted(rule_set, key=position.__getitem__))
            top = max(levels[h] for h in sources[pid])
            priority = max(self._hazards[h].priority for h in sources[pid])
            rec = self._maker.recommendation(pid, top, because)
            ranked.append(((-priority, -self._urgency[pid], -top, -len(because), pid), rec))
        ranked.sort(key=lambda item: item[0])
        return [rec for _, rec in ranked]
