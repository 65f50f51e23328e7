"""Prefetched data as CDS Hooks 2.0, "Prefetch Template", defines it, over real HTTP.

A key with no data is ``null``; fetch errors come as OperationOutcome; results may be paged;
the data must be about the patient in ``context.patientId``. Missing data is never low risk:
the cards say which hazards are not ruled out, and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cds_client import PATIENT, Running, hook_call, serve
from riskrules import Scorer
from riskrules.service import ServiceConfig

CRISIS_ANSWERS = {
    "q1": True,
    "q2": True,
    "q3": True,
    "q4": True,
    "q5": False,
    "q6-lifetime": True,
    "q6-past-3-months": False,
}
CSSRS = "https://riskrules.example/fhir/Questionnaire/cssrs_screener|1.0.0"


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer("default", engine="native")


@pytest.fixture(scope="module")
def running(scorer: Scorer) -> Iterator[Running]:
    with serve(scorer) as run:
        yield run


def _response(
    answers: dict[str, bool], *, subject: Any = f"Patient/{PATIENT}", questionnaire: str = CSSRS
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": "qr-1",
        "status": "completed",
        "questionnaire": questionnaire,
        "item": [
            {"linkId": f"cssrs-{name}", "answer": [{"valueBoolean": value}]}
            for name, value in answers.items()
        ],
    }
    if subject is not None:
        resource["subject"] = {"reference": subject}
    return resource


def _bundle(*resources: dict[str, Any], next_page: bool = False) -> dict[str, Any]:
    # the shape of the specification's "Example prefetch data": a searchset Bundle
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }
    if next_page:
        bundle["link"] = [
            {"relation": "self", "url": "https://ehr.example.org/fhir/QuestionnaireResponse"},
            {"relation": "next", "url": "https://ehr.example.org/fhir/QuestionnaireResponse?p=2"},
        ]
    return bundle


def _call(running: Running, prefetch: Any) -> Any:
    return running.call(hook_call(prefetch=prefetch))


def _incomplete(cards: list[dict[str, Any]]) -> dict[str, Any]:
    (card,) = [c for c in cards if c["summary"].startswith("Incomplete assessment")]
    return card


def test_questionnaire_responses_bundle(running: Running) -> None:
    reply = _call(running, {"questionnaireResponses": _bundle(_response(CRISIS_ANSWERS))})
    assert reply.status_code == 200, reply.text
    first = reply.json()["cards"][0]
    assert first["source"]["topic"]["code"] == "crisis"
    assert first["indicator"] == "critical"
    assert "not sent" not in reply.text
    assert "reported an error" not in reply.text


@pytest.mark.parametrize("key", ["questionnaireResponses", "assessment"])
def test_null_prefetch_is_no_data_not_a_failure(running: Running, key: str) -> None:
    # "If the CDS Client has no data to populate a template prefetch key, the prefetch template
    # key MUST have a value of null": 200, and nothing is presented as low risk
    reply = _call(running, {key: None})
    assert reply.status_code == 200, reply.text
    cards = reply.json()["cards"]
    card = _incomplete(cards)
    assert card["indicator"] == "info"
    assert "Client crisis" in card["detail"]
    assert "Client substance use" in card["detail"]
    assert card["summary"] == "Incomplete assessment: 2 hazard(s) not ruled out"
    # the card asks for the missing answers that settle the most, for the hook's hazards only
    asked = card["detail"].split("To complete this assessment, ask: ", 1)[1].split("\n", 1)[0]
    names = [name.strip("`") for name in asked.split(", ")]
    assert 1 <= len(names) <= 3
    assert all(name.startswith("client.") for name in names), names
    assert names[0] == "client.cssrs.q4"


def test_operation_outcome_prefetch(running: Running) -> None:
    # "If the CDS Client encounters errors prefetching the requested data, OperationOutcome(s)
    # SHOULD be used to communicate those errors"
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": "backend timed out"}],
    }
    reply = _call(running, {"questionnaireResponses": outcome})
    assert reply.status_code == 200, reply.text
    card = _incomplete(reply.json()["cards"])
    assert "the EHR reported an error fetching them" in card["detail"]
    assert "backend timed out" not in reply.text


def test_operation_outcome_inside_a_bundle(running: Running) -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "fatal"}]}
    reply = _call(running, {"questionnaireResponses": _bundle(_response(CRISIS_ANSWERS), outcome)})
    assert reply.status_code == 200, reply.text
    first = reply.json()["cards"][0]
    assert first["summary"].startswith("Client crisis (suicide risk): critical risk (incomplete")
    assert "questionnaireResponses (the EHR reported an error fetching them)" in first["detail"]
    warning = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning"}]}
    reply = _call(running, {"questionnaireResponses": _bundle(_response(CRISIS_ANSWERS), warning)})
    assert reply.status_code == 200, reply.text
    assert "reported an error" not in reply.text


def test_paged_bundle_marks_hazards_incomplete_and_says_so(running: Running) -> None:
    # "Note that a CDS Client MAY paginate prefetch results": only the first page arrived
    bundle = _bundle(_response(CRISIS_ANSWERS), next_page=True)
    reply = _call(running, {"questionnaireResponses": bundle})
    assert reply.status_code == 200, reply.text
    cards = reply.json()["cards"]
    crisis = cards[0]
    assert crisis["summary"] == (
        "Client crisis (suicide risk): critical risk (incomplete, could reach critical)"
    )
    assert "pages after the first were not sent" in crisis["detail"]
    card = _incomplete(cards)
    assert "Client substance use" in card["detail"]
    assert "pages after the first were not sent" in card["detail"]
    whole = _call(running, {"questionnaireResponses": _bundle(_response(CRISIS_ANSWERS))})
    assert "pages after the first" not in whole.text


@pytest.mark.parametrize(
    "subject",
    [
        "Patient/someone-else",
        "Group/1288992",
        None,
        "https://ehr.example.org/fhir/Patient/someone-else",
    ],
)
def test_responses_about_another_patient_are_4xx(running: Running, subject: Any) -> None:
    response = _response(CRISIS_ANSWERS, subject=subject)
    reply = _call(running, {"questionnaireResponses": _bundle(response)})
    assert reply.status_code == 422
    assert "context.patientId" in reply.json()["error"]
    assert "cards" not in reply.json()
    assert "someone-else" not in reply.text


@pytest.mark.parametrize(
    "subject",
    [
        f"Patient/{PATIENT}",
        f"https://ehr.example.org/fhir/Patient/{PATIENT}",
        f"Patient/{PATIENT}/_history/3",
    ],
)
def test_references_to_the_patient_in_any_form(running: Running, subject: str) -> None:
    response = _response(CRISIS_ANSWERS, subject=subject)
    reply = _call(running, {"questionnaireResponses": [response]})
    assert reply.status_code == 200, reply.text


def test_bad_responses(running: Running) -> None:
    broken = _response({"q1": True, "q3": True})
    reply = _call(running, {"questionnaireResponses": [broken]})
    assert reply.status_code == 422
    assert "QuestionnaireResponse" in reply.json()["error"]
    assert _call(running, {"questionnaireResponses": "not a bundle"}).status_code == 400
    bundle = {"resourceType": "Bundle", "entry": {"resource": {}}}
    assert _call(running, {"questionnaireResponses": bundle}).status_code == 400


def test_site_mapping_files(scorer: Scorer, tmp_path: Path) -> None:
    # a site's own questionnaire, mapped by a file named in the configuration
    shipped = Path(__file__).resolve().parents[2] / "src/riskrules/data/fhir_mappings"
    mapping = json.loads((shipped / "cssrs_screener.json").read_text(encoding="utf-8"))
    mapping["url"] = "https://forms.site.example.org/Questionnaire/local-cssrs"
    (tmp_path / "local-cssrs.json").write_text(json.dumps(mapping), encoding="utf-8")
    local = "https://forms.site.example.org/Questionnaire/local-cssrs|1.0.0"
    config = ServiceConfig(mappings=(tmp_path / "local-cssrs.json",))
    with serve(scorer, config) as run:
        response = _response(CRISIS_ANSWERS, questionnaire=local)
        reply = run.call(hook_call(prefetch={"questionnaireResponses": [response]}))
        assert reply.status_code == 200, reply.text
        assert reply.json()["cards"][0]["indicator"] == "critical"


def _record() -> dict[str, Any]:
    # one patient's record as a FHIR search returns it: a PHQ-9 (no mapping), two AUDIT-Cs,
    # a C-SSRS screener and a draft (examples/ehr/loinc_record.json)
    path = Path(__file__).resolve().parents[2] / "examples/ehr/loinc_record.json"
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record


def test_a_real_record_scores_with_the_default_selection_policy(running: Running) -> None:
    # the discovery template asks for every completed response of the patient: other
    # questionnaires are skipped and the latest administration counts
    body = hook_call(prefetch={"questionnaireResponses": _record()}, patient="example")
    reply = running.call(body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["cards"]


def test_the_selection_policy_is_the_sites(scorer: Scorer) -> None:
    body = hook_call(prefetch={"questionnaireResponses": _record()}, patient="example")
    strict = ServiceConfig(selection={"on_unknown": "error", "duplicates": "latest"})
    with serve(scorer, strict) as run:
        reply = run.call(body)
        assert reply.status_code == 422
        assert "mapping" in reply.json()["error"]
    twice = ServiceConfig(selection={"on_unknown": "skip", "duplicates": "error"})
    with serve(scorer, twice) as run:
        assert run.call(body).status_code == 422
    recent = ServiceConfig(
        selection={"on_unknown": "skip", "duplicates": "latest", "max_age": timedelta(days=1)}
    )
    with serve(scorer, recent) as run:
        # every response is older than a day: none is used, so nothing is ruled out
        reply = run.call(body)
        assert reply.status_code == 200, reply.text
        card = _incomplete(reply.json()["cards"])
        assert "Client crisis" in card["detail"]
        assert "client.cssrs.q1" in card["detail"]
    with serve(scorer) as run:
        reply = run.call(hook_call(prefetch={"questionnaireResponses": _record()}))
        assert reply.status_code == 422  # the record is about Patient/example, not the call's
        assert "context.patientId" in reply.json()["error"]
