"""The scenario runner: expectations, diffs, rule coverage, ``riskrules test``, pytest plugin."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from riskrules import Ruleset, RulesetError, Scorer, load_ruleset
from riskrules.cli import main
from riskrules.errors import EngineError
from riskrules.ruleset._spec import Expect
from riskrules.testing import (
    Mismatch,
    available_engines,
    check_expect,
    run_scenarios,
)

ROOT = Path(__file__).resolve().parents[2]
RULESETS = ROOT / "rulesets"
ENGINES = available_engines()

# A small ruleset: one hazard, three rules; the third (a strained setting) no scenario fires.
DEMO = """\
# yaml-language-server: $schema=../schemas/ruleset.schema.json
ruleset: demo
version: 1.0.0
title: Demo
parameters:
  max_active_clients: {type: integer, default: 35, min: 1, max: 1000, description: Local policy}
inputs:
  clinician.active_clients: {type: integer, min: 0, max: 1000}
  clinician.proqol.burnout: {type: integer, min: 10, max: 50}
  clinician.setting: {type: enum, values: [inpatient, outpatient, community]}
hazards:
  caseload:
    title: Caseload and burnout
    bands: {low: 0, moderate: 3, high: 6, critical: 10}
    recommend: {high: [clinical_supervision]}
rules:
  - id: caseload.over_capacity
    hazard: caseload
    when: {field: clinician.active_clients, gt: {param: max_active_clients}}
    then: {points: 3, assert: [caseload.over_capacity], recommend: [peer_consultation]}
    because: Active caseload above the service limit.
  - id: caseload.burnout_high
    hazard: caseload
    when:
      all:
        - {finding: caseload.over_capacity}
        - {field: clinician.proqol.burnout, gte: 42}
    then: {points: 4, floor: high, recommend: [clinical_supervision]}
    because: High burnout on top of an over-capacity caseload.
  - id: caseload.strained_setting
    hazard: caseload
    when: {field: clinician.setting, eq: inpatient}
    then: {points: 1}
    because: Inpatient work.
protocols:
  peer_consultation: {title: Peer consultation, urgency: soon}
  clinical_supervision: {title: Clinical supervision, urgency: soon}
tests:
  - name: heavy caseload with high burnout
    input: {clinician: {active_clients: 40, proqol: {burnout: 44}}}
    expect:
      levels: {caseload: high}
      fired: [caseload.burnout_high]
      recommendations: [clinical_supervision, peer_consultation]
"""

WRONG = """\
  - name: a wrong expectation
    input: {clinician: {active_clients: 40}}
    expect:
      levels: {caseload: high}
      fired: [caseload.burnout_high]
      not_findings: [caseload.over_capacity]
      recommendations: [clinical_supervision]
"""

BAD_INPUT = """\
  - name: a bad input
    input: {clinician: {active_clients: -3}}
    expect: {levels: {caseload: low}}
"""


def _line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(DEMO + WRONG + BAD_INPUT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo() -> Ruleset:
    return load_ruleset(DEMO)


REPORT_INPUT = {"clinician": {"active_clients": 40}}
"""Over capacity (3 points, moderate) with burnout missing: burnout_high is indeterminate."""


@pytest.mark.parametrize(
    ("expect", "check", "subject", "expected", "actual"),
    [
        (
            {"levels": {"caseload": "high"}},
            "levels",
            "caseload",
            "caseload: high",
            "caseload: moderate (score 3; incomplete, could reach high)",
        ),
        ({"overall": "low"}, "overall", "", "low", "moderate"),
        (
            {"at_most": {"caseload": "low"}},
            "at_most",
            "caseload",
            "caseload: at most low",
            "caseload: moderate (score 3; incomplete, could reach high)",
        ),
        (
            {"at_least": {"caseload": "high"}},
            "at_least",
            "caseload",
            "caseload: at least high",
            "caseload: moderate (score 3; incomplete, could reach high)",
        ),
        (
            {"complete": {"caseload": True}},
            "complete",
            "caseload",
            "caseload: complete",
            "caseload: incomplete (missing clinician.proqol.burnout, clinician.setting)",
        ),
        (
            {"fired": ["caseload.burnout_high"]},
            "fired",
            "caseload.burnout_high",
            "caseload.burnout_high fires",
            "caseload.burnout_high is indeterminate (missing clinician.proqol.burnout)",
        ),
        (
            {"not_fired": ["caseload.over_capacity"]},
            "not_fired",
            "caseload.over_capacity",
            "caseload.over_capacity does not fire",
            "caseload.over_capacity fired",
        ),
        (
            {"indeterminate": ["caseload.over_capacity"]},
            "indeterminate",
            "caseload.over_capacity",
            "caseload.over_capacity is indeterminate",
            "caseload.over_capacity fired",
        ),
        (
            {"findings": ["caseload.over_capacity"], "not_findings": ["caseload.over_capacity"]},
            "not_findings",
            "caseload.over_capacity",
            "caseload.over_capacity not asserted",
            "caseload.over_capacity asserted by caseload.over_capacity",
        ),
        (
            {"recommendations": ["clinical_supervision", "peer_consultation"]},
            "recommendations",
            "clinical_supervision",
            "clinical_supervision recommended",
            "clinical_supervision not recommended",
        ),
        (
            {"not_recommendations": ["peer_consultation"]},
            "not_recommendations",
            "peer_consultation",
            "peer_consultation not recommended",
            "peer_consultation recommended (because caseload.over_capacity)",
        ),
    ],
)
def test_check_expect_names_each_contradicted_expectation(
    demo: Ruleset,
    expect: dict[str, object],
    check: str,
    subject: str,
    expected: str,
    actual: str,
) -> None:
    with Scorer(demo, engine="native") as scorer:
        report = scorer.score(REPORT_INPUT)
    found = check_expect(report, Expect.model_validate(expect), demo)
    assert found == (Mismatch(check, subject, expected, actual),)
    assert str(found[0]) == f"{check}: expected {expected}; actual {actual}"


def test_check_expect_is_empty_when_everything_holds(demo: Ruleset) -> None:
    with Scorer(demo, engine="native") as scorer:
        report = scorer.score({"clinician": {"active_clients": 30, "setting": "inpatient"}})
    expect = Expect.model_validate(
        {
            "levels": {"caseload": "low"},
            "overall": "low",
            "complete": {"caseload": True},
            "fired": ["caseload.strained_setting"],
            "not_fired": ["caseload.over_capacity", "caseload.burnout_high"],
            "indeterminate": [],
            "not_findings": ["caseload.over_capacity"],
            "not_recommendations": ["peer_consultation", "clinical_supervision"],
        }
    )
    assert check_expect(report, expect, demo) == ()


def test_a_fired_rule_whose_condition_is_false_says_so(demo: Ruleset) -> None:
    with Scorer(demo, engine="native") as scorer:
        report = scorer.score({"clinician": {"active_clients": 10, "setting": "community"}})
    (found,) = check_expect(report, Expect(fired=("caseload.over_capacity",)))
    assert found.actual == "caseload.over_capacity did not fire (its condition is false)"


@pytest.mark.parametrize(
    "bound",
    [
        {"at_most": {"caseload": "moderate"}},
        {"at_most": {"caseload": "critical"}},
        {"at_least": {"caseload": "moderate"}},
        {"at_least": {"caseload": "low"}},
        {"at_most": {"caseload": "high"}, "at_least": {"caseload": "low"}},
    ],
)
def test_a_bound_holds_for_every_level_on_its_side(demo: Ruleset, bound: dict[str, object]) -> None:
    with Scorer(demo, engine="native") as scorer:
        report = scorer.score(REPORT_INPUT)  # caseload: moderate
    assert check_expect(report, Expect.model_validate(bound), demo) == ()


def test_a_bound_names_a_declared_hazard_and_level() -> None:
    bad = "  - name: bad bound\n    input: {}\n    expect: {at_most: {caseload: severe}}\n"
    text = DEMO.replace("\ntests:\n", "\ntests:\n" + bad, 1)
    assert bad in text
    with pytest.raises(RulesetError, match="unknown level 'severe'"):
        load_ruleset(text)


def test_the_default_rulesets_pass_on_every_engine_with_full_coverage() -> None:
    results = run_scenarios("default")
    assert results.engines == ENGINES
    assert results.passed, "".join(o.diff() for o in results.failures)
    assert len(results.outcomes) == len(results.ruleset.tests) * len(ENGINES)
    assert results.coverage == 100.0
    assert results.uncovered == ()
    assert len(results.covered) == len(results.ruleset.rules)


def test_a_wrong_expectation_fails_on_every_engine_with_a_readable_diff(demo_file: Path) -> None:
    text = demo_file.read_text(encoding="utf-8")
    results = run_scenarios(demo_file)
    wrong = [o for o in results.failures if o.name == "a wrong expectation"]
    assert [o.engine for o in wrong] == list(ENGINES)
    line = _line_of(text, "  - name: a wrong expectation")
    for outcome in wrong:
        assert outcome.location is not None
        assert (outcome.location.file, outcome.location.line) == (str(demo_file), line)
        assert [m.check for m in outcome.mismatches] == [
            "levels",
            "fired",
            "not_findings",
            "recommendations",
        ]
        diff = outcome.diff()
        assert diff.startswith(
            f"{demo_file}:{line}:5: scenario 'a wrong expectation' failed on the "
            f"{outcome.engine} engine\n  (- expected, + actual)\n"
        )
        assert (
            "  levels:\n"
            "    - caseload: high\n"
            "    + caseload: moderate (score 3; incomplete, could reach high)\n"
            "  fired:\n"
            "    - caseload.burnout_high fires\n"
            "    + caseload.burnout_high is indeterminate (missing clinician.proqol.burnout)\n"
        ) in diff
        assert "  actual report:\n" in diff
        assert "    fired: caseload.over_capacity\n" in diff
        assert "    findings: caseload.over_capacity\n" in diff
        assert "    recommendations: peer_consultation\n" in diff
    passing = [o for o in results.outcomes if o.name == "heavy caseload with high burnout"]
    assert passing
    assert all(o.passed and o.diff() == "" for o in passing)


def test_an_invalid_scenario_input_is_a_located_failure_not_a_crash(demo_file: Path) -> None:
    text = demo_file.read_text(encoding="utf-8")
    results = run_scenarios(demo_file, engines=["native"])
    (bad,) = [o for o in results.failures if o.name == "a bad input"]
    line = _line_of(text, "    input: {clinician: {active_clients: -3}}")
    column = text.splitlines()[line - 1].index("-3") + 1
    assert bad.error == (
        f"{demo_file}:{line}:{column}: invalid scenario input: "
        "clinician.active_clients: -3: must be >= 0"
    )
    assert bad.report is None
    assert not bad.passed
    assert bad.error in bad.diff()


def test_rule_coverage_counts_rules_fired_by_some_scenario(demo_file: Path) -> None:
    results = run_scenarios(demo_file, engines=["native"])
    assert results.covered == ("caseload.over_capacity", "caseload.burnout_high")
    assert results.uncovered == ("caseload.strained_setting",)
    assert results.coverage == pytest.approx(200 / 3)
    text = results.to_text("demo.yaml")
    assert "demo.yaml: ruleset demo 1.0.0: 3 scenarios on native: 1 passed, 2 failed\n" in text
    assert "rule coverage: 2 of 3 rules fired in some scenario (66.7%)\n" in text
    assert text.endswith("never fired: caseload.strained_setting\n")


def test_a_ruleset_without_rules_is_fully_covered() -> None:
    results = run_scenarios(load_ruleset("ruleset: empty\nversion: '1'\ntitle: Empty\n"))
    assert results.outcomes == ()
    assert results.passed
    assert results.coverage == 100.0
    assert results.uncovered == ()


def test_scenario_params_override_the_ruleset_parameters(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(
        DEMO
        + "  - name: a lower limit\n"
        + "    params: {max_active_clients: 25}\n"
        + "    input: {clinician: {active_clients: 30}}\n"
        + "    expect: {fired: [caseload.over_capacity]}\n",
        encoding="utf-8",
    )
    assert run_scenarios(path).passed


def test_engines_can_be_chosen_and_unknown_ones_are_rejected(demo: Ruleset) -> None:
    assert run_scenarios(demo, engines=["native", "native"]).engines == ("native",)
    with pytest.raises(EngineError, match="unknown engine 'fast'"):
        run_scenarios(demo, engines=["fast"])


def test_cli_passes_the_default_rulesets_at_full_coverage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["test", str(RULESETS / "default.yaml"), "--min-coverage", "100"]) == 0
    out = capsys.readouterr().out
    scenarios = len(load_ruleset("default").tests)
    assert f"{scenarios} scenarios on {', '.join(ENGINES)}: " in out
    assert f"{scenarios * len(ENGINES)} passed, 0 failed" in out
    assert "(100.0%)" in out


def test_cli_fails_below_the_minimum_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(DEMO, encoding="utf-8")
    assert main(["test", str(path)]) == 0
    capsys.readouterr()
    assert main(["test", str(path), "--min-coverage", "100"]) == 1
    out = capsys.readouterr().out
    assert "never fired: caseload.strained_setting\n" in out
    assert "rule coverage 66.7% is below the required 100%\n" in out
    assert main(["test", str(path), "--min-coverage", "66"]) == 0


def test_cli_prints_the_diff_and_fails_on_a_wrong_expectation(
    demo_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["test", str(demo_file), "--engine", "native"]) == 1
    out = capsys.readouterr().out
    assert "scenario 'a wrong expectation' failed on the native engine" in out
    assert "    - caseload: high\n" in out
    assert "invalid scenario input: clinician.active_clients: -3: must be >= 0" in out
    assert "3 scenarios on native: 1 passed, 2 failed" in out


def test_cli_json_output(demo_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(demo_file), "--format", "json", "--min-coverage", "50"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False
    assert data["min_coverage"] == 50
    (result,) = data["rulesets"]
    assert result["source"] == str(demo_file)
    assert result["ruleset"] == "demo"
    assert result["engines"] == list(ENGINES)
    assert result["scenarios"] == 3
    assert result["passed"] == len(ENGINES)
    assert result["failed"] == 2 * len(ENGINES)
    assert result["coverage"] == {
        "percent": 66.67,
        "rules": 3,
        "covered": 2,
        "uncovered": ["caseload.strained_setting"],
    }
    assert result["coverage_ok"] is True
    first = result["failures"][0]
    assert first["scenario"] == "a wrong expectation"
    assert first["engine"] == ENGINES[0]
    assert first["location"].startswith(f"{demo_file}:")
    assert first["mismatches"][0] == {
        "check": "levels",
        "subject": "caseload",
        "expected": "caseload: high",
        "actual": "caseload: moderate (score 3; incomplete, could reach high)",
    }
    assert first["actual"]["fired"] == ["caseload.over_capacity"]
    bad = result["failures"][-1]
    assert bad["actual"] is None
    assert "must be >= 0" in bad["error"]


def test_cli_reports_a_ruleset_that_does_not_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("ruleset: x\nversion: 1\n", encoding="utf-8")
    assert main(["test", str(broken), str(RULESETS / "crisis.yaml")]) == 2
    captured = capsys.readouterr()
    assert f"riskrules: {broken}:" in captured.err
    assert "rulesets/crisis.yaml: ruleset crisis" in captured.out


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    # the plugin and riskrules of this tree, whatever the working directory
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _own_scenarios(path: Path) -> int:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return len(data.get("tests") or ())


def test_pytest_collects_and_passes_every_scenario_in_the_rulesets_directory() -> None:
    done = _pytest("rulesets/", "-q", cwd=ROOT)
    expected = sum(_own_scenarios(p) for p in RULESETS.glob("*.yaml")) * len(ENGINES)
    assert expected == len(load_ruleset("default").tests) * len(ENGINES)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"\b{expected} passed\b", done.stdout), done.stdout


def test_pytest_items_are_named_by_file_scenario_and_engine(demo_file: Path) -> None:
    done = _pytest(demo_file.name, "-q", "-rf", cwd=demo_file.parent)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{len(ENGINES)} passed" in done.stdout
    for engine in ENGINES:
        assert f"FAILED demo.yaml::a wrong expectation[{engine}]" in done.stdout
        assert f"FAILED demo.yaml::a bad input[{engine}]" in done.stdout
        assert f"scenario 'a wrong expectation' failed on the {engine} engine" in done.stdout
    assert "    - caseload: high\n    + caseload: moderate" in done.stdout
    assert "Traceback" not in done.stdout
    collected = _pytest(demo_file.name, "--collect-only", "-q", cwd=demo_file.parent)
    assert f"demo.yaml::heavy caseload with high burnout[{ENGINES[0]}]" in collected.stdout


def test_pytest_runs_a_fragment_in_its_directory_and_ignores_other_yaml(tmp_path: Path) -> None:
    header = "# yaml-language-server: $schema=../schemas/ruleset.schema.json\n"
    top, rest = DEMO.split("inputs:\n", 1)
    inputs, after = rest.split("hazards:\n", 1)
    (tmp_path / "main.yaml").write_text(
        top.replace(header, header + "include: [fragment.yaml]\n") + "hazards:\n" + after,
        encoding="utf-8",
    )
    (tmp_path / "fragment.yaml").write_text(
        header
        + "inputs:\n"
        + inputs
        + "tests:\n"
        + "  - name: a fragment scenario\n"
        + "    input: {clinician: {active_clients: 36}}\n"
        + "    expect: {levels: {caseload: moderate}}\n",
        encoding="utf-8",
    )
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "workflow.yaml").write_text("jobs: {}\ntests:\n  - a\n", encoding="utf-8")
    done = _pytest("-q", cwd=tmp_path)
    # main.yaml: 1 own scenario; fragment.yaml: 1, run in main.yaml's ruleset; workflow.yaml: none
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"\b{2 * len(ENGINES)} passed\b", done.stdout), done.stdout


def test_pytest_reports_a_ruleset_that_does_not_load_as_a_collection_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken.yaml").write_text(
        "ruleset: broken\nversion: '1'\ntitle: Broken\ntests:\n  - name: x\n", encoding="utf-8"
    )
    done = _pytest("-q", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "broken.yaml" in done.stdout
    assert "missing required key" in done.stdout


def test_pytest_collects_a_fragment_without_a_header(tmp_path: Path) -> None:
    """A fragment with neither ``ruleset:`` nor the schema comment is still collected, as
    ``riskrules test`` would run it; one that no ruleset of its directory includes is reported
    with the reason, never silently passed over."""
    top, rest = DEMO.split("inputs:\n", 1)
    inputs, after = rest.split("hazards:\n", 1)
    (tmp_path / "main.yaml").write_text(
        top + "include: [fragment.yaml]\nhazards:\n" + after, encoding="utf-8"
    )
    scenario = (
        "tests:\n"
        "  - name: a fragment scenario\n"
        "    input: {clinician: {active_clients: 36}}\n"
        "    expect: {levels: {caseload: moderate}}\n"
    )
    (tmp_path / "fragment.yaml").write_text("inputs:\n" + inputs + scenario, encoding="utf-8")
    done = _pytest("-q", "-rs", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"\b{2 * len(ENGINES)} passed\b", done.stdout), done.stdout
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "main.yaml").write_text(
        top + "inputs:\n" + inputs + "hazards:\n" + after, encoding="utf-8"
    )
    (sub / "orphan.yaml").write_text(scenario, encoding="utf-8")
    done = _pytest("-q", "-rs", "sub", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ERROR collecting sub/orphan.yaml" in done.stdout
    assert "several top files that no other file includes (main.yaml, orphan.yaml)" in done.stdout
