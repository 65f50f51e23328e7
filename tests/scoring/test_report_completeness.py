"""Report-level completeness: an incomplete report says how high it could still go.

An empty assessment must read "low so far, incomplete, could reach critical" everywhere the report
is shown (the report itself, the CLI text, CDS Hooks cards, FHIR), never a bare "low".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import riskrules
from riskrules import RiskReport, Scorer
from riskrules.cdshooks import cards
from riskrules.cli import main
from riskrules.fhir import risk_assessment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EMPTY_TEXT = "low so far; incomplete, could reach critical"


@pytest.fixture(scope="module")
def scorer() -> Iterator[Scorer]:
    with Scorer("default", engine="native") as s:
        yield s


def _rank(report: RiskReport, level: str) -> int:
    return ("low", "moderate", "high", "critical").index(level)


def test_empty_assessment_is_low_so_far_and_could_reach_critical(scorer: Scorer) -> None:
    report = scorer.score({})
    assert report.overall_level == "low"
    assert report.complete is False
    assert report.possible_level == "critical"
    data = json.loads(report.model_dump_json())
    keys = list(data)
    assert keys[keys.index("overall_level") + 1 : keys.index("overall_level") + 3] == [
        "possible_level",
        "complete",
    ]


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_possible_level_is_the_highest_hazard_possible_level(scorer: Scorer, name: str) -> None:
    report = scorer.score(json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8")))
    highest = max(report.hazards.values(), key=lambda h: _rank(report, h.possible_level))
    assert report.possible_level == highest.possible_level
    assert report.complete == all(h.complete for h in report.hazards.values())
    assert _rank(report, report.possible_level) >= _rank(report, report.overall_level)
    if report.complete:
        assert report.possible_level == report.overall_level


def test_cli_text_shows_the_overall_possible_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("{}", encoding="utf-8")
    assert main(["score", str(empty), "--format", "text", "--engine", "native"]) == 0
    out = capsys.readouterr().out
    assert f"Overall level: {EMPTY_TEXT}" in out
    assert "Overall level: low\n" not in out


def test_cli_json_carries_the_report_level_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("{}", encoding="utf-8")
    assert main(["score", str(empty), "--engine", "native"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["overall_level"], data["possible_level"], data["complete"]) == (
        "low",
        "critical",
        False,
    )


def test_cds_card_states_the_overall_level(scorer: Scorer) -> None:
    (card,) = cards(scorer.score({}))
    assert f"Overall level: {EMPTY_TEXT}." in card["detail"]


def test_fhir_risk_assessment_notes_the_overall_level(scorer: Scorer) -> None:
    resource = risk_assessment(scorer.score({}), subject="Patient/1")
    assert resource["note"][0] == {"text": f"Overall level: {EMPTY_TEXT}."}
    assert resource["status"] == "preliminary"


def test_fhir_complete_report_notes_a_bare_level(scorer: Scorer) -> None:
    report = scorer.score(
        json.loads((EXAMPLES / "well_supported_clinician.json").read_text(encoding="utf-8"))
    )
    assert report.complete
    resource = risk_assessment(report, subject="Patient/1")
    assert resource["note"][0] == {"text": f"Overall level: {report.overall_level}."}


def test_top_level_score_is_never_a_bare_low() -> None:
    report = riskrules.score({})
    assert (report.overall_level, report.complete, report.possible_level) == (
        "low",
        False,
        "critical",
    )


def test_a_service_report_marked_incomplete_could_reach_the_top(scorer: Scorer) -> None:
    from riskrules.ehr._hook import _mark_incomplete

    complete = scorer.score(
        json.loads((EXAMPLES / "well_supported_clinician.json").read_text(encoding="utf-8"))
    )
    marked = _mark_incomplete(complete, ["questionnaireResponses (pages after the first)"])
    assert (marked.overall_level, marked.complete, marked.possible_level) == (
        "low",
        False,
        "critical",
    )


def test_incomplete_report_already_at_its_highest_says_so(scorer: Scorer) -> None:
    report = scorer.score(
        json.loads((EXAMPLES / "client_in_crisis.json").read_text(encoding="utf-8"))
    )
    assert not report.complete
    assert report.possible_level == report.overall_level == "critical"
    assert "could reach critical" not in report.to_text().splitlines()[1]
    assert "none of them could raise it" in report.to_text()
    note = risk_assessment(report, subject="Patient/1")["note"][0]["text"]
    assert note == "Overall level: critical; incomplete, but no missing input could raise it."


def test_cli_refuses_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["score", str(tmp_path), "--engine", "native"]) == 2
    assert "not a regular file" in capsys.readouterr().err
