"""what_if: the difference a change makes, with the rules responsible."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from riskrules import AssessmentError, Scorer
from riskrules.planning import what_if

HIGH_CASELOAD = {
    "clinician": {"active_clients": 40, "supervision_hours_per_month": 1, "cbi": {"personal": 60}}
}


@pytest.fixture(scope="module")
def scorer() -> Iterator[Scorer]:
    with Scorer("default", engine="native") as s:
        yield s


def test_fewer_clients_lowers_caseload_and_names_the_rule(scorer: Scorer) -> None:
    diff = what_if(scorer, HIGH_CASELOAD, {"clinician.active_clients": 30})
    assert diff.overall_before == "high"
    assert diff.overall_after == "moderate"
    [change] = diff.levels
    assert (change.hazard, change.before, change.after) == ("caseload", "high", "moderate")
    assert change.stopped == ("caseload.over_capacity",)
    assert diff.stopped == ("caseload.over_capacity",)
    assert diff.started == ()
    assert [(d.id, d.rules) for d in diff.findings_lost] == [
        ("caseload.over_capacity", ("caseload.over_capacity",))
    ]
    assert diff.changes[0].before == 40
    assert diff.changes[0].after == 30
    assert diff.report.hazards["caseload"].level == "moderate"


def test_a_gained_recommendation_names_its_supporting_rules(scorer: Scorer) -> None:
    diff = what_if(scorer, {"clinician": {"active_clients": 20}}, {"clinician.active_clients": 36})
    gained = {d.id: d.rules for d in diff.recommendations_gained}
    assert gained["caseload_reduction"] == ("caseload.over_capacity",)
    assert [d.id for d in diff.findings_gained] == ["caseload.over_capacity"]
    assert diff.changed


def test_a_change_within_a_region_changes_nothing(scorer: Scorer) -> None:
    diff = what_if(scorer, HIGH_CASELOAD, {"clinician.active_clients": 41})
    assert not diff.changed
    assert "No level, rule, finding or recommendation changes." in diff.to_text()


def test_none_unanswers_an_input_and_the_given_report_is_reused(scorer: Scorer) -> None:
    report = scorer.score(HIGH_CASELOAD)
    diff = what_if(
        scorer, HIGH_CASELOAD, {"clinician.supervision_hours_per_month": None}, report=report
    )
    assert diff.changes[0].after is None
    assert diff.stopped == ("caseload.low_supervision",)
    assert not diff.report.hazards["caseload"].complete


def test_a_value_outside_the_domain_is_an_assessment_error(scorer: Scorer) -> None:
    with pytest.raises(AssessmentError, match=r"clinician\.active_clients"):
        what_if(scorer, HIGH_CASELOAD, {"clinician.active_clients": -1})
    with pytest.raises(AssessmentError, match="unknown field"):
        what_if(scorer, HIGH_CASELOAD, {"clinician.no_such_input": 1})
