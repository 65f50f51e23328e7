"""The selection policy: which responses of a record make the assessment, and provenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from riskrules import AssessmentError
from riskrules.fhir import (
    SkippedResponse,
    assessment_from_questionnaire_responses,
    read_questionnaire_responses,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OWN = "https://riskrules.example/fhir/Questionnaire"


def audit(
    rid: str, score: int, *, authored: str | None = None, subject: str | None = "Patient/p1"
) -> dict[str, Any]:
    """A completed AUDIT (our own form) whose items 1-10 all score ``score`` (0, 2 or 4)."""
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": rid,
        "questionnaire": f"{OWN}/audit|1.0.0",
        "status": "completed",
        "item": [
            {"linkId": f"audit-item-{n}", "answer": [{"valueInteger": score}]} for n in range(1, 11)
        ],
    }
    if authored is not None:
        resource["authored"] = authored
    if subject is not None:
        resource["subject"] = {"reference": subject}
    return resource


def other_form(rid: str) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": rid,
        "questionnaire": "http://loinc.org/q/44249-1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "item": [{"linkId": "/44250-9", "answer": [{"valueCoding": {"code": "LA6568-5"}}]}],
    }


def test_defaults_keep_the_strict_behaviour() -> None:
    with pytest.raises(AssessmentError, match="unknown questionnaire"):
        assessment_from_questionnaire_responses([other_form("phq"), audit("a1", 2)])
    with pytest.raises(AssessmentError, match="a second response for audit"):
        assessment_from_questionnaire_responses([audit("a1", 2), audit("a2", 4)])


def test_unknown_forms_are_skipped_and_listed_when_asked() -> None:
    result = read_questionnaire_responses(
        [other_form("phq"), audit("a1", 2)], on_unknown="skip", now=NOW
    )
    assert result.assessment["client.audit.total"] == 20
    assert [(s.response, s.instrument) for s in result.skipped] == [
        ("QuestionnaireResponse/phq", None)
    ]
    assert result.skipped[0].reason.startswith("no mapping: unknown questionnaire")
    assert set(result.sources.values()) == {"QuestionnaireResponse/a1"}
    assert result.basis == ["QuestionnaireResponse/a1"]


def test_latest_duplicate_wins_and_the_older_is_listed() -> None:
    old = audit("old", 4, authored="2025-01-10T09:00:00Z")
    new = audit("new", 0, authored="2026-02-01")
    result = read_questionnaire_responses([new, old], duplicates="latest")
    assert result.assessment["client.audit.total"] == 0
    assert result.skipped == (
        SkippedResponse(
            "QuestionnaireResponse/old",
            "superseded by the later QuestionnaireResponse/new",
            "audit",
        ),
    )
    assert result.sources["client.audit.total"] == "QuestionnaireResponse/new"


@pytest.mark.parametrize(
    ("first", "second", "words"),
    [
        ("2026-02-01T10:00:00Z", "2026-02-01T11:00:00+01:00", "same time"),
        (None, "2026-02-01", "no authored date"),
    ],
)
def test_duplicates_that_cannot_be_ordered_name_both(
    first: str | None, second: str, words: str
) -> None:
    with pytest.raises(AssessmentError) as info:
        read_questionnaire_responses(
            [audit("x", 2, authored=first), audit("y", 2, authored=second)], duplicates="latest"
        )
    message = str(info.value)
    assert words in message
    assert "QuestionnaireResponse/x" in message
    assert "QuestionnaireResponse/y" in message


def test_max_age_leaves_out_stale_and_undated_responses() -> None:
    stale = audit("stale", 4, authored="2009-06-01")
    undated = audit("undated", 4)
    fresh = audit("fresh", 2, authored="2026-01-15T08:00:00-05:00")
    year = timedelta(days=365)
    result = read_questionnaire_responses(
        [stale, fresh, undated], duplicates="latest", max_age=year, now=NOW
    )
    assert result.assessment["client.audit.total"] == 20
    assert [s.response for s in result.skipped] == [
        "QuestionnaireResponse/stale",
        "QuestionnaireResponse/undated",
    ]
    assert "older than max_age (365 days)" in result.skipped[0].reason
    only_stale = read_questionnaire_responses([stale], max_age=year, now=NOW)
    assert only_stale.assessment == {}
    assert only_stale.skipped[0].instrument == "audit"


def test_responses_about_different_subjects_are_an_error_naming_both() -> None:
    with pytest.raises(AssessmentError) as info:
        read_questionnaire_responses(
            [audit("a", 2, subject="Patient/p1"), audit("b", 2, subject="Patient/p2")],
            duplicates="latest",
        )
    assert info.value.field == "QuestionnaireResponse/b.subject"
    assert "QuestionnaireResponse/a" in info.value.constraint
    assert "p1" not in str(info.value)
    assert "p2" not in str(info.value)


def test_subject_argument_checks_every_response() -> None:
    absolute = audit("a", 2, subject="https://ehr.test/fhir/Patient/p1/_history/3")
    assert read_questionnaire_responses(absolute, subject="Patient/p1").assessment
    with pytest.raises(AssessmentError, match="not the expected subject"):
        read_questionnaire_responses(audit("a", 2), subject="Patient/p9")
    with pytest.raises(AssessmentError, match="names no subject"):
        read_questionnaire_responses(audit("a", 2, subject=None), subject="Patient/p1")


def test_status_other_than_completed_is_skipped_and_listed() -> None:
    draft = audit("draft", 4) | {"status": "in-progress"}
    wrong = audit("wrong", 4) | {"status": "entered-in-error"}
    result = read_questionnaire_responses([draft, wrong, audit("ok", 2)])
    assert result.assessment["client.audit.total"] == 20
    assert [s.reason.split(":")[0] for s in result.skipped] == [
        "status 'in-progress'",
        "status 'entered-in-error'",
    ]


def test_fields_two_instruments_yield_come_from_the_later_response() -> None:
    audit_c = {
        "resourceType": "QuestionnaireResponse",
        "id": "c",
        "questionnaire": f"{OWN}/audit_c|1.0.0",
        "status": "completed",
        "authored": "2026-02-20",
        "item": [
            {"linkId": f"audit_c-item-{n}", "answer": [{"valueInteger": 0}]} for n in (1, 2, 3)
        ],
    }
    older = audit("a", 2, authored="2026-01-01", subject=None)
    with pytest.raises(AssessmentError, match="gives 0 but audit"):
        read_questionnaire_responses([older, audit_c])
    result = read_questionnaire_responses([older, audit_c], duplicates="latest")
    assert result.assessment["client.audit_c.total"] == 0
    assert result.assessment["client.audit.total"] == 20
    assert result.sources["client.audit_c.total"] == "QuestionnaireResponse/c"
    assert result.sources["client.audit.total"] == "QuestionnaireResponse/a"


def test_bad_policy_arguments_are_located() -> None:
    for kwargs, name in (
        ({"on_unknown": "ignore"}, "on_unknown"),
        ({"duplicates": "first"}, "duplicates"),
        ({"now": datetime(2026, 1, 1)}, "now"),
    ):
        with pytest.raises(AssessmentError) as info:
            read_questionnaire_responses(audit("a", 2), **kwargs)
        assert info.value.field == name
    with pytest.raises(AssessmentError) as info:
        read_questionnaire_responses(audit("a", 2, authored="last year"))
    assert info.value.field == "QuestionnaireResponse/a.authored"
