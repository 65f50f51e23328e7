"""``riskrules score``: report formats, explanations, graphs and located errors (exit 2)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
import yaml

from riskrules import Scorer, to_dot, to_graphml, to_mermaid, to_node_link_json
from riskrules.cli import main
from scoring_examples import DEMO, HEAVY, demo_ruleset

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """The demo ruleset as YAML and the heavy assessment as JSON."""
    ruleset = tmp_path / "demo.yaml"
    ruleset.write_text(yaml.safe_dump(DEMO, sort_keys=False), encoding="utf-8")
    assessment = tmp_path / "heavy.json"
    assessment.write_text(json.dumps(HEAVY), encoding="utf-8")
    return ruleset, assessment


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["score", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_report(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    ruleset, assessment = files
    status, out, err = run(capsys, str(assessment), "--ruleset", str(ruleset), "--engine", "native")
    assert (status, err) == (0, "")
    with Scorer(demo_ruleset(), engine="native") as s:
        assert out == s.score(HEAVY).model_dump_json(indent=2) + "\n"


def test_text_summary(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    ruleset, _ = files
    partial = ruleset.parent / "partial.json"
    partial.write_text('{"clinician": {"active_clients": 40}}', encoding="utf-8")
    status, out, _ = run(capsys, str(partial), "--ruleset", str(ruleset), "--format", "text")
    assert status == 0
    assert "Overall level: moderate so far; incomplete, could reach critical" in out
    assert (
        "caseload: moderate (score 3); incomplete, could reach high; missing: "
        "clinician.life_crisis, clinician.proqol.burnout, clinician.trauma_sessions_share"
    ) in out
    assert "peer_consultation: Peer consultation [routine, moderate]" in out
    assert "- caseload.over_capacity: Active caseload above the service limit." in out
    assert "Indeterminate rules" in out
    assert "crisis.high_risk (crisis): missing client.cssrs.q4, client.cssrs.q5" in out
    assert "not a diagnosis" in out


def test_stdin_and_params(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ruleset, _ = files
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"clinician.active_clients": 40}'))
    status, out, _ = run(capsys, "-", "--ruleset", str(ruleset), "--param", "max_active_clients=45")
    report = json.loads(out)
    assert status == 0
    assert report["params"]["max_active_clients"] == 45
    assert report["hazards"]["caseload"]["level"] == "low"


def test_explain(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    ruleset, assessment = files
    common = (str(assessment), "--ruleset", str(ruleset), "--explain", "caseload_reduction")
    status, out, _ = run(capsys, *common, "--format", "text")
    assert status == 0
    assert (
        "input:clinician.proqol.burnout = 44 -> rule:caseload.burnout_high (points 4, floor high)"
        " -> protocol:caseload_reduction"
    ) in out
    status, out, _ = run(capsys, *common)
    assert status == 0
    assert json.loads(out)["protocol"] == "caseload_reduction"


@pytest.mark.parametrize(
    ("fmt", "export"),
    [("mermaid", to_mermaid), ("dot", to_dot), ("graphml", to_graphml), ("json", None)],
)
def test_graph(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], fmt: str, export: object
) -> None:
    ruleset, assessment = files
    status, out, _ = run(capsys, str(assessment), "--ruleset", str(ruleset), "--graph", fmt)
    assert status == 0
    with Scorer(demo_ruleset(), engine="native") as s:
        graph = s.score(HEAVY).graph
    if fmt == "json":
        assert out == to_node_link_json(graph) + "\n"
        nx.node_link_graph(json.loads(out), edges="edges")
    else:
        assert callable(export)
        assert out == export(graph)


def test_default_ruleset_on_a_shipped_example(capsys: pytest.CaptureFixture[str]) -> None:
    example = ROOT / "examples" / "client_in_crisis.json"
    status, out, err = run(capsys, str(example), "--engine", "native")
    assert (status, err) == (0, "")
    report = json.loads(out)
    assert report["ruleset"]["id"] == "default"
    assert report["recommendations"][0]["protocol"] == "crisis_intervention"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"clinician": {"active_client": 3}}', "clinician.active_client: 3: unknown field"),
        ('{"clinician": {"active_clients": "40"}}', "must be an integer, not a string"),
        ("[1, 2]", "an assessment must be an object"),
        ('{"clinician":\n  {"active_clients": 40,}}', ":2:25: invalid JSON"),
        ('{"client": {"sex": "male", "sex": "female"}}', "duplicate key 'sex'"),
        ('{"clinician": {"trauma_sessions_share": NaN}}', "NaN is not a JSON number"),
        ("", ":1:1: invalid JSON"),
        ("[" * 100_000, "invalid JSON"),
    ],
)
def test_bad_assessments_exit_2_with_a_located_message(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    ruleset, _ = files
    bad = ruleset.parent / "bad.json"
    bad.write_text(content, encoding="utf-8")
    status, out, err = run(capsys, str(bad), "--ruleset", str(ruleset))
    assert status == 2
    assert out == ""
    assert err.startswith(f"riskrules: {bad}")
    assert expected in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_other_errors_exit_2(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    ruleset, assessment = files
    cases = [
        ((str(ruleset.parent / "missing.json"), "--ruleset", str(ruleset)), "missing.json"),
        ((str(assessment), "--ruleset", str(ruleset.parent / "none.yaml")), "none.yaml"),
        (
            (str(assessment), "--ruleset", str(ruleset), "--param", "max_active_client=3"),
            "parameters.max_active_client: unknown parameter",
        ),
        (
            (str(assessment), "--ruleset", str(ruleset), "--param", "max_active_clients=big"),
            "parameters.max_active_clients",
        ),
        (
            (str(assessment), "--ruleset", str(ruleset), "--explain", "self_care_planx"),
            "'self_care_planx' was not recommended",
        ),
    ]
    for argv, expected in cases:
        status, out, err = run(capsys, *argv)
        assert status == 2, argv
        assert out == ""
        assert expected in err
        assert err.startswith("riskrules: "), err
        assert err.count("\n") == 1, err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", "x.json", "--engine", "fast"]) == 2
    assert main(["score", "x.json", "--param", "novalue"]) == 2
    assert main(["score", "x.json", "--graph", "dot", "--explain", "p"]) == 2
    assert "usage:" in capsys.readouterr().err


def test_python_dash_m_runs_the_command(files: tuple[Path, Path]) -> None:
    ruleset, _ = files
    ok = subprocess.run(
        [sys.executable, "-m", "riskrules", "score", "-", "--ruleset", str(ruleset)],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["overall_level"] == "critical"
    bad = subprocess.run(
        [sys.executable, "-m", "riskrules", "score", "-", "--ruleset", str(ruleset)],
        input='{"clinician": {"active_clients": true}}',
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr == (
        "riskrules: <stdin>: clinician.active_clients: True: must be an integer, not a boolean\n"
    )
