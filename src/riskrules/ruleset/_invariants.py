"""The cross-reference invariants of a merged ruleset, each broken one located and explained.

Shape is pydantic's job; this module checks what only the whole ruleset can say: every rule
names a declared hazard, every reference, parameter, protocol and level named exists, bands
follow the level scale, every field test fits its input's type and declared values, scenarios
and properties name what the ruleset declares. :func:`problems` yields ``(loc, message)`` pairs
section by section; :class:`~riskrules.ruleset._spec.Ruleset` raises the first as an
:class:`~riskrules.errors.InvariantError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from riskrules._types import Loc
from riskrules.ruleset._checks import Bounded, Monotone
from riskrules.ruleset._conditions import (
    All,
    AnyOf,
    AtLeast,
    Condition,
    FieldLeaf,
    FindingLeaf,
    Not,
    ParamRef,
    walk,
)
from riskrules.ruleset._model import did_you_mean

if TYPE_CHECKING:
    from riskrules.ruleset._spec import Ruleset

__all__ = ["problems"]


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    return f"unknown {kind} {name!r}{did_you_mean(name, known)}"


def problems(rs: Ruleset) -> Iterator[tuple[Loc, str]]:
    """Every broken invariant of ``rs`` as ``(loc, message)``, section by section."""
    scale = rs.scale
    if len(set(scale)) != len(scale):
        yield ("levels",), "levels must be unique"
    yield from _reference_problems(rs)
    yield from _hazard_problems(rs, scale)
    seen: dict[str, int] = {}
    for i, rule in enumerate(rs.rules):
        where: Loc = ("rules", i)
        if rule.id in seen:
            yield (*where, "id"), f"duplicate rule id {rule.id!r} (first at rules[{seen[rule.id]}])"
        seen.setdefault(rule.id, i)
        if rule.hazard not in rs.hazards:
            yield (*where, "hazard"), _unknown("hazard", rule.hazard, rs.hazards)
        if rule.source is not None and rule.source not in rs.references:
            yield (*where, "source"), _unknown("reference", rule.source, rs.references)
        for j, protocol in enumerate(rule.then.recommend):
            if protocol not in rs.protocols:
                yield (*where, "then", "recommend", j), _unknown("protocol", protocol, rs.protocols)
        if rule.then.floor is not None and rule.then.floor not in scale:
            yield (*where, "then", "floor"), _unknown("level", rule.then.floor, scale)
        for node, path, _ in walk(rule.when):
            yield from _leaf_problems(rs, node, (*where, "when", *path))
    yield from _scenario_problems(rs, scale)
    yield from _property_problems(rs, scale)


def _reference_problems(rs: Ruleset) -> Iterator[tuple[Loc, str]]:
    sections: tuple[tuple[str, dict[str, Any]], ...] = (
        ("parameters", rs.parameters),
        ("inputs", rs.inputs),
        ("protocols", rs.protocols),
    )
    for section, items in sections:
        for name, item in items.items():
            if item.source is not None and item.source not in rs.references:
                yield (section, name, "source"), _unknown("reference", item.source, rs.references)


def _hazard_problems(rs: Ruleset, scale: tuple[str, ...]) -> Iterator[tuple[Loc, str]]:
    for hid, hazard in rs.hazards.items():
        where: Loc = ("hazards", hid)
        if not hazard.bands:
            yield (*where, "bands"), "a hazard needs at least one band"
            continue
        previous: tuple[str, float] | None = None
        for level, threshold in hazard.bands.items():
            if level not in scale:
                yield (*where, "bands", level), _unknown("level", level, scale)
                return
            if isinstance(threshold, float) and not math.isfinite(threshold):
                yield (*where, "bands", level), "band thresholds must be finite"
            if previous is None:
                if threshold != 0:
                    yield (
                        (*where, "bands", level),
                        f"the lowest band must start at 0 so every score has a level, "
                        f"not at {threshold}",
                    )
            else:
                if scale.index(level) <= scale.index(previous[0]):
                    yield (
                        (*where, "bands", level),
                        f"bands must follow the level scale order ({', '.join(scale)}): "
                        f"{level!r} comes after {previous[0]!r}",
                    )
                if threshold <= previous[1]:
                    yield (
                        (*where, "bands", level),
                        f"band thresholds must be strictly increasing: {level} at {threshold} "
                        f"is not above {previous[0]} at {previous[1]}",
                    )
            previous = (level, threshold)
        for level, protocols in hazard.recommend.items():
            if level not in scale:
                yield (*where, "recommend", level), _unknown("level", level, scale)
            for j, protocol in enumerate(protocols):
                if protocol not in rs.protocols:
                    yield (
                        (*where, "recommend", level, j),
                        _unknown("protocol", protocol, rs.protocols),
                    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _leaf_problems(rs: Ruleset, node: Condition, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(node, FindingLeaf | All | AnyOf | Not | AtLeast):
        return
    assert isinstance(node, FieldLeaf)
    spec = rs.inputs.get(node.field)
    if spec is None:
        yield loc, _unknown("input", node.field, rs.inputs)
        return
    op = node.op
    at = (*loc, op)
    if op in ("present", "absent"):
        return
    operands = node.value if isinstance(node.value, tuple) else (node.value,)
    if spec.type == "boolean":
        if op not in ("eq", "ne"):
            yield at, f"operator {op!r} does not apply to boolean input {node.field!r}; use eq/ne"
            return
        for operand in operands:
            if not isinstance(operand, bool):
                yield (
                    at,
                    f"boolean input {node.field!r} compares with true or false, not {operand!r}",
                )
        return
    if spec.type == "enum":
        if op not in ("eq", "ne", "in", "not_in"):
            yield (
                at,
                f"operator {op!r} does not apply to enum input {node.field!r}; "
                "use eq, ne, in or not_in",
            )
            return
        assert spec.values is not None
        for operand in operands:
            if isinstance(operand, ParamRef):
                yield at, f"enum input {node.field!r} cannot be compared with a parameter"
            elif operand not in spec.values:
                yield (
                    at,
                    f"{operand!r} is not a declared value of {node.field!r} "
                    f"({', '.join(spec.labels)}){did_you_mean(str(operand), spec.labels)}",
                )
        return
    # numeric input
    resolved: list[float] = []
    for operand in operands:
        if isinstance(operand, ParamRef):
            param = rs.parameters.get(operand.param)
            if param is None:
                yield at, _unknown("parameter", operand.param, rs.parameters)
                continue
            value: Any = param.default
        elif _is_number(operand):
            value = operand
        else:
            yield at, f"numeric input {node.field!r} compares with numbers, not {operand!r}"
            continue
        if isinstance(operand, float) and not math.isfinite(operand):
            yield at, f"{operand!r} is not a finite number"
            continue
        if not isinstance(operand, ParamRef):
            if spec.min is not None and value < spec.min:
                yield at, f"{value!r} is below the declared minimum {spec.min} of {node.field!r}"
            if spec.max is not None and value > spec.max:
                yield at, f"{value!r} is above the declared maximum {spec.max} of {node.field!r}"
        resolved.append(value)
    if op == "between" and len(resolved) == 2 and resolved[0] > resolved[1]:
        yield at, f"between needs low <= high, got [{resolved[0]}, {resolved[1]}]"


def _scenario_problems(rs: Ruleset, scale: tuple[str, ...]) -> Iterator[tuple[Loc, str]]:
    rule_ids = [r.id for r in rs.rules]
    asserted = {f for r in rs.rules for f in r.then.assert_}
    for i, scenario in enumerate(rs.tests):
        where: Loc = ("tests", i)
        for name, value in scenario.params.items():
            param = rs.parameters.get(name)
            if param is None:
                yield (*where, "params", name), _unknown("parameter", name, rs.parameters)
                continue
            try:
                param.check_value(value)
            except ValueError as exc:
                yield (*where, "params", name), str(exc)
        expect = scenario.expect
        for key in ("levels", "at_most", "at_least"):
            for hazard, level in getattr(expect, key).items():
                if hazard not in rs.hazards:
                    yield (*where, "expect", key, hazard), _unknown("hazard", hazard, rs.hazards)
                if level not in scale:
                    yield (*where, "expect", key, hazard), _unknown("level", level, scale)
        for hazard in expect.complete:
            if hazard not in rs.hazards:
                yield (
                    (*where, "expect", "complete", hazard),
                    _unknown("hazard", hazard, rs.hazards),
                )
        if expect.overall is not None and expect.overall not in scale:
            yield (*where, "expect", "overall"), _unknown("level", expect.overall, scale)
        for key in ("fired", "not_fired", "indeterminate"):
            for j, rule_id in enumerate(getattr(expect, key)):
                if rule_id not in rule_ids:
                    yield (*where, "expect", key, j), _unknown("rule", rule_id, rule_ids)
        for key in ("findings", "not_findings"):
            for j, finding in enumerate(getattr(expect, key)):
                if finding not in asserted:
                    yield (
                        (*where, "expect", key, j),
                        _unknown("finding", finding, asserted) + " (no rule asserts it)",
                    )
        for key in ("recommendations", "not_recommendations"):
            for j, protocol in enumerate(getattr(expect, key)):
                if protocol not in rs.protocols:
                    yield (*where, "expect", key, j), _unknown("protocol", protocol, rs.protocols)


def _property_problems(rs: Ruleset, scale: tuple[str, ...]) -> Iterator[tuple[Loc, str]]:
    asserted = {f for r in rs.rules for f in r.then.assert_}
    for i, prop in enumerate(rs.properties):
        kind = prop.kind
        where: Loc = ("properties", i, kind)
        spec = prop.spec
        if isinstance(spec, Monotone) and spec.input not in rs.inputs:
            yield (*where, "input"), _unknown("input", spec.input, rs.inputs)
        if spec.hazard is not None and spec.hazard not in rs.hazards:
            yield (*where, "hazard"), _unknown("hazard", spec.hazard, rs.hazards)
        if not isinstance(spec, Bounded):
            continue
        if spec.max not in scale:
            yield (*where, "max"), _unknown("level", spec.max, scale)
        if spec.unless is None:
            continue
        for node, path, _ in walk(spec.unless):
            at: Loc = (*where, "unless", *path)
            if isinstance(node, FindingLeaf):
                if node.finding not in asserted:
                    yield (
                        (*at, "finding"),
                        _unknown("finding", node.finding, asserted) + " (no rule asserts it)",
                    )
            else:
                yield from _leaf_problems(rs, node, at)
