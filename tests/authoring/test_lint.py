"""``riskrules.lint`` and ``riskrules lint``: every check fires on a defect and stays silent on a
clean ruleset, claims are sound on generated rulesets, and the default ruleset lints clean."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import riskrules
from riskrules import Diagnostic, RulesetError, Scorer, lint, load_ruleset
from riskrules.authoring import CHECKS
from riskrules.cli import main
from riskrules.engines._base import stratify
from strategies import assessments, rulesets

ROOT = Path(__file__).resolve().parents[2]

CLEAN: dict[str, Any] = {
    "ruleset": "demo",
    "version": "1.0.0",
    "title": "Lint test ruleset",
    "references": {"manual": {"citation": "A scoring manual."}},
    "parameters": {
        "limit": {"type": "integer", "default": 30, "min": 1, "max": 49, "description": "policy"}
    },
    "inputs": {
        "x": {"type": "integer", "min": 0, "max": 50, "source": "manual"},
        "y": {"type": "number", "min": 0, "max": 10},
        "flag": {"type": "boolean"},
        "kind": {"type": "enum", "values": ["a", "b", "c"]},
        "item": {"type": "integer", "values": [0, 2, 4]},
    },
    "hazards": {
        "h": {
            "title": "H",
            "bands": {"low": 0, "moderate": 2, "high": 4, "critical": 6},
            "recommend": {"high": ["review"]},
        }
    },
    "rules": [
        {
            "id": "r.over",
            "hazard": "h",
            "when": {"field": "x", "gt": {"param": "limit"}},
            "then": {"points": 2, "assert": ["over"], "recommend": ["advice"]},
            "because": "x above the limit.",
        },
        {
            "id": "r.strain",
            "hazard": "h",
            "when": {"all": [{"finding": "over"}, {"field": "y", "gte": 5}]},
            "then": {"points": 2, "assert": ["strain"]},
            "because": "Over the limit with y at 5 or more.",
        },
        {
            "id": "r.flag",
            "hazard": "h",
            "when": {"any": [{"field": "flag", "eq": True}, {"field": "kind", "in": ["a", "b"]}]},
            "then": {"points": 2, "floor": "moderate"},
            "because": "Flagged or of kind a or b.",
        },
        {
            "id": "r.item",
            "hazard": "h",
            "when": {"all": [{"field": "item", "eq": 4}, {"not": {"finding": "strain"}}]},
            "then": {"points": 1},
            "because": "Item scored 4 without strain.",
        },
    ],
    "protocols": {
        "advice": {"title": "Advice", "urgency": "routine"},
        "review": {"title": "Review", "urgency": "soon"},
    },
    "tests": [{"name": "strain", "input": {"x": 40, "y": 6}, "expect": {"findings": ["strain"]}}],
}


def ruleset(**changes: Any) -> dict[str, Any]:
    """A copy of the clean ruleset with top-level sections replaced."""
    data = copy.deepcopy(CLEAN)
    data.update(copy.deepcopy(changes))
    return data


def rule(rule_id: str, when: Any, **then: Any) -> dict[str, Any]:
    return {
        "id": rule_id,
        "hazard": "h",
        "when": when,
        "then": then,
        "because": f"Test rule {rule_id}.",
    }


def with_rules(*extra: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = ruleset(**changes)
    data["rules"] = [*data["rules"], *copy.deepcopy(extra)]
    return data


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def run(data: dict[str, Any]) -> list[Diagnostic]:
    """Lint the ruleset loaded from YAML text, so diagnostics carry lines."""
    return lint(to_yaml(data))


def codes(data: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(d.code, d.rule_id) for d in run(data)]


def only(data: dict[str, Any], code: str) -> Diagnostic:
    found = [d for d in run(data) if d.code == code]
    assert len(found) == 1, found
    return found[0]


def line_of(data: dict[str, Any], diagnostic: Diagnostic) -> str:
    assert diagnostic.line is not None
    return to_yaml(data).splitlines()[diagnostic.line - 1]


def test_clean_ruleset_has_no_diagnostics() -> None:
    assert run(CLEAN) == []


def test_public_api() -> None:
    assert riskrules.lint is lint
    assert "lint" in riskrules.__all__
    assert "Diagnostic" in riskrules.__all__
    d = Diagnostic("RR103", "error", "msg", "r", "f.yaml", 3, 7, "rules[0].when")
    with pytest.raises(AttributeError):
        d.code = "RR101"  # type: ignore[misc]
    assert str(d) == "f.yaml:3:7 RR103 error msg"
    assert d.to_dict() == {
        "code": "RR103",
        "severity": "error",
        "message": "msg",
        "rule_id": "r",
        "file": "f.yaml",
        "line": 3,
        "column": 7,
        "path": "rules[0].when",
    }


def test_every_code_has_a_fixed_severity_and_a_docs_entry() -> None:
    docs = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    for code, (severity, summary) in CHECKS.items():
        assert re.fullmatch(r"RR[1-4][0-9][0-9]", code)
        assert severity in ("error", "warning")
        assert summary
        assert re.search(rf"^## {code}\b.*\({severity}\)$", docs, re.M), code


def test_accepts_paths_text_and_rulesets(tmp_path: Path) -> None:
    data = with_rules(rule("r.dead", {"field": "x", "gt": 50}, points=1))
    path = tmp_path / "demo.yaml"
    path.write_text(to_yaml(data), encoding="utf-8")
    from_path = lint(path)
    from_str = lint(str(path))
    assert from_path == from_str
    assert [d.code for d in from_path] == ["RR103"]
    assert from_path[0].file == str(path)
    assert from_path[0].path == "rules[4].when.gt"


def test_ruleset_not_loaded_from_yaml_has_paths_but_no_lines() -> None:
    rs = riskrules.Ruleset.model_validate(
        with_rules(rule("r.dead", {"field": "x", "gt": 50}, points=1))
    )
    (d,) = lint(rs)
    assert (d.file, d.line, d.column, d.path) == (None, None, None, "rules[4].when.gt")
    assert str(d).startswith("<ruleset>:rules[4].when.gt RR103 error ")


def test_load_errors_propagate() -> None:
    with pytest.raises(RulesetError):
        lint("ruleset: demo\nversion: '1'\n")


def test_sorted_by_file_line_column_code() -> None:
    data = with_rules(
        rule("r.dead", {"field": "x", "gt": 50}, points=1),
        rule("r.typo", {"finding": "no_such_finding"}, points=1),
        parameters={**CLEAN["parameters"], "unused": {"default": 1, "description": "spare"}},
    )
    found = run(data)
    assert found == sorted(found, key=lambda d: (d.file or "", d.line or 0, d.column or 0, d.code))
    assert [d.code for d in found] == ["RR303", "RR103", "RR101"]
    assert run(data) == found


def test_rr101_rule_needs_a_finding_no_rule_asserts() -> None:
    data = with_rules(
        rule("r.typo", {"all": [{"field": "x", "gt": 3}, {"finding": "ovr"}]}, points=1)
    )
    d = only(data, "RR101")
    assert (d.severity, d.rule_id, d.path) == ("error", "r.typo", "rules[4].when.all[1]")
    assert "can never fire" in d.message
    assert "needs finding 'ovr', which no rule asserts (did you mean 'over'?)" in d.message
    assert "finding: ovr" in line_of(data, d)


def test_rr101_follows_findings_of_rules_that_can_never_fire() -> None:
    data = with_rules(
        rule("r.dead", {"field": "x", "gt": 50}, **{"assert": ["never"]}),
        rule("r.after", {"finding": "never"}, points=1),
    )
    found = {(d.code, d.rule_id): d for d in run(data)}
    assert set(found) == {("RR103", "r.dead"), ("RR101", "r.after")}
    assert (
        "finding 'never', which only rules that can never fire assert ('r.dead')"
        in found["RR101", "r.after"].message
    )


def test_rr102_finding_test_constant_in_a_rule_that_can_fire() -> None:
    positive = with_rules(
        rule("r.typo", {"any": [{"finding": "ovr"}, {"field": "x", "gt": 3}]}, points=1)
    )
    d = only(positive, "RR102")
    assert (d.severity, d.rule_id, d.path) == ("warning", "r.typo", "rules[4].when.any[0]")
    assert "'ovr', which no rule asserts (did you mean 'over'?); this test is always false" in (
        d.message
    )
    assert [c for c, _ in codes(positive)] == ["RR102"]

    negated = with_rules(
        rule("r.neg", {"all": [{"not": {"finding": "ovr"}}, {"field": "x", "gt": 3}]}, points=1)
    )
    d = only(negated, "RR102")
    assert "read under `not`, this test is always true" in d.message
    assert d.path == "rules[4].when.all[0].not"


def test_rr101_rr102_silent_when_the_finding_is_asserted() -> None:
    data = with_rules(
        rule("r.reads", {"all": [{"finding": "over"}, {"not": {"finding": "strain"}}]}, points=1)
    )
    assert run(data) == []


@pytest.mark.parametrize(
    ("when", "path", "text"),
    [
        ({"field": "x", "gt": 50}, "rules[4].when.gt", "`x > 50` can never hold"),
        ({"field": "item", "eq": 3}, "rules[4].when.eq", "one of 0, 2, 4"),
        ({"field": "kind", "not_in": ["a", "b", "c"]}, "rules[4].when.not_in", "one of a, b, c"),
        ({"field": "x", "gte": {"param": "far"}}, "rules[4].when.gte", "parameter far"),
        ({"not": {"field": "x", "lte": 50}}, "rules[4].when.not.lte", "the `not` around it"),
    ],
)
def test_rr103_single_test_outside_the_declared_domain(when: Any, path: str, text: str) -> None:
    params = {**CLEAN["parameters"], "far": {"default": 60, "min": 51, "description": "far"}}
    data = with_rules(rule("r.dead", when, points=1), parameters=params)
    d = only(data, "RR103")
    assert (d.severity, d.rule_id, d.path) == ("error", "r.dead", path)
    assert "rule 'r.dead' can never fire" in d.message
    assert text in d.message


@pytest.mark.parametrize(
    "when",
    [
        {"all": [{"field": "x", "gt": 5}, {"field": "x", "lt": 3}]},
        {"all": [{"field": "x", "gt": 4.5}, {"field": "x", "lt": 5}]},  # no integer in between
        {"all": [{"field": "y", "gt": 4.5}, {"field": "y", "lte": 4.5}]},
        {"all": [{"field": "y", "between": [1, 2]}, {"field": "y", "between": [3, 4]}]},
        {"all": [{"field": "kind", "eq": "a"}, {"field": "kind", "eq": "b"}]},
        {"all": [{"field": "kind", "in": ["a", "b"]}, {"field": "kind", "not_in": ["a", "b"]}]},
        {"all": [{"field": "flag", "eq": True}, {"field": "flag", "eq": False}]},
        {"all": [{"field": "flag", "present": True}, {"field": "flag", "absent": True}]},
        {"all": [{"field": "x", "absent": True}, {"field": "x", "gt": 3}]},
        {"all": [{"field": "x", "gt": 3}, {"not": {"field": "x", "gt": 3}}]},
        {"all": [{"field": "x", "absent": True}, {"not": {"field": "x", "gt": 3}}]},
        {
            "any": [
                {"all": [{"field": "x", "gt": 5}, {"field": "x", "lt": 3}]},
                {"field": "x", "gt": 50},
            ]
        },
        {"at_least": {"n": 2, "of": [{"field": "x", "gt": 5}, {"field": "x", "lt": 3}]}},
        {"not": {"any": [{"field": "flag", "eq": True}, {"field": "flag", "ne": True}]}},
        {"all": [{"field": "item", "gte": 1}, {"field": "item", "lte": 1.5}]},
    ],
)
def test_rr103_contradictions(when: Any) -> None:
    data = with_rules(rule("r.dead", when, points=1))
    assert codes(data) == [("RR103", "r.dead")]
    assert only(data, "RR103").severity == "error"


@pytest.mark.parametrize(
    "when",
    [
        {"any": [{"field": "x", "gt": 5}, {"field": "x", "lt": 3}]},
        {"all": [{"field": "x", "gt": 4}, {"field": "x", "lt": 6}]},
        {"all": [{"field": "y", "gt": 4.5}, {"field": "y", "lt": 4.6}]},
        {"all": [{"field": "kind", "ne": "a"}, {"field": "kind", "ne": "b"}]},
        {"all": [{"field": "x", "gt": {"param": "limit"}}, {"field": "x", "lt": 5}]},
        {"all": [{"field": "x", "absent": True}, {"not": {"field": "x", "present": True}}]},
        {"not": {"all": [{"field": "x", "gt": 5}, {"field": "x", "lt": 3}]}},
        {
            "at_least": {
                "n": 2,
                "of": [
                    {"field": "x", "gt": 5},
                    {"field": "x", "lt": 3},
                    {"field": "flag", "eq": True},
                ],
            }
        },
        {
            "all": [
                {"field": "x", "gt": 3},
                {"not": {"all": [{"field": "x", "absent": True}, {"field": "flag", "eq": False}]}},
            ]
        },
        {"field": "x", "lte": 50},
        {"not": {"field": "x", "gt": 50}},
    ],
)
def test_rr103_silent_when_the_rule_can_fire(when: Any) -> None:
    # RR106 and RR108 (tests that guard nothing) are checked in test_lint_gaps.py
    found = codes(with_rules(rule("r.live", when, points=1)))
    assert [c for c in found if c[0] not in ("RR106", "RR108")] == []


def test_rr103_names_the_fields_when_no_single_test_is_to_blame() -> None:
    data = with_rules(
        rule("r.dead", {"all": [{"field": "x", "gt": 5}, {"field": "x", "lt": 3}]}, points=1)
    )
    d = only(data, "RR103")
    assert d.path == "rules[4].when"
    assert "its tests of 'x' contradict each other" in d.message
    assert line_of(data, d).strip() == "all:"  # the condition under `when:`


def test_rr104_dead_test_in_a_rule_that_can_still_fire() -> None:
    data = with_rules(
        rule("r.half", {"any": [{"field": "x", "gt": 50}, {"field": "flag", "eq": True}]}, points=1)
    )
    d = only(data, "RR104")
    assert (d.severity, d.rule_id, d.path) == ("warning", "r.half", "rules[4].when.any[0].gt")
    assert "`x > 50` can never hold" in d.message
    assert [c for c, _ in codes(data)] == ["RR104"]


def test_rr105_rule_that_always_fires() -> None:
    data = with_rules(
        rule("r.always", {"any": [{"field": "x", "present": True}, {"field": "x", "absent": True}]})
    )
    d = only(data, "RR105")
    assert (d.severity, d.rule_id, d.path) == ("warning", "r.always", "rules[4].when")


@pytest.mark.parametrize(
    "when",
    [
        {"field": "x", "gte": 0},  # unknown when x is missing
        {"field": "x", "present": True},
        {"not": {"finding": "strain"}},
    ],
)
def test_rr105_silent_when_the_rule_can_fail(when: Any) -> None:
    found = codes(with_rules(rule("r.live", when, points=1)))
    assert [c for c in found if c[0] != "RR106"] == []


def cycle(negative: bool) -> dict[str, Any]:
    reads_b: Any = {"finding": "b"}
    if negative:
        reads_b = {"not": reads_b}
    return with_rules(
        rule("r.a", {"all": [{"field": "x", "gt": 3}, reads_b]}, points=1, **{"assert": ["a"]}),
        rule(
            "r.b",
            {"any": [{"finding": "a"}, {"field": "flag", "eq": True}]},
            points=1,
            **{"assert": ["b"]},
        ),
        tests=[{"name": "t", "input": {}, "expect": {"findings": ["a", "b"]}}],
    )


def test_rr201_negation_inside_a_cycle_is_an_error_not_a_crash() -> None:
    data = cycle(negative=True)
    d = only(data, "RR201")
    assert (d.severity, d.rule_id, d.path) == ("error", "r.a", "rules[4].when.all[1].not")
    assert "'r.a', 'r.b'" in d.message
    assert [c for c, _ in codes(data)] == ["RR201"]
    with pytest.raises(RulesetError):  # what the engines refuse, lint reports
        stratify(load_ruleset(to_yaml(data)))


def test_rr202_positive_cycle_is_a_warning() -> None:
    data = cycle(negative=False)
    d = only(data, "RR202")
    assert (d.severity, d.rule_id) == ("warning", "r.a")
    assert "'a', 'b'" in d.message
    assert [c for c, _ in codes(data)] == ["RR202"]


def test_rr202_self_loop() -> None:
    data = with_rules(
        rule(
            "r.self",
            {"any": [{"finding": "loop"}, {"field": "x", "gt": 3}]},
            **{"assert": ["loop"]},
        ),
        tests=[{"name": "t", "input": {}, "expect": {"not_findings": ["loop"]}}],
    )
    assert codes(data) == [("RR202", "r.self")]


@settings(max_examples=60)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 4), st.booleans()), max_size=3),
        min_size=1,
        max_size=5,
    )
)
def test_rr201_exactly_when_stratification_fails(reads: list[list[tuple[int, bool]]]) -> None:
    """Rule i asserts f<i> and reads the listed findings (True = positively)."""
    rules = []
    for i, deps in enumerate(reads):
        leaves: list[Any] = [{"field": "x", "gt": i}]
        for j, positive in deps:
            leaf: Any = {"finding": f"f{j % len(reads)}"}
            leaves.append(leaf if positive else {"not": leaf})
        rules.append(rule(f"r.r{i}", {"any": leaves}, **{"assert": [f"f{i}"]}))
    rs = riskrules.Ruleset.model_validate(with_rules(*rules))
    try:
        stratify(rs)
    except RulesetError:
        stratifiable = False
    else:
        stratifiable = True
    assert stratifiable == ("RR201" not in {d.code for d in lint(rs)})


def test_rr301_finding_asserted_but_never_read() -> None:
    data = with_rules(rule("r.note", {"field": "x", "gt": 3}, **{"assert": ["noted"]}))
    d = only(data, "RR301")
    assert (d.severity, d.rule_id, d.path) == ("warning", "r.note", "rules[4].then.assert[0]")
    assert "never read" in d.message
    checked = copy.deepcopy(data)
    checked["tests"].append({"name": "n", "input": {}, "expect": {"not_findings": ["noted"]}})
    assert run(checked) == []


def test_rr301_silent_when_a_property_names_the_finding() -> None:
    data = with_rules(rule("r.note", {"field": "x", "gt": 3}, **{"assert": ["noted"]}))
    data["properties"] = [
        {"bounded": {"hazard": "h", "max": "critical", "unless": {"finding": "noted"}}}
    ]
    assert run(data) == []


@pytest.mark.parametrize(
    ("section", "name", "entry", "code"),
    [
        ("inputs", "spare", {"type": "boolean"}, "RR302"),
        ("parameters", "spare", {"default": 1, "description": "spare"}, "RR303"),
        ("protocols", "spare", {"title": "Spare", "urgency": "routine"}, "RR304"),
        ("references", "spare", {"citation": "Spare."}, "RR305"),
    ],
)
def test_unused_declarations(section: str, name: str, entry: Any, code: str) -> None:
    data = ruleset()
    data[section][name] = entry
    d = only(data, code)
    assert (d.severity, d.rule_id, d.path) == ("warning", None, f"{section}.{name}")
    lines = to_yaml(data).splitlines()
    key = next(k for k, text in enumerate(lines, 1) if text.strip().startswith("spare:"))
    assert d.line in (key, key + 1)  # the entry, as written in block style
    assert [c for c, _ in codes(data)] == [code]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            {"all": [{"field": "x", "gt": 3}, {"field": "flag", "eq": True}]},
            {"all": [{"field": "flag", "eq": True}, {"field": "x", "gt": 3}]},
        ),
        (
            {"any": [{"field": "x", "gt": {"param": "limit"}}, {"finding": "over"}]},
            {"any": [{"finding": "over"}, {"any": [{"field": "x", "gt": {"param": "limit"}}]}]},
        ),
        ({"not": {"field": "x", "gt": 3}}, {"field": "x", "lte": 3}),
        ({"field": "kind", "in": ["b", "a"]}, {"field": "kind", "in": ["a", "b", "a"]}),
        ({"field": "y", "gte": 2}, {"field": "y", "gte": 2.0}),
        (
            {"not": {"all": [{"field": "flag", "eq": True}, {"finding": "over"}]}},
            {"any": [{"field": "flag", "ne": True}, {"not": {"finding": "over"}}]},
        ),
    ],
)
def test_rr401_duplicate_conditions(first: Any, second: Any) -> None:
    data = with_rules(rule("r.one", first, points=1), rule("r.two", second, points=2))
    d = only(data, "RR401")
    assert (d.severity, d.rule_id, d.path) == ("warning", "r.two", "rules[5].when")
    assert "same condition as rule 'r.one'" in d.message


@pytest.mark.parametrize(
    ("first", "second", "other_hazard"),
    [
        ({"field": "x", "gt": 3}, {"field": "x", "gte": 3}, False),
        (
            {"all": [{"field": "x", "gt": {"param": "limit"}}, {"field": "flag", "eq": True}]},
            {"all": [{"field": "x", "gt": 30}, {"field": "flag", "eq": True}]},
            False,
        ),
        ({"field": "flag", "eq": True}, {"field": "flag", "eq": True}, True),
        ({"field": "kind", "in": ["a", "b"]}, {"field": "kind", "in": ["a", "c"]}, False),
    ],
)
def test_rr401_silent_for_different_conditions_or_hazards(
    first: Any, second: Any, other_hazard: bool
) -> None:
    data = with_rules(rule("r.one", first, points=1), rule("r.two", second, points=1))
    if other_hazard:
        data["hazards"]["g"] = {"title": "G", "bands": {"low": 0, "moderate": 1}}
        data["rules"][-1]["hazard"] = "g"
    assert "RR401" not in [c for c, _ in codes(data)]


def scored(
    bands: dict[str, float],
    points: list[float],
    floors: list[str | None] | None = None,
    cap: float | None = None,
) -> dict[str, Any]:
    hazard: dict[str, Any] = {"title": "G", "bands": bands}
    if cap is not None:
        hazard["cap"] = cap
    data = ruleset()
    data["hazards"]["g"] = hazard
    for i, p in enumerate(points):
        then: dict[str, Any] = {"points": p}
        floor = floors[i] if floors else None
        if floor:
            then["floor"] = floor
        data["rules"].append({**rule(f"g.r{i}", {"field": "y", "gt": i}, **then), "hazard": "g"})
    return data


def test_rr402_level_skipped_by_the_points() -> None:
    data = scored({"low": 0, "moderate": 2, "high": 4, "critical": 6}, [3, 3])
    d = only(data, "RR402")
    assert (d.severity, d.path) == ("warning", "hazards.g.bands.high")
    assert "possible scores: 0, 3, 6" in d.message
    assert line_of(data, d).strip().startswith("high:")


def test_rr402_with_fractional_points() -> None:
    data = scored({"low": 0, "moderate": 2, "high": 3, "critical": 4}, [1.5, 1.5, 1.5])
    d = only(data, "RR402")
    assert d.path == "hazards.g.bands.moderate"
    assert "possible scores: 0, 1.5, 3, 4.5" in d.message


def test_rr402_level_above_the_maximum() -> None:
    data = scored(
        {"low": 0, "moderate": 2, "high": 10, "critical": 12}, [1, 1, 1], ["critical", None, None]
    )
    d = only(data, "RR402")
    assert d.path == "hazards.g.bands.high"
    assert "at most 3" in d.message


def test_rr403_top_band_out_of_reach() -> None:
    data = scored({"low": 0, "moderate": 2, "critical": 10}, [2, 3])
    d = only(data, "RR403")
    assert (d.severity, d.path) == ("warning", "hazards.g.bands.critical")
    assert "at most 5" in d.message
    capped = scored({"low": 0, "moderate": 2, "critical": 10}, [6, 6], cap=8)
    assert "at most 8 (capped at 8)" in only(capped, "RR403").message


def test_rr403_ignores_rules_that_can_never_fire() -> None:
    data = scored({"low": 0, "critical": 2}, [5])
    data["rules"][-1]["when"] = {"field": "y", "gt": 10}
    assert [c for c, _ in codes(data)] == ["RR403", "RR103"]


@pytest.mark.parametrize(
    ("bands", "points", "floors", "cap"),
    [
        ({"low": 0, "moderate": 2, "high": 4, "critical": 6}, [3, 3], [None, "high"], None),
        ({"low": 0, "moderate": 2, "critical": 10}, [2, 3], ["critical", None], None),
        ({"low": 0, "moderate": 2, "high": 4, "critical": 6}, [1, 1, 2, 2], None, None),
        ({"low": 0, "moderate": 2, "high": 4, "critical": 6}, [3, 5], None, 6),
        ({"low": 0, "high": 1.5}, [0.5, 1.0], None, None),
    ],
)
def test_bands_silent_when_every_level_is_reachable(
    bands: dict[str, float], points: list[float], floors: list[str | None] | None, cap: float | None
) -> None:
    assert codes(scored(bands, points, floors, cap)) == []


def test_rr404_protocol_only_a_dead_rule_recommends() -> None:
    data = with_rules(rule("r.dead", {"field": "x", "gt": 50}, recommend=["spare"]))
    data["protocols"]["spare"] = {"title": "Spare", "urgency": "urgent"}
    d = only(data, "RR404")
    assert (d.severity, d.path) == ("warning", "protocols.spare")
    assert "'r.dead'" in d.message


def test_rr404_protocol_only_an_unreachable_level_recommends() -> None:
    data = scored({"low": 0, "moderate": 2, "critical": 10}, [2, 3], ["critical", None])
    data["protocols"]["spare"] = {"title": "Spare", "urgency": "urgent"}
    data["hazards"]["g"]["recommend"] = {"critical": ["spare"]}
    assert codes(data) == []  # the floor reaches critical
    data["rules"][-2]["then"].pop("floor")
    found = [c for c, _ in codes(data)]
    assert found == ["RR403", "RR404"]
    assert "hazard 'g' never reaches 'critical'" in only(data, "RR404").message


@settings(max_examples=40)
@given(st.data())
def test_claims_hold_on_generated_rulesets(data: st.DataObject) -> None:
    """What lint says can never (or always) happen does not (or does) happen when scoring."""
    rs = data.draw(rulesets(max_rules=8))
    found = lint(rs)
    dead = {d.rule_id for d in found if d.code in ("RR101", "RR103")}
    always = {d.rule_id for d in found if d.code == "RR105"}
    unreachable = {
        (d.path.split(".")[1], d.path.split(".")[3]) for d in found if d.code in ("RR402", "RR403")
    }
    silent = {d.path.split(".")[1] for d in found if d.code == "RR404"}
    facts = data.draw(st.lists(assessments(rs), min_size=1, max_size=8))
    with Scorer(rs, engine="native") as scorer:
        for report in scorer.score_many(facts):
            fired = {f.rule for f in report.fired}
            assert not fired & dead
            assert always <= fired
            for hazard, result in report.hazards.items():
                assert (hazard, result.level) not in unreachable
            assert not {r.protocol for r in report.recommendations} & silent


def test_default_ruleset_lints_clean() -> None:
    assert lint("default") == []
    assert lint(ROOT / "rulesets" / "default.yaml") == []


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["lint", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_default_ruleset_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, str(ROOT / "rulesets" / "default.yaml")) == (0, "", "")
    assert cli(capsys, "--strict", "default") == (0, "", "")


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    data = with_rules(rule("r.dead", {"field": "x", "gt": 50}, points=1))
    data["inputs"]["spare"] = {"type": "boolean"}
    path = tmp_path / "broken.yaml"
    path.write_text(to_yaml(data), encoding="utf-8")
    return path


def test_cli_prints_compiler_lines_and_fails_on_errors(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = cli(capsys, str(broken))
    assert (status, err) == (1, "")
    lines = out.splitlines()
    assert len(lines) == 2
    pattern = re.compile(rf"^{re.escape(str(broken))}:\d+:\d+ (RR\d\d\d) (error|warning) .+$")
    assert [pattern.match(line).groups() for line in lines] == [  # type: ignore[union-attr]
        ("RR302", "warning"),
        ("RR103", "error"),
    ]


def test_cli_warnings_alone_pass_unless_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ruleset()
    data["inputs"]["spare"] = {"type": "boolean"}
    path = tmp_path / "warn.yaml"
    path.write_text(to_yaml(data), encoding="utf-8")
    status, out, _ = cli(capsys, str(path))
    assert status == 0
    assert " RR302 warning " in out
    assert cli(capsys, "--strict", str(path))[0] == 1


def test_cli_json(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "--format", "json", str(broken))
    assert status == 1
    items = json.loads(out)
    assert [(i["code"], i["severity"], i["rule_id"]) for i in items] == [
        ("RR302", "warning", None),
        ("RR103", "error", "r.dead"),
    ]
    assert items == [d.to_dict() for d in lint(broken)]
    assert cli(capsys, "--format", "json", "default") == (0, "[]\n", "")


def test_cli_unloadable_ruleset_exits_2(
    broken: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("ruleset: demo\nversion: '1'\ntitle: T\nrules: 3\n", encoding="utf-8")
    status, out, err = cli(capsys, str(bad), str(broken))
    assert status == 2
    assert err.startswith(f"riskrules: {bad}:4:")
    assert " RR103 error " in out  # the loadable one is still linted


def test_cli_several_paths_report_shared_files_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = {"protocols": {"spare": {"title": "Spare", "urgency": "routine"}}}
    (tmp_path / "shared.yaml").write_text(to_yaml(shared), encoding="utf-8")
    for name in ("a", "b"):
        data = ruleset(ruleset=name, include=["shared.yaml"])
        (tmp_path / f"{name}.yaml").write_text(to_yaml(data), encoding="utf-8")
    status, out, err = cli(capsys, str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"))
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        f"{tmp_path / 'shared.yaml'}:3:5 RR304 warning protocol 'spare' is declared but no rule "
        "or hazard recommends it"
    ]
