"""QuestionnaireResponses in the shapes published forms produce (sources in data/README.md).

Every total is checked against the form's own scoring: the sum of the answer options' scores
the form's Questionnaire declares (``data/form-scores.json``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import riskrules
from riskrules import AssessmentError
from riskrules.fhir import (
    SkippedResponse,
    assessment_from_questionnaire_responses,
    load_mappings,
    read_questionnaire_responses,
)

DATA = Path(__file__).parent / "data"
SITE = DATA / "site-mappings"
FORM_SCORES: dict[str, dict[str, dict[str, int]]] = json.loads(
    (DATA / "form-scores.json").read_text("utf-8")
)
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((DATA / name).read_text("utf-8"))
    return result


def answered(resource: dict[str, Any]) -> dict[str, str]:
    """linkId -> answer code of every coded answer, groups walked."""
    found: dict[str, str] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            for answer in item.get("answer", []):
                if "valueCoding" in answer:
                    found[item["linkId"]] = answer["valueCoding"]["code"]
            walk(item.get("item", []))

    walk(resource["item"])
    return found


def form_total(form: str, resource: dict[str, Any]) -> int:
    """The response's total as the form itself scores it."""
    table = FORM_SCORES[form]
    return sum(table[link][code] for link, code in answered(resource).items() if link in table)


def test_loinc_audit_c_without_questionnaire_or_system_scores_like_the_form() -> None:
    resource = load("cobalt-audit-c.json")
    assert "questionnaire" not in resource
    result = read_questionnaire_responses(resource)
    assert result.assessment == {"client.audit_c.total": form_total("cobalt-audit-c", resource)}
    assert result.assessment["client.audit_c.total"] == 8
    assert result.sources == {"client.audit_c.total": "QuestionnaireResponse/cobalt-audit-c"}


def test_shipped_loinc_answer_tables_agree_with_both_published_forms() -> None:
    rules = {r.code[1]: r for r in load_mappings()["http://loinc.org#72109-2"].rules if r.code}
    for form, prefix in (("cobalt-audit-c", "/"), ("us-core-audit-c", "/")):
        for link, options in FORM_SCORES[form].items():
            code = link.removeprefix(prefix)
            assert code in rules, (form, link)
            assert dict(rules[code].answer.codes or {}) == options, (form, link)


def test_loinc_cssrs_screener_with_its_risk_level_item() -> None:
    resource = load("cobalt-cssrs.json")
    got = assessment_from_questionnaire_responses(resource)
    assert got == {
        "client.cssrs.q1": True,
        "client.cssrs.q2": True,
        "client.cssrs.q3": True,
        "client.cssrs.q4": False,
        "client.cssrs.q5": False,
        "client.cssrs.q6_lifetime": True,
        "client.cssrs.q6_past_3_months": False,
    }
    # The form's own score counts the yes answers of the screener items.
    yes = [code for link, code in answered(resource).items() if link != "/93374-7"]
    assert sum(value is True for value in got.values()) == yes.count("LA33-6") == 4


def test_short_cssrs_form_in_two_groups_with_one_link_id() -> None:
    got = assessment_from_questionnaire_responses(load("cobalt-cssrs-short.json"))
    assert got == {
        "client.cssrs.q1": False,
        "client.cssrs.q2": False,
        "client.cssrs.q6_lifetime": False,
    }


def test_reworded_dast_item_is_mapped_by_a_site_mapping_to_the_forms_total() -> None:
    resource = load("cobalt-dast-10.json")
    own_total = form_total("cobalt-dast-10", resource)
    assert own_total == 3
    site = SITE / "penn-dast-10.json"
    got = assessment_from_questionnaire_responses(resource, mappings=[site])
    assert got == {"client.dast10.total": own_total}
    # Without the per-item reverse flag the same answers would score 2: the silent mis-score
    # the flag exists for.
    naive = json.loads(site.read_text("utf-8"))
    naive["items"]["/ic-dast-3"] = 3
    assert assessment_from_questionnaire_responses(resource, mappings=[naive]) == {
        "client.dast10.total": 2
    }


@pytest.mark.parametrize("name", ["cdc-who-audit-2025.json", "cdc-who-audit-2026.json"])
def test_site_audit_with_per_item_answer_tables_equals_the_forms_totals(name: str) -> None:
    resource = load(name)
    got = assessment_from_questionnaire_responses(resource, mappings=[SITE / "cdc-who-audit.json"])
    totals = {
        i["linkId"]: i["answer"][0]["valueDecimal"]
        for i in resource["item"]
        if "valueDecimal" in i["answer"][0]
    }
    assert (
        got["client.audit.total"] == totals["audit-score"] == form_total("cdc-who-audit", resource)
    )
    assert got["client.audit_c.total"] == totals["auditc-score"]


def test_us_core_audit_c_is_never_read_as_an_audit_c_total() -> None:
    resource = load("us-core-audit-c.json")
    skipped = read_questionnaire_responses(resource, on_unknown="skip").skipped
    assert [(s.response, s.instrument) for s in skipped] == [
        ("QuestionnaireResponse/AUDIT-C", None)
    ]
    # A site mapping for its URL that covers the AUDIT-C items it does ask: its first item is
    # LOINC 68517-2 (a count of heavy-drinking days), not AUDIT-C item 1 (68518-0), so it stays
    # unmapped and is reported, never taken as an item score.
    loinc = json.loads(
        (
            Path(__file__).parents[2] / "src/riskrules/data/fhir_mappings/audit_c_loinc.json"
        ).read_text("utf-8")
    )
    site = loinc | {"url": "http://hl7.org/fhir/us/core/Questionnaire/AUDIT-C", "code": []}
    with pytest.raises(AssessmentError) as info:
        assessment_from_questionnaire_responses(resource, mappings=[site])
    assert info.value.field == "QuestionnaireResponse/AUDIT-C.item[/68517-2]"
    assert "unknown linkId" in info.value.constraint
    with pytest.raises(AssessmentError, match="missing answer") as missing:
        assessment_from_questionnaire_responses(
            resource, mappings=[site | {"ignore_unmapped": True}]
        )
    assert missing.value.field == "QuestionnaireResponse/AUDIT-C.item[code 68518-0]"
    assert (
        assessment_from_questionnaire_responses(
            resource, mappings=[site | {"ignore_unmapped": True}], partial=True
        )
        == {}
    )


def test_record_with_unrelated_forms_and_two_audits_selects_the_latest_audit() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": load(name)}
            for name in (
                "cobalt-phq-9.json",
                "cdc-who-audit-2025.json",
                "cdc-who-audit-2026.json",
            )
        ],
    }
    site = [SITE / "cdc-who-audit.json"]
    with pytest.raises(AssessmentError):
        read_questionnaire_responses(bundle, mappings=site)
    result = read_questionnaire_responses(
        bundle, mappings=site, on_unknown="skip", duplicates="latest"
    )
    latest = load("cdc-who-audit-2026.json")
    assert result.assessment["client.audit.total"] == form_total("cdc-who-audit", latest) == 3
    assert set(result.sources.values()) == {"QuestionnaireResponse/cdc-who-audit-2026"}
    assert result.basis == ["QuestionnaireResponse/cdc-who-audit-2026"]
    assert [(s.response, s.instrument) for s in result.skipped] == [
        ("QuestionnaireResponse/cobalt-phq-9", None),
        ("QuestionnaireResponse/cdc-who-audit-2025", "audit"),
    ]
    assert result.skipped[1] == SkippedResponse(
        "QuestionnaireResponse/cdc-who-audit-2025",
        "superseded by the later QuestionnaireResponse/cdc-who-audit-2026",
        "audit",
    )
    # A year's limit leaves out last year's AUDIT for its age rather than for the later one.
    year = read_questionnaire_responses(
        bundle,
        mappings=site,
        on_unknown="skip",
        duplicates="latest",
        max_age=timedelta(days=365),
        now=NOW,
    )
    assert year.assessment == result.assessment
    assert year.skipped[1].reason == "older than max_age (365 days)"
    # US Core's PHQ-9 example is about another patient: never merged into this record.
    bundle["entry"].append({"resource": load("us-core-phq-9.json")})
    with pytest.raises(AssessmentError) as info:
        read_questionnaire_responses(bundle, mappings=site, on_unknown="skip", duplicates="latest")
    assert info.value.field == "QuestionnaireResponse/phq-9-example.subject"
    assert "QuestionnaireResponse/cobalt-phq-9" in info.value.constraint


def test_whole_record_of_one_patient_gives_one_assessment() -> None:
    names = [
        "cobalt-audit-c.json",
        "cobalt-cssrs.json",
        "cobalt-phq-9.json",
        "cobalt-dast-10.json",
    ]
    result = read_questionnaire_responses(
        [load(n) for n in names],
        mappings=[SITE / "penn-dast-10.json"],
        on_unknown="skip",
        subject="Patient/pat-1",
    )
    assert result.assessment["client.audit_c.total"] == 8
    assert result.assessment["client.dast10.total"] == 3
    assert result.assessment["client.cssrs.q6_lifetime"] is True
    assert [s.response for s in result.skipped] == ["QuestionnaireResponse/cobalt-phq-9"]
    with pytest.raises(AssessmentError, match="not the expected subject"):
        read_questionnaire_responses(
            [load(n) for n in names], on_unknown="skip", subject="Patient/other"
        )


def test_short_cssrs_form_that_never_asks_q3_to_q5() -> None:
    resource = load("cobalt-cssrs-short-q2-yes.json")
    with pytest.raises(AssessmentError, match="missing answer") as info:
        assessment_from_questionnaire_responses(resource)
    assert info.value.field == "QuestionnaireResponse/cobalt-cssrs-short-q2-yes.item[code 93248-3]"
    # The site's copy of the shipped mapping has the same panel code, so it replaces it.
    site = [SITE / "penn-short-cssrs.json"]
    got = assessment_from_questionnaire_responses(resource, mappings=site)
    assert got == {
        "client.cssrs.q1": True,
        "client.cssrs.q2": True,
        "client.cssrs.q6_lifetime": False,
    }
    report = riskrules.score(got, engine="native")
    crisis = report.hazards["crisis"]
    assert not crisis.complete
    assert "client.cssrs.q4" in crisis.missing
