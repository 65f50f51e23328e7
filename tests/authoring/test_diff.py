"""Semantic ruleset diff: ``riskrules.diff_rulesets`` and ``riskrules diff``."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from riskrules import RulesetDiff, diff_rulesets, dump_ruleset, load_ruleset
from riskrules.authoring._diff import SECTIONS, Change
from riskrules.cli import main
from riskrules.ruleset._spec import Ruleset

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = load_ruleset("default")
BASE: dict[str, Any] = DEFAULT.model_dump(mode="json", by_alias=True, exclude_none=True)
BASE.pop("tests")
BASE.pop("properties", None)


def variant(change: Callable[[dict[str, Any]], object]) -> Ruleset:
    """The default ruleset (without scenarios) with ``change`` applied to its data."""
    data = copy.deepcopy(BASE)
    change(data)
    return Ruleset.model_validate(data)


def rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in data["rules"] if r["id"] == rule_id)
    return found


def only(diff: RulesetDiff) -> Change:
    (change,) = diff.changes
    return change


def test_the_variant_helper_keeps_the_meaning() -> None:
    assert variant(lambda d: None).fingerprint == DEFAULT.fingerprint


def test_the_default_against_itself_is_empty() -> None:
    diff = diff_rulesets("default", DEFAULT)
    assert diff.identical
    assert diff.changes == ()
    assert diff.a == diff.b
    assert diff.a.fingerprint == DEFAULT.fingerprint
    text = diff.to_text()
    assert "no semantic differences" in text
    assert text.count(DEFAULT.fingerprint) == 2


STS_HIGH = rule(BASE, "proqol.sts_high")["when"]["gte"]


def test_a_changed_threshold_is_reported_at_its_path() -> None:
    def change(d: dict[str, Any]) -> None:
        rule(d, "proqol.sts_high")["when"]["gte"] = STS_HIGH + 3

    diff = diff_rulesets(DEFAULT, variant(change))
    assert not diff.identical
    assert only(diff) == Change(
        section="rules",
        kind="changed",
        id="proqol.sts_high",
        path="when.gte",
        aspect="threshold",
        old=STS_HIGH,
        new=STS_HIGH + 3,
    )
    text = diff.to_text()
    assert f"~ proqol.sts_high: when.gte (threshold): {STS_HIGH} -> {STS_HIGH + 3}" in text
    assert diff.a.fingerprint == DEFAULT.fingerprint != diff.b.fingerprint


def test_a_threshold_deep_inside_a_condition() -> None:
    def change(d: dict[str, Any]) -> None:
        leaf = rule(d, "cssrs.high_risk")["when"]["any"][1]["all"][0]
        assert leaf["eq"] is True
        leaf["eq"] = False

    c = only(diff_rulesets(DEFAULT, variant(change)))
    assert (c.path, c.aspect, c.old, c.new) == ("when.any[1].all[0].eq", "threshold", True, False)


def test_a_threshold_that_becomes_a_parameter() -> None:
    def change(d: dict[str, Any]) -> None:
        rule(d, "proqol.sts_high")["when"]["gte"] = {"param": "max_active_clients"}

    c = only(diff_rulesets(DEFAULT, variant(change)))
    assert (c.path, c.aspect, c.old, c.new) == (
        "when.gte",
        "threshold",
        STS_HIGH,
        {"param": "max_active_clients"},
    )


def test_a_condition_on_another_field_is_shown_whole() -> None:
    new_when = {"field": "clinician.stss.total", "gte": 38}

    def change(d: dict[str, Any]) -> None:
        rule(d, "proqol.sts_high")["when"] = new_when

    c = only(diff_rulesets(DEFAULT, variant(change)))
    assert (c.path, c.aspect, c.kind) == ("when", "condition", "changed")
    assert c.old == {"field": "clinician.proqol.secondary_traumatic_stress", "gte": STS_HIGH}
    assert c.new == new_when


def test_an_added_sub_condition() -> None:
    extra = {"field": "clinician.life_crisis", "eq": True}

    count = len(rule(BASE, "cssrs.high_risk")["when"]["any"])

    def change(d: dict[str, Any]) -> None:
        rule(d, "cssrs.high_risk")["when"]["any"].append(extra)

    c = only(diff_rulesets(DEFAULT, variant(change)))
    assert (c.kind, c.path, c.aspect, c.old, c.new) == (
        "added",
        f"when.any[{count}]",
        "condition",
        None,
        extra,
    )


def test_sub_conditions_in_another_order() -> None:
    def change(d: dict[str, Any]) -> None:
        rule(d, "cssrs.high_risk")["when"]["any"].reverse()

    diff = diff_rulesets(DEFAULT, variant(change))
    c = only(diff)
    assert (c.path, c.aspect) == ("when.any", "order")
    assert "when.any: the same conditions in another order" in diff.to_text()


def test_a_removed_rule_and_its_finding() -> None:
    removed = rule(BASE, "stss.mild")
    assert removed["then"]["assert"] == ["stss.mild"]
    assert sum("stss.mild" in r["then"]["assert"] for r in BASE["rules"]) == 1

    def change(d: dict[str, Any]) -> None:
        d["rules"].remove(rule(d, "stss.mild"))

    diff = diff_rulesets(DEFAULT, variant(change))
    assert diff.changes == (
        Change(section="rules", kind="removed", id="stss.mild", aspect="rule", old=removed),
        Change(
            section="findings", kind="removed", id="stss.mild", aspect="finding", old=["stss.mild"]
        ),
    )
    text = diff.to_text()
    points = json.dumps(removed["then"]["points"])
    summary = f"hazard {removed['hazard']}; points {points}; asserts stss.mild"
    assert f"- stss.mild: removed ({summary})" in text
    assert "\nrules (1 change)\n" in text
    assert "\nfindings (1 change)\n" in text


def test_an_added_rule() -> None:
    new_rule = {
        "id": "caseload.extreme",
        "hazard": "caseload",
        "when": {"field": "clinician.active_clients", "gt": 60},
        "then": {"points": 5, "floor": "high"},
        "because": "An extreme caseload.",
    }

    def change(d: dict[str, Any]) -> None:
        d["rules"].append(new_rule)

    c = only(diff_rulesets(DEFAULT, variant(change)))
    assert (c.section, c.kind, c.id, c.path) == ("rules", "added", "caseload.extreme", "")
    assert c.new["then"]["floor"] == "high"


def test_points_floor_findings_and_recommendations() -> None:
    def change(d: dict[str, Any]) -> None:
        r = rule(d, "boundary.violation")
        r["then"]["points"] += 1
        r["then"]["floor"] = "critical" if r["then"].get("floor") != "critical" else "high"
        r["then"]["recommend"] = [*r["then"]["recommend"], "peer_consultation"]
        rule(d, "boundary.crossing")["then"]["assert"].append("boundary.any_crossing")

    diff = diff_rulesets(DEFAULT, variant(change))
    got = {(c.id, c.path): (c.kind, c.aspect) for c in diff.section("rules")}
    assert got == {
        ("boundary.violation", "then.points"): ("changed", "points"),
        ("boundary.violation", "then.floor"): ("changed", "floor"),
        ("boundary.violation", "then.recommend"): ("changed", "recommendations"),
        ("boundary.crossing", "then.assert"): ("changed", "findings"),
    }
    (finding,) = diff.section("findings")
    assert (finding.kind, finding.id, finding.new) == (
        "added",
        "boundary.any_crossing",
        ["boundary.crossing"],
    )
    text = diff.to_text()
    assert "~ boundary.crossing: then.assert (findings): + boundary.any_crossing" in text
    assert "~ boundary.violation: then.recommend (recommendations): + peer_consultation" in text


CRISIS_HIGH = BASE["hazards"]["crisis"]["bands"]["high"]


def test_a_changed_band() -> None:
    def change(d: dict[str, Any]) -> None:
        d["hazards"]["crisis"]["bands"]["high"] = CRISIS_HIGH + 1

    diff = diff_rulesets(DEFAULT, variant(change))
    assert only(diff) == Change(
        section="hazards",
        kind="changed",
        id="crisis",
        path="bands.high",
        aspect="bands",
        old=CRISIS_HIGH,
        new=CRISIS_HIGH + 1,
    )
    expected = f"hazards (1 change)\n  ~ crisis: bands.high: {CRISIS_HIGH} -> {CRISIS_HIGH + 1}\n"
    assert expected in diff.to_text()


def test_a_cap_and_a_band_recommendation() -> None:
    def change(d: dict[str, Any]) -> None:
        d["hazards"]["crisis"]["cap"] = 1000
        d["hazards"]["caseload"]["recommend"] = {"critical": ["caseload_reduction"]}

    diff = diff_rulesets(DEFAULT, variant(change))
    got = {(c.id, c.path, c.kind, c.aspect) for c in diff.changes}
    assert ("crisis", "cap", "added", "cap") in got
    assert "cap" not in BASE["hazards"]["crisis"]
    assert any(i == "caseload" and a == "recommendations" for i, _, _, a in got)


def test_a_changed_parameter_default_and_bounds() -> None:
    name = sorted(BASE["parameters"])[0]
    default = BASE["parameters"][name]["default"]

    def change(d: dict[str, Any]) -> None:
        d["parameters"][name]["default"] = default + 1

    assert only(diff_rulesets(DEFAULT, variant(change))) == Change(
        section="parameters",
        kind="changed",
        id=name,
        path="default",
        aspect="default",
        old=default,
        new=default + 1,
    )

    def bounds(d: dict[str, Any]) -> None:
        d["parameters"][name]["max"] = 10_000

    c = only(diff_rulesets(DEFAULT, variant(bounds)))
    assert (c.path, c.aspect, c.new) == ("max", "bounds", 10_000)


def test_inputs_protocols_and_levels() -> None:
    def change(d: dict[str, Any]) -> None:
        d["inputs"]["client.sex"]["values"] = [*d["inputs"]["client.sex"]["values"], "other"]
        d["inputs"]["clinician.active_clients"]["max"] = 999
        d["protocols"]["crisis_intervention"]["urgency"] = "urgent"
        d["protocols"]["crisis_intervention"]["title"] = "Crisis"

    assert BASE["protocols"]["crisis_intervention"]["urgency"] == "immediate"

    diff = diff_rulesets(DEFAULT, variant(change))
    got = {(c.section, c.id, c.path, c.aspect) for c in diff.changes}
    assert got == {
        ("inputs", "client.sex", "values", "values"),
        ("inputs", "clinician.active_clients", "max", "bounds"),
        ("protocols", "crisis_intervention", "urgency", "urgency"),
        ("protocols", "crisis_intervention", "title", "title"),
    }
    assert '~ crisis_intervention: urgency: "immediate" -> "urgent"' in diff.to_text()


def test_levels_and_version() -> None:
    def change(d: dict[str, Any]) -> None:
        d["levels"] = [*d["levels"], "extreme"]
        d["version"] = "2.0.0"

    diff = diff_rulesets(DEFAULT, variant(change))
    assert [(c.section, c.id) for c in diff.changes] == [("ruleset", "version"), ("levels", "")]
    text = diff.to_text()
    assert '~ version: "1.0.0" -> "2.0.0"' in text
    assert '~ levels: ["low", "moderate", "high", "critical"] -> ' in text
    assert "default 2.0.0" in text.splitlines()[1]


def test_a_moved_rule_is_only_an_order_change() -> None:
    moved = BASE["rules"][3]["id"]

    def change(d: dict[str, Any]) -> None:
        d["rules"].append(d["rules"].pop(3))

    diff = diff_rulesets(DEFAULT, variant(change))
    last = len(BASE["rules"]) - 1
    assert only(diff) == Change(
        section="rules", kind="moved", id=moved, aspect="order", old=3, new=last
    )
    assert f"~ {moved}: moved rules[3] -> rules[{last}]" in diff.to_text()


def test_two_swapped_rules() -> None:
    def change(d: dict[str, Any]) -> None:
        d["rules"][0], d["rules"][1] = d["rules"][1], d["rules"][0]

    c = only(diff_rulesets(DEFAULT, variant(change)))
    assert c.kind == "moved"
    assert {c.old, c.new} == {0, 1}


def _reformat(value: Any) -> Any:
    """Mapping keys in reverse order (except band order, which the level scale fixes)."""
    if isinstance(value, dict):
        keys = list(value) if "low" in value else list(reversed(value))
        return {k: _reformat(value[k]) for k in keys}
    if isinstance(value, list):
        return [_reformat(v) for v in value]
    return value


def test_reformatted_and_reordered_files_are_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copied = tmp_path / "rulesets"
    copied.mkdir()
    for source in (ROOT / "rulesets").glob("*.yaml"):
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        text = yaml.safe_dump(_reformat(data), sort_keys=False, default_flow_style=True, width=70)
        (copied / source.name).write_text(
            "# yaml-language-server: $schema=../schemas/ruleset.schema.json\n" + text,
            encoding="utf-8",
        )
    a, b = ROOT / "rulesets" / "default.yaml", copied / "default.yaml"
    assert a.read_text(encoding="utf-8") != b.read_text(encoding="utf-8")
    assert diff_rulesets(a, b).identical
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert out.endswith("\nno semantic differences\n")
    assert out.count(DEFAULT.fingerprint) == 2


def test_one_file_instead_of_many_is_identical(tmp_path: Path) -> None:
    single = tmp_path / "single.yaml"
    single.write_text(dump_ruleset(DEFAULT), encoding="utf-8")
    assert diff_rulesets("default", single).identical


def test_json_shape() -> None:
    def change(d: dict[str, Any]) -> None:
        d["hazards"]["crisis"]["bands"]["high"] = CRISIS_HIGH + 1
        d["rules"].remove(rule(d, "stss.mild"))

    data = json.loads(diff_rulesets(DEFAULT, variant(change)).to_json())
    assert set(data) == {"a", "b", "identical", "changes"}
    assert data["identical"] is False
    for side in ("a", "b"):
        assert set(data[side]) == {"ruleset", "version", "fingerprint"}
    assert data["a"]["fingerprint"] == DEFAULT.fingerprint
    assert [c["section"] for c in data["changes"]] == ["hazards", "rules", "findings"]
    for c in data["changes"]:
        assert set(c) == {"section", "kind", "id", "path", "aspect", "old", "new"}
        assert c["section"] in SECTIONS
        assert c["kind"] in ("added", "removed", "changed", "moved")
    assert data["changes"][0] == {
        "section": "hazards",
        "kind": "changed",
        "id": "crisis",
        "path": "bands.high",
        "aspect": "bands",
        "old": CRISIS_HIGH,
        "new": CRISIS_HIGH + 1,
    }


def test_scenarios_are_not_compared() -> None:
    assert diff_rulesets(DEFAULT, variant(lambda d: d.update(tests=[]))).identical


@pytest.fixture
def changed_file(tmp_path: Path) -> Path:
    def change(d: dict[str, Any]) -> None:
        rule(d, "proqol.sts_high")["when"]["gte"] = STS_HIGH + 3

    target = tmp_path / "changed.yaml"
    target.write_text(dump_ruleset(variant(change)), encoding="utf-8")
    return target


def test_cli_exit_1_and_text_when_different(
    changed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "default", str(changed_file)]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith("--- default ")
    assert lines[0].endswith(f"fingerprint {DEFAULT.fingerprint}")
    assert lines[1].startswith(f"+++ {changed_file} ")
    assert "rules (1 change)" in lines
    assert f"  ~ proqol.sts_high: when.gte (threshold): {STS_HIGH} -> {STS_HIGH + 3}" in lines


def test_cli_json(changed_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(changed_file), "default", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    (change,) = data["changes"]
    assert (change["old"], change["new"]) == (STS_HIGH + 3, STS_HIGH)
    assert data["b"]["fingerprint"] == DEFAULT.fingerprint


def test_cli_exit_0_when_identical(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "default", "default", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["identical"] is True
    assert data["changes"] == []


def test_cli_exit_2_on_load_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("ruleset: x\nversion: '1'\ntitle: [unclosed\n", encoding="utf-8")
    assert main(["diff", "default", str(broken)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"riskrules: {broken}:")
    assert main(["diff", str(tmp_path / "missing.yaml"), "default"]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    assert main(["diff", "default"]) == 2
    assert "required" in capsys.readouterr().err


_RULE_IDS = [r["id"] for r in BASE["rules"]]


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """A few edits that may or may not change anything (a value may be set to itself)."""
    ops = st.one_of(
        st.tuples(st.just("points"), st.tuples(st.sampled_from(_RULE_IDS), st.integers(0, 3))),
        st.tuples(
            st.just("move"),
            st.tuples(st.integers(0, len(_RULE_IDS) - 1), st.integers(0, len(_RULE_IDS) - 1)),
        ),
        st.tuples(st.just("salience"), st.tuples(st.sampled_from(_RULE_IDS), st.integers(0, 1))),
        st.tuples(st.just("urgency"), st.sampled_from(["urgent", "immediate"])),
        st.tuples(st.just("cap"), st.sampled_from([None, 1000])),
    )
    return draw(st.lists(ops, max_size=4))


def _apply(d: dict[str, Any], edit: tuple[str, Any]) -> None:
    name, arg = edit
    if name == "points":
        rule(d, arg[0])["then"]["points"] = arg[1]
    elif name == "move":
        d["rules"].insert(arg[1], d["rules"].pop(arg[0]))
    elif name == "salience":
        rule(d, arg[0])["salience"] = arg[1]
    elif name == "urgency":
        d["protocols"]["crisis_intervention"]["urgency"] = arg
    elif arg is None:
        d["hazards"]["crisis"].pop("cap", None)
    else:
        d["hazards"]["crisis"]["cap"] = arg


def test_a_reversed_triple_reports_the_two_outer_rules_as_moved() -> None:
    ids = [r.id for r in DEFAULT.rules[:3]]

    def reverse(d: dict[str, Any]) -> None:
        d["rules"][0], d["rules"][2] = d["rules"][2], d["rules"][0]

    diff = diff_rulesets(DEFAULT, variant(reverse))
    moved = {(c.id, c.old, c.new) for c in diff.changes if c.kind == "moved"}
    assert moved == {(ids[0], 0, 2), (ids[2], 2, 0)}


@settings(max_examples=40)
@given(edits())
def test_empty_exactly_when_the_fingerprints_agree(steps: list[tuple[str, Any]]) -> None:
    def change(d: dict[str, Any]) -> None:
        for step in steps:
            _apply(d, step)

    new = variant(change)
    diff = diff_rulesets(DEFAULT, new)
    assert diff.identical == (new.fingerprint == DEFAULT.fingerprint)
    order_old = [r.id for r in DEFAULT.rules]
    order_new = [r.id for r in new.rules]
    for c in diff.changes:
        if c.kind != "moved":
            assert c.old != c.new
            continue
        # a moved rule changed its order relative to at least one rule kept on both sides
        kept = [r for r in order_old if r in order_new and r != c.id]
        assert any(
            (order_old.index(r) < order_old.index(c.id))
            != (order_new.index(r) < order_new.index(c.id))
            for r in kept
        ), c
    back = diff_rulesets(new, DEFAULT)
    flipped = {"added": "removed", "removed": "added"}
    assert sorted((c.section, c.id, c.path) for c in back.changes if c.kind != "moved") == sorted(
        (c.section, c.id, c.path) for c in diff.changes if c.kind != "moved"
    )
    assert {(c.id, flipped.get(c.kind, c.kind)) for c in back.changes if c.kind != "moved"} == {
        (c.id, c.kind) for c in diff.changes if c.kind != "moved"
    }
