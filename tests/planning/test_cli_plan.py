"""``riskrules plan`` and ``riskrules score --set``, and the questions in the text report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riskrules.cli import main

HIGH_CASELOAD = {
    "clinician": {"active_clients": 40, "supervision_hours_per_month": 1, "cbi": {"personal": 60}}
}


@pytest.fixture
def assessment(tmp_path: Path) -> str:
    path = tmp_path / "assessment.json"
    path.write_text(json.dumps(HIGH_CASELOAD), encoding="utf-8")
    return str(path)


def test_plan_text_lists_changes_and_protocols(
    assessment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", assessment, "--engine", "native"]) == 0
    out = capsys.readouterr().out
    assert "Caseload and burnout (caseload): high -> moderate" in out
    assert "clinician.active_clients 40 -> 35 (stops: caseload.over_capacity)" in out
    assert "clinician.supervision_hours_per_month 1 -> 4" in out
    assert "addressed by: Caseload review and reduction (caseload_reduction)" in out
    assert "To complete this assessment, ask:" in out
    assert "not clinical advice" in out


def test_plan_json_and_markdown(assessment: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", assessment, "--engine", "native", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    [caseload] = data["hazards"]
    assert caseload["hazard"] == "caseload"
    assert caseload["to"] == "moderate"
    assert caseload["counterfactuals"][0]["changes"] == [
        {"input": "clinician.active_clients", "before": 40, "after": 35}
    ]
    assert data["questions"][0]["input"] == "client.cssrs.q4"
    assert main(["plan", assessment, "--engine", "native", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Risk management plan")
    assert "- `clinician.active_clients` 40 -> 35" in out


def test_plan_fixed_and_bad_fixed(assessment: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", assessment, "--engine", "native", "--fixed", "clinician.active_clients"]
    assert main(argv) == 0
    assert "clinician.active_clients 40 ->" not in capsys.readouterr().out
    assert main(["plan", assessment, "--fixed", "clinician.nope"]) == 2
    assert "unknown input" in capsys.readouterr().err


def test_score_set_prints_the_difference(
    assessment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["score", assessment, "--engine", "native", "--set", "clinician.active_clients=30"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["levels"] == [
        {
            "hazard": "caseload",
            "before": "high",
            "after": "moderate",
            "started": [],
            "stopped": ["caseload.over_capacity"],
        }
    ]
    assert main([*argv, "--format", "text"]) == 0
    assert "caseload: high -> moderate" in capsys.readouterr().out
    assert main(["score", assessment, "--set", "clinician.active_clients=-3"]) == 2
    assert "clinician.active_clients" in capsys.readouterr().err


def test_text_report_of_an_incomplete_assessment_asks_next(
    assessment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["score", assessment, "--engine", "native", "--format", "text"]) == 0
    out = capsys.readouterr().out
    ask = out.index("To complete this assessment, ask:")
    assert out.index("client.cssrs.q4 (could move crisis low..critical)") > ask
    assert out.rstrip().endswith("never as low risk.")
