"""next_questions: which missing answers could move a level most."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from riskrules import Scorer
from riskrules.planning import next_questions


@pytest.fixture(scope="module")
def scorer() -> Iterator[Scorer]:
    with Scorer("default", engine="native") as s:
        yield s


def test_an_empty_assessment_asks_the_crisis_screen_first(scorer: Scorer) -> None:
    questions = next_questions(scorer, {}, 3)
    assert [q.input for q in questions] == [
        "client.cssrs.q4",
        "client.cssrs.q5",
        "client.cssrs.q6_past_3_months",
    ]
    assert all(q.range == 3 and q.hazard == "crisis" for q in questions)
    assert [(r.hazard, r.lowest, r.highest) for r in questions[0].levels] == [
        ("crisis", "low", "critical")
    ]


def test_ranges_never_increase_down_the_list(scorer: Scorer) -> None:
    questions = next_questions(scorer, {"clinician": {"active_clients": 40}}, 100)
    ranges = [q.range for q in questions]
    assert ranges == sorted(ranges, reverse=True)
    assert "clinician.active_clients" not in {q.input for q in questions}


def test_a_tie_goes_to_the_higher_priority_hazard(scorer: Scorer) -> None:
    questions = next_questions(scorer, {}, 100)
    crisis = scorer.ruleset.hazards["crisis"].priority
    boundary = scorer.ruleset.hazards["boundary_crossings"].priority
    assert crisis > boundary
    inputs = [q.input for q in questions]
    assert inputs.index("client.cssrs.q4") < inputs.index("relationship.sexual_contact")


def test_a_complete_assessment_has_nothing_to_ask(scorer: Scorer) -> None:
    every = {name: False for name, spec in scorer.ruleset.inputs.items() if spec.type == "boolean"}
    for name, spec in scorer.ruleset.inputs.items():
        if spec.type != "boolean":
            every[name] = spec.values[0] if spec.values else (spec.min or 0)
    assert next_questions(scorer, every, 3) == ()
    assert next_questions(scorer, {}, 0) == ()
