"""The mapping format: its schema, matching by linkId or code, answer tables, ignore lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from riskrules import AssessmentError, RiskRulesError
from riskrules.cli import main
from riskrules.fhir import (
    assessment_from_questionnaire_responses,
    fhir_mapping_json_schema,
    load_mappings,
)

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas" / "fhir-mapping.schema.json"
LOINC = "http://loinc.org"
YES_NO = {"LA33-6": True, "LA32-8": False}


def test_the_committed_schema_is_what_the_model_generates() -> None:
    assert COMMITTED.read_text("utf-8") == fhir_mapping_json_schema(), (
        "regenerate with: riskrules schema fhir-mapping --output schemas/fhir-mapping.schema.json"
    )
    schema = json.loads(COMMITTED.read_text("utf-8"))
    assert schema["additionalProperties"] is False
    assert {"instrument", "url", "code", "items", "ignore", "ignore_unmapped"} <= set(
        schema["properties"]
    )


def test_the_cli_prints_and_checks_the_mapping_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "fhir-mapping"]) == 0
    assert capsys.readouterr().out == fhir_mapping_json_schema()
    assert main(["schema", "fhir-mapping", "--check", "--output", str(COMMITTED)]) == 0
    stale = tmp_path / "m.json"
    stale.write_text("{}\n", encoding="utf-8")
    assert main(["schema", "fhir-mapping", "--check", "--output", str(stale)]) == 1


def test_every_shipped_mapping_file_is_valid_and_cites_its_source() -> None:
    folder = ROOT / "src" / "riskrules" / "data" / "fhir_mappings"
    files = sorted(folder.glob("*.json"))
    assert len(load_mappings()) == len(files)
    for path in files:
        document = json.loads(path.read_text("utf-8"))
        if "code" in document:
            assert "source" in document, path.name


def mapping(**extra: Any) -> dict[str, Any]:
    return {
        "instrument": "cage_aid",
        "url": "https://site.test/Questionnaire/cage",
        "answer": {"valueCoding": {"system": LOINC, "codes": YES_NO}},
        "items": {f"c{n}": n for n in range(1, 5)},
    } | extra


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"url": None}, "give 'url' or 'code'"),
        (
            {"items": {"c1": {"item": 1, "reverse": True, "answer": {"valueInteger": True}}}},
            "yes/no",
        ),
        ({"ignore": [{"linkId": "x", "code": {"code": "1-8"}}]}, "ignore.0: Value error"),
        ({"items": [{"item": 1}]}, "give linkId or code"),
        ({"answer": {}}, "name at least one of"),
        ({"items": {"c1": {"linkId": "c9", "item": 1}}}, "disagrees with its key"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_invalid_mappings_are_located(change: dict[str, Any], words: str) -> None:
    document = {k: v for k, v in (mapping() | change).items() if v is not None}
    with pytest.raises(RiskRulesError, match="invalid FHIR mapping") as info:
        load_mappings([document])
    assert words in str(info.value)


def response(items: list[dict[str, Any]], questionnaire: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "QuestionnaireResponse", "status": "completed"}
    if questionnaire is not None:
        resource["questionnaire"] = questionnaire
    return resource | {"id": "r", "item": items}


def coding(code: str, system: str | None = LOINC) -> list[dict[str, Any]]:
    value = {"code": code} if system is None else {"system": system, "code": code}
    return [{"valueCoding": value}]


def test_items_match_by_code_in_the_response_item() -> None:
    by_code = mapping(
        items=[{"code": {"system": LOINC, "code": f"9999{n}-0"}, "item": n} for n in range(1, 5)]
    )
    items = [
        {"linkId": f"q-{n}", "code": [{"system": LOINC, "code": f"9999{n}-0"}], "answer": a}
        for n, a in zip(range(1, 5), (coding("LA33-6"), coding("LA32-8")) * 2, strict=True)
    ]
    got = assessment_from_questionnaire_responses(
        response(items, "https://site.test/Questionnaire/cage"), mappings=[by_code]
    )
    assert got == {"client.cage_aid.total": 2}


def test_answer_coding_without_system() -> None:
    items = [{"linkId": f"c{n}", "answer": coding("LA33-6", None)} for n in range(1, 5)]
    resource = response(items, "https://site.test/Questionnaire/cage")
    with pytest.raises(AssessmentError) as info:
        assessment_from_questionnaire_responses(resource, mappings=[mapping()])
    assert info.value.field == "QuestionnaireResponse/r.item[c1]"
    assert info.value.constraint.startswith("system missing: the code is known")
    lenient = mapping(
        answer={"valueCoding": {"system": LOINC, "allow_missing_system": True, "codes": YES_NO}}
    )
    got = assessment_from_questionnaire_responses(resource, mappings=[lenient])
    assert got == {"client.cage_aid.total": 4}
    items[0]["answer"] = coding("LA33-6", "http://snomed.info/sct")
    with pytest.raises(AssessmentError, match="system mismatch"):
        assessment_from_questionnaire_responses(resource, mappings=[lenient])
    items[0]["answer"] = coding("LA9999-9", None)
    with pytest.raises(AssessmentError, match="unknown answer code: expected one of LA33-6"):
        assessment_from_questionnaire_responses(resource, mappings=[lenient])


def test_integral_value_decimal_is_accepted_only_where_allowed() -> None:
    site = {
        "instrument": "audit_c",
        "url": "https://site.test/Questionnaire/auditc",
        "answer": {"valueDecimal": True},
        "items": {"a1": 1, "a2": 2, "a3": 3},
    }
    items = [{"linkId": f"a{n}", "answer": [{"valueDecimal": v}]} for n, v in ((1, 2), (2, 1.0))]
    items.append({"linkId": "a3", "answer": [{"valueDecimal": 4}]})
    resource = response(items, site["url"])
    assert assessment_from_questionnaire_responses(resource, mappings=[site]) == {
        "client.audit_c.total": 7
    }
    items[1]["answer"] = [{"valueDecimal": 1.5}]
    with pytest.raises(AssessmentError, match="whole number") as info:
        assessment_from_questionnaire_responses(resource, mappings=[site])
    assert info.value.field == "QuestionnaireResponse/r.item[a2]"
    items[1]["answer"] = [{"valueInteger": 1}]
    with pytest.raises(AssessmentError, match="wrong answer type: this item takes valueDecimal"):
        assessment_from_questionnaire_responses(resource, mappings=[site])


def test_unmapped_items_are_errors_unless_ignored() -> None:
    items = [{"linkId": f"c{n}", "answer": coding("LA32-8")} for n in range(1, 5)]
    items.append({"linkId": "total", "answer": [{"valueDecimal": 0}]})
    resource = response(items, "https://site.test/Questionnaire/cage")
    with pytest.raises(AssessmentError, match="unknown linkId") as info:
        assessment_from_questionnaire_responses(resource, mappings=[mapping()])
    assert info.value.field == "QuestionnaireResponse/r.item[total]"
    for site in (mapping(ignore=[{"linkId": "total"}]), mapping(ignore_unmapped=True)):
        got = assessment_from_questionnaire_responses(resource, mappings=[site])
        assert got == {"client.cage_aid.total": 0}


def test_a_response_without_questionnaire_is_matched_by_its_item_codes() -> None:
    flat = [
        {"linkId": "/68518-0", "answer": coding("LA18926-8")},
        {"linkId": "/68519-8", "answer": coding("LA15695-2")},
        {"linkId": "/68520-6", "answer": coding("LA6270-8")},
        {"linkId": "/75626-2", "answer": [{"valueDecimal": 2}]},
    ]
    assert assessment_from_questionnaire_responses(response(flat)) == {"client.audit_c.total": 2}
    nested = [{"linkId": "/72109-2", "item": flat[:3]}]
    assert assessment_from_questionnaire_responses(response(nested)) == {"client.audit_c.total": 2}
    stranger = [{"linkId": "/44250-9", "answer": coding("LA6568-5")}]
    with pytest.raises(AssessmentError, match="names no questionnaire") as info:
        assessment_from_questionnaire_responses(response(stranger))
    assert info.value.field == "QuestionnaireResponse/r.questionnaire"


def test_two_mappings_claiming_one_panel_are_ambiguous() -> None:
    twin = json.loads(
        (ROOT / "src/riskrules/data/fhir_mappings/audit_c_loinc.json").read_text("utf-8")
    )
    twin["url"] = "https://site.test/Questionnaire/audit-c"
    nested = [{"linkId": "/72109-2", "item": [{"linkId": "/68518-0", "answer": coding("x")}]}]
    with pytest.raises(AssessmentError, match="fit several"):
        assessment_from_questionnaire_responses(response(nested), mappings=[twin])
