"""Conditions at the edge of what an engine can compile: a clear error naming the rule, or a
working engine, never a crash from Python's own limits."""

from __future__ import annotations

import pytest

from riskrules import Scorer
from riskrules.errors import EngineError
from riskrules.ruleset._spec import Ruleset


def wide_at_least(width: int, n: int) -> Ruleset:
    """One rule firing when at least ``n`` of ``width`` yes/no inputs are true."""
    return Ruleset.model_validate(
        {
            "ruleset": "wide",
            "version": "1",
            "title": "A wide at_least",
            "inputs": {f"x{i}": {"type": "boolean"} for i in range(width)},
            "hazards": {"h": {"title": "Hazard", "bands": {"low": 0, "high": 1}}},
            "rules": [
                {
                    "id": "many_signs",
                    "hazard": "h",
                    "because": "Enough signs.",
                    "then": {"points": 1},
                    "when": {
                        "at_least": {
                            "n": n,
                            "of": [{"field": f"x{i}", "eq": True} for i in range(width)],
                        }
                    },
                }
            ],
        }
    )


@pytest.mark.parametrize(("width", "n"), [(3000, 2), (3000, 2999), (1500, 750)])
def test_large_at_least_compiles_or_names_the_rule(engine: str, width: int, n: int) -> None:
    """at_least over thousands of conditions: the engine works, or says which rule is too
    large; it never fails with RecursionError."""
    rs = wide_at_least(width, n)
    problems: list[str] = []
    try:
        scorer = Scorer(rs, engine=engine)
    except EngineError as exc:
        problems.append(str(exc))
    if problems:
        assert "'many_signs'" in problems[0]
        assert "too large" in problems[0]
        return
    report = scorer.score({f"x{i}": i < n for i in range(width)})
    assert report.hazards["h"].level == "high"


def test_small_at_least_still_compiles(engine: str) -> None:
    """The explicit evaluation order gives the same answers on a small at_least."""
    scorer = Scorer(wide_at_least(6, 3), engine=engine)
    for k in range(7):
        report = scorer.score({f"x{i}": i < k for i in range(6)})
        assert report.hazards["h"].level == ("high" if k >= 3 else "low"), k
