"""FHIR in: QuestionnaireResponses -> assessment, by the shipped mappings or custom ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskrules import AssessmentError, RiskRulesError
from riskrules.ehr._instruments import INSTRUMENTS, assessment_from_items
from riskrules.fhir import (
    SkippedResponse,
    assessment_from_questionnaire_responses,
    load_mappings,
    read_questionnaire_responses,
)

MAPPINGS = {
    m.instrument: m
    for m in load_mappings().values()
    if m.url is not None and m.url.startswith("https://riskrules.example/")
}
YES_NO = "http://terminology.hl7.org/CodeSystem/v2-0136"
AUDIT_SYSTEM = "https://riskrules.example/fhir/CodeSystem/audit-item-score"


def encode(instrument: str, value: Any, as_coding: bool) -> dict[str, Any]:
    """One FHIR answer for an item value, as valueCoding when asked and the mapping allows."""
    mapping = MAPPINGS[instrument]
    if isinstance(value, bool):
        if as_coding:
            return {"valueCoding": {"system": YES_NO, "code": "Y" if value else "N"}}
        return {"valueBoolean": value}
    if as_coding and mapping.codes:
        return {"valueCoding": {"system": AUDIT_SYSTEM, "code": str(value)}}
    return {"valueInteger": value}


def response(
    instrument: str,
    answers: dict[Any, Any],
    *,
    rid: str | None = None,
    as_coding: bool = False,
    nested: bool = True,
    status: str = "completed",
) -> dict[str, Any]:
    """A QuestionnaireResponse for ``answers`` (item key -> value), items in a group."""
    mapping = MAPPINGS[instrument]
    link = {key: lk for lk, key in mapping.items.items()}
    items = [
        {"linkId": link[key], "answer": [encode(instrument, value, as_coding)]}
        for key, value in answers.items()
        if value is not None
    ]
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "status": status,
        "questionnaire": mapping.canonical,
        "item": [{"linkId": f"{instrument}-group", "item": items}] if nested else items,
    }
    if rid is not None:
        resource["id"] = rid
    return resource


def likert(n: int) -> st.SearchStrategy[dict[int, int]]:
    return st.fixed_dictionaries({i: st.integers(1, 5) for i in range(1, n + 1)})


def yes_no(n: int) -> st.SearchStrategy[dict[int, bool]]:
    return st.fixed_dictionaries({i: st.booleans() for i in range(1, n + 1)})


@st.composite
def cssrs(draw: st.DrawFn) -> dict[str, bool]:
    answers = {"q1": draw(st.booleans()), "q2": draw(st.booleans())}
    if answers["q2"]:
        answers |= {q: draw(st.booleans()) for q in ("q3", "q4", "q5")}
    answers["q6_lifetime"] = draw(st.booleans())
    if answers["q6_lifetime"]:
        answers["q6_past_3_months"] = draw(st.booleans())
    return answers


AUDIT = st.fixed_dictionaries(
    {i: st.sampled_from((0, 2, 4)) if i in (9, 10) else st.integers(0, 4) for i in range(1, 11)}
)
ANSWERS: dict[str, st.SearchStrategy[Any]] = {
    "proqol5": likert(30),
    "stss": likert(17),
    "cbi": likert(19),
    "audit": AUDIT,
    "audit_c": st.fixed_dictionaries({i: st.integers(0, 4) for i in (1, 2, 3)}),
    "dast10": yes_no(10),
    "cage_aid": yes_no(4),
    "cssrs_screener": cssrs(),
}


def test_every_instrument_has_a_shipped_mapping_covering_its_items() -> None:
    assert set(MAPPINGS) == set(INSTRUMENTS) == set(ANSWERS)
    for name, mapping in MAPPINGS.items():
        assert mapping.url == f"https://riskrules.example/fhir/Questionnaire/{name}"
        assert mapping.version == "1.0.0"
        keys = set(mapping.items.values())
        if name == "cssrs_screener":
            assert keys == {"q1", "q2", "q3", "q4", "q5", "q6_lifetime", "q6_past_3_months"}
        else:
            assert keys == set(range(1, len(keys) + 1))
            assert all(lk == f"{name}-item-{key}" for lk, key in mapping.items.items())


@settings(max_examples=15)
@given(data=st.data(), as_coding=st.booleans(), nested=st.booleans())
def test_round_trip_equals_item_scoring(data: st.DataObject, as_coding: bool, nested: bool) -> None:
    """Every instrument through QuestionnaireResponses gives the totals of item scoring."""
    for name, strategy in ANSWERS.items():
        if name == "audit_c":
            continue  # AUDIT already yields the AUDIT-C total; checked on its own below
        answers = data.draw(strategy, label=name)
        resource = response(name, answers, rid=f"qr-{name}", as_coding=as_coding, nested=nested)
        got = assessment_from_questionnaire_responses(resource)
        assert got == assessment_from_items({name: answers})


@settings(max_examples=10)
@given(answers=ANSWERS["audit_c"], as_coding=st.booleans())
def test_audit_c_round_trip(answers: dict[int, int], as_coding: bool) -> None:
    got = assessment_from_questionnaire_responses(response("audit_c", answers, as_coding=as_coding))
    assert (
        got
        == assessment_from_items({"audit_c": answers})
        == {"client.audit_c.total": sum(answers.values())}
    )


def test_several_responses_in_a_bundle_or_as_json_text() -> None:
    stss = response("stss", dict.fromkeys(range(1, 18), 2), rid="a")
    cage = response("cage_aid", {1: True, 2: False, 3: True, 4: False}, rid="b")
    expected = assessment_from_items(
        {"stss": dict.fromkeys(range(1, 18), 2), "cage_aid": {1: True, 2: False, 3: True, 4: False}}
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": stss},
            {"resource": {"resourceType": "Patient", "id": "p"}},
            {"resource": cage},
        ],
    }
    assert assessment_from_questionnaire_responses(bundle) == expected
    assert assessment_from_questionnaire_responses(json.dumps(bundle)) == expected
    assert assessment_from_questionnaire_responses([json.dumps(stss), cage]) == expected
    assert expected == {"client.cage_aid.total": 2, "clinician.stss.total": 34}


def test_items_nested_under_answers_are_walked() -> None:
    resource = response("cage_aid", {1: True}, nested=False)
    resource["item"][0]["answer"][0]["item"] = [
        {"linkId": "cage_aid-item-2", "answer": [{"valueBoolean": True}]},
        {
            "linkId": "follow-up",
            "item": [
                {"linkId": "cage_aid-item-3", "answer": [{"valueBoolean": False}]},
                {"linkId": "cage_aid-item-4", "answer": [{"valueBoolean": True}]},
            ],
        },
    ]
    assert assessment_from_questionnaire_responses(resource) == {"client.cage_aid.total": 3}


def test_bare_url_and_custom_mapping(tmp_path: Path) -> None:
    resource = response("cage_aid", {1: True, 2: True, 3: True, 4: True})
    resource["questionnaire"] = MAPPINGS["cage_aid"].url
    assert assessment_from_questionnaire_responses(resource) == {"client.cage_aid.total": 4}

    custom = {
        "instrument": "cage_aid",
        "url": "https://ehr.test/Questionnaire/cage",
        "version": "7",
        "answer": {"valueCoding": {"codes": {"yes": True, "no": False}}},
        "items": {f"c{i}": i for i in range(1, 5)},
    }
    ehr = {
        "resourceType": "QuestionnaireResponse",
        "status": "amended",
        "questionnaire": "https://ehr.test/Questionnaire/cage|7",
        "item": [
            {"linkId": f"c{i}", "answer": [{"valueCoding": {"code": code}}]}
            for i, code in enumerate(("yes", "no", "no", "yes"), 1)
        ],
    }
    assert assessment_from_questionnaire_responses(ehr, mappings=[custom]) == {
        "client.cage_aid.total": 2
    }
    path = tmp_path / "cage.json"
    path.write_text(json.dumps(custom), encoding="utf-8")
    assert assessment_from_questionnaire_responses(ehr, mappings=[path]) == {
        "client.cage_aid.total": 2
    }
    with pytest.raises(
        RiskRulesError, match="invalid FHIR mapping: instrument: Input should be 'audit'"
    ):
        load_mappings([custom | {"instrument": "phq9"}])
    with pytest.raises(RiskRulesError, match="the same instrument item"):
        load_mappings([custom | {"items": {"a": 1, "b": 1}}])


def test_partial_accepts_in_progress_and_leaves_out_incomplete_scores() -> None:
    resource = response("stss", {1: 3}, status="in-progress")
    assert assessment_from_questionnaire_responses(resource, partial=True) == {}
    result = read_questionnaire_responses(resource)
    assert result.assessment == {}
    assert result.skipped == (
        SkippedResponse(
            "resources[0]",
            "status 'in-progress': only completed or amended responses are scored"
            " (in-progress ones with partial=True)",
            "stss",
        ),
    )


def error(resources: Any, **kwargs: Any) -> AssessmentError:
    with pytest.raises(AssessmentError) as info:
        assessment_from_questionnaire_responses(resources, **kwargs)
    return info.value


def test_errors_name_the_response_and_link_id() -> None:
    good = dict.fromkeys(range(1, 5), True)

    unknown_url = response("cage_aid", good, rid="r1")
    unknown_url["questionnaire"] = "https://elsewhere.test/Questionnaire/x|1"
    exc = error(unknown_url)
    assert exc.field == "QuestionnaireResponse/r1.questionnaire"
    assert "unknown questionnaire" in exc.constraint

    wrong_version = response("cage_aid", good, rid="r1")
    wrong_version["questionnaire"] = MAPPINGS["cage_aid"].url + "|9.9"
    assert "known: 1.0.0" in error(wrong_version).constraint

    unknown_link = response("cage_aid", good, rid="r1")
    unknown_link["item"][0]["item"].append({"linkId": "zz", "answer": [{"valueBoolean": True}]})
    exc = error(unknown_link)
    assert (exc.field, exc.constraint.split(" for ")[0]) == (
        "QuestionnaireResponse/r1.item[zz]",
        "unknown linkId",
    )

    wrong_type = response("cage_aid", good, rid="r1")
    wrong_type["item"][0]["item"][1]["answer"] = [{"valueInteger": 1}]
    exc = error(wrong_type)
    assert exc.field == "QuestionnaireResponse/r1.item[cage_aid-item-2]"
    assert "wrong answer type" in exc.constraint

    twice = response("cage_aid", good, rid="r1")
    twice["item"].append({"linkId": "cage_aid-item-4", "answer": [{"valueBoolean": False}]})
    exc = error(twice)
    assert exc.field == "QuestionnaireResponse/r1.item[cage_aid-item-4]"
    assert exc.constraint == "two answers to one item"

    two_answers = response("cage_aid", good, rid="r1")
    two_answers["item"][0]["item"][0]["answer"].append({"valueBoolean": False})
    assert "exactly one answer" in error(two_answers).constraint

    bad_code = response("audit_c", {1: 1, 2: 2, 3: 3}, as_coding=True)
    bad_code["item"][0]["item"][2]["answer"] = [
        {"valueCoding": {"system": AUDIT_SYSTEM, "code": "9"}}
    ]
    exc = error(bad_code)
    assert exc.field == "resources[0].item[audit_c-item-3]"
    assert exc.value == "9"

    for status in ("entered-in-error", "stopped", None):
        bad = response("cage_aid", good, status="x")
        bad["status"] = status
        skipped = read_questionnaire_responses(bad, partial=True).skipped
        assert [(s.response, s.reason.split(":")[0]) for s in skipped] == [
            ("resources[0]", f"status {status!r}")
        ]

    assert (
        "second response"
        in error([response("cage_aid", good), response("cage_aid", good)]).constraint
    )
    assert error({"resourceType": "Patient"}).field == "resources[0]"
    assert "invalid JSON" in error("{not json").constraint
    assert error(42).field == "resources"
    assert error({"resourceType": "Bundle", "entry": {"a": 1}}).field == "resources[0].entry"
    assert error([{"resourceType": "QuestionnaireResponse", "status": "completed"}]).field == (
        "resources[0].questionnaire"
    )


def test_scorer_errors_are_relocated_to_the_link_id() -> None:
    out_of_range = response("audit", dict.fromkeys(range(1, 11), 0), rid="aud")
    out_of_range["item"][0]["item"][8]["answer"] = [{"valueInteger": 3}]
    exc = error(out_of_range)
    assert (exc.field, exc.value) == ("QuestionnaireResponse/aud.item[audit-item-9]", 3)

    missing = response("stss", dict.fromkeys(range(2, 18), 1), rid="s")
    exc = error(missing)
    assert exc.field == "QuestionnaireResponse/s.item[stss-item-1]"
    assert "missing answer" in exc.constraint

    skip = response("cssrs_screener", {"q1": False, "q2": False, "q3": True, "q6_lifetime": False})
    exc = error(skip)
    assert exc.field == "resources[0].item[cssrs-q3]"
    assert "skip pattern" in exc.constraint


def test_fhir_module_is_lazy_and_needs_no_fhir_library() -> None:
    code = (
        "import sys, riskrules\n"
        "assert 'riskrules.fhir' not in sys.modules\n"
        "m = riskrules.fhir\n"
        "m.load_mappings()\n"
        "assert not any(n == 'fhir' or n.startswith('fhir.') for n in sys.modules), 'fhir lib'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
