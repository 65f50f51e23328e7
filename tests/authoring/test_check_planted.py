"""``riskrules check`` finds planted monotonicity and bound violations at its default budget,
in every seed of a fixed set, and shrinks them to the inputs that matter."""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml

from riskrules.testing import check_properties

SEEDS = range(8)
"""The generated rulesets, and the search seeds, every planted bug must be found under."""
BUDGET = 100
"""The default ``--max-examples``."""


def generated(seed: int, *, monotone_bug: bool, bound_bug: bool) -> str:
    """A ruleset with a cut-off table on ``score`` behind two guards, unrelated noise rules,
    and, when asked, a zone that scores less than the one below it or a hidden rule that
    breaks a bound."""
    rng = random.Random(seed)
    top = rng.randint(40, 120)
    cuts = sorted(rng.sample(range(2, top - 1), 3))
    gate_min = rng.randint(1, 9)
    inputs: dict[str, Any] = {
        "score": {"type": "integer", "min": 0, "max": top},
        "gate": {"type": "boolean"},
        "load": {"type": "integer", "min": 0, "max": 10},
        "x": {"type": "number", "min": 0, "max": 100},
        "y": {"type": "integer", "min": 0, "max": 50},
        "kind": {"type": "enum", "values": ["a", "b", "c", "d"]},
    }
    noise = [f"noise{i}" for i in range(6)]
    inputs.update({name: {"type": "integer", "min": 0, "max": 30} for name in noise})
    guard = [{"field": "gate", "eq": True}, {"field": "load", "gte": gate_min}]
    bounds = [(0, cuts[0] - 1), (cuts[0], cuts[1] - 1), (cuts[1], cuts[2] - 1), (cuts[2], top)]
    points = [0, 2, 4, 6]
    if monotone_bug:
        k = rng.randint(2, 3)  # a zone two points below the one under it: a level lower
        points[k] = points[k - 1] - 2
    rules: list[dict[str, Any]] = [
        {
            "id": f"zone.z{i}",
            "hazard": "h",
            "when": {"all": [*guard, {"field": "score", "between": [lo, hi]}]},
            "then": {"points": points[i], "assert": [f"zone.z{i}"]},
            "because": f"Zone {i}.",
        }
        for i, (lo, hi) in enumerate(bounds)
    ]
    for i, name in enumerate(noise):
        rules.append(
            {
                "id": f"noise.r{i}",
                "hazard": "other",
                "when": {"field": name, "gte": rng.randint(5, 25)},
                "then": {"points": 1},
                "because": "Noise.",
            }
        )
    a = rng.randint(10, 80)
    b = a + rng.randint(3, 10)
    c = rng.randint(5, 40)
    hidden = {"all": [{"field": "x", "between": [a, b]}, {"field": "y", "lt": c}]}
    hidden["all"].append({"field": "kind", "eq": rng.choice(["b", "c", "d"])})
    rules.append(
        {
            "id": "hidden.severe",
            "hazard": "h",
            "when": hidden,
            "then": {"floor": "critical" if bound_bug else "high"},
            "because": "A combination.",
        }
    )
    data = {
        "ruleset": f"planted_{seed}",
        "version": "1",
        "title": "Planted",
        "inputs": inputs,
        "hazards": {
            "h": {"title": "H", "bands": {"low": 0, "moderate": 2, "high": 4, "critical": 6}},
            "other": {"title": "Other", "bands": {"low": 0, "high": 3}},
        },
        "rules": rules,
        "properties": [
            {"monotone": {"input": "score", "hazard": "h"}},
            {"bounded": {"hazard": "h", "max": "high", "unless": {"finding": "zone.z3"}}},
        ],
    }
    return yaml.safe_dump(data, sort_keys=False)


def _inputs(scenario: dict[str, Any]) -> set[str]:
    def walk(value: Any, at: str) -> set[str]:
        if isinstance(value, dict):
            return set().union(*(walk(v, f"{at}.{k}" if at else k) for k, v in value.items()))
        return {at}

    return walk(scenario["input"], "")


@pytest.mark.parametrize("seed", SEEDS)
def test_a_planted_step_down_is_found_and_shrunk(seed: int) -> None:
    text = generated(seed, monotone_bug=True, bound_bug=False)
    monotone, bounded = check_properties(text, max_examples=BUDGET, seed=seed).outcomes
    assert bounded.passed
    found = monotone.counterexample
    assert found is not None, f"seed {seed}: the planted monotonicity bug was missed"
    for scenario in found.scenarios:
        assert _inputs(scenario) <= {"score", "gate", "load"}, scenario["input"]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_planted_bound_violation_is_found_and_shrunk(seed: int) -> None:
    text = generated(seed, monotone_bug=False, bound_bug=True)
    monotone, bounded = check_properties(text, max_examples=BUDGET, seed=seed).outcomes
    assert monotone.passed
    found = bounded.counterexample
    assert found is not None, f"seed {seed}: the planted bound violation was missed"
    (scenario,) = found.scenarios
    assert _inputs(scenario) == {"x", "y", "kind"}, scenario["input"]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_same_rulesets_without_the_bugs_pass(seed: int) -> None:
    text = generated(seed, monotone_bug=False, bound_bug=False)
    assert check_properties(text, max_examples=BUDGET, seed=seed).passed
