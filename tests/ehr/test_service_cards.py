"""The service's cards over real HTTP: uuids per call, one URL namespace, hazards per hook.

CDS Hooks 2.0, "Card Attributes": ``uuid`` uniquely identifies the card and is what feedback
names; ``source.topic`` and ``overrideReasons`` are Codings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cds_client import Running, example, hook_call, serve
from riskrules import Scorer
from riskrules.fhir import BASE_URL, HAZARD_SYSTEM
from riskrules.service import ServiceConfig


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer("default", engine="native")


@pytest.fixture(scope="module")
def running(scorer: Scorer) -> Iterator[Running]:
    with serve(scorer, ServiceConfig(hazards={"patient-view": "all"})) as run:
        yield run


def _uuids(cards: list[dict[str, Any]]) -> list[str]:
    found = []
    for card in cards:
        found.append(card["uuid"])
        found.extend(s["uuid"] for s in card.get("suggestions", []))
    return found


def test_two_patients_cards_have_different_uuids(running: Running) -> None:
    assessment = example("heavy_trauma_caseload")
    first = running.call(hook_call(assessment=assessment, patient="1288992")).json()["cards"]
    second = running.call(hook_call(assessment=assessment, patient="7734")).json()["cards"]
    assert [c["summary"] for c in first] == [c["summary"] for c in second]
    assert not set(_uuids(first)) & set(_uuids(second))
    assert len(set(_uuids(first))) == len(_uuids(first))
    for value in _uuids(first):
        assert str(uuid.UUID(value)) == value


def test_the_same_call_replayed_gets_the_same_cards(running: Running) -> None:
    # keyed on hookInstance: a client that retries a call (new token, same hookInstance) can
    # match the cards it already shows
    body = hook_call(assessment=example("client_in_crisis"))
    first = running.call(body)
    again = running.call(body)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content


def test_one_url_namespace_for_cards_and_fhir(running: Running) -> None:
    reply = running.call(hook_call(assessment=example("client_in_crisis")))
    for card in reply.json()["cards"]:
        if "topic" in card["source"]:
            assert card["source"]["topic"]["system"] == HAZARD_SYSTEM
        for reason in card["overrideReasons"]:
            assert reason["system"].startswith(f"{BASE_URL}/")
            assert reason["display"]
    assert "riskrules.example.org" not in reply.text


def test_patient_view_reports_client_side_hazards_by_default(scorer: Scorer) -> None:
    # clinician-side hazards (caseload, trauma, boundaries) cannot be filled from a patient's
    # record, so patient-view does not end every call with them "not ruled out"
    with serve(scorer) as run:
        view = run.call(hook_call(assessment=example("client_in_crisis"))).json()["cards"]
        topics = {c["source"].get("topic", {}).get("code") for c in view}
        assert topics - {None} <= {"crisis", "substance_abuse"}
        assert not any(
            "Caseload" in c["detail"] or "Trauma" in c["detail"] or "Boundary" in c["detail"]
            for c in view
        )
        start = hook_call(assessment=example("heavy_trauma_caseload"), hook="encounter-start")
        encounter = run.call(start).json()["cards"]
        codes = {c["source"].get("topic", {}).get("code") for c in encounter}
        assert "trauma_exposure" in codes


def test_hazards_per_hook_are_configurable(scorer: Scorer) -> None:
    config = ServiceConfig(hazards={"patient-view": ("crisis",), "encounter-start": ("caseload",)})
    with serve(scorer, config) as run:
        view = run.call(hook_call(assessment=example("client_in_crisis"))).json()["cards"]
        assert [c["source"]["topic"]["code"] for c in view] == ["crisis"]
        start = hook_call(assessment=example("heavy_trauma_caseload"), hook="encounter-start")
        cards = run.call(start).json()["cards"]
        assert {c["source"].get("topic", {}).get("code") for c in cards} <= {"caseload", None}


def test_cors_allow_list(scorer: Scorer) -> None:
    # "Cross-Origin Resource Sharing": browser-based clients (e.g. the CDS Hooks sandbox)
    allowed = "https://sandbox.cds-hooks.org"
    with serve(scorer, ServiceConfig(cors_origins=(allowed,))) as run:
        preflight = httpx.options(
            f"{run.base}/cds-services/riskrules-occupational-risk",
            headers={
                "Origin": allowed,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
            timeout=10,
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == allowed
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        found = httpx.get(f"{run.base}/cds-services", headers={"Origin": allowed}, timeout=10)
        assert found.headers["access-control-allow-origin"] == allowed
        other = httpx.get(
            f"{run.base}/cds-services", headers={"Origin": "https://evil.example"}, timeout=10
        )
        assert "access-control-allow-origin" not in other.headers
    with serve(scorer) as run:  # no allow-list: no CORS headers at all
        plain = httpx.get(f"{run.base}/cds-services", headers={"Origin": allowed}, timeout=10)
        assert "access-control-allow-origin" not in plain.headers
