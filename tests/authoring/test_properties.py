"""Declared properties: their YAML shape, the ``assessments`` strategy and ``riskrules check``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis.errors import NoSuchExample

from riskrules import AssessmentError, RiskRulesError, RulesetError, Scorer, load_ruleset
from riskrules.cli import main
from riskrules.ruleset._loader import dump_ruleset, ruleset_json_schema
from riskrules.ruleset._spec import Bounded, Monotone, NeverIndeterminate
from riskrules.testing import (
    assessments,
    check_properties,
    describe_property,
    run_scenarios,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = load_ruleset("default")

# Two planted mistakes: the moderate burnout band stops at 35 instead of 41 (so 36-41 score
# nothing, and more burnout can lower the level), and a positive screen scores 10 points (so the
# crisis hazard reaches critical without the high-risk finding).
PLANTED = """\
# yaml-language-server: $schema=../schemas/ruleset.schema.json
ruleset: planted
version: 1.0.0
title: Planted mistakes
inputs:
  clinician.proqol.burnout: {type: integer, min: 10, max: 50}
  clinician.active_clients: {type: integer, min: 0}
  client.cssrs.q1: {type: boolean}
  client.cssrs.q4: {type: boolean}
hazards:
  caseload: {title: Caseload, bands: {low: 0, moderate: 2, high: 4}}
  crisis: {title: Crisis, bands: {low: 0, moderate: 3, high: 6, critical: 10}}
rules:
  - id: burnout.moderate
    hazard: caseload
    when: {field: clinician.proqol.burnout, between: [23, BAND_TOP]}
    then: {points: 2}
    because: Moderate burnout.
  - id: burnout.high
    hazard: caseload
    when: {field: clinician.proqol.burnout, gte: 42}
    then: {points: 4}
    because: High burnout.
  - id: cssrs.high_risk
    hazard: crisis
    when: {field: client.cssrs.q4, eq: true}
    then: {points: 10, floor: critical, assert: [cssrs.high_risk]}
    because: High risk.
  - id: cssrs.positive
    hazard: crisis
    when: {field: client.cssrs.q1, eq: true}
    then: {points: POSITIVE_POINTS, assert: [cssrs.positive]}
    because: Positive screen.
properties:
  - monotone: {input: clinician.proqol.burnout, hazard: caseload}
  - bounded: {hazard: crisis, max: high, unless: {finding: cssrs.high_risk}}
  - never_indeterminate_when_complete
"""


def planted(band_top: int = 35, positive_points: int = 10, extra: str = "") -> str:
    text = PLANTED.replace("BAND_TOP", str(band_top))
    return text.replace("POSITIVE_POINTS", str(positive_points)) + extra


def test_every_form_of_a_property_loads() -> None:
    ruleset = load_ruleset(
        planted(
            extra="  - never_indeterminate_when_complete:\n"
            "  - never_indeterminate_when_complete: {hazard: crisis}\n"
            "  - monotone: {input: client.cssrs.q1, direction: decreasing}\n"
        )
    )
    kinds = [p.kind for p in ruleset.properties]
    assert kinds == [
        "monotone",
        "bounded",
        "never_indeterminate_when_complete",
        "never_indeterminate_when_complete",
        "never_indeterminate_when_complete",
        "monotone",
    ]
    specs = [p.spec for p in ruleset.properties]
    assert specs[0] == Monotone(input="clinician.proqol.burnout", hazard="caseload")
    assert isinstance(specs[1], Bounded)
    assert specs[1].max == "high"
    assert specs[2] == specs[3] == NeverIndeterminate()
    assert specs[4] == NeverIndeterminate(hazard="crisis")
    assert [describe_property(p) for p in ruleset.properties[:2]] == [
        "monotone: raising clinician.proqol.burnout never lowers the level of caseload",
        "bounded: crisis never exceeds high unless {finding: cssrs.high_risk}",
    ]
    assert describe_property(ruleset.properties[5]) == (
        "monotone: raising client.cssrs.q1 never raises the level of any hazard"
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "- monotone: {input: clinician.proqol.burnot}",
            "properties[3].monotone.input: unknown input 'clinician.proqol.burnot' "
            "(did you mean 'clinician.proqol.burnout'?)",
        ),
        (
            "- monotone: {input: client.cssrs.q1, hazard: crises}",
            "properties[3].monotone.hazard: unknown hazard 'crises' (did you mean 'crisis'?)",
        ),
        (
            "- monotone: {input: client.cssrs.q1, direction: up}",
            "properties[3].monotone.direction: expected 'increasing' or 'decreasing', got 'up'",
        ),
        (
            "- monotonic: {input: client.cssrs.q1}",
            "properties[3]: unknown key 'monotonic' (did you mean 'monotone'?)",
        ),
        (
            "- bounded: {hazard: crisis, max: hihg}",
            "properties[3].bounded.max: unknown level 'hihg' (did you mean 'high'?)",
        ),
        (
            "- bounded: {hazard: crisis, max: high, unless: {finding: cssrs.low_risk}}",
            "properties[3].bounded.unless.finding: unknown finding 'cssrs.low_risk' "
            "(did you mean 'cssrs.high_risk'?) (no rule asserts it)",
        ),
        (
            "- bounded: {hazard: crisis, max: high, unless: {field: client.cssrs.q1, gt: 1}}",
            "properties[3].bounded.unless.gt: operator 'gt' does not apply to boolean input "
            "'client.cssrs.q1'; use eq/ne",
        ),
        (
            "- never_indeterminate",
            "properties[3]: a property is a mapping with one of monotone, bounded, "
            "never_indeterminate_when_complete, or the bare name "
            "never_indeterminate_when_complete; got 'never_indeterminate'",
        ),
        (
            "- {}",
            "properties[3]: a property needs exactly one of monotone, bounded, "
            "never_indeterminate_when_complete; got none",
        ),
        (
            "- {monotone: {input: client.cssrs.q1}, bounded: {hazard: crisis, max: high}}",
            "properties[3]: a property needs exactly one of monotone, bounded, "
            "never_indeterminate_when_complete; got monotone, bounded",
        ),
    ],
)
def test_a_broken_property_is_a_located_error(entry: str, message: str) -> None:
    text = planted(extra=f"  {entry}\n")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(text)
    line = text.splitlines().index(f"  {entry}") + 1
    assert caught.value.line == line
    assert str(caught.value).startswith("<string>:")
    assert str(caught.value).endswith(message)


def test_properties_are_not_part_of_the_fingerprint_and_survive_a_dump() -> None:
    with_properties = load_ruleset(planted())
    without = load_ruleset(planted().split("properties:\n")[0])
    assert with_properties.fingerprint == without.fingerprint
    again = load_ruleset(dump_ruleset(with_properties))
    assert again.properties == with_properties.properties


def test_included_files_contribute_their_properties() -> None:
    kinds = {p.kind for p in DEFAULT.properties}
    assert kinds == {"monotone", "bounded", "never_indeterminate_when_complete"}
    crisis = load_ruleset(ROOT / "rulesets" / "crisis.yaml")
    assert len(DEFAULT.properties) > len(crisis.properties) > 0


def test_the_schema_accepts_the_bare_string_form() -> None:
    schema = json.loads(ruleset_json_schema())
    variants = schema["$defs"]["Property"]["anyOf"]
    assert {"const": "never_indeterminate_when_complete", "type": "string"} in variants
    mapping = next(v for v in variants if v.get("type") == "object")
    assert mapping["minProperties"] == mapping["maxProperties"] == 1
    assert set(mapping["properties"]) == {
        "monotone",
        "bounded",
        "never_indeterminate_when_complete",
    }


@pytest.fixture(scope="module")
def native() -> Any:
    with Scorer(DEFAULT, engine="native") as scorer:
        yield scorer


def _leaves(assessment: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in assessment.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            found.update(_leaves(value, name + "."))
        else:
            found[name] = value
    return found


@settings(max_examples=60)
@given(assessment=assessments(DEFAULT))
def test_assessments_are_valid_nested_objects(native: Scorer, assessment: dict[str, Any]) -> None:
    try:
        native.score(assessment)
    except AssessmentError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"the strategy drew an invalid assessment: {exc}")
    leaves = _leaves(assessment)
    assert set(leaves) <= set(DEFAULT.inputs)
    assert all("." not in key for key in assessment)
    for name, value in leaves.items():
        spec = DEFAULT.inputs[name]
        if spec.values is not None:
            assert value in spec.values, name


THRESHOLDS = """\
ruleset: thresholds
version: 1.0.0
title: Thresholds
parameters:
  limit: {type: integer, default: 500, min: 0, max: 1000, description: Local policy}
inputs:
  clinician.active_clients: {type: integer, min: 0, max: 1000}
  clinician.trauma_sessions_share: {type: number, min: 0, max: 1}
  client.audit.item9: {type: integer, values: [0, 2, 4]}
hazards:
  h: {title: H, bands: {low: 0, high: 1}}
rules:
  - id: h.clients
    hazard: h
    when: {field: clinician.active_clients, gt: {param: limit}}
    then: {points: 1}
    because: Over the limit.
  - id: h.share
    hazard: h
    when: {field: clinician.trauma_sessions_share, gt: 0.5}
    then: {points: 1}
    because: Heavy trauma caseload.
"""


@pytest.mark.parametrize(
    ("params", "field", "wanted"),
    [
        (None, "clinician.active_clients", {500, 501}),
        ({"limit": 250}, "clinician.active_clients", {250, 251}),
        (None, "clinician.trauma_sessions_share", {0.49, 0.5, 0.51}),
    ],
)
def test_assessments_favour_the_values_at_rule_thresholds(
    params: dict[str, int] | None, field: str, wanted: set[float]
) -> None:
    # Uniformly drawn, 500 or 501 of 0..1000 would take about 500 examples to turn up.
    strategy = assessments(THRESHOLDS, params=params)
    quick = settings(max_examples=60, derandomize=True, database=None)
    assert find(strategy, lambda a: _leaves(a).get(field) in wanted, settings=quick)


def test_assessments_draw_only_the_declared_values_of_an_integer_input() -> None:
    quick = settings(max_examples=100, derandomize=True, database=None)
    strategy = assessments(THRESHOLDS, missing=0.0)
    assert find(strategy, lambda a: a["client"]["audit"]["item9"] == 4, settings=quick)
    with pytest.raises(NoSuchExample):
        find(strategy, lambda a: a["client"]["audit"]["item9"] not in (0, 2, 4), settings=quick)


def test_assessments_missing_rate() -> None:
    everything = find(assessments(DEFAULT, missing=0.0), lambda a: True)
    assert set(_leaves(everything)) == set(DEFAULT.inputs)
    assert find(assessments(DEFAULT, missing=1.0), lambda a: True) == {}
    with pytest.raises(ValueError, match="missing must be a probability"):
        assessments(DEFAULT, missing=1.5)


def test_importing_riskrules_does_not_import_hypothesis() -> None:
    probe = (
        "import sys, riskrules, riskrules.testing\n"
        "riskrules.testing.run_scenarios('crisis', engines=['native'])\n"
        "print('hypothesis' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False"


def _paste(ruleset_text: str, blocks: list[str]) -> str:
    """The ruleset with the printed scenarios pasted in as its tests: section."""
    entries = [block.split("\n", 1)[1] for block in blocks]
    return ruleset_text + "tests:\n" + "".join(entries)


def test_check_finds_the_planted_non_monotone_band_and_the_pasted_scenarios_reproduce_it() -> None:
    text = planted()
    results = check_properties(text, max_examples=200, seed=11)
    monotone, _, complete = results.outcomes
    assert complete.passed
    assert not results.passed
    found = monotone.counterexample
    assert found is not None
    baseline, raised = found.scenarios
    low = baseline["input"]["clinician"]["proqol"]["burnout"]
    high = raised["input"]["clinician"]["proqol"]["burnout"]
    assert 23 <= low <= 35 < high <= 41, (low, high)
    assert found.message == (
        f"raising clinician.proqol.burnout from {low} to {high} (all else equal): caseload "
        "drops from moderate to low"
    )
    assert baseline["expect"] == {"levels": {"caseload": "moderate"}}
    assert raised["expect"] == {"at_least": {"caseload": "moderate"}}

    # Pasted into the ruleset, the baseline holds and the raised scenario fails...
    pasted = _paste(text, [found.to_yaml()])
    outcomes = run_scenarios(load_ruleset(pasted), engines=["native"]).outcomes
    assert [o.passed for o in outcomes] == [True, False]
    assert [(m.check, m.subject) for m in outcomes[1].mismatches] == [("at_least", "caseload")]
    assert "+ caseload: low (score 0)" in outcomes[1].diff()
    # ... until the band is fixed: then both hold, and so does the property.
    fixed = _paste(planted(band_top=41), [found.to_yaml()])
    assert run_scenarios(load_ruleset(fixed), engines=["native"]).passed
    assert check_properties(planted(band_top=41), max_examples=100, seed=11).outcomes[0].passed


def test_check_finds_the_planted_bound_violation_and_the_pasted_scenario_reproduces_it() -> None:
    text = planted()
    outcome = check_properties(text, max_examples=100, seed=5).outcomes[1]
    found = outcome.counterexample
    assert found is not None
    (scenario,) = found.scenarios
    assert scenario["input"]["client"]["cssrs"]["q1"] is True
    assert scenario["input"]["client"]["cssrs"].get("q4") is not True
    assert scenario["expect"] == {
        "at_most": {"crisis": "high"},
        "not_findings": ["cssrs.high_risk"],
    }
    assert found.message == (
        "crisis is critical and {finding: cssrs.high_risk} is not true; the property allows at "
        "most high"
    )
    pasted = load_ruleset(_paste(text, [found.to_yaml()]))
    (result,) = run_scenarios(pasted, engines=["native"]).outcomes
    assert [(m.check, m.subject, m.actual) for m in result.mismatches] == [
        ("at_most", "crisis", "crisis: critical (score 10; incomplete, could reach critical)")
    ]
    assert check_properties(planted(positive_points=3), max_examples=100, seed=5).outcomes[1].passed
    # The pasted scenario bounds the level: it holds once the rule is fixed, whatever level
    # up to the bound the fixed rule gives.
    fixed = load_ruleset(_paste(planted(positive_points=3), [found.to_yaml()]))
    assert run_scenarios(fixed, engines=["native"]).passed


def test_bounded_holds_when_the_exception_applies() -> None:
    text = planted(band_top=41).replace(
        "unless: {finding: cssrs.high_risk}", "unless: {any: [{finding: cssrs.high_risk}, "
        "{field: client.cssrs.q1, eq: true}]}"
    )  # fmt: skip
    assert check_properties(text, max_examples=100, seed=5).passed


def test_a_decreasing_property_catches_a_level_that_rises() -> None:
    text = planted(band_top=41, positive_points=3).replace(
        "hazard: caseload}", "hazard: caseload, direction: decreasing}"
    )
    outcome = check_properties(text, max_examples=100, seed=2).outcomes[0]
    assert outcome.counterexample is not None
    assert "caseload rises from" in outcome.counterexample.message
    _, raised = outcome.counterexample.scenarios
    assert raised["name"].startswith("raising clinician.proqol.burnout from ")
    assert raised["name"].endswith(" does not raise caseload")


def test_a_property_on_an_input_the_hazard_never_reads_holds_trivially() -> None:
    text = planted(band_top=41, positive_points=3).replace(
        "input: clinician.proqol.burnout, hazard: caseload",
        "input: clinician.active_clients, hazard: caseload",
    )
    assert check_properties(text, max_examples=5, seed=1).passed


def test_the_default_rulesets_declare_what_a_clinician_expects_and_pass() -> None:
    monotone = {p.monotone.input for p in DEFAULT.properties if p.monotone}
    assert {
        "clinician.proqol.burnout",
        "clinician.cbi.personal",
        "clinician.cbi.work",
        "clinician.cbi.client",
        "clinician.proqol.secondary_traumatic_stress",
        "clinician.stss.total",
        "client.audit.total",
        "client.dast10.total",
        *(f"relationship.crossings.{d}" for d in ("role", "time", "place", "money", "gifts")),
        *(f"relationship.crossings.{d}" for d in ("clothing", "language", "self_disclosure")),
        "relationship.crossings.physical_contact",
    } <= monotone
    bounded = [p.bounded for p in DEFAULT.properties if p.bounded]
    assert (
        Bounded.model_validate(
            {"hazard": "crisis", "max": "high", "unless": {"finding": "cssrs.high_risk"}}
        )
        in bounded
    )
    results = check_properties(DEFAULT, max_examples=12, seed=2024)
    assert results.passed, "".join(o.to_text() for o in results.failures)
    assert len(results.outcomes) == len(DEFAULT.properties)


def test_cli_check_prints_a_ready_to_paste_scenario_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "planted.yaml"
    path.write_text(planted(), encoding="utf-8")
    args = ["check", str(path), "--seed", "11", "--max-examples", "200"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        f"{path}: ruleset planted 1.0.0: 3 properties, up to 200 examples each on native "
        "(seed 11)\n"
    )
    assert "FAIL " in out
    assert "1 held, 2 failed\n" in out
    assert f"to reproduce it, paste into {path}:\n\ntests:\n  - name: " in out
    # the same seed gives the same search and the same output
    assert main(args) == 1
    assert capsys.readouterr().out == out
    # what the command printed, pasted into the file, is a failing scenario
    block = out.split("\n\ntests:\n", 1)[1].split("\n\n", 1)[0]
    path.write_text(planted() + "tests:\n" + block + "\n", encoding="utf-8")
    assert main(["test", str(path), "--engine", "native"]) == 1
    assert "failed on the native engine" in capsys.readouterr().out


def test_cli_check_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "planted.yaml"
    path.write_text(planted(), encoding="utf-8")
    assert main(["check", str(path), "--seed", "5", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False
    assert data["seed"] == 5
    (result,) = data["rulesets"]
    assert result["source"] == str(path)
    assert result["max_examples"] == 100
    assert [p["kind"] for p in result["properties"]] == [
        "monotone",
        "bounded",
        "never_indeterminate_when_complete",
    ]
    assert [p["passed"] for p in result["properties"]] == [False, False, True]
    bounded = result["properties"][1]
    assert bounded["location"].startswith(f"{path}:")
    assert bounded["counterexample"]["scenarios"][0]["expect"]["at_most"] == {"crisis": "high"}


def test_cli_check_passes_the_default_rulesets(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(ROOT / "rulesets" / "default.yaml")
    assert main(["check", path, "--max-examples", "5", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert f"{len(DEFAULT.properties)} held, 0 failed\n" in out


def test_cli_check_rejects_a_zero_budget(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "default", "--max-examples", "0"]) == 2
    assert "--max-examples must be at least 1" in capsys.readouterr().err


def test_without_hypothesis_check_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "hypothesis" else real(name)
    )
    with pytest.raises(RiskRulesError, match=r"pip install 'riskrules\[testing\]'"):
        check_properties(DEFAULT)
    assert main(["check", "crisis"]) == 2
    assert "checking properties needs hypothesis" in capsys.readouterr().err
    assert run_scenarios("crisis", engines=["native"]).passed  # scenarios do not need it
