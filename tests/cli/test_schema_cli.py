"""``riskrules --version`` and the JSON Schemas of assessments and reports."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import riskrules
from riskrules.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    return status, capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _run(capsys, "--version")
    assert status == 0
    assert out == f"riskrules {riskrules.__version__}\n"


def test_the_assessment_schema_follows_the_rulesets_inputs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out = _run(capsys, "schema", "assessment", "--ruleset", "default")
    assert status == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = {"clinician": {"active_clients": 40, "proqol": {"burnout": 30}}, "client": {}}
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({"clinician": {"active_clients": None}})) == []
    for bad in (
        {"clinician": {"active_clients": -1}},  # below the declared minimum
        {"clinician": {"active_clients": "many"}},  # wrong type
        {"clinician": {"shoe_size": 9}},  # undeclared
        {"client": {"audit": {"item10": 3}}},  # not one of the item's values
    ):
        assert list(validator.iter_errors(bad)), bad
        with pytest.raises(riskrules.AssessmentError):
            riskrules.score(bad)


def test_the_assessment_schema_of_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "ruleset: r\nversion: '1'\ntitle: R\ninputs:\n"
        "  a.kind: {type: enum, values: [x, y]}\n  b: {type: number, min: 0, max: 1}\n",
        "utf-8",
    )
    out_file = tmp_path / "out.json"
    assert main(["schema", "assessment", "--ruleset", str(path), "-o", str(out_file)]) == 0
    schema = json.loads(out_file.read_text("utf-8"))
    assert schema["properties"]["a"]["properties"]["kind"]["enum"] == ["x", "y", None]
    assert schema["properties"]["b"]["maximum"] == 1


def test_the_report_schema_validates_a_report(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _run(capsys, "schema", "report")
    assert status == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    report = riskrules.score({"clinician": {"active_clients": 40}})
    document = json.loads(report.model_dump_json())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(document)) == []
    assert list(jsonschema.Draft202012Validator(schema).iter_errors({"overall": 1}))
