"""Differential tests: every engine computes the same firings and statuses on generated rulesets.

Three implementations are compared on the same (ruleset, assessments) pairs:

* the closure engine (the reference interpreter, ``engines._native``);
* the generated-code engine (``engines._compiled``, what ``native`` runs);
* a slow reference written below that follows the semantics in :mod:`riskrules.engines._base`
  literally, with :func:`riskrules.ruleset.evaluate` and plain sets;
* the durable-rules engine, wherever its module exists and durable-rules imports.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engines_here import ENGINES
from riskrules.engines import _compiled as compiled
from riskrules.engines import _native as native
from riskrules.engines._base import Evaluation, Program
from riskrules.ruleset._conditions import Truth, evaluate
from riskrules.ruleset._spec import Ruleset
from strategies import assessments, default_params, rulesets


def reference(program: Program, facts: Mapping[str, Any]) -> Evaluation:
    """The semantics of :mod:`riskrules.engines._base`, transcribed step by step."""
    rules = program.rules
    asserted: set[str] = set()
    possible: set[str] = set()
    fired: list[int] = []
    done: set[int] = set()

    def final(name: str) -> Truth:
        if name in asserted:
            return Truth.TRUE
        return Truth.UNKNOWN if name in possible else Truth.FALSE

    for stratum, members in enumerate(program.strata):
        order = sorted(members, key=lambda i: (-rules[i].salience, i))

        # Definite pass: rounds see only the findings asserted before them.
        while True:
            before = frozenset(asserted)

            def definite(name: str, before: frozenset[str] = before, s: int = stratum) -> Truth:
                if name in before:
                    return Truth.TRUE
                if program.finding_stratum.get(name) == s:
                    return Truth.FALSE  # same stratum, not yet asserted
                return final(name)  # lower strata are final

            this_round = [
                i
                for i in order
                if i not in done and evaluate(rules[i].when, facts, definite) is Truth.TRUE
            ]
            if not this_round:
                break
            for i in this_round:
                fired.append(i)
                done.add(i)
                asserted.update(rules[i].asserts)

        # Possible pass: not-fired rules that are TRUE or UNKNOWN make their findings possible.
        changed = True
        while changed:
            changed = False
            for i in order:
                if i in done or evaluate(rules[i].when, facts, final) is Truth.FALSE:
                    continue
                for name in rules[i].asserts:
                    if name not in possible:
                        possible.add(name)
                        changed = True

    status = tuple(
        Truth.TRUE if i in done else evaluate(rule.when, facts, final)
        for i, rule in enumerate(rules)
    )
    return Evaluation(fired=tuple(fired), status=status)


DURABLE: ModuleType | None = (
    importlib.import_module("riskrules.engines._durable") if "durable" in ENGINES else None
)

Runner = Callable[[Mapping[str, Any]], Evaluation]


def _describe(ruleset: Ruleset, facts: Mapping[str, Any], result: Evaluation) -> str:
    fired = [ruleset.rules[i].id for i in result.fired]
    status = {r.id: s.name for r, s in zip(ruleset.rules, result.status, strict=True)}
    return f"facts={dict(facts)!r}\nfired={fired}\nstatus={status}"


def _check(
    ruleset: Ruleset, cases: list[dict[str, Any]], program: Program, durable: Runner | None
) -> None:
    """Native against the reference (and durable when given) on every assessment."""
    engine = native.compile(program)
    generated = compiled.compile(program)
    try:
        for facts in cases:
            expected = engine.run(facts)
            assert all(isinstance(s, Truth) for s in expected.status)
            assert len(expected.status) == len(ruleset.rules)
            assert sorted(expected.fired) == [
                i for i, s in enumerate(expected.status) if s is Truth.TRUE
            ]
            others: dict[str, Runner] = {
                "reference": lambda f: reference(program, f),
                "generated": generated.run,
            }
            if durable is not None:
                others["durable"] = durable
            for name, run in others.items():
                got = run(facts)
                assert (got.fired, got.status) == (expected.fired, expected.status), (
                    f"{name} disagrees with the closure engine\n"
                    f"closure: {_describe(ruleset, facts, expected)}\n"
                    f"{name}: {_describe(ruleset, facts, got)}"
                )
    finally:
        engine.close()


# The CI profile draws at least 300 rulesets per test; other profiles keep their own count.
_EXAMPLES = (
    max(300, settings.default.max_examples)
    if settings.get_current_profile_name() == "ci"
    else settings.default.max_examples
)


@settings(max_examples=_EXAMPLES)
@given(st.data())
def test_native_matches_reference(data: st.DataObject) -> None:
    """Native firings and statuses equal the literal transcription of the semantics."""
    ruleset = data.draw(rulesets(max_rules=16), label="ruleset")
    cases = data.draw(st.lists(assessments(ruleset), min_size=1, max_size=8), label="assessments")
    _check(ruleset, cases, Program.build(ruleset, default_params(ruleset)), None)


@settings(max_examples=_EXAMPLES)
@given(st.data())
def test_native_matches_durable(data: st.DataObject) -> None:
    """Native, durable (where it is available) and the reference agree.

    durable compiles every generated ruleset, so each ruleset gets only a few assessments.
    """
    ruleset = data.draw(rulesets(max_rules=12), label="ruleset")
    cases = data.draw(st.lists(assessments(ruleset), min_size=1, max_size=6), label="assessments")
    program = Program.build(ruleset, default_params(ruleset))
    if DURABLE is None:
        _check(ruleset, cases, program, None)
        return
    durable_engine = DURABLE.compile(program)
    try:
        _check(ruleset, cases, program, durable_engine.run)
    finally:
        durable_engine.close()


def test_engines_agree_on_the_default_scenarios() -> None:
    """Closure, generated and durable engines agree on every scenario of the default ruleset."""
    from riskrules import load_ruleset
    from riskrules.scoring._scorer import bind_params
    from riskrules.scoring._validation import AssessmentValidator

    ruleset = load_ruleset("default")
    validate = AssessmentValidator(ruleset)
    by_params: dict[tuple[tuple[str, Any], ...], list[dict[str, Any]]] = {}
    for scenario in ruleset.tests:
        key = tuple(sorted(scenario.params.items()))
        by_params.setdefault(key, []).append(validate(scenario.input))
    assert sum(map(len, by_params.values())) == len(ruleset.tests) > 0
    for key, cases in by_params.items():
        program = Program.build(ruleset, bind_params(ruleset, dict(key)))
        if DURABLE is None:
            _check(ruleset, cases, program, None)
            continue
        durable_engine = DURABLE.compile(program)
        try:
            _check(ruleset, cases, program, durable_engine.run)
        finally:
            durable_engine.close()
