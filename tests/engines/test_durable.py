"""The durable-rules engine: hand-written cases, value encodings, sessions, threads and memory.

Every case also runs on the native engine, the reference implementation of
:mod:`riskrules.engines._base`, and both must agree exactly (``fired`` and ``status``);
``tests/test_differential.py`` compares them on generated rulesets. This module needs
durable-rules, which does not build on CPython 3.13+ (``conftest.py`` leaves it out there).
"""

from __future__ import annotations

import gc
import importlib
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskrules import load_ruleset
from riskrules.engines import _durable as durable
from riskrules.engines import _native as native
from riskrules.engines._base import Evaluation, Program
from riskrules.errors import EngineError
from riskrules.ruleset._conditions import Truth, evaluate
from riskrules.ruleset._spec import Ruleset
from strategies import assessments, default_params, rulesets

T, U, F = Truth.TRUE, Truth.UNKNOWN, Truth.FALSE

INPUTS: dict[str, Any] = {
    "a": {"type": "integer", "min": 0, "max": 10},
    "x.score": {"type": "number", "min": -5, "max": 5},
    "b": {"type": "boolean"},
    "kind": {"type": "enum", "values": ["red", "green", "blue"]},
}


def make_ruleset(*rules: dict[str, Any], inputs: Mapping[str, Any] = INPUTS) -> Ruleset:
    """A ruleset of ``rules`` (``id`` defaults to r0, r1, ...; ``then`` to nothing)."""
    return Ruleset.model_validate(
        {
            "ruleset": "durable_cases",
            "version": "1",
            "title": "Durable engine cases",
            "inputs": dict(inputs),
            "hazards": {"h": {"title": "Hazard", "bands": {"low": 0, "high": 5}}},
            "rules": [
                {"id": f"r{i}", "hazard": "h", "then": {}, "because": "A test rule.", **rule}
                for i, rule in enumerate(rules)
            ],
        }
    )


def make_program(*rules: dict[str, Any], inputs: Mapping[str, Any] = INPUTS) -> Program:
    rs = make_ruleset(*rules, inputs=inputs)
    return Program.build(rs, default_params(rs))


Pair = tuple[durable.DurableEngine, native.NativeEngine]


@pytest.fixture
def build() -> Iterator[Callable[[Program], Pair]]:
    """Compile a program for both engines; everything built is closed afterwards."""
    built: list[Pair] = []

    def compile_both(program: Program) -> Pair:
        pair = (durable.compile(program), native.compile(program))
        built.append(pair)
        return pair

    yield compile_both
    for engine, reference in built:
        engine.close()
        reference.close()


def agree(pair: Pair, facts: Mapping[str, Any]) -> Evaluation:
    """Run both engines; they must agree exactly. Returns the durable evaluation."""
    engine, reference = pair
    got, want = engine.run(facts), reference.run(facts)
    assert (got.fired, got.status) == (want.fired, want.status), f"facts={dict(facts)!r}"
    return got


def test_chain_fires_round_by_round(build: Callable[[Program], Pair]) -> None:
    pair = build(
        make_program(
            {"when": {"finding": "f2"}, "salience": 9},
            {"when": {"finding": "f1"}, "then": {"assert": ["f2"]}},
            {"when": {"field": "a", "gt": 5}, "then": {"assert": ["f1"]}},
        )
    )
    result = agree(pair, {"a": 7})
    assert result.fired == (2, 1, 0)  # a round per link, salience cannot jump the chain
    assert result.status == (T, T, T)
    assert agree(pair, {"a": 3}).status == (F, F, F)


def test_missing_input_makes_the_whole_chain_indeterminate(
    build: Callable[[Program], Pair],
) -> None:
    pair = build(
        make_program(
            {"when": {"field": "a", "gt": 5}, "then": {"assert": ["f1"]}},
            {"when": {"finding": "f1"}, "then": {"assert": ["f2"]}},
            {"when": {"all": [{"finding": "f2"}, {"field": "b", "eq": True}]}},
        )
    )
    assert agree(pair, {"b": True}) == Evaluation(fired=(), status=(U, U, U))
    assert agree(pair, {"b": False}).status == (U, U, F)  # FALSE whatever f2 is


def test_negation_reads_a_lower_stratum(build: Callable[[Program], Pair]) -> None:
    pair = build(
        make_program(
            {"when": {"not": {"finding": "f"}}, "then": {"assert": ["g"]}},
            {"when": {"field": "a", "gt": 5}, "then": {"assert": ["f"]}},
            {"when": {"all": [{"finding": "g"}, {"field": "kind", "ne": "red"}]}},
        )
    )
    assert agree(pair, {"a": 7, "kind": "blue"}) == Evaluation(fired=(1,), status=(F, T, F))
    assert agree(pair, {"a": 3, "kind": "blue"}) == Evaluation(fired=(0, 2), status=(T, F, T))
    assert agree(pair, {"kind": "blue"}).status == (U, U, U)
    assert agree(pair, {"kind": "red"}).status == (U, U, F)


def test_at_least_counts_in_kleene_logic(build: Callable[[Program], Pair]) -> None:
    of = [{"field": "a", "gt": 5}, {"field": "b", "eq": True}, {"field": "kind", "in": ["red"]}]
    pair = build(make_program({"when": {"at_least": {"n": 2, "of": of}}}))
    cases = {
        (("a", 7), ("b", True)): T,
        (("a", 7),): U,  # one true, two unknown
        (("a", 1), ("b", False)): F,  # at most one can still be true
        (("a", 1),): U,
        (("a", 1), ("b", True), ("kind", "green")): F,
        (("b", True), ("kind", "red")): T,
    }
    for facts, expected in cases.items():
        assert agree(pair, dict(facts)).status == (expected,), facts


def test_salience_then_ruleset_order(build: Callable[[Program], Pair]) -> None:
    pair = build(
        make_program(
            {"when": {"field": "a", "gte": 0}},
            {"when": {"field": "a", "gte": 0}, "salience": 5},
            {"when": {"field": "a", "gte": 0}, "salience": 5},
            {"when": {"field": "a", "gte": 0}, "salience": -3},
        )
    )
    assert agree(pair, {"a": 1}).fired == (1, 2, 0, 3)


def test_each_rule_fires_once(build: Callable[[Program], Pair]) -> None:
    pair = build(
        make_program(
            {
                "when": {"any": [{"field": "a", "gt": 1}, {"finding": "f"}]},
                "then": {"assert": ["f"]},
            },
            {"when": {"finding": "f"}, "then": {"assert": ["f"]}},
        )
    )
    result = agree(pair, {"a": 5})
    assert result.fired == (0, 1)


def test_self_triggering_rule_neither_loops_nor_fires_without_support(
    build: Callable[[Program], Pair],
) -> None:
    pair = build(
        make_program(
            {
                "when": {"any": [{"field": "a", "gt": 1}, {"finding": "f"}]},
                "then": {"assert": ["f"]},
            }
        )
    )
    assert agree(pair, {"a": 5}) == Evaluation(fired=(0,), status=(T,))
    assert agree(pair, {"a": 0}) == Evaluation(fired=(), status=(F,))
    assert agree(pair, {}) == Evaluation(fired=(), status=(U,))


def test_present_and_absent_are_never_unknown(build: Callable[[Program], Pair]) -> None:
    pair = build(
        make_program(
            {"when": {"field": "x.score", "present": True}},
            {"when": {"field": "x.score", "absent": True}},
            {"when": {"not": {"field": "x.score", "present": True}}},
        )
    )
    assert agree(pair, {}).status == (F, T, T)
    assert agree(pair, {"x.score": 0}).status == (T, F, F)


def test_rule_without_any_pattern_reading_a_possible_finding(
    build: Callable[[Program], Pair],
) -> None:
    """A constant-FALSE rule has no durable pattern; re-matching it must assert nothing."""
    pair = build(
        make_program(
            {"when": {"field": "a", "gt": 5}, "then": {"assert": ["f"]}},
            {"when": {"all": [{"finding": "f"}, {"finding": "never.asserted"}]}},
        )
    )
    for _ in range(5):  # a reused session must stay sound
        assert agree(pair, {}).status == (U, F)


def test_identical_facts_in_successive_assessments(build: Callable[[Program], Pair]) -> None:
    """Facts are retracted after each run, so identical content is never 'already observed'."""
    pair = build(
        make_program(
            {"when": {"field": "a", "gt": 5}, "then": {"assert": ["f"]}},
            {"when": {"any": [{"finding": "f"}, {"field": "b", "eq": True}]}},
        )
    )
    first = [agree(pair, {"a": 7, "b": False}), agree(pair, {"b": True}), agree(pair, {})]
    for _ in range(200):
        assert [pair[0].run({"a": 7, "b": False}), pair[0].run({"b": True}), pair[0].run({})] == (
            first
        )
    assert pair[0]._live == 1  # one pooled session served every run


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_rulesets_agree_with_native(data: st.DataObject) -> None:
    rs = data.draw(rulesets(max_rules=12), label="ruleset")
    facts = data.draw(st.lists(assessments(rs), min_size=1, max_size=6), label="assessments")
    program = Program.build(rs, default_params(rs))
    engine, reference = durable.compile(program), native.compile(program)
    try:
        for f in facts:
            agree((engine, reference), f)
    finally:
        engine.close()


_LEAVES: dict[str, list[Any]] = {
    "a": [0, 3, 5, 5.0, 5.5, 10],
    "x.score": [-5, -0.5, 0, 0.1, 0.30000000000000004, 1, 4.5],
    "b": [True, False],
    "kind": ["red", "green", "blue"],
}


@st.composite
def _leaf(draw: Any) -> dict[str, Any]:
    field = draw(st.sampled_from(sorted(_LEAVES)))
    values = _LEAVES[field]
    if draw(st.integers(0, 9)) == 0:
        return {"field": field, draw(st.sampled_from(["present", "absent"])): True}
    if field == "b":
        return {"field": field, draw(st.sampled_from(["eq", "ne"])): draw(st.sampled_from(values))}
    ops = (
        ["eq", "ne", "in", "not_in"]
        if field == "kind"
        else ["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between"]
    )
    op = draw(st.sampled_from(ops))
    if op in ("in", "not_in"):
        return {"field": field, op: draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))}
    if op == "between":
        low, high = sorted(draw(st.lists(st.sampled_from(values), min_size=2, max_size=2)))
        return {"field": field, op: [low, high]}
    return {"field": field, op: draw(st.sampled_from(values))}


def _conditions(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    if depth == 0:
        return st.one_of(_leaf(), st.just({"finding": "never.asserted"}))
    sub = _conditions(depth - 1)
    return st.one_of(
        _leaf(),
        st.lists(sub, min_size=1, max_size=4).map(lambda c: {"all": c}),
        st.lists(sub, min_size=1, max_size=4).map(lambda c: {"any": c}),
        sub.map(lambda c: {"not": c}),
        st.lists(sub, min_size=1, max_size=4).flatmap(
            lambda c: st.integers(1, len(c)).map(lambda n: {"at_least": {"n": n, "of": c}})
        ),
    )


_FACT_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "a": st.sampled_from([0, 2, 3, 4, 5, 6, 10]),
    "x.score": st.sampled_from([-5, -1, -0.5, 0, 0.1, 0.2, 0.30000000000000004, 0.3, 1, 4.5, 5]),
    "b": st.booleans(),
    "kind": st.sampled_from(["red", "green", "blue"]),
}


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_conditions(3), min_size=1, max_size=4),
    st.lists(st.fixed_dictionaries({}, optional=_FACT_VALUES), min_size=1, max_size=8),
)
def test_every_condition_has_its_kleene_value(
    conditions: list[dict[str, Any]], cases: list[dict[str, Any]]
) -> None:
    """Each rule's status is its condition's three-valued value, whatever the nesting.

    Exercises the negation normal form, the two fact encodings of missing inputs, rank
    encoding of mixed int/float constants, k-of-n expansion and pattern splitting.
    """
    program = make_program(*({"when": c} for c in conditions))
    engine = durable.compile(program)
    try:
        for facts in cases:
            expected = tuple(evaluate(r.when, facts, lambda _: F) for r in program.rules)
            assert engine.run(facts).status == expected, facts
    finally:
        engine.close()


def test_numbers_compare_exactly(build: Callable[[Program], Pair]) -> None:
    inputs = {"n": {"type": "number"}, "i": {"type": "integer"}}
    pair = build(
        make_program(
            {"when": {"field": "n", "eq": 0.30000000000000004}},
            {"when": {"field": "n", "gt": 0.1}},
            {"when": {"field": "i", "eq": 5.0}},
            {"when": {"field": "i", "lt": 4.5}},
            {"when": {"field": "i", "gte": 2**53 - 1}},
            {"when": {"field": "n", "between": [-0.0, 1e-300]}},
            {"when": {"field": "i", "in": [1, 2.0, 3]}},
            inputs=inputs,
        )
    )
    for n in (0.1, 0.2, 0.30000000000000004, 0.3, 0.0, -0.0, 1e-300, 5e-324, 1e300):
        for i in (2, 4, 5, 2**53 - 2, 2**53 - 1):
            agree(pair, {"n": n, "i": i})


def test_too_large_a_condition_is_refused() -> None:
    """Nested k-of-n criteria expand combinatorially; past a bound compile says so."""
    leaves = [
        {"field": "a", "ne": 1},
        {"field": "x.score", "ne": 2},
        {"field": "b", "eq": True},
        {"field": "kind", "ne": "red"},
        {"field": "a", "ne": 7},
        {"field": "x.score", "ne": 4},
    ]

    def three_of(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"at_least": {"n": 3, "of": parts[j:] + parts[:j]}} for j in range(6)]

    fine = make_program({"when": three_of(leaves)[0]})
    durable.compile(fine).close()
    too_large = make_program({"when": three_of(three_of(leaves))[0]})
    with pytest.raises(EngineError, match="too large"):
        durable.compile(too_large)


def _big_program() -> Program:
    rs = load_ruleset("default")
    return Program.build(rs, default_params(rs))


def _default_cases(n: int) -> list[dict[str, Any]]:
    rs = load_ruleset("default")
    strategy = st.lists(assessments(rs), min_size=n, max_size=n)
    out: list[dict[str, Any]] = []

    @settings(max_examples=1, database=None, derandomize=True)
    @given(strategy)
    def draw(cases: list[dict[str, Any]]) -> None:
        out[:] = cases

    draw()
    return out


def test_one_engine_shared_by_eight_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent runs give exactly the sequential results, also when sessions run short."""
    program = _big_program()
    cases = _default_cases(40)
    reference = native.compile(program)
    expected = [reference.run(f) for f in cases]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for cap in (durable.MAX_SESSIONS, 3):
            monkeypatch.setattr(durable, "MAX_SESSIONS", cap)
            for _ in range(3):
                with durable.compile(program) as engine:
                    with ThreadPoolExecutor(max_workers=8) as pool:
                        got = list(pool.map(engine.run, cases * 8))
                    assert got == expected * 8
                    assert engine._live <= min(cap, 8)
    finally:
        sys.setswitchinterval(interval)


def test_no_thread_is_started() -> None:
    """The engine drives durable itself: no dispatcher or timer threads, before or after."""
    before = threading.active_count()
    with durable.compile(_big_program()) as engine:
        engine.run({})
        assert threading.active_count() == before
    assert threading.active_count() == before


_CHURN = """
import gc
from riskrules import Scorer
from riskrules.engines import _durable as durable
from riskrules.engines._base import Program
from riskrules.ruleset._spec import Ruleset

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20

rs = Ruleset.model_validate({
    "ruleset": "churn", "version": "1", "title": "Churn",
    "inputs": {"a": {"type": "integer"}},
    "hazards": {"h": {"title": "H", "bands": {"low": 0}}},
    "rules": [
        {"id": "r0", "hazard": "h", "when": {"field": "a", "gt": 1},
         "then": {"assert": ["f"]}, "because": "x"},
        {"id": "r1", "hazard": "h", "when": {"finding": "f"}, "then": {}, "because": "x"},
    ],
})
program = Program.build(rs, {})
for i in range(2000):
    if i % 4 < 2:
        engine = durable.compile(program)
        assert engine.run({"a": 2}).fired == (0, 1)
    else:  # a Scorer owns its engine and must release it the same way
        engine = Scorer(rs, engine="durable")
        assert [f.rule for f in engine.score({"a": 2}).fired] == ["r0", "r1"]
    if i % 2:
        engine.close()  # the other half is released by garbage collection
    del engine
    if i == 199:
        gc.collect()
        base = rss_mb()
gc.collect()
print(rss_mb() - base)
"""


def test_dropped_engines_release_their_rulesets() -> None:
    """2,000 engines and Scorers built, used and dropped (closed or collected) keep memory
    bounded.

    Each compiled ruleset and session costs durable about 170 KB that Python cannot see;
    without the release, memory grows by hundreds of megabytes here.
    """
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CHURN)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    growth_mb = float(out.stdout.strip().splitlines()[-1])
    assert growth_mb < 64, f"RSS grew by {growth_mb:.0f} MB over 1,800 engines"


def test_close_releases_once_and_refuses_further_runs() -> None:
    engine = durable.compile(make_program({"when": {"field": "a", "gt": 1}}))
    assert engine.run({"a": 2}).fired == (0,)
    engine.close()
    engine.close()
    assert not engine._finalizer.alive
    with pytest.raises(EngineError, match="closed"):
        engine.run({"a": 2})


def test_garbage_collection_releases_the_ruleset() -> None:
    engine = durable.compile(make_program({"when": {"field": "a", "gt": 1}}))
    engine.run({"a": 2})
    finalizer = engine._finalizer
    del engine
    gc.collect()
    assert not finalizer.alive


class _Failing:
    """The durable extension, except that one function raises durable's own error."""

    def __init__(self, real: Any, name: str) -> None:
        self._real = real
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr == self._name:

            def fail(*args: Any) -> Any:
                raise self._real.error(f"Could not {attr}, error code: 303")

            return fail
        return getattr(self._real, attr)


def test_durable_errors_become_engine_errors(build: Callable[[Program], Pair]) -> None:
    program = make_program({"when": {"field": "a", "gt": 1}, "then": {"assert": ["f"]}})
    pair = build(program)
    engine = pair[0]
    real = engine._mod
    for name in ("assert_facts", "start_action_for_state", "complete_and_start_action"):
        engine._mod = _Failing(real, name)
        for session in engine._idle:
            session.mod = engine._mod
        with pytest.raises(EngineError, match="303") as info:
            engine.run({"a": 5})
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__
        engine._mod = real
        for session in engine._idle:
            session.mod = real
        agree(pair, {"a": 5})  # the failed session was discarded; a fresh one works
    assert engine._live == 1


def test_compile_errors_become_engine_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module("durable_rules_engine")
    monkeypatch.setattr(durable, "_load_durable", lambda: _Failing(real, "create_ruleset"))
    with pytest.raises(EngineError, match="could not compile") as info:
        durable.compile(make_program({"when": {"field": "a", "gt": 1}}))
    assert info.value.__cause__ is None


def test_missing_durable_rules_is_an_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """What CPython 3.13+ sees: durable-rules cannot be imported."""
    real_import = importlib.import_module

    def no_durable(name: str, package: str | None = None) -> Any:
        if name == "durable_rules_engine":
            raise ImportError("No module named 'durable_rules_engine'")
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", no_durable)
    with pytest.raises(EngineError, match=r"durable-rules 2\.0\.28, which is not installed"):
        durable.compile(make_program({"when": {"field": "a", "gt": 1}}))


def test_unvalidated_facts_raise_engine_error_without_the_value(
    build: Callable[[Program], Pair],
) -> None:
    engine, _ = build(
        make_program({"when": {"field": "a", "gt": 1}}, {"when": {"field": "kind", "eq": "red"}})
    )
    for facts in ({"a": "12"}, {"a": True}, {"kind": "purple"}, {"a": float("nan")}):
        with pytest.raises(EngineError) as info:
            engine.run(facts)
        assert repr(next(iter(facts.values()))) not in str(info.value)
    assert engine.run({"a": 2}).fired == (0,)


def test_importing_riskrules_leaves_durable_unimported() -> None:
    code = (
        "import sys, riskrules, riskrules.scoring, riskrules.engines._durable\n"
        "print(sorted(m for m in sys.modules if m.startswith('durable')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"
