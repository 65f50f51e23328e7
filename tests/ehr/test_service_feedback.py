"""Feedback as CDS Hooks 2.0, "Feedback", specifies it, over real HTTP: checked, then audited.

Only what the audit needs is recorded (card uuid, outcome, reason system and code, accepted
suggestion ids, outcomeTimestamp, server time); the card must be one this service issued.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cds_client import PATIENT, Running, example, hook_call, serve
from riskrules import Scorer
from riskrules.service import ServiceConfig

RECORDED = {"card", "outcome", "outcomeTimestamp", "recorded", "overrideReason"}


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer("default", engine="native")


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("feedback") / "feedback.jsonl"


@pytest.fixture(scope="module")
def running(scorer: Scorer, audit: Path) -> Iterator[Running]:
    with serve(scorer, ServiceConfig(audit_log=audit)) as run:
        yield run


@pytest.fixture
def card(running: Running) -> dict[str, Any]:
    cards = running.call(hook_call(assessment=example("client_in_crisis"))).json()["cards"]
    first: dict[str, Any] = cards[0]
    assert first["suggestions"]
    return first


def _lines(audit: Path, card_id: str) -> list[dict[str, Any]]:
    found = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    return [entry for entry in found if entry["card"] == card_id]


def test_suggestion_accepted(running: Running, audit: Path, card: dict[str, Any]) -> None:
    # "Example suggestion accepted", with this service's card and suggestion uuids
    suggestion = card["suggestions"][0]["uuid"]
    body = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": suggestion}],
                "outcomeTimestamp": "2021-12-11T10:05:31Z",
            }
        ]
    }
    reply = running.feedback(body)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"recorded": 1}
    (entry,) = _lines(audit, card["uuid"])
    assert entry["acceptedSuggestions"] == [suggestion]
    assert entry["outcomeTimestamp"] == "2021-12-11T10:05:31Z"
    assert set(entry) == {"card", "outcome", "acceptedSuggestions", "outcomeTimestamp", "recorded"}


def test_the_specification_examples_name_cards_this_service_never_issued(
    running: Running,
) -> None:
    body = {
        "feedback": [
            {
                "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
                "outcomeTimestamp": "2021-12-11T10:05:31Z",
            }
        ]
    }
    reply = running.feedback(body)
    assert reply.status_code == 422
    assert "issued" in reply.json()["error"]


def test_overridden_without_reason(running: Running, audit: Path, card: dict[str, Any]) -> None:
    # "Example overridden guidance without overrideReason"
    item = {
        "card": card["uuid"],
        "outcome": "overridden",
        "outcomeTimestamp": "2020-12-11T00:00:00Z",
    }
    assert running.feedback({"feedback": [item]}).status_code == 200
    (entry,) = _lines(audit, card["uuid"])
    assert set(entry) == {"card", "outcome", "outcomeTimestamp", "recorded"}


def test_client_added_override_reason_is_recorded_with_its_system(
    running: Running, audit: Path, card: dict[str, Any]
) -> None:
    # "Example overridden guidance with overrideReason": a reason the client added itself
    body = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "code": "d7ecf885",
                        "system": "https://example.com/cds-hooks/override-reason-system",
                    },
                    "userComment": f"A comment entered by the clinician about {PATIENT}.",
                },
                "outcomeTimestamp": "2020-12-11T00:00:00Z",
            },
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": card["overrideReasons"][0]},
                "outcomeTimestamp": "2020-12-11T00:00:01.52Z",
            },
        ]
    }
    reply = running.feedback(body)
    assert reply.status_code == 200, reply.text
    first, second = _lines(audit, card["uuid"])
    assert first["overrideReason"] == {
        "system": "https://example.com/cds-hooks/override-reason-system",
        "code": "d7ecf885",
    }
    assert second["overrideReason"]["code"] == card["overrideReasons"][0]["code"]
    text = audit.read_text(encoding="utf-8")
    assert "comment" not in text
    assert PATIENT not in text
    assert all(set(entry) <= RECORDED for entry in (first, second))


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"outcomeTimestamp": None}, 400, "outcomeTimestamp"),
        ({"outcomeTimestamp": "yesterday"}, 400, "outcomeTimestamp"),
        ({"outcomeTimestamp": "2020-13-11T00:00:00Z"}, 400, "outcomeTimestamp"),
        ({"outcome": "maybe"}, 400, "outcome"),
        ({"card": str(uuid.uuid4())}, 422, "issued"),
        ({"card": 5}, 400, "card"),
        ({"outcome": "accepted"}, 400, "acceptedSuggestions"),
        ({"outcome": "accepted", "acceptedSuggestions": [{"id": str(uuid.uuid4())}]}, 422, "id"),
        ({"outcome": "accepted", "acceptedSuggestions": [{"id": ["x"]}]}, 400, "id"),
        ({"overrideReason": {"reason": "already-addressed"}}, 400, "Coding"),
        ({"overrideReason": {"reason": ["already-addressed"]}}, 400, "Coding"),
        ({"overrideReason": {"reason": {"code": ["a"]}}}, 400, "code"),
        ({"overrideReason": {"reason": {"code": {"a": 1}}}}, 400, "code"),
        ({"overrideReason": {"reason": {"code": "a", "system": ["s"]}}}, 400, "system"),
        ({"overrideReason": {"reason": {"code": "a", "system": {"s": 1}}}}, 400, "system"),
        ({"overrideReason": "no"}, 400, "overrideReason"),
    ],
)
def test_bad_feedback_is_4xx(
    running: Running, card: dict[str, Any], change: dict[str, Any], status: int, message: str
) -> None:
    item: dict[str, Any] = {
        "card": card["uuid"],
        "outcome": "overridden",
        "outcomeTimestamp": "2020-12-11T00:00:00Z",
    }
    item.update(change)
    item = {k: v for k, v in item.items() if v is not None}
    reply = running.feedback({"feedback": [item]})
    assert reply.status_code == status, reply.text
    assert message in reply.json()["error"]


def test_cards_of_another_service_instance_are_refused(
    scorer: Scorer, card: dict[str, Any]
) -> None:
    with serve(scorer) as other:
        item = {
            "card": card["uuid"],
            "outcome": "overridden",
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
        assert other.feedback({"feedback": [item]}).status_code == 422


def test_workers_sharing_the_card_key_accept_each_others_cards(scorer: Scorer) -> None:
    config = ServiceConfig(card_key=b"k" * 32)
    with serve(scorer, config) as one, serve(scorer, config) as two:
        cards = one.call(hook_call(assessment=example("client_in_crisis"))).json()["cards"]
        item = {
            "card": cards[0]["uuid"],
            "outcome": "overridden",
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
        assert two.feedback({"feedback": [item]}).status_code == 200


def test_feedback_memory_is_bounded(scorer: Scorer, tmp_path: Path) -> None:
    audit = tmp_path / "feedback.jsonl"
    with serve(scorer, ServiceConfig(audit_log=audit)) as run:
        cards = run.call(hook_call(assessment=example("client_in_crisis"))).json()["cards"]
        item = {
            "card": cards[0]["uuid"],
            "outcome": "overridden",
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
        for _ in range(12):
            assert run.feedback({"feedback": [item] * 100}).status_code == 200
        assert run.feedback({"feedback": [item] * 101}).status_code == 400
        recorder = run.app.state.service.feedback
        assert len(recorder.recent) == 1000
    assert len(audit.read_text(encoding="utf-8").splitlines()) == 1200
