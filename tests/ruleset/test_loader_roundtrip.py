"""Round trips: Ruleset -> YAML -> Ruleset is the identity, and layout keeps the fingerprint.

``valid_rulesets()`` draws whole rulesets that pass every invariant: custom level scales, typed
and bounded inputs (enums with arbitrary text values), parameters, hazards with bands, caps and
band recommendations, nested conditions with every operator, and scenarios with free-form input.
Text is drawn from all of Unicode except surrogates, so quoting and escaping are exercised.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from riskrules import Ruleset, dump_ruleset, load_ruleset
from riskrules.ruleset._rules import DEFAULT_LEVELS, URGENCIES

DATA = Path(__file__).parents[1] / "data"
CASELOAD = DATA / "caseload.yaml"

Draw = Callable[[st.SearchStrategy[Any]], Any]

IDS = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)
DOTTED = st.from_regex(r"[a-z][a-z0-9_]{0,5}(\.[a-z0-9_]{1,5}){0,2}", fullmatch=True)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=24)
PRINTABLE = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFFFF, exclude_categories=["Cs", "Cc"]),
    min_size=1,
    max_size=24,
)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def _number(draw: Draw, integer: bool, low: float | None, high: float | None) -> int | float:
    if integer:
        lo = int(low) if low is not None else (int(high) - 1000 if high is not None else -1000)
        hi = int(high) if high is not None else lo + 2000
        value: int | float = draw(st.integers(lo, hi))
        return value
    value = draw(st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False))
    return value


def _bounds(draw: Draw, integer: bool) -> tuple[Any, Any]:
    if integer:
        a, b = sorted(draw(st.lists(st.integers(-(10**6), 10**6), min_size=2, max_size=2)))
    else:
        a, b = sorted(draw(st.lists(FLOATS, min_size=2, max_size=2)))
    low = a if draw(st.booleans()) else None
    high = b if draw(st.booleans()) else None
    return low, high


@st.composite
def _input(draw: Draw, text: st.SearchStrategy[str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["integer", "number", "boolean", "enum"]))
    spec: dict[str, Any] = {"type": kind}
    if kind == "enum":
        spec["values"] = draw(st.lists(text, min_size=1, max_size=4, unique=True))
    elif kind in ("integer", "number"):
        low, high = _bounds(draw, kind == "integer")
        if low is not None:
            spec["min"] = low
        if high is not None:
            spec["max"] = high
    if draw(st.booleans()):
        spec["unit"] = draw(text)
    if draw(st.booleans()):
        spec["description"] = draw(text)
    return spec


@st.composite
def _parameter(draw: Draw, text: st.SearchStrategy[str]) -> dict[str, Any]:
    integer = draw(st.booleans())
    low, high = _bounds(draw, integer)
    spec: dict[str, Any] = {
        "type": "integer" if integer else "number",
        "default": _number(draw, integer, low, high),
        "description": draw(text),
    }
    if low is not None:
        spec["min"] = low
    if high is not None:
        spec["max"] = high
    return spec


def _leaf(draw: Draw, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    if not inputs or draw(st.integers(0, 5)) == 0:
        return {"finding": draw(DOTTED)}
    name = draw(st.sampled_from(sorted(inputs)))
    spec = inputs[name]
    leaf: dict[str, Any] = {"field": name}
    kind = spec["type"]
    if draw(st.integers(0, 6)) == 0:
        leaf[draw(st.sampled_from(["present", "absent"]))] = True
    elif kind == "boolean":
        leaf[draw(st.sampled_from(["eq", "ne"]))] = draw(st.booleans())
    elif kind == "enum":
        op = draw(st.sampled_from(["eq", "ne", "in", "not_in"]))
        values = spec["values"]
        if op in ("eq", "ne"):
            leaf[op] = draw(st.sampled_from(values))
        else:
            leaf[op] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))
    else:
        integer = kind == "integer"

        def constant() -> int | float:
            return _number(draw, integer, spec.get("min"), spec.get("max"))

        op = draw(
            st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between"])
        )
        if op == "between":
            leaf[op] = sorted([constant(), constant()])
        elif op in ("in", "not_in"):
            leaf[op] = [constant() for _ in range(draw(st.integers(1, 3)))]
        elif params and draw(st.booleans()):
            leaf[op] = {"param": draw(st.sampled_from(sorted(params)))}
        else:
            leaf[op] = constant()
    return leaf


def _condition(draw: Draw, inputs: dict[str, Any], params: dict[str, Any], depth: int) -> Any:
    kind = draw(st.sampled_from(["leaf", "leaf", "all", "any", "not", "at_least"]))
    if depth <= 0 or kind == "leaf":
        return _leaf(draw, inputs, params)
    if kind == "not":
        return {"not": _condition(draw, inputs, params, depth - 1)}
    children = [_condition(draw, inputs, params, depth - 1) for _ in range(draw(st.integers(1, 3)))]
    if kind == "at_least":
        return {"at_least": {"n": draw(st.integers(1, len(children))), "of": children}}
    return {kind: children}


def _json_values(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | FLOATS | text
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
        max_leaves=6,
    )


@st.composite
def valid_rulesets(draw: Draw, text: st.SearchStrategy[str] = TEXT) -> Ruleset:
    """A ruleset that passes every invariant, built as YAML-shaped data."""
    custom = draw(st.booleans())
    scale = (
        tuple(draw(st.lists(IDS, min_size=2, max_size=4, unique=True)))
        if custom
        else DEFAULT_LEVELS
    )
    references = draw(st.lists(IDS, max_size=3, unique=True))
    data: dict[str, Any] = {
        "ruleset": draw(IDS),
        "version": draw(text),
        "title": draw(text),
    }
    if custom:
        data["levels"] = list(scale)
    if draw(st.booleans()):
        data["description"] = draw(text)
    data["references"] = {
        name: {"citation": draw(text), **({"url": draw(text)} if draw(st.booleans()) else {})}
        for name in references
    }
    params = {name: draw(_parameter(text)) for name in draw(st.lists(IDS, max_size=3, unique=True))}
    inputs = {name: draw(_input(text)) for name in draw(st.lists(DOTTED, max_size=5, unique=True))}
    data["parameters"] = params
    data["inputs"] = inputs
    protocols = {
        name: {
            "title": draw(text),
            "urgency": draw(st.sampled_from(URGENCIES)),
            "steps": draw(st.lists(text, max_size=2)),
            **({"source": draw(st.sampled_from(references))} if references else {}),
        }
        for name in draw(st.lists(IDS, max_size=3, unique=True))
    }
    hazards: dict[str, Any] = {}
    for name in draw(st.lists(IDS, min_size=1, max_size=3, unique=True)):
        levels = sorted(
            draw(st.lists(st.sampled_from(scale), min_size=1, max_size=len(scale), unique=True)),
            key=scale.index,
        )
        steps = draw(
            st.lists(
                st.integers(1, 50) | st.floats(0.5, 50), min_size=len(levels), max_size=len(levels)
            )
        )
        threshold: float = 0
        bands: dict[str, Any] = {}
        for i, level in enumerate(levels):
            bands[level] = threshold
            threshold += steps[i]
        hazard: dict[str, Any] = {"title": draw(text), "bands": bands}
        if draw(st.booleans()):
            hazard["cap"] = draw(st.integers(1, 100) | st.floats(0.5, 100))
        if draw(st.booleans()):
            hazard["priority"] = draw(st.integers(-5, 5))
        if protocols and draw(st.booleans()):
            hazard["recommend"] = {
                draw(st.sampled_from(scale)): draw(
                    st.lists(st.sampled_from(sorted(protocols)), min_size=1, max_size=2)
                )
            }
        hazards[name] = hazard
    data["hazards"] = hazards
    data["protocols"] = protocols
    rules = []
    for rule_id in draw(st.lists(DOTTED, max_size=4, unique=True)):
        then: dict[str, Any] = {
            "points": draw(st.integers(0, 10) | st.floats(0, 10)),
            "assert": draw(st.lists(DOTTED, max_size=2)),
        }
        if protocols:
            then["recommend"] = draw(st.lists(st.sampled_from(sorted(protocols)), max_size=2))
        if draw(st.booleans()):
            then["floor"] = draw(st.sampled_from(scale))
        rule: dict[str, Any] = {
            "id": rule_id,
            "hazard": draw(st.sampled_from(sorted(hazards))),
            "when": _condition(draw, inputs, params, depth=3),
            "then": then,
            "because": draw(text),
            "salience": draw(st.integers(-3, 3)),
        }
        if references and draw(st.booleans()):
            rule["source"] = draw(st.sampled_from(references))
        rules.append(rule)
    data["rules"] = rules
    tests = []
    for _ in range(draw(st.integers(0, 2))):
        expect: dict[str, Any] = {}
        if draw(st.booleans()):
            expect["levels"] = {
                draw(st.sampled_from(sorted(hazards))): draw(st.sampled_from(scale))
            }
        if rules and draw(st.booleans()):
            expect["fired"] = [draw(st.sampled_from([r["id"] for r in rules]))]
        if draw(st.booleans()):
            expect["overall"] = draw(st.sampled_from(scale))
        scenario_params = {}
        if params and draw(st.booleans()):
            name = draw(st.sampled_from(sorted(params)))
            scenario_params[name] = params[name]["default"]
        tests.append(
            {
                "name": draw(text),
                "input": draw(st.dictionaries(text, _json_values(text), max_size=3)),
                "params": scenario_params,
                "expect": expect,
            }
        )
    data["tests"] = tests
    return Ruleset.model_validate(data)


@given(valid_rulesets())
def test_dump_then_load_gives_the_same_ruleset(ruleset: Ruleset) -> None:
    text = dump_ruleset(ruleset)
    again = load_ruleset(text)
    assert again == ruleset
    assert again.fingerprint == ruleset.fingerprint
    assert dump_ruleset(again) == text


def _shuffled(value: Any, rng: random.Random, under: str = "") -> Any:
    """The same data with every mapping's keys in a random order (bands keep theirs)."""
    if isinstance(value, dict):
        items = list(value.items())
        if under != "bands":
            rng.shuffle(items)
        return {key: _shuffled(item, rng, key) for key, item in items}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


@settings(max_examples=50)
@given(valid_rulesets(text=PRINTABLE), st.randoms(use_true_random=False))
def test_layout_and_key_order_do_not_change_the_fingerprint(
    ruleset: Ruleset, rng: random.Random
) -> None:
    data = ruleset.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    # JSON is YAML in flow style: a different layout, keys in another order.
    text = json.dumps(_shuffled(data, rng), indent=rng.choice([None, 1, 4]))
    again = load_ruleset(text)
    assert again == ruleset
    assert again.fingerprint == ruleset.fingerprint
