"""Fixtures of the scoring tests: the demo ruleset, a native Scorer for it, caseload assessments."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from riskrules import Ruleset, Scorer
from scoring_examples import demo_ruleset


@pytest.fixture(scope="module")
def demo() -> Ruleset:
    return demo_ruleset()


@pytest.fixture(scope="module")
def scorer(demo: Ruleset) -> Iterator[Scorer]:
    with Scorer(demo, engine="native") as s:
        yield s


def _caseload(**fields: Any) -> dict[str, Any]:
    """An assessment with every caseload input given (defaults below every threshold)."""
    clinician: dict[str, Any] = {
        "active_clients": 20,
        "proqol": {"burnout": 20},
        "trauma_sessions_share": 0.1,
        "life_crisis": False,
    }
    for name, value in fields.items():
        if name == "burnout":
            clinician["proqol"]["burnout"] = value
        else:
            clinician[name] = value
    return {"clinician": clinician}


@pytest.fixture
def caseload() -> Callable[..., dict[str, Any]]:
    """``caseload(active_clients=40, burnout=44, ...)``: the demo's caseload inputs, all given."""
    return _caseload
