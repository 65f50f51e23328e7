"""The CDS Hooks service over real HTTP: a uvicorn server on loopback, driven with httpx."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec

from riskrules import Scorer
from riskrules.ehr._service import (
    SERVICE_ID,
    ConfigError,
    ReplayCache,
    ServiceConfig,
    create_app,
    load_config,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ISSUER = "https://ehr.example.org"
KID = "ehr-key-1"


class _Server:
    """A uvicorn server in a background thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive(), "server thread ended before starting"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer("default", engine="native")


@pytest.fixture(scope="module")
def server(
    key: ec.EllipticCurvePrivateKey, scorer: Scorer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": KID, "alg": "ES256", "use": "sig"})
    folder = tmp_path_factory.mktemp("service")
    (folder / "ehr.jwks.json").write_text(json.dumps({"keys": [public]}), encoding="utf-8")
    config_file = folder / "service.yaml"
    # the audience is the base URL, known only once the port is: bind first, configure after
    config_file.write_text(
        "audience: AUDIENCE\nissuers:\n  - iss: https://ehr.example.org\n"
        "    jwks_file: ehr.jwks.json\naudit_log: feedback.jsonl\nmax_body_bytes: 65536\n",
        encoding="utf-8",
    )
    holder: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await holder["app"](scope, receive, send)

    with _Server(app) as base:
        text = config_file.read_text(encoding="utf-8").replace("AUDIENCE", base)
        config_file.write_text(text, encoding="utf-8")
        holder["app"] = create_app(config=load_config(config_file), scorer=scorer)
        yield base, folder / "feedback.jsonl"


def _token(key: Any, aud: str, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "ehr-client",
        "aud": aud,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": KID})


def _call(assessment: Any) -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/1", "patientId": "1"},
        "prefetch": {"assessment": assessment},
    }


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _post(base: str, key: Any, body: Any, *, path: str = SERVICE_ID, **claims: Any) -> Any:
    headers = {"Authorization": f"Bearer {_token(key, base, **claims)}"}
    return httpx.post(f"{base}/cds-services/{path}", json=body, headers=headers, timeout=10)


def test_discovery(server: tuple[str, Path]) -> None:
    base, _ = server
    reply = httpx.get(f"{base}/cds-services", timeout=10)
    assert reply.status_code == 200
    (service,) = reply.json()["services"]
    assert service["id"] == SERVICE_ID
    assert service["hook"] == "patient-view"
    assert "prefetch" in service


def test_signed_call_returns_cards(server: tuple[str, Path], key: Any) -> None:
    base, _ = server
    reply = _post(base, key, _call(_example("client_in_crisis")))
    assert reply.status_code == 200, reply.text
    cards = reply.json()["cards"]
    assert cards[0]["indicator"] == "critical"
    assert cards[0]["summary"].startswith("Client crisis")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "missing bearer token"),
        ("signature", "signature"),
        ("audience", "audience"),
        ("expired", "expired"),
        ("no_exp", "rejected"),
        ("issuer", "issuer"),
    ],
)
def test_bad_tokens_are_401(server: tuple[str, Path], key: Any, case: str, message: str) -> None:
    base, _ = server
    body = _call(_example("client_in_crisis"))
    url = f"{base}/cds-services/{SERVICE_ID}"
    headers: dict[str, str] = {}
    if case == "signature":
        other = ec.generate_private_key(ec.SECP256R1())
        headers["Authorization"] = f"Bearer {_token(other, base)}"
    elif case == "audience":
        headers["Authorization"] = f"Bearer {_token(key, 'https://elsewhere.example.org')}"
    elif case == "expired":
        past = int(time.time()) - 3600
        headers["Authorization"] = f"Bearer {_token(key, base, iat=past - 300, exp=past)}"
    elif case == "no_exp":
        headers["Authorization"] = f"Bearer {_token(key, base, exp=None)}"
    elif case == "issuer":
        headers["Authorization"] = f"Bearer {_token(key, base, iss='https://rogue.example.org')}"
    reply = httpx.post(url, json=body, headers=headers, timeout=10)
    assert reply.status_code == 401
    assert message in reply.json()["error"]
    assert "cards" not in reply.json()


def test_reused_jti_is_401(server: tuple[str, Path], key: Any) -> None:
    base, _ = server
    token = _token(key, base)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base}/cds-services/{SERVICE_ID}"
    body = _call(_example("client_in_crisis"))
    assert httpx.post(url, json=body, headers=headers, timeout=10).status_code == 200
    again = httpx.post(url, json=body, headers=headers, timeout=10)
    assert again.status_code == 401
    assert "jti" in again.json()["error"]


def test_body_too_large_is_413(server: tuple[str, Path], key: Any) -> None:
    base, _ = server
    body = _call({"padding": "x" * 70_000})
    assert _post(base, key, body).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies while streaming
        for _ in range(20):
            yield b" " * 8192

    headers = {"Authorization": f"Bearer {_token(key, base)}"}
    url = f"{base}/cds-services/{SERVICE_ID}"
    assert httpx.post(url, content=chunks(), headers=headers, timeout=10).status_code == 413


def test_malformed_json_is_400(server: tuple[str, Path], key: Any) -> None:
    base, _ = server
    headers = {
        "Authorization": f"Bearer {_token(key, base)}",
        "Content-Type": "application/json",
    }
    url = f"{base}/cds-services/{SERVICE_ID}"
    reply = httpx.post(url, content=b'{"hook": "patient-view",', headers=headers, timeout=10)
    assert reply.status_code == 400
    assert "JSON" in reply.json()["error"]


def test_bad_hook_and_bad_assessment(
    server: tuple[str, Path], key: Any, caplog: pytest.LogCaptureFixture
) -> None:
    base, _ = server
    caplog.set_level(logging.INFO, logger="riskrules.service")
    body = _call(_example("client_in_crisis"))
    body["hook"] = "order-sign"
    assert _post(base, key, body).status_code == 400
    secret = "secret-value-7431"
    bad = _post(base, key, _call({"client": {"sex": secret}}))
    assert bad.status_code == 422
    assert "client.sex" in bad.json()["error"]
    assert secret not in bad.text
    assert "status=422" in caplog.text
    assert secret not in caplog.text


def test_missing_prefetch_is_412(server: tuple[str, Path], key: Any) -> None:
    base, _ = server
    body = _call({})
    del body["prefetch"]
    reply = _post(base, key, body)
    assert reply.status_code == 412
    assert "prefetch" in reply.json()["error"]
    body["prefetch"] = {"other": 1}
    assert _post(base, key, body).status_code == 412


def test_unknown_service_is_404(server: tuple[str, Path], key: Any) -> None:
    base, _ = server
    reply = _post(base, key, _call({}), path="no-such-service")
    assert reply.status_code == 404


def test_feedback_is_recorded(server: tuple[str, Path], key: Any) -> None:
    base, audit = server
    card_id = str(uuid.uuid4())
    body = {
        "feedback": [
            {"card": card_id, "outcome": "accepted", "outcomeTimestamp": "2026-01-01T00:00:00Z"},
            {
                "card": card_id,
                "outcome": "overridden",
                "overrideReason": {"reason": {"code": "already-addressed"}, "userComment": "x"},
            },
        ]
    }
    reply = _post(base, key, body, path=f"{SERVICE_ID}/feedback")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"recorded": 2}
    lines = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    mine = [entry for entry in lines if entry["card"] == card_id]
    assert [e["outcome"] for e in mine] == ["accepted", "overridden"]
    assert mine[1]["overrideReason"] == "already-addressed"
    assert all(set(e) <= {"card", "outcome", "overrideReason", "recorded"} for e in mine)
    bad = {"feedback": [{"card": card_id, "outcome": "maybe"}]}
    assert _post(base, key, bad, path=f"{SERVICE_ID}/feedback").status_code == 400


def test_load_nothing_lost(server: tuple[str, Path], key: Any) -> None:
    base, _ = server
    names = ["client_in_crisis", "heavy_trauma_caseload", "incomplete_assessment"]
    bodies = [_call(_example(name)) for name in names]
    expected = [len(_post(base, key, body).json()["cards"]) for body in bodies]
    total, workers = 400, 8
    tokens = [_token(key, base) for _ in range(total)]

    def work(worker: int) -> list[tuple[int, int, int]]:
        out = []
        with httpx.Client(timeout=30) as client:
            for i in range(worker, total, workers):
                reply = client.post(
                    f"{base}/cds-services/{SERVICE_ID}",
                    json=bodies[i % 3],
                    headers={"Authorization": f"Bearer {tokens[i]}"},
                )
                out.append((i, reply.status_code, len(reply.json().get("cards", []))))
        return out

    with ThreadPoolExecutor(workers) as pool:
        results = [item for chunk in pool.map(work, range(workers)) for item in chunk]
    assert sorted(i for i, _, _ in results) == list(range(total))
    assert all(status == 200 for _, status, _ in results)
    assert all(count == expected[i % 3] for i, _, count in results)


def test_insecure_dev_needs_no_token(scorer: Scorer) -> None:
    app = create_app(config=ServiceConfig(insecure_dev=True), scorer=scorer)
    with _Server(app) as base:
        reply = httpx.post(
            f"{base}/cds-services/{SERVICE_ID}",
            json=_call(_example("client_in_crisis")),
            timeout=10,
        )
    assert reply.status_code == 200
    assert reply.json()["cards"]


def test_configuration_errors(tmp_path: Path, scorer: Scorer) -> None:
    with pytest.raises(ConfigError):
        create_app(config=ServiceConfig(), scorer=scorer)
    bad = tmp_path / "bad.yaml"
    bad.write_text("issuers:\n  - iss: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"issuers\[0\]"):
        load_config(bad)
    bad.write_text("issuers:\n  - iss: x\n    jwks: {keys: [{kty: nope}]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="usable key"):
        load_config(bad)


def test_replay_cache_forgets_expired_tokens() -> None:
    cache = ReplayCache()
    now = time.time()
    assert cache.claim("a", now + 60)
    assert not cache.claim("a", now + 60)
    assert cache.claim("b", now - 3600)
    assert cache.claim("b", now + 60)


def test_serve_command_needs_a_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    from riskrules.cli import main

    assert main(["serve"]) == 2
    assert "--config" in capsys.readouterr().err


def _cssrs_response(answers: dict[str, bool]) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": "qr-1",
        "status": "completed",
        "questionnaire": "https://riskrules.example/fhir/Questionnaire/cssrs_screener|1.0.0",
        "item": [
            {"linkId": f"cssrs-{name}", "answer": [{"valueBoolean": value}]}
            for name, value in answers.items()
        ],
    }


def test_questionnaire_response_prefetch(server: tuple[str, Path], key: Any) -> None:
    base, _ = server
    answers = {
        "q1": True,
        "q2": True,
        "q3": True,
        "q4": True,
        "q5": False,
        "q6-lifetime": True,
        "q6-past-3-months": False,
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": _cssrs_response(answers)}],
    }
    body = _call({})
    body["prefetch"] = {"questionnaireResponses": bundle}
    reply = _post(base, key, body)
    assert reply.status_code == 200, reply.text
    first = reply.json()["cards"][0]
    assert first["source"]["topic"]["code"] == "crisis"
    assert first["indicator"] == "critical"
    body["prefetch"] = {"questionnaireResponses": [_cssrs_response({"q1": True, "q3": True})]}
    broken = _post(base, key, body)
    assert broken.status_code == 422
    assert "QuestionnaireResponse" in broken.json()["error"]
    body["prefetch"] = {"questionnaireResponses": "not a bundle"}
    assert _post(base, key, body).status_code == 400
