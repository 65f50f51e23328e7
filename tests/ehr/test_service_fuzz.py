"""No request shape gives a 500: generated JSON bodies posted to every endpoint of a real
uvicorn on loopback are answered 2xx, or 4xx with a JSON ``{"error": ...}`` body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cds_client import FEEDBACK_PATH, HOOK_PATH, PATIENT, Running, example, serve
from riskrules import Scorer
from riskrules.ehr._cdshooks import _keyed_uid
from riskrules.service import ServiceConfig

KEY = b"fuzzing-card-key-0123456789"
ISSUED = [_keyed_uid(KEY, "card", str(n)) for n in range(3)]

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


coding = st.fixed_dictionaries(
    {},
    optional={
        "system": json_values | st.just("https://x.example"),
        "code": json_values | st.text(max_size=8),
    },
)
answer = st.fixed_dictionaries(
    {},
    optional={
        "valueBoolean": json_values,
        "valueInteger": json_values,
        "valueCoding": coding | json_values,
    },
)
item = st.fixed_dictionaries(
    {"linkId": st.sampled_from(["cssrs-q1", "cssrs-q2", "x"]) | json_values},
    optional={"answer": st.lists(answer, max_size=2) | json_values},
)
response = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["QuestionnaireResponse", "OperationOutcome", "Bundle"])},
    optional={
        "status": st.sampled_from(["completed", "in-progress"]) | json_values,
        "subject": st.just({"reference": f"Patient/{PATIENT}"}) | json_values,
        "questionnaire": st.just(
            "https://riskrules.example/fhir/Questionnaire/cssrs_screener|1.0.0"
        )
        | json_values,
        "item": st.lists(item, max_size=3) | json_values,
        "issue": json_values,
        "link": st.just([{"relation": "next", "url": "x"}]) | json_values,
    },
)
bundle = st.fixed_dictionaries(
    {"resourceType": st.just("Bundle")},
    optional={
        "entry": st.lists(st.fixed_dictionaries({"resource": response}), max_size=3) | json_values
    },
)
prefetch = st.fixed_dictionaries(
    {},
    optional={
        "questionnaireResponses": bundle | st.lists(response, max_size=2) | json_values,
        "assessment": st.just(example("client_in_crisis")) | json_values,
    },
)
hook_bodies = st.fixed_dictionaries(
    {},
    optional={
        "hook": st.sampled_from(["patient-view", "encounter-start"]) | json_values,
        "hookInstance": st.uuids().map(str) | json_values,
        "context": st.fixed_dictionaries({"patientId": st.just(PATIENT) | json_values})
        | json_values,
        "prefetch": prefetch | json_values,
    },
)
# a well-formed envelope around generated prefetch data reaches scoring and the cards
envelope = st.fixed_dictionaries(
    {
        "hook": st.sampled_from(["patient-view", "encounter-start"]),
        "hookInstance": st.uuids().map(str),
        "context": st.fixed_dictionaries({"patientId": st.just(PATIENT)}),
        "prefetch": prefetch,
    }
)
reason = st.fixed_dictionaries(
    {}, optional={"reason": coding | json_values, "userComment": json_values}
)
feedback_item = st.fixed_dictionaries(
    {},
    optional={
        "card": st.sampled_from(ISSUED) | st.uuids().map(str) | json_values,
        "outcome": st.sampled_from(["accepted", "overridden"]) | json_values,
        "outcomeTimestamp": st.just("2020-12-11T00:00:00Z") | json_values,
        "overrideReason": reason | json_values,
        "acceptedSuggestions": st.lists(
            st.fixed_dictionaries({"id": st.sampled_from(ISSUED) | json_values})
        )
        | json_values,
    },
)
feedback_bodies = st.fixed_dictionaries(
    {}, optional={"feedback": st.lists(feedback_item, max_size=3) | json_values}
)


# items with the required fields right, and the optional ones generated
good_items = st.fixed_dictionaries(
    {
        "card": st.sampled_from(ISSUED),
        "outcome": st.sampled_from(["accepted", "overridden"]),
        "outcomeTimestamp": st.just("2020-12-11T00:00:00.52Z"),
    },
    optional={
        "overrideReason": reason,
        "acceptedSuggestions": st.lists(
            st.fixed_dictionaries({"id": st.sampled_from(ISSUED)}), min_size=1, max_size=2
        ),
    },
)
feedback_envelope = st.fixed_dictionaries(
    {"feedback": st.lists(good_items, min_size=1, max_size=3)}
)


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    with serve(
        Scorer("default", engine="native"), ServiceConfig(max_body=65536, card_key=KEY)
    ) as run:
        yield run


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as session:
        yield session


def _check(running: Running, client: httpx.Client, path: str, body: Any) -> None:
    token = running.ehr.token(f"{running.base}{path}")
    reply = client.post(
        f"{running.base}{path}",
        content=json.dumps(body).encode("utf-8"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    event(f"status {reply.status_code}")
    assert 200 <= reply.status_code < 300 or 400 <= reply.status_code < 500, reply.text
    if reply.status_code >= 400:
        error = reply.json()
        assert isinstance(error, dict)
        assert isinstance(error["error"], str)
        assert error["error"]


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(body=envelope | hook_bodies | json_values)
def test_hook_endpoint_never_500(running: Running, client: httpx.Client, body: Any) -> None:
    _check(running, client, HOOK_PATH, body)


@FUZZ
@given(body=feedback_envelope | feedback_bodies | json_values)
def test_feedback_endpoint_never_500(running: Running, client: httpx.Client, body: Any) -> None:
    _check(running, client, FEEDBACK_PATH, body)


@FUZZ
@given(body=json_values, path=st.sampled_from(["/cds-services", "/cds-services/other", "/x"]))
def test_other_paths_never_500(
    running: Running, client: httpx.Client, body: Any, path: str
) -> None:
    _check(running, client, path, body)
