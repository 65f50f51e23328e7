"""Hypothesis strategies for valid rulesets and for assessments that fit them.

``rulesets()`` draws whole :class:`riskrules.Ruleset` objects: inputs of every type with
bounds, parameters, hazards with bands, caps, priorities and band recommendations, protocols with
urgencies, and rules whose conditions use every operator and connective. Findings chain across
*layers*: each rule gets a layer, a finding's layer is the highest layer of the rules asserting
it, and a rule reads findings of its own or lower layers positively (so positive cycles occur) but
only findings of strictly lower layers negatively. That makes every generated ruleset stratifiable,
as the loader requires.

``assessments(ruleset)`` draws fact dicts (dotted input name -> value) within the declared types and
bounds, with inputs randomly left out (missing data).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from riskrules.ruleset._conditions import FieldLeaf, ParamRef, walk
from riskrules.ruleset._spec import DEFAULT_LEVELS, URGENCIES, Input, Ruleset

__all__ = ["assessments", "default_params", "rulesets"]

Draw = Callable[[st.SearchStrategy[Any]], Any]

_ENUM_WORDS = ("alpha", "beta", "gamma", "delta", "epsilon")
_UNBOUNDED = (-3, 8)
"""The range drawn from for an integer input without declared bounds."""


@dataclass
class _Plan:
    """What a rule's condition may read while it is being drawn."""

    inputs: Mapping[str, Input]
    params: Mapping[str, dict[str, Any]]
    positive: list[str]
    """Findings this rule may read positively (same or lower layer, or never asserted)."""
    negative: list[str]
    """Findings this rule may read negatively (strictly lower layer, or never asserted)."""


def default_params(ruleset: Ruleset) -> dict[str, Any]:
    """Every parameter bound to its default, as ``Program.build`` expects."""
    return {name: p.default for name, p in ruleset.parameters.items()}


def _range(spec: Input) -> tuple[float, float]:
    low = spec.min if spec.min is not None else _UNBOUNDED[0]
    high = spec.max if spec.max is not None else _UNBOUNDED[1]
    return low, high


def _number_constant(draw: Draw, spec: Input) -> int | float:
    """A constant within the input's bounds; halves for number inputs so ties happen."""
    low, high = _range(spec)
    if spec.type == "integer":
        if draw(st.integers(0, 5)) == 0:
            # A fractional threshold on an integer input is legal too.
            return float(draw(st.integers(int(low), int(high) - 1))) + 0.5
        return int(draw(st.integers(int(low), int(high))))
    steps = int((high - low) * 2)
    value = low + draw(st.integers(0, steps)) / 2
    return int(value) if value.is_integer() and draw(st.booleans()) else float(value)


def _operand(draw: Draw, plan: _Plan, spec: Input) -> tuple[Any, float]:
    """A numeric operand (constant or parameter reference) and its resolved value."""
    if plan.params and draw(st.integers(0, 3)) == 0:
        name = draw(st.sampled_from(sorted(plan.params)))
        return {"param": name}, plan.params[name]["default"]
    value = _number_constant(draw, spec)
    return value, value


def _field_leaf(draw: Draw, plan: _Plan) -> dict[str, Any]:
    field = draw(st.sampled_from(sorted(plan.inputs)))
    spec = plan.inputs[field]
    if draw(st.integers(0, 7)) == 0:
        return {"field": field, draw(st.sampled_from(["present", "absent"])): True}
    if spec.type == "boolean":
        return {"field": field, draw(st.sampled_from(["eq", "ne"])): draw(st.booleans())}
    if spec.type == "enum":
        assert spec.values is not None
        op = draw(st.sampled_from(["eq", "ne", "in", "not_in"]))
        if op in ("eq", "ne"):
            return {"field": field, op: draw(st.sampled_from(spec.values))}
        members = draw(st.lists(st.sampled_from(spec.values), min_size=1, max_size=3, unique=True))
        return {"field": field, op: members}
    op = draw(st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between"]))
    if op in ("in", "not_in"):
        members = [_number_constant(draw, spec) for _ in range(draw(st.integers(1, 3)))]
        return {"field": field, op: members}
    if op == "between":
        a, a_value = _operand(draw, plan, spec)
        b, b_value = _operand(draw, plan, spec)
        if a_value > b_value:
            a, b = b, a
        return {"field": field, op: [a, b]}
    operand, _ = _operand(draw, plan, spec)
    return {"field": field, op: operand}


def _condition(draw: Draw, plan: _Plan, depth: int, positive: bool) -> dict[str, Any]:
    """A condition tree; ``positive`` is False under an odd number of ``not``."""
    readable = plan.positive if positive else plan.negative
    negatable = plan.negative if positive else plan.positive
    kinds = ["field", "field", "finding", "finding", "not_finding"]
    if depth > 0:
        kinds += ["all", "any", "not", "at_least"]
    kind = draw(st.sampled_from(kinds))
    if kind == "field":
        return _field_leaf(draw, plan)
    if kind == "finding":
        return {"finding": draw(st.sampled_from(readable))}
    if kind == "not_finding":
        return {"not": {"finding": draw(st.sampled_from(negatable))}}
    if kind == "not":
        return {"not": _condition(draw, plan, depth - 1, not positive)}
    size = draw(st.integers(1, 3 if kind != "at_least" else 4))
    children = [_condition(draw, plan, depth - 1, positive) for _ in range(size)]
    if kind == "at_least":
        return {"at_least": {"n": draw(st.integers(1, size)), "of": children}}
    return {kind: children}


def _inputs(draw: Draw) -> dict[str, dict[str, Any]]:
    inputs: dict[str, dict[str, Any]] = {}
    for j in range(draw(st.integers(1, 3))):
        bounds = draw(st.sampled_from(["both", "both", "min", "none"]))
        low = draw(st.integers(-2, 2))
        spec: dict[str, Any] = {"type": "integer"}
        if bounds in ("both", "min"):
            spec["min"] = low
        if bounds == "both":
            spec["max"] = low + draw(st.integers(2, 8))
        inputs[f"clinician.count{j}"] = spec
    for j in range(draw(st.integers(1, 2))):
        low = draw(st.sampled_from([0.0, -1.5, 0.5]))
        inputs[f"clinician.score.n{j}"] = {
            "type": "number",
            "min": low,
            "max": low + draw(st.integers(2, 10)) / 2,
            "unit": "points",
        }
    for j in range(draw(st.integers(1, 3))):
        inputs[f"client.flag{j}"] = {"type": "boolean"}
    for j in range(draw(st.integers(1, 2))):
        values = draw(st.lists(st.sampled_from(_ENUM_WORDS), min_size=2, max_size=4, unique=True))
        inputs[f"client.kind{j}"] = {"type": "enum", "values": values}
    return inputs


def _parameters(draw: Draw) -> dict[str, dict[str, Any]]:
    params: dict[str, dict[str, Any]] = {}
    for j in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            default: int | float = draw(st.integers(-1, 8))
            params[f"p{j}"] = {
                "type": "integer",
                "default": default,
                "min": default - 5,
                "max": default + 5,
                "description": "threshold",
            }
        else:
            default = draw(st.integers(-2, 16)) / 2
            params[f"p{j}"] = {"type": "number", "default": default, "description": "threshold"}
    return params


def _hazards(draw: Draw, protocols: list[str]) -> dict[str, dict[str, Any]]:
    hazards: dict[str, dict[str, Any]] = {}
    for j in range(draw(st.integers(1, 3))):
        levels = sorted(
            draw(
                st.lists(
                    st.integers(0, len(DEFAULT_LEVELS) - 1), min_size=1, max_size=4, unique=True
                )
            )
        )
        bands: dict[str, int | float] = {}
        threshold: int | float = 0
        for k in levels:
            bands[DEFAULT_LEVELS[k]] = threshold
            threshold += draw(st.sampled_from([1, 2, 3, 2.5]))
        hazard: dict[str, Any] = {
            "title": f"Hazard {j}",
            "bands": bands,
            "priority": draw(st.integers(0, 2)),
        }
        if draw(st.booleans()):
            hazard["cap"] = draw(st.sampled_from([1, 4, 6.5, 10]))
        recommend: dict[str, list[str]] = {}
        for level in draw(st.lists(st.sampled_from(DEFAULT_LEVELS), max_size=2, unique=True)):
            recommend[level] = draw(
                st.lists(st.sampled_from(protocols), min_size=1, max_size=2, unique=True)
            )
        hazard["recommend"] = recommend
        hazards[f"h{j}"] = hazard
    return hazards


@st.composite
def rulesets(
    draw: Draw,
    *,
    min_rules: int = 1,
    max_rules: int = 12,
    max_layers: int = 4,
    max_depth: int = 3,
) -> Ruleset:
    """A valid, stratifiable Ruleset exercising every operator, connective and rule effect."""
    inputs = _inputs(draw)
    params = _parameters(draw)
    protocols = {
        f"pr{j}": {"title": f"Protocol {j}", "urgency": draw(st.sampled_from(URGENCIES))}
        for j in range(draw(st.integers(1, 4)))
    }
    hazards = _hazards(draw, sorted(protocols))
    n_rules = draw(st.integers(min_rules, max_rules))
    n_layers = draw(st.integers(1, max_layers))
    pool = [f"finding.f{j}" for j in range(draw(st.integers(1, max(1, n_rules))))]
    unasserted = "finding.never"

    layers = [draw(st.integers(0, n_layers - 1)) for _ in range(n_rules)]
    asserts = [
        draw(st.lists(st.sampled_from(pool), max_size=2, unique=True)) for _ in range(n_rules)
    ]
    finding_layer: dict[str, int] = {}
    for layer, names in zip(layers, asserts, strict=True):
        for name in names:
            finding_layer[name] = max(finding_layer.get(name, 0), layer)

    typed_inputs = {name: Input.model_validate(spec) for name, spec in inputs.items()}
    rules: list[dict[str, Any]] = []
    for i in range(n_rules):
        layer = layers[i]
        plan = _Plan(
            inputs=typed_inputs,
            params=params,
            positive=[f for f, lv in sorted(finding_layer.items()) if lv <= layer] + [unasserted],
            negative=[f for f, lv in sorted(finding_layer.items()) if lv < layer] + [unasserted],
        )
        when = _condition(draw, plan, draw(st.integers(0, max_depth)), positive=True)
        below = [f for f, lv in sorted(finding_layer.items()) if lv == layer - 1]
        if below and draw(st.integers(0, 2)):
            # Anchor the rule on a finding of the layer below: chains and strata get deep.
            anchor: dict[str, Any] = {"finding": draw(st.sampled_from(below))}
            if draw(st.booleans()):
                anchor = {"not": anchor}
            link = draw(st.sampled_from(["all", "any", "at_least"]))
            parts = [anchor, when] if draw(st.booleans()) else [when, anchor]
            when = {"at_least": {"n": 1, "of": parts}} if link == "at_least" else {link: parts}
        then: dict[str, Any] = {
            "points": draw(st.sampled_from([0, 1, 2, 3, 1.5])),
            "assert": asserts[i],
            "recommend": draw(
                st.lists(st.sampled_from(sorted(protocols)), max_size=2, unique=True)
            ),
        }
        if draw(st.integers(0, 4)) == 0:
            then["floor"] = draw(st.sampled_from(DEFAULT_LEVELS))
        hazard = draw(st.sampled_from(sorted(hazards)))
        rule: dict[str, Any] = {
            "id": f"{hazard}.r{i}",
            "hazard": hazard,
            "when": when,
            "then": then,
            "because": f"Generated rule {i} in layer {layer}.",
        }
        salience = draw(st.integers(-2, 2))
        if salience:
            rule["salience"] = salience
        rules.append(rule)

    return Ruleset.model_validate(
        {
            "ruleset": "generated",
            "version": "1.0.0",
            "title": "Generated ruleset",
            "parameters": params,
            "inputs": inputs,
            "hazards": hazards,
            "rules": rules,
            "protocols": protocols,
        }
    )


def _thresholds(ruleset: Ruleset) -> dict[str, set[float]]:
    """Every numeric constant each input is compared with (parameters at their defaults)."""
    found: dict[str, set[float]] = {}
    for rule in ruleset.rules:
        for node, _, _ in walk(rule.when):
            if not isinstance(node, FieldLeaf) or node.op in ("present", "absent"):
                continue
            value = node.value
            for operand in value if isinstance(value, tuple) else (value,):
                if isinstance(operand, ParamRef):
                    operand = ruleset.parameters[operand.param].default
                if isinstance(operand, int | float) and not isinstance(operand, bool):
                    found.setdefault(node.field, set()).add(operand)
    return found


def _value(spec: Input, thresholds: set[float]) -> st.SearchStrategy[Any]:
    """A valid value; numbers favour the thresholds the rules use and their neighbours."""
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "enum":
        assert spec.values is not None
        return st.sampled_from(spec.values)
    low, high = _range(spec)
    if spec.type == "integer":
        near = {
            n
            for t in thresholds
            for n in (math.floor(t) - 1, math.floor(t), math.ceil(t), math.ceil(t) + 1)
            if low <= n <= high
        }
        anywhere_int = st.integers(int(low), int(high))
        return st.one_of(st.sampled_from(sorted(near)), anywhere_int) if near else anywhere_int
    near_numbers = sorted(
        {n for t in thresholds for n in (t - 0.5, t, t + 0.5) if low <= n <= high}
    )
    halves = st.integers(0, int((high - low) * 2)).map(lambda k: low + k / 2)
    anywhere = st.floats(low, high, allow_nan=False, allow_infinity=False)
    options = [halves, halves.map(lambda v: int(v) if v.is_integer() else v), anywhere]
    if near_numbers:
        options.insert(0, st.sampled_from(near_numbers))
    return st.one_of(*options)


@st.composite
def assessments(draw: Draw, ruleset: Ruleset, *, missing: float = 0.25) -> dict[str, Any]:
    """Facts for ``ruleset``: each input present with probability ``1 - missing``; numeric
    values often sit on or next to a threshold that some rule tests."""
    facts: dict[str, Any] = {}
    cut = int(missing * 100)
    thresholds = _thresholds(ruleset)
    for name, spec in ruleset.inputs.items():
        if draw(st.integers(0, 99)) >= cut:
            facts[name] = draw(_value(spec, thresholds.get(name, set())))
    return facts
