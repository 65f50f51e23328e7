"""``--unknown-fields ignore|error``: any two rulesets can be compared on one cohort, and what
was left out is counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riskrules import load_ruleset
from riskrules.cli import main
from riskrules.research._fields import drop_undeclared

SCRATCH = """\
ruleset: scratch
version: '1'
title: Written from scratch
parameters:
  many: {type: integer, default: 30, min: 0, max: 1000, description: a limit}
inputs:
  clinician.active_clients: {type: integer, min: 0, max: 1000}
hazards:
  caseload: {title: Caseload, bands: {low: 0, high: 1}}
rules:
  - id: caseload.many
    hazard: caseload
    when: {field: clinician.active_clients, gt: {param: many}}
    then: {points: 1}
    because: Many clients.
"""


@pytest.fixture
def cohort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scratch.yaml").write_text(SCRATCH, "utf-8")
    assert main(["synth", "--n", "6", "--seed", "3", "--out", "synth.jsonl"]) == 0
    return tmp_path / "synth.jsonl"


def _fields(cohort: Path) -> tuple[int, int]:
    """Leaf fields per cohort (ids aside), and those the scratch ruleset declares."""
    total = declared = 0
    for line in cohort.read_text("utf-8").splitlines():
        record = json.loads(line)
        record.pop("id", None)
        total += len(record)
        declared += "clinician.active_clients" in record
    return total, declared


def test_compare_stops_on_an_undeclared_field_by_default(
    cohort: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", "default", "scratch.yaml", "--cohort", cohort.name]) == 2
    assert "unknown field (ruleset 'scratch' reads no such input)" in capsys.readouterr().err


def test_compare_ignores_and_counts_undeclared_fields(
    cohort: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["compare", "default", "scratch.yaml", "--cohort", cohort.name]
    assert main([*argv, "--unknown-fields", "ignore", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    total, declared = _fields(cohort)
    assert data["records"] == 6
    assert data["ignored_fields"] == {"a": 0, "b": total - declared}
    assert main([*argv, "--unknown-fields", "ignore"]) == 0
    text = capsys.readouterr().out
    assert f"Ignored fields (not declared by the ruleset): A 0, B {total - declared}" in text


def test_compare_json_is_unchanged_without_the_flag(
    cohort: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", "default", "default", "--cohort", cohort.name, "--format", "json"]) == 0
    assert "ignored_fields" not in json.loads(capsys.readouterr().out)


def test_sweep_and_batch_count_what_they_ignore(
    cohort: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    total, declared = _fields(cohort)
    sweep = ["sweep", "scratch.yaml", "--param", "many=10,50", "--cohort", cohort.name]
    assert main([*sweep, "--unknown-fields", "ignore", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["ignored_fields"] == total - declared
    assert main(sweep) == 2
    capsys.readouterr()
    batch = ["batch", cohort.name, "--ruleset", "scratch.yaml", "--out", "out.jsonl"]
    assert main([*batch, "--unknown-fields", "ignore"]) == 0
    err = capsys.readouterr().err
    assert f"ignored {total - declared} fields the ruleset does not declare" in err
    assert len(Path("out.jsonl").read_text("utf-8").splitlines()) == 6
    assert main(batch) == 2


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_ignoring_fields_still_skips_an_unreadable_line(
    cohort: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    lines = cohort.read_text("utf-8").splitlines()
    lines.insert(2, "not json")
    cohort.write_text("\n".join(lines) + "\n", "utf-8")
    batch = ["batch", cohort.name, "--ruleset", "scratch.yaml", "--out", "out.jsonl"]
    batch += ["--unknown-fields", "ignore", "--workers", workers]
    assert main([*batch, "--on-error", "skip"]) == 0
    assert "skipped 1" in capsys.readouterr().err
    assert len(Path("out.jsonl").read_text("utf-8").splitlines()) == 6
    [entry] = [
        json.loads(line) for line in Path("out.jsonl.errors.jsonl").read_text("utf-8").splitlines()
    ]
    assert (entry["index"], entry["id"]) == (2, None)
    assert "line 3" in entry["error"]
    assert main(batch) == 2
    assert "record 2" in capsys.readouterr().err


def test_score_keeps_refusing_unknown_fields_unless_told(
    tmp_path: Path, cohort: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = json.loads(cohort.read_text("utf-8").splitlines()[0])
    record.pop("id")
    path = tmp_path / "one.json"
    path.write_text(json.dumps(record), "utf-8")
    assert main(["score", str(path), "--ruleset", "scratch.yaml"]) == 2
    capsys.readouterr()
    assert (
        main(["score", str(path), "--ruleset", "scratch.yaml", "--unknown-fields", "ignore"]) == 0
    )
    out, err = capsys.readouterr()
    assert json.loads(out)["ruleset"]["id"] == "scratch"
    assert "ignored" in err


def test_dropping_understands_nested_objects_and_dotted_keys() -> None:
    rs = load_ruleset(SCRATCH)
    kept, dropped = drop_undeclared(
        {
            "clinician": {"active_clients": 3, "hours": 40, "proqol": {"burnout": 20, "cs": 30}},
            "clinician.active_clients": 4,
            "client.audit.total": 12,
        },
        rs,
    )
    assert kept == {"clinician": {"active_clients": 3}, "clinician.active_clients": 4}
    assert dropped == 4
    # a declared object holding a non-object is left for the scorer to refuse
    assert drop_undeclared({"clinician": 5}, rs) == ({"clinician": 5}, 0)
