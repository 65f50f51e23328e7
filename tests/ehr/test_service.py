"""The CDS Hooks service over real HTTP: discovery, hook calls and status codes.

A uvicorn server on loopback, driven with httpx (tests/cds_client.py). Section names refer to
the CDS Hooks 2.0 specification (https://cds-hooks.hl7.org/2.0/).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from cds_client import HOOK_PATH, PATIENT, Running, example, hook_call, serve
from riskrules import Scorer
from riskrules.service import SERVICE_ID, ConfigError, ServiceConfig, create_app, load_config


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer("default", engine="native")


@pytest.fixture(scope="module")
def running(scorer: Scorer) -> Iterator[Running]:
    config = ServiceConfig(hazards={"patient-view": "all"}, max_body=65536)
    with serve(scorer, config) as run:
        yield run


def test_discovery_lists_each_hook_with_a_patient_prefetch(running: Running) -> None:
    # "Discovery": one entry per hook, the same id; prefetch keyed on the `patient` parameter
    reply = httpx.get(f"{running.base}/cds-services", timeout=10)
    assert reply.status_code == 200
    services = reply.json()["services"]
    assert [s["hook"] for s in services] == ["patient-view", "encounter-start"]
    for service in services:
        assert service["id"] == SERVICE_ID
        assert service["description"]
        template = service["prefetch"]["questionnaireResponses"]
        assert template.startswith("QuestionnaireResponse?patient={{context.patientId}}&")
        assert "subject=" not in template


def test_the_specification_request_example_gets_cards(running: Running) -> None:
    # "Calling a CDS Service", Example: the request shape with fhirServer and a JWT per call
    body = hook_call(assessment=example("client_in_crisis"))
    body["hookInstance"] = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
    body["context"]["encounterId"] = "89284"
    body["fhirAuthorization"] = {
        "access_token": "some-opaque-fhir-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/Patient.read user/Observation.read",
        "subject": "cds-service4",
    }
    reply = running.call(body)
    assert reply.status_code == 200, reply.text
    cards = reply.json()["cards"]
    assert cards[0]["indicator"] == "critical"
    assert cards[0]["summary"].startswith("Client crisis")


def test_encounter_start_is_answered(running: Running) -> None:
    body = hook_call(assessment=example("client_in_crisis"), hook="encounter-start")
    body["context"]["encounterId"] = "456"
    reply = running.call(body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["cards"]


def test_body_too_large_is_413(running: Running) -> None:
    body = hook_call(assessment={"padding": "x" * 70_000})
    assert running.call(body).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies while streaming
        for _ in range(20):
            yield b" " * 8192

    token = running.ehr.token(f"{running.base}{HOOK_PATH}")
    reply = httpx.post(
        f"{running.base}{HOOK_PATH}",
        content=chunks(),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert reply.status_code == 413
    assert "exceeds" in reply.json()["error"]


def test_malformed_json_is_400(running: Running) -> None:
    token = running.ehr.token(f"{running.base}{HOOK_PATH}")
    reply = httpx.post(
        f"{running.base}{HOOK_PATH}",
        content=b'{"hook": "patient-view",',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert reply.status_code == 400
    assert "JSON" in reply.json()["error"]


def test_bad_hook_and_bad_assessment(running: Running, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="riskrules.service")
    body = hook_call(assessment=example("client_in_crisis"), hook="order-sign")
    assert running.call(body).status_code == 400
    secret = "secret-value-7431"
    bad = running.call(hook_call(assessment={"client": {"sex": secret}}))
    assert bad.status_code == 422
    assert "client.sex" in bad.json()["error"]
    assert secret not in bad.text
    assert "status=422" in caplog.text
    assert secret not in caplog.text
    assert PATIENT not in caplog.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hookInstance": ""}, "hookInstance"),
        ({"context": []}, "context"),
        ({"context": {"userId": "Practitioner/1"}}, "patientId"),
        ({"context": {"patientId": 7}}, "patientId"),
    ],
)
def test_required_request_fields(running: Running, change: dict[str, object], field: str) -> None:
    # "Calling a CDS Service": hook, hookInstance and context are REQUIRED; both hooks'
    # contexts require patientId
    body = hook_call(assessment=example("client_in_crisis"))
    body.update(change)
    reply = running.call(body)
    assert reply.status_code == 400
    assert field in reply.json()["error"]


def test_missing_prefetch_is_412(running: Running) -> None:
    # "Prefetch Template": a key the client could not satisfy is omitted -> 412
    body = hook_call()
    reply = running.call(body)
    assert reply.status_code == 412
    assert "prefetch" in reply.json()["error"]
    body["prefetch"] = {"other": 1}
    assert running.call(body).status_code == 412


def test_unknown_service_is_404(running: Running) -> None:
    reply = running.post("/cds-services/no-such-service", hook_call(assessment={}))
    assert reply.status_code == 404
    assert reply.json() == {"error": "unknown CDS service"}


def test_concurrent_calls_nothing_lost(running: Running) -> None:
    names = ["client_in_crisis", "heavy_trauma_caseload", "incomplete_assessment"]
    bodies = [hook_call(assessment=example(name)) for name in names]
    expected = [len(running.call(body).json()["cards"]) for body in bodies]
    total, workers = 200, 8
    url = f"{running.base}{HOOK_PATH}"
    tokens = [running.ehr.token(url) for _ in range(total)]

    def work(worker: int) -> list[tuple[int, int, int]]:
        out = []
        with httpx.Client(timeout=30) as client:
            for i in range(worker, total, workers):
                reply = client.post(
                    url, json=bodies[i % 3], headers={"Authorization": f"Bearer {tokens[i]}"}
                )
                out.append((i, reply.status_code, len(reply.json().get("cards", []))))
        return out

    with ThreadPoolExecutor(workers) as pool:
        results = [item for chunk in pool.map(work, range(workers)) for item in chunk]
    assert sorted(i for i, _, _ in results) == list(range(total))
    assert all(status == 200 for _, status, _ in results)
    assert all(count == expected[i % 3] for i, _, count in results)


def test_insecure_dev_needs_no_token(scorer: Scorer) -> None:
    with serve(scorer, ServiceConfig(insecure_dev=True)) as run:
        reply = httpx.post(
            f"{run.base}{HOOK_PATH}",
            json=hook_call(assessment=example("client_in_crisis")),
            timeout=10,
        )
    assert reply.status_code == 200
    assert reply.json()["cards"]


def test_configuration_errors(tmp_path: Path, scorer: Scorer) -> None:
    with pytest.raises(ConfigError):
        create_app(config=ServiceConfig(), scorer=scorer)
    with pytest.raises(ConfigError, match="base URL"):
        create_app(
            config=ServiceConfig(audience="cds.example.org", issuers={"x": {"keys": []}}),
            scorer=scorer,
        )
    bad = tmp_path / "bad.yaml"
    bad.write_text("issuers:\n  - iss: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"issuers\[0\]"):
        load_config(bad)
    bad.write_text("issuers:\n  - iss: x\n    jwks: {keys: [{kty: nope}]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="kty"):
        load_config(bad)
    bad.write_text("limits: {max_connections: 0}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"limits\.max_connections"):
        load_config(bad)
    bad.write_text("unknown_key: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown_key"):
        load_config(bad)
    bad.write_text(json.dumps({"hazards": {"patient-view": ["nope"]}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="nope"):
        create_app(config=load_config(bad, insecure_dev=True), scorer=scorer)


def test_serve_command_needs_a_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    from riskrules.cli import main

    assert main(["serve"]) == 2
    assert "--config" in capsys.readouterr().err
