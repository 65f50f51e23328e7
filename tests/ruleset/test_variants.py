"""Variants: a ruleset that builds on a built-in or another file without copying it."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskrules import RulesetError, load_ruleset, score
from riskrules.ruleset._overrides import Override

HEAD = "ruleset: stricter\nversion: '1'\ntitle: Stricter caseload limit\n"
PARAM = (
    "parameters:\n"
    "  max_active_clients: {type: integer, default: 30, min: 1, max: 1000,"
    " description: a stricter limit}\n"
)
BUSY = {"clinician": {"active_clients": 32}}


def _write(tmp_path: Path, text: str, name: str = "variant.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize("builds_on", ["extends: default\n", "include: [default]\n"])
def test_a_variant_overrides_a_parameter_of_the_default(tmp_path: Path, builds_on: str) -> None:
    variant = load_ruleset(_write(tmp_path, HEAD + builds_on + PARAM))
    base = load_ruleset("default")
    assert variant.parameters["max_active_clients"].default == 30
    assert [r.id for r in variant.rules] == [r.id for r in base.rules]
    assert variant.hazards.keys() == base.hazards.keys()
    [override] = variant.overrides
    assert (override.kind, override.name, override.action) == (
        "parameter",
        "max_active_clients",
        "replaces",
    )
    assert override.at.endswith("variant.yaml:6:3")
    assert override.original.startswith("caseload.yaml:")
    fired = {f.rule for f in score(BUSY, ruleset=variant).fired}
    assert "caseload.over_capacity" in fired
    assert "caseload.over_capacity" not in {f.rule for f in score(BUSY).fired}


def test_a_variant_replaces_and_disables_rules_and_adds_its_own(tmp_path: Path) -> None:
    text = HEAD + (
        "extends: default\n"
        "disable: [caseload.long_hours]\n"
        "inputs:\n"
        "  clinician.night_shifts: {type: integer, min: 0, max: 31}\n"
        "hazards:\n"
        "  fatigue:\n"
        "    title: Fatigue\n"
        "    bands: {low: 0, high: 2}\n"
        "rules:\n"
        "  - id: caseload.over_capacity\n"
        "    hazard: caseload\n"
        "    when: {field: clinician.active_clients, gt: 25}\n"
        "    then: {points: 3, assert: [caseload.over_capacity]}\n"
        "    because: A fixed, lower limit.\n"
        "  - id: fatigue.nights\n"
        "    hazard: fatigue\n"
        "    when: {field: clinician.night_shifts, gte: 8}\n"
        "    then: {points: 2, recommend: [rest_period]}\n"
        "    because: Many night shifts.\n"
        "protocols:\n"
        "  rest_period: {title: Rest period, urgency: routine, steps: [Plan a rest period.]}\n"
    )
    variant = load_ruleset(_write(tmp_path, text))
    base = load_ruleset("default")
    ids = [r.id for r in variant.rules]
    assert "caseload.long_hours" not in ids
    assert ids.index("caseload.over_capacity") == [r.id for r in base.rules].index(
        "caseload.over_capacity"
    )
    assert variant.rule("caseload.over_capacity").then.points == 3
    assert ids[-1] == "fatigue.nights"
    assert "fatigue" in variant.hazards
    assert "rest_period" in variant.protocols
    assert [(o.kind, o.name, o.action) for o in variant.overrides] == [
        ("rule", "caseload.over_capacity", "replaces"),
        ("rule", "caseload.long_hours", "disables"),
    ]
    report = score({"clinician": {"night_shifts": 10, "active_clients": 26}}, ruleset=variant)
    assert {f.rule for f in report.fired} >= {"fatigue.nights", "caseload.over_capacity"}


def test_the_scenarios_of_the_base_are_left_out_but_the_variants_own_run(tmp_path: Path) -> None:
    text = (
        HEAD
        + "extends: default\n"
        + PARAM
        + (
            "tests:\n"
            "  - name: 32 clients are over the stricter limit\n"
            "    input: {clinician: {active_clients: 32}}\n"
            "    expect: {fired: [caseload.over_capacity]}\n"
        )
    )
    variant = load_ruleset(_write(tmp_path, text))
    assert [t.name for t in variant.tests] == ["32 clients are over the stricter limit"]
    assert load_ruleset("default").tests


def test_a_variant_can_extend_a_file(tmp_path: Path) -> None:
    _write(tmp_path, HEAD.replace("stricter", "base") + PARAM, "base.yaml")
    text = "ruleset: v\nversion: '2'\ntitle: V\nextends: base.yaml\n" + PARAM.replace("30", "20")
    variant = load_ruleset(_write(tmp_path, text))
    assert variant.parameters["max_active_clients"].default == 20
    assert variant.ruleset == "v"
    assert [o.name for o in variant.overrides] == ["max_active_clients"]


def test_without_extends_a_redefinition_is_still_a_duplicate(tmp_path: Path) -> None:
    _write(tmp_path, PARAM, "part.yaml")
    top = _write(tmp_path, HEAD + "include: [part.yaml]\n" + PARAM)
    with pytest.raises(RulesetError, match="duplicate parameter 'max_active_clients'"):
        load_ruleset(top)


def test_a_variant_cannot_redefine_its_own_entry_twice(tmp_path: Path) -> None:
    rule = (
        "  - id: caseload.x\n    hazard: caseload\n    when: {field: clinician.active_clients,"
        " gt: 5}\n    then: {points: 1}\n    because: x.\n"
    )
    top = _write(tmp_path, HEAD + "extends: default\nrules:\n" + rule + rule)
    with pytest.raises(RulesetError, match=r"duplicate rule id 'caseload\.x'"):
        load_ruleset(top)


def test_disabling_an_unknown_rule_is_a_located_error(tmp_path: Path) -> None:
    top = _write(tmp_path, HEAD + "extends: default\ndisable: [caseload.long_hour]\n")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(top)
    assert caught.value.message.startswith(
        "no rule 'caseload.long_hour' in the rulesets this file builds on"
    )
    assert (caught.value.line, caught.value.path) == (5, "disable[0]")


def test_extending_something_missing_is_a_located_error(tmp_path: Path) -> None:
    top = _write(tmp_path, HEAD + "extends: nothing_here.yaml\n")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(top)
    assert caught.value.message == "cannot include 'nothing_here.yaml': file not found"
    assert caught.value.path == "extends"


def test_a_plain_ruleset_has_no_overrides() -> None:
    assert load_ruleset("default").overrides == ()
    assert isinstance(Override("rule", "r", "disables", "a:1:1", "b:2:2").at, str)
