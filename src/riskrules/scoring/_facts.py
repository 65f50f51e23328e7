"""What scoring needs to know about each rule and hazard of a ruleset, computed once per Scorer.

Shared by the reference aggregation (:mod:`riskrules.scoring._aggregation`), the generated one
(:mod:`riskrules.scoring._gen_aggregation`) and the report assembly of the generated path
(:mod:`riskrules.scoring._assembly`).
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from riskrules.engines._base import Program
from riskrules.ruleset._conditions import FieldLeaf, fields_read, findings_read, walk
from riskrules.ruleset._spec import Ruleset

if TYPE_CHECKING:
    from riskrules._types import Number

__all__ = [
    "HazardFacts",
    "RuleFacts",
    "dependency_order",
    "hazard_facts",
    "integer_scores",
    "rule_facts",
]


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


def dependency_order(rules: tuple[RuleFacts, ...], program: Program) -> tuple[dict[int, int], bool]:
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
class HazardFacts:
    """What aggregation needs to know about one hazard."""

    title: str
    bands: tuple[tuple[int, Number], ...]
    """(level index, threshold), lowest first."""
    cap: Number | None
    priority: int
    recommend: tuple[tuple[int, tuple[str, ...]], ...]
    """(level index, protocols) recommended once the hazard reaches that level."""
    rules: tuple[int, ...]


def hazard_facts(ruleset: Ruleset, rules: tuple[RuleFacts, ...]) -> dict[str, HazardFacts]:
    """Each hazard's facts, in ruleset order."""
    scale = ruleset.scale
    return {
        hid: HazardFacts(
            title=hazard.title,
            bands=tuple((scale.index(level), t) for level, t in hazard.bands.items()),
            cap=hazard.cap,
            priority=hazard.priority,
            recommend=tuple(
                (scale.index(level), protocols) for level, protocols in hazard.recommend.items()
            ),
            rules=tuple(i for i, r in enumerate(rules) if r.hazard == hid),
        )
        for hid, hazard in ruleset.hazards.items()
    }


def integer_scores(ruleset: Ruleset, rules: tuple[RuleFacts, ...]) -> dict[str, bool]:
    """Per hazard, whether its scores are always integers (integer points and cap): then sums do
    not depend on the order of addition, and a score never meets an equal decimal one."""
    return {
        hid: type(hazard.cap) is not float
        and all(type(r.points) is int for r in rules if r.hazard == hid)
        for hid, hazard in ruleset.hazards.items()
    }
