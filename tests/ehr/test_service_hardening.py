"""Hostile traffic over real HTTP: request shapes that once gave 500, slow and half-open
connections, the connection cap, client disconnects, and scoring off the event loop."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cds_client import HOOK_PATH, PATIENT, Running, example, hook_call, serve
from riskrules import Scorer
from riskrules.report import RiskReport
from riskrules.service import ServiceConfig

CSSRS = "https://riskrules.example/fhir/Questionnaire/cssrs_screener|1.0.0"


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer("default", engine="native")


@pytest.fixture(scope="module")
def running(scorer: Scorer) -> Iterator[Running]:
    config = ServiceConfig(header_timeout=0.5, body_timeout=0.5, max_connections=64)
    with serve(scorer, config) as run:
        yield run


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def _raw(running: Running, body: bytes) -> Any:
    token = running.ehr.token(f"{running.base}{HOOK_PATH}")
    return httpx.post(
        f"{running.base}{HOOK_PATH}",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=20,
    )


def test_a_response_nested_100k_levels_is_400(running: Running) -> None:
    body = (
        '{"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "1"}, '
        '"prefetch": {"questionnaireResponses": ' + _nested(100_000) + "}}"
    )
    reply = _raw(running, body.encode())
    assert reply.status_code == 400
    assert reply.json()["error"]


def test_an_assessment_nested_960_levels_is_400(running: Running) -> None:
    deep = '{"a": ' * 960 + "1" + "}" * 960
    body = (
        '{"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "1"}, '
        '"prefetch": {"assessment": {"client": ' + deep + "}}}"
    )
    reply = _raw(running, body.encode())
    assert reply.status_code == 400
    assert "nested deeper" in reply.json()["error"]


@pytest.mark.parametrize("system", [["http://loinc.org"], {"url": "http://loinc.org"}])
def test_value_coding_system_of_the_wrong_type_is_422(running: Running, system: Any) -> None:
    response = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "questionnaire": CSSRS,
        "item": [
            {"linkId": "cssrs-q1", "answer": [{"valueCoding": {"system": system, "code": "Y"}}]}
        ],
    }
    reply = running.call(hook_call(prefetch={"questionnaireResponses": [response]}))
    assert reply.status_code == 422
    assert "system" in reply.json()["error"]


def _connect(running: Running) -> socket.socket:
    host, port = running.base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except (ConnectionResetError, TimeoutError):
        return False


def test_half_open_and_slow_head_connections_are_closed(running: Running) -> None:
    idle = [_connect(running) for _ in range(10)]
    slow = _connect(running)
    slow.sendall(b"POST /cds-services HTTP/1.1\r\nHost: x\r\n")  # and never the rest
    try:
        assert all(_closed_by_server(sock) for sock in [*idle, slow])
    finally:
        for sock in [*idle, slow]:
            sock.close()
    assert running.call(hook_call(assessment=example("client_in_crisis"))).status_code == 200


def test_a_body_that_stops_arriving_is_408(running: Running) -> None:
    sock = _connect(running)
    token = running.ehr.token(f"{running.base}{HOOK_PATH}")
    head = (
        f"POST {HOOK_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"hook": '
    )
    answer = b""
    try:
        sock.sendall(head.encode())
        while chunk := sock.recv(4096):  # until the server closes the connection
            answer += chunk
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"not received in time" in answer


def test_connection_cap_answers_503_then_recovers(scorer: Scorer) -> None:
    with serve(scorer, ServiceConfig(max_connections=4, header_timeout=30)) as run:
        held = [_connect(run) for _ in range(4)]
        time.sleep(0.2)  # let the server register the connections
        try:
            busy = run.call(hook_call(assessment=example("client_in_crisis")))
            assert busy.status_code == 503
        finally:
            for sock in held:
                sock.close()
        deadline = time.monotonic() + 10
        status = 503
        while status == 503 and time.monotonic() < deadline:
            status = run.call(hook_call(assessment=example("client_in_crisis"))).status_code
        assert status == 200


def test_client_disconnect_mid_body_is_not_an_unhandled_exception(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    token = running.ehr.token(f"{running.base}{HOOK_PATH}")
    sock = _connect(running)
    head = (
        f"POST {HOOK_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        'Content-Length: 5000\r\n\r\n{"hook": "patient-view"'
    )
    sock.sendall(head.encode())
    time.sleep(0.1)
    sock.close()
    deadline = time.monotonic() + 5
    while "disconnected" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "client disconnected" in caplog.text
    assert "Exception in ASGI application" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info]
    assert running.call(hook_call(assessment=example("client_in_crisis"))).status_code == 200


class _GatedScorer(Scorer):
    """Scores only once the test opens the gate, and records the scoring thread."""

    def __init__(self) -> None:
        super().__init__("default", engine="native")
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.threads: list[str] = []

    def score(self, assessment: Any) -> RiskReport:
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        assert self.gate.wait(20)
        return super().score(assessment)


def test_scoring_runs_off_the_event_loop() -> None:
    scorer = _GatedScorer()
    with serve(scorer, ServiceConfig(scoring_threads=2)) as run:
        result: dict[str, Any] = {}
        body = hook_call(assessment=example("client_in_crisis"))
        caller = threading.Thread(target=lambda: result.update(reply=run.call(body)))
        caller.start()
        assert scorer.entered.wait(20)
        # scoring is blocked; the event loop still answers
        assert httpx.get(f"{run.base}/cds-services", timeout=10).status_code == 200
        scorer.gate.set()
        caller.join(20)
    assert result["reply"].status_code == 200
    assert scorer.threads == ["riskrules_0"]
