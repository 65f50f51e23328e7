"""FHIR out: a report as a RiskAssessment, and clinician-side hazards as Observations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.riskassessment import RiskAssessment

import riskrules
from riskrules import RiskRulesError, Ruleset, Scorer
from riskrules.ehr._fhir_out import overall_text
from riskrules.ehr._instruments import assessment_from_items
from riskrules.fhir import (
    HAZARD_SYSTEM,
    RISK_PROBABILITY_CODES,
    RISK_PROBABILITY_SYSTEM,
    RULESET_EXTENSION,
    FhirReferenceError,
    observations,
    risk_assessment,
)

DEMO = Ruleset.model_validate(
    {
        "ruleset": "demo",
        "version": "2",
        "title": "Demo",
        "inputs": {
            "clinician.active_clients": {"type": "integer", "min": 0},
            "clinician.supervised": {"type": "boolean"},
        },
        "hazards": {
            "caseload": {
                "title": "Caseload",
                "bands": {"low": 0, "moderate": 1, "high": 2, "critical": 3},
            },
            "isolation": {"title": "Isolation", "bands": {"low": 0, "high": 1}},
        },
        "rules": [
            {
                "id": "caseload.over",
                "hazard": "caseload",
                "when": {"field": "clinician.active_clients", "gt": 35},
                "then": {"points": 3},
                "because": "Above the service limit.",
            },
            {
                "id": "isolation.unsupervised",
                "hazard": "isolation",
                "when": {"field": "clinician.supervised", "eq": False},
                "then": {"points": 1},
                "because": "No supervision.",
            },
        ],
    }
)


@pytest.fixture(scope="module")
def demo() -> Iterator[Scorer]:
    with Scorer(DEMO, engine="native") as scorer:
        yield scorer


@pytest.fixture(scope="module")
def default_report() -> riskrules.RiskReport:
    answers = {"proqol5": dict.fromkeys(range(1, 31), 4), "audit": dict.fromkeys(range(1, 11), 4)}
    return riskrules.score(assessment_from_items(answers))


def reference_type(ref: dict[str, Any]) -> str:
    parts = ref["reference"].split("/") if "reference" in ref else []
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return str(ref.get("type") or parts[-2])


def check_codes(concept: dict[str, Any]) -> str:
    """Our binding check: exactly one risk-probability coding with a valid code."""
    codes = [c for c in concept["coding"] if c["system"] == RISK_PROBABILITY_SYSTEM]
    assert len(codes) == 1
    assert codes[0]["code"] in {"negligible", "low", "moderate", "high", "certain"}
    assert codes[0]["display"] == RISK_PROBABILITY_CODES[codes[0]["code"]]
    return str(codes[0]["code"])


def check_risk_assessment(resource: dict[str, Any], report: riskrules.RiskReport) -> None:
    RiskAssessment.model_validate(resource)
    assert resource["resourceType"] == "RiskAssessment"
    assert reference_type(resource["subject"]) in {"Patient", "Group"}
    for ref in resource.get("basis", ()):
        assert reference_type(ref) == "QuestionnaireResponse"
    assert resource["status"] == ("final" if report.complete else "preliminary")
    info = report.ruleset
    [ext] = [e for e in resource["extension"] if e["url"] == RULESET_EXTENSION]
    assert {e["url"]: e["valueString"] for e in ext["extension"]} == {
        "id": info.id,
        "version": info.version,
        "fingerprint": info.fingerprint,
    }
    assert resource["method"]["coding"][0]["code"] == info.id
    assert resource["note"] == [{"text": overall_text(report)}, {"text": report.disclaimer}]
    outcomes = [p["outcome"]["coding"][0] for p in resource["prediction"]]
    assert [o["code"] for o in outcomes] == list(report.hazards)
    assert all(o["system"] == HAZARD_SYSTEM for o in outcomes)
    for prediction, hazard in zip(resource["prediction"], report.hazards.values(), strict=True):
        code = check_codes(prediction["qualitativeRisk"])
        assert code == {"critical": "high"}.get(hazard.level, hazard.level)
        assert prediction["outcome"]["text"] == hazard.title
        if not hazard.complete:
            assert "Incomplete" in prediction["rationale"]


def test_risk_assessment_of_the_default_ruleset(default_report: riskrules.RiskReport) -> None:
    report = default_report
    resource = risk_assessment(
        report,
        subject="Patient/p1",
        basis=["QuestionnaireResponse/qr1", {"reference": "QuestionnaireResponse/qr2"}],
        occurrence="2026-03-01T09:30:00Z",
        id="ra-1",
    )
    check_risk_assessment(resource, report)
    assert resource["occurrenceDateTime"] == "2026-03-01T09:30:00Z"
    assert resource["status"] == "preliminary"
    fired = {f.hazard: f.because for f in report.fired}
    for prediction in resource["prediction"]:
        hid = prediction["outcome"]["coding"][0]["code"]
        if hid in fired:
            assert fired[hid].strip() in prediction["rationale"]
    for rec in report.recommendations:
        assert rec.title in resource["mitigation"]
    again = risk_assessment(
        report,
        subject="Patient/p1",
        basis=["QuestionnaireResponse/qr1", {"reference": "QuestionnaireResponse/qr2"}],
        occurrence="2026-03-01T09:30:00Z",
        id="ra-1",
    )
    assert json.dumps(again) == json.dumps(resource)


def test_levels_map_to_risk_probability_and_complete_is_final(demo: Scorer) -> None:
    cases = [
        ({"clinician": {"active_clients": 40, "supervised": False}}, "critical", "high", "final"),
        ({"clinician": {"active_clients": 10, "supervised": True}}, "low", "low", "final"),
        ({"clinician": {"supervised": True}}, "low", "low", "preliminary"),
    ]
    for assessment, level, code, status in cases:
        report = demo.score(assessment)
        resource = risk_assessment(report, subject={"reference": "Group/team-a"})
        check_risk_assessment(resource, report)
        first = resource["prediction"][0]
        assert report.hazards["caseload"].level == level
        assert first["qualitativeRisk"]["coding"][0]["code"] == code
        assert first["qualitativeRisk"]["coding"][1]["code"] == level
        assert resource["status"] == status
        assert "occurrenceDateTime" not in resource
        assert "basis" not in resource
    incomplete = demo.score({"clinician": {"supervised": True}})
    rationale = risk_assessment(incomplete, subject="Group/g")["prediction"][0]["rationale"]
    assert "could reach critical" in rationale
    assert "clinician.active_clients" in rationale
    only = risk_assessment(incomplete, subject="Group/g", hazards=["isolation"])
    assert [p["outcome"]["text"] for p in only["prediction"]] == ["Isolation"]
    assert only["status"] == "final"
    custom = risk_assessment(
        demo.score({"clinician": {"active_clients": 40}}),
        subject="Group/g",
        risk_codes={"critical": "certain"},
    )
    assert check_codes(custom["prediction"][0]["qualitativeRisk"]) == "certain"


def test_subject_must_be_patient_or_group(demo: Scorer) -> None:
    report = demo.score({"clinician": {"active_clients": 1, "supervised": True}})
    for subject in ("Practitioner/c1", {"reference": "PractitionerRole/r"}):
        with pytest.raises(FhirReferenceError, match="Observations") as info:
            risk_assessment(report, subject=subject)
        assert isinstance(info.value, ValueError)
        assert isinstance(info.value, RiskRulesError)
    for subject in (
        "Device/d",
        {"identifier": {"value": "x"}},
        {"type": "Patient", "reference": "Group/g"},
    ):
        with pytest.raises(FhirReferenceError):
            risk_assessment(report, subject=subject)
    versioned = risk_assessment(report, subject="https://ehr.test/fhir/Group/g/_history/3")
    check_risk_assessment(versioned, report)
    typed = {"type": "Patient", "identifier": {"system": "urn:test", "value": "42"}}
    check_risk_assessment(risk_assessment(report, subject=typed), report)
    with pytest.raises(FhirReferenceError, match="basis"):
        risk_assessment(report, subject="Patient/p", basis=["Practitioner/c"])
    with pytest.raises(FhirReferenceError, match="dateTime"):
        risk_assessment(report, subject="Patient/p", occurrence="now")
    with pytest.raises(FhirReferenceError, match="id"):
        risk_assessment(report, subject="Patient/p", id="has space")
    with pytest.raises(FhirReferenceError, match="hazards"):
        risk_assessment(report, subject="Patient/p", hazards=["nope"])


def test_observations_for_clinician_side_hazards(default_report: riskrules.RiskReport) -> None:
    report = default_report
    resources = observations(
        report,
        focus="Practitioner/c1",
        basis=["QuestionnaireResponse/qr1"],
        effective="2026-03-01",
        id_prefix="obs",
        hazards=["trauma_exposure", "caseload"],
    )
    assert [o["id"] for o in resources] == ["obs-trauma-exposure", "obs-caseload"]
    for obs, hid in zip(resources, ["trauma_exposure", "caseload"], strict=True):
        Observation.model_validate(obs)
        assert "subject" not in obs
        assert [reference_type(r) for r in obs["focus"]] == ["Practitioner"]
        assert [reference_type(r) for r in obs["derivedFrom"]] == ["QuestionnaireResponse"]
        assert obs["code"]["coding"][0] == {
            "system": HAZARD_SYSTEM,
            "code": hid,
            "display": report.hazards[hid].title,
        }
        check_codes(obs["valueCodeableConcept"])
        assert obs["status"] == ("final" if report.hazards[hid].complete else "preliminary")
        assert obs["note"][-1]["text"] == report.disclaimer
    with_subject = observations(report, focus="Group/team", subject="Patient/p")
    for obs in with_subject:
        Observation.model_validate(obs)
        assert reference_type(obs["subject"]) == "Patient"
    with pytest.raises(FhirReferenceError):
        observations(report, focus="Practitioner/c1", subject="Practitioner/c1")
    with pytest.raises(FhirReferenceError):
        observations(report, focus="Device/d")
