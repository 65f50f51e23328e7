"""Planning on generated rulesets, checked by brute force over a grid that no region escapes.

Generated thresholds are halves within small ranges (tests/strategies.py), so a grid of quarter
steps over a number input's bounds, and every integer from -6 to 12 within an integer input's
bounds, reaches every region of every input without using the planner's own region logic.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from riskrules import Ruleset, Scorer
from riskrules.planning import lower, next_questions
from strategies import assessments, rulesets

_INTEGERS = range(-6, 13)


def _grid(ruleset: Ruleset, name: str) -> list[Any]:
    spec = ruleset.inputs[name]
    if spec.type == "boolean":
        return [False, True]
    if spec.values is not None:
        return list(spec.values)
    if spec.type == "integer":
        return [
            v
            for v in _INTEGERS
            if (spec.min is None or v >= spec.min) and (spec.max is None or v <= spec.max)
        ]
    assert spec.min is not None
    assert spec.max is not None
    steps = int((spec.max - spec.min) * 4)
    return [spec.min + k / 4 for k in range(steps + 1)]


def _with_marks(ruleset: Ruleset, fixed_out: set[str]) -> Ruleset:
    data = ruleset.model_dump(mode="json", by_alias=True, exclude_none=True)
    for name in fixed_out:
        data["inputs"][name]["actionable"] = False
    return Ruleset.model_validate(data)


@st.composite
def cases(draw: Any) -> tuple[Ruleset, dict[str, Any], str]:
    ruleset = draw(rulesets(max_rules=8, max_depth=2))
    names = sorted(ruleset.inputs)
    frozen = set(draw(st.lists(st.sampled_from(names), max_size=len(names) // 3, unique=True)))
    ruleset = _with_marks(ruleset, frozen)
    facts = draw(assessments(ruleset, missing=0.3))
    hazard = draw(st.sampled_from(sorted(ruleset.hazards)))
    return ruleset, facts, hazard


def _changes(ruleset: Ruleset, facts: Mapping[str, Any], size: int) -> Iterator[dict[str, Any]]:
    """Every assignment of ``size`` actionable inputs to grid values other than their own."""
    movable = [n for n in ruleset.inputs if ruleset.inputs[n].actionable]
    for names in itertools.combinations(movable, size):
        grids = [[v for v in _grid(ruleset, n) if v != facts.get(n)] for n in names]
        for values in itertools.product(*grids):
            yield dict(zip(names, values, strict=True))


def _check_lowering(scorer: Scorer, facts: dict[str, Any], hazard: str) -> None:
    ruleset = scorer.ruleset
    rank = {level: i for i, level in enumerate(ruleset.scale)}
    plan = lower(scorer, facts, hazard, max_changes=2)
    goal = rank[plan.to]
    for cf in plan.counterfactuals:
        changed = {**facts, **{c.input: c.after for c in cf.changes}}
        assert rank[scorer.score(changed).hazards[hazard].level] <= goal, cf
        for c in cf.changes:
            assert c.after is not None, "an answer was removed"
            assert ruleset.inputs[c.input].actionable, f"{c.input} is not actionable"
            assert c.after != facts.get(c.input)
    smallest = min((len(cf.changes) for cf in plan.counterfactuals), default=3)
    assert all(len(cf.changes) == smallest for cf in plan.counterfactuals)
    if rank[plan.level] <= goal:
        assert plan.counterfactuals == ()
        return
    for size in range(1, min(smallest, 2 + 1)):
        for change in _changes(ruleset, facts, size):
            level = scorer.score({**facts, **change}).hazards[hazard].level
            assert rank[level] > goal, f"{change} lowers {hazard} but was not found"


@settings(max_examples=150)
@given(cases())
def test_counterfactuals_lower_the_level_and_none_is_smaller(
    case: tuple[Ruleset, dict[str, Any], str],
) -> None:
    ruleset, facts, _ = case
    with Scorer(ruleset, engine="native") as scorer:
        for hazard in ruleset.hazards:
            _check_lowering(scorer, facts, hazard)


@settings(max_examples=150)
@given(cases())
def test_the_top_question_reaches_no_smaller_range_than_a_later_one(
    case: tuple[Ruleset, dict[str, Any], str],
) -> None:
    ruleset, facts, _ = case
    with Scorer(ruleset, engine="native") as scorer:
        questions = next_questions(scorer, facts, len(ruleset.inputs))
        rank = {level: i for i, level in enumerate(ruleset.scale)}
        reached: list[int] = []
        for q in questions:
            assert q.input not in facts
            levels = [scorer.score({**facts, q.input: v}) for v in _grid(ruleset, q.input)]
            spread = max(
                max(rank[r.hazards[h].level] for r in levels)
                - min(rank[r.hazards[h].level] for r in levels)
                for h in ruleset.hazards
            )
            assert spread == q.range, q
            reached.append(spread)
        assert reached == sorted(reached, reverse=True)
