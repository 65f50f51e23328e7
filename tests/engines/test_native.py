"""The native engine on hand-written rulesets whose outcome is worked out by hand.

Each case states the semantics it pins down (see :mod:`riskrules.engines._base`). The same cases run
against the durable engine wherever it is available, so both engines are held to them.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines_here import ENGINES
from riskrules.engines import _native as native
from riskrules.engines._base import Engine, Evaluation, Program
from riskrules.errors import EngineError
from riskrules.ruleset._conditions import Truth
from riskrules.ruleset._spec import Ruleset
from strategies import assessments, default_params, rulesets

T, U, F = Truth.TRUE, Truth.UNKNOWN, Truth.FALSE

INPUTS: dict[str, Any] = {
    "a": {"type": "integer", "min": 0, "max": 10},
    "x.score": {"type": "number", "min": 0, "max": 5},
    "b": {"type": "boolean"},
    "kind": {"type": "enum", "values": ["red", "green", "blue"]},
}


@pytest.fixture(params=(*ENGINES, "compiled"))
def engine(request: pytest.FixtureRequest) -> str:
    """Each engine module that runs here: the closure engine (``native``), durable where it
    imports, and the generated-code engine (``compiled``, what ``engine="native"`` runs)."""
    name: str = request.param
    return name


@pytest.fixture
def compile_(engine: str) -> Iterator[Callable[[Program], Engine]]:
    """The engine module's ``compile``; engines built through it are closed afterwards."""
    module = importlib.import_module(f"riskrules.engines._{engine}")
    built: list[Engine] = []

    def build(program: Program) -> Engine:
        engine: Engine = module.compile(program)
        built.append(engine)
        return engine

    yield build
    for engine in built:
        engine.close()


def ruleset(*rules: dict[str, Any], parameters: dict[str, Any] | None = None) -> Ruleset:
    """A one-hazard ruleset over INPUTS; each rule dict gives ``when`` and optional extras."""
    full = []
    for i, rule in enumerate(rules):
        then = {"assert": rule.get("assert", [])}
        entry = {
            "id": rule.get("id", f"r{i}"),
            "hazard": "h",
            "when": rule["when"],
            "then": then,
            "because": "Hand-written case.",
        }
        if "salience" in rule:
            entry["salience"] = rule["salience"]
        full.append(entry)
    return Ruleset.model_validate(
        {
            "ruleset": "cases",
            "version": "1",
            "title": "Cases",
            "inputs": INPUTS,
            "parameters": parameters or {},
            "hazards": {"h": {"title": "H", "bands": {"low": 0}}},
            "rules": full,
        }
    )


def run(
    compile_: Callable[[Program], Engine],
    rs: Ruleset,
    facts: dict[str, Any],
    params: dict[str, Any] | None = None,
) -> Evaluation:
    program = Program.build(rs, params if params is not None else default_params(rs))
    return compile_(program).run(facts)


def test_positive_cycle_without_base_support_is_false(
    compile_: Callable[[Program], Engine],
) -> None:
    rs = ruleset(
        {"when": {"finding": "f.y"}, "assert": ["f.x"]},
        {"when": {"finding": "f.x"}, "assert": ["f.y"]},
        {"when": {"any": [{"finding": "f.x"}, {"field": "a", "gt": 5}]}},
    )
    assert run(compile_, rs, {"a": 1}) == Evaluation(fired=(), status=(F, F, F))
    # With missing data outside the cycle the cycle itself is still unsupported.
    assert run(compile_, rs, {}) == Evaluation(fired=(), status=(F, F, U))


def test_positive_cycle_with_unknown_support_is_unknown(
    compile_: Callable[[Program], Engine],
) -> None:
    rs = ruleset(
        {"when": {"any": [{"finding": "f.y"}, {"field": "a", "gt": 5}]}, "assert": ["f.x"]},
        {"when": {"finding": "f.x"}, "assert": ["f.y"]},
    )
    assert run(compile_, rs, {}) == Evaluation(fired=(), status=(U, U))
    assert run(compile_, rs, {"a": 6}) == Evaluation(fired=(0, 1), status=(T, T))
    assert run(compile_, rs, {"a": 5}) == Evaluation(fired=(), status=(F, F))


def test_unknown_input_propagates_through_a_chain(compile_: Callable[[Program], Engine]) -> None:
    rs = ruleset(
        {"when": {"all": [{"finding": "f.two"}, {"field": "b", "eq": True}]}, "salience": 9},
        {"when": {"finding": "f.one"}, "assert": ["f.two"], "salience": 5},
        {"when": {"field": "a", "gte": 7}, "assert": ["f.one"]},
    )
    assert run(compile_, rs, {"b": True}) == Evaluation(fired=(), status=(U, U, U))
    assert run(compile_, rs, {"b": False}) == Evaluation(fired=(), status=(F, U, U))
    assert run(compile_, rs, {"a": 2, "b": True}) == Evaluation(fired=(), status=(F, F, F))
    # Three rounds: salience orders a round, it cannot pull a rule into an earlier one.
    assert run(compile_, rs, {"a": 7, "b": True}) == Evaluation(fired=(2, 1, 0), status=(T, T, T))
    assert run(compile_, rs, {"a": 7}) == Evaluation(fired=(2, 1), status=(U, T, T))


def test_negation_over_an_unknown_finding_is_unknown(
    compile_: Callable[[Program], Engine],
) -> None:
    rs = ruleset(
        {"when": {"not": {"finding": "f.risk"}}, "assert": ["f.clear"]},
        {"when": {"field": "x.score", "gt": 2.5}, "assert": ["f.risk"]},
        {"when": {"finding": "f.clear"}},
    )
    program = Program.build(rs, {})
    assert [r.stratum for r in program.rules] == [1, 0, 1]
    assert run(compile_, rs, {}) == Evaluation(fired=(), status=(U, U, U))
    assert run(compile_, rs, {"x.score": 2.5}) == Evaluation(fired=(0, 2), status=(T, F, T))
    assert run(compile_, rs, {"x.score": 2.75}) == Evaluation(fired=(1,), status=(F, T, F))


def test_finding_asserted_in_two_strata_stays_possible(
    compile_: Callable[[Program], Engine],
) -> None:
    """An indeterminate lower-stratum asserter keeps a higher-stratum finding UNKNOWN."""
    rs = ruleset(
        {"when": {"field": "a", "gt": 5}, "assert": ["f.shared"]},
        {"when": {"field": "b", "eq": True}, "assert": ["f.base"]},
        {"when": {"not": {"finding": "f.base"}}, "assert": ["f.shared"]},
        {"when": {"finding": "f.shared"}},
    )
    program = Program.build(rs, {})
    assert [r.stratum for r in program.rules] == [0, 0, 1, 1]
    assert run(compile_, rs, {"b": True}) == Evaluation(fired=(1,), status=(U, T, F, U))
    assert run(compile_, rs, {"b": True, "a": 1}) == Evaluation(fired=(1,), status=(F, T, F, F))
    assert run(compile_, rs, {"b": False}) == Evaluation(fired=(2, 3), status=(U, F, T, T))
    assert run(compile_, rs, {"a": 9, "b": True}) == Evaluation(
        fired=(0, 1, 3), status=(T, T, F, T)
    )


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({}, U),  # three unknowns could still make two
        ({"b": True}, U),
        ({"b": True, "a": 6}, T),
        ({"b": False}, U),
        ({"b": False, "a": 1}, F),  # at most one of the three can hold
        ({"b": False, "a": 1, "kind": "red"}, F),
        ({"b": True, "a": 1, "kind": "green"}, F),
        ({"b": True, "kind": "red"}, T),
    ],
)
def test_at_least_with_unknowns(
    compile_: Callable[[Program], Engine], facts: dict[str, Any], expected: Truth
) -> None:
    rs = ruleset(
        {
            "when": {
                "at_least": {
                    "n": 2,
                    "of": [
                        {"field": "a", "gt": 5},
                        {"field": "b", "eq": True},
                        {"field": "kind", "in": ["red", "blue"]},
                    ],
                }
            }
        }
    )
    assert run(compile_, rs, facts).status == (expected,)


def test_salience_orders_a_round_then_ruleset_order_breaks_ties(
    compile_: Callable[[Program], Engine],
) -> None:
    rs = ruleset(
        {"when": {"field": "a", "gte": 0}},
        {"when": {"field": "a", "gte": 0}, "salience": 5},
        {"when": {"field": "a", "gte": 0}, "salience": -1, "assert": ["f.next"]},
        {"when": {"field": "a", "gte": 0}, "salience": 5},
        {"when": {"finding": "f.next"}, "salience": 100},
    )
    assert run(compile_, rs, {"a": 0}).fired == (1, 3, 0, 2, 4)


def test_refraction_fires_each_rule_once(compile_: Callable[[Program], Engine]) -> None:
    rs = ruleset(
        {"when": {"any": [{"field": "a", "gt": 0}, {"finding": "f.loop"}]}, "assert": ["f.loop"]},
        {"when": {"finding": "f.loop"}, "assert": ["f.loop", "f.again"]},
        {"when": {"any": [{"finding": "f.again"}, {"finding": "f.loop"}]}, "assert": ["f.loop"]},
    )
    assert run(compile_, rs, {"a": 3}) == Evaluation(fired=(0, 1, 2), status=(T, T, T))
    assert run(compile_, rs, {}) == Evaluation(fired=(), status=(U, U, U))


@pytest.mark.parametrize(
    ("when", "missing", "present"),
    [
        ({"field": "a", "present": True}, F, T),
        ({"field": "a", "absent": True}, T, F),
        ({"not": {"field": "kind", "present": True}}, T, F),
        ({"all": [{"field": "b", "absent": True}, {"field": "a", "absent": True}]}, T, F),
    ],
)
def test_present_and_absent_are_never_unknown(
    compile_: Callable[[Program], Engine], when: dict[str, Any], missing: Truth, present: Truth
) -> None:
    rs = ruleset({"when": when})
    assert run(compile_, rs, {}).status == (missing,)
    assert run(compile_, rs, {"a": 0, "b": False, "kind": "red"}).status == (present,)


@pytest.mark.parametrize(
    ("when", "facts", "expected"),
    [
        ({"field": "a", "eq": 4}, {"a": 4}, T),
        ({"field": "a", "ne": 4}, {"a": 4}, F),
        ({"field": "a", "gt": 4}, {"a": 4}, F),
        ({"field": "a", "gte": 4}, {"a": 4}, T),
        ({"field": "a", "lt": 4}, {"a": 4}, F),
        ({"field": "a", "lte": 4}, {"a": 4}, T),
        ({"field": "a", "in": [1, 4]}, {"a": 4}, T),
        ({"field": "a", "not_in": [1, 4]}, {"a": 4}, F),
        ({"field": "a", "between": [4, 6]}, {"a": 4}, T),
        ({"field": "a", "between": [4, 6]}, {"a": 7}, F),
        ({"field": "x.score", "eq": 2}, {"x.score": 2.0}, T),
        ({"field": "x.score", "in": [1.5, 2]}, {"x.score": 1.5}, T),
        ({"field": "kind", "ne": "red"}, {"kind": "blue"}, T),
        ({"field": "kind", "not_in": ["red"]}, {}, U),
        ({"field": "b", "eq": False}, {"b": False}, T),
        ({"not": {"field": "b", "eq": False}}, {}, U),
        ({"any": [{"field": "b", "eq": True}, {"field": "a", "gt": 1}]}, {"a": 2}, T),
        ({"any": [{"field": "b", "eq": True}, {"field": "a", "gt": 1}]}, {"a": 1}, U),
        ({"all": [{"field": "b", "eq": True}, {"field": "a", "gt": 1}]}, {"a": 1}, F),
        ({"all": [{"field": "b", "eq": True}, {"field": "a", "gt": 1}]}, {"a": 2}, U),
        ({"finding": "f.never"}, {}, F),
        ({"not": {"finding": "f.never"}}, {}, T),
    ],
)
def test_operators_and_connectives(
    compile_: Callable[[Program], Engine],
    when: dict[str, Any],
    facts: dict[str, Any],
    expected: Truth,
) -> None:
    assert run(compile_, ruleset({"when": when}), facts).status == (expected,)


def test_parameters_are_bound_at_compile_time(compile_: Callable[[Program], Engine]) -> None:
    rs = ruleset(
        {"when": {"field": "a", "between": [{"param": "low"}, 8]}},
        parameters={"low": {"type": "integer", "default": 3, "description": "lower bound"}},
    )
    assert run(compile_, rs, {"a": 4}).status == (T,)
    assert run(compile_, rs, {"a": 4}, params={"low": 5}).status == (F,)


def test_closed_engine_refuses_to_run() -> None:
    engine = native.compile(Program.build(ruleset({"when": {"field": "a", "gt": 1}}), {}))
    assert engine.name == "closure"
    engine.close()
    with pytest.raises(EngineError, match="closed"):
        engine.run({"a": 2})


def test_unvalidated_facts_raise_engine_error() -> None:
    engine = native.compile(Program.build(ruleset({"when": {"field": "a", "gt": 1}}), {}))
    with pytest.raises(EngineError, match="validated") as info:
        engine.run({"a": "12"})
    assert "12" not in str(info.value)  # values never leak into messages


@settings(max_examples=5)
@given(st.data())
def test_one_engine_shared_by_eight_threads(data: st.DataObject) -> None:
    """Concurrent runs of one compiled engine give exactly the sequential results."""
    rs = data.draw(rulesets(min_rules=40, max_rules=60), label="ruleset")
    facts = data.draw(
        st.lists(assessments(rs), min_size=50, max_size=50, unique_by=lambda f: repr(f)),
        label="assessments",
    )
    engine = native.compile(Program.build(rs, default_params(rs)))
    sequential = [engine.run(f) for f in facts]
    work = facts * 8
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            concurrent = list(pool.map(engine.run, work))
    finally:
        sys.setswitchinterval(interval)
    assert concurrent == sequential * 8
