"""The "to complete this assessment, ask" section of the CDS Hooks cards."""

from __future__ import annotations

from riskrules import Scorer
from riskrules.cdshooks import cards
from riskrules.planning import next_questions


def test_questions_become_one_section_of_the_incomplete_card() -> None:
    with Scorer("default", engine="native") as scorer:
        assessment = {"clinician": {"active_clients": 40}}
        report = scorer.score(assessment)
        asks = [q.input for q in next_questions(scorer, assessment, 2)]
    plain = cards(report)
    with_asks = cards(report, questions=asks)
    assert len(plain) == len(with_asks)
    assert plain[:-1] == with_asks[:-1]
    detail = with_asks[-1]["detail"]
    assert "To complete this assessment, ask: `client.cssrs.q4`, `client.cssrs.q5`" in detail
    assert detail.index("ask:") < detail.index("Ruleset default")
    assert "ask:" not in plain[-1]["detail"]


def test_questions_without_pending_hazards_still_reach_the_clinician() -> None:
    with Scorer("default", engine="native") as scorer:
        report = scorer.score({})
    out = cards(report, hazards=[], questions=["client.cssrs.q4"])
    [card] = out
    assert card["summary"] == "Incomplete assessment: some inputs are missing"
    assert "To complete this assessment, ask: `client.cssrs.q4`" in card["detail"]
