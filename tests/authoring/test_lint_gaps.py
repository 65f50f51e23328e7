"""The lint codes for mistakes that load fine and each hide one realistic defect (RR106-RR111,
RR405-RR407, and cycles no rule enters as RR101): each fires on a defective ruleset and stays
silent on the corrected one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from riskrules import Diagnostic, lint

BASE = """\
ruleset: gaps
version: '1'
title: Lint gaps
parameters:
  limit: {type: integer, default: 30, min: 1, max: 49, description: policy}
inputs:
  x: {type: integer, min: 0, max: 50}
  y: {type: number, min: 0, max: 10}
  kind: {type: enum, values: [a, b, c]}
  flag: {type: boolean}
  score: {type: integer, min: 0, max: 40}
hazards:
  h: {title: H, bands: {low: 0, moderate: 2, high: 4, critical: 6}}
rules:
  - {id: r.over, hazard: h, when: {field: x, gt: {param: limit}},
     then: {points: 2, assert: [over]}, because: b}
  - {id: r.strain, hazard: h, when: {all: [{finding: over}, {field: y, gte: 5}]},
     then: {points: 2, assert: [strain]}, because: b}
  - {id: r.flag, hazard: h, when: {all: [{field: flag, eq: true}, {not: {finding: strain}}]},
     then: {points: 1}, because: b}
  - {id: r.kind, hazard: h, when: {field: kind, in: [a, b]},
     then: {points: 1, floor: moderate}, because: b}
  - {id: r.score, hazard: h, when: {field: score, gte: 39},
     then: {points: 1, floor: high}, because: b}
EXTRA
tests:
  - name: strain
    input: {x: 40, y: 6, kind: c, flag: true, score: 3}
    expect: {findings: [strain]}
"""


def lint_with(extra: str = "", **replace: str) -> list[Diagnostic]:
    text = BASE.replace("EXTRA", extra)
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    yaml.safe_load(text)  # the case is valid YAML
    return lint(text)


def codes(found: list[Diagnostic]) -> list[str]:
    return [d.code for d in found]


def only(found: list[Diagnostic], code: str) -> Diagnostic:
    matching = [d for d in found if d.code == code]
    assert len(matching) == 1, found
    return matching[0]


def test_the_base_is_clean() -> None:
    assert lint_with() == []


# (defect, correction, code, rule id, fragment of the message)
CASES: list[tuple[str, str, str, str | None, str]] = [
    (  # a guard at the input's own minimum
        "  - {id: r.g, hazard: h, when: {all: [{field: x, gte: 0}, {field: flag, eq: true}]},"
        " then: {points: 1}, because: b}",
        "  - {id: r.g, hazard: h, when: {all: [{field: x, gte: 10}, {field: flag, eq: true}]},"
        " then: {points: 1}, because: b}",
        "RR106",
        "r.g",
        "the test of 'x' holds for every value the input can take",
    ),
    (  # an `in` listing every enum value
        "  - {id: r.e, hazard: h, when: {field: kind, in: [a, b, c]}, then: {points: 1},"
        " because: b}",
        "  - {id: r.e, hazard: h, when: {field: kind, in: [a, c]}, then: {points: 1}, because: b}",
        "RR106",
        "r.e",
        "guards nothing but the input's presence",
    ),
    (  # no effect at all
        "  - {id: r.none, hazard: h, when: {field: x, gt: 45}, then: {}, because: b}",
        "  - {id: r.none, hazard: h, when: {field: x, gt: 45}, then: {points: 1}, because: b}",
        "RR107",
        "r.none",
        "has no effect",
    ),
    (  # a floor at the lowest level is no effect either
        "  - {id: r.low, hazard: h, when: {field: x, gt: 45}, then: {floor: low}, because: b}",
        "  - {id: r.low, hazard: h, when: {field: x, gt: 45}, then: {floor: high}, because: b}",
        "RR107",
        "r.low",
        "its floor 'low' is the lowest level",
    ),
    (  # a negated presence test fires on missing data
        "  - {id: r.neg, hazard: h, when: {not: {all: [{field: x, present: true},"
        " {field: x, lt: 5}]}}, then: {points: 1}, because: b}",
        "  - {id: r.neg, hazard: h, when: {field: x, gte: 5}, then: {points: 1}, because: b}",
        "RR108",
        "r.neg",
        "fires on missing data",
    ),
    (  # its own tests exclude the asserting rule's condition
        "  - {id: r.p, hazard: h, when: {field: x, gt: 35}, then: {points: 1, assert: [big]},"
        " because: b}\n"
        "  - {id: r.n, hazard: h, when: {all: [{finding: big}, {field: x, lt: 20}]},"
        " then: {points: 1}, because: b}",
        "  - {id: r.p, hazard: h, when: {field: x, gt: 35}, then: {points: 1, assert: [big]},"
        " because: b}\n"
        "  - {id: r.n, hazard: h, when: {all: [{finding: big}, {field: x, gt: 40}]},"
        " then: {points: 1}, because: b}",
        "RR109",
        "r.n",
        "its own tests exclude every assessment on which 'r.p' can assert",
    ),
    (  # a parameter that can be set beyond the input's range
        "  - {id: r.q, hazard: h, when: {field: score, gt: {param: cut}}, then: {points: 1},"
        " because: b}",
        "  - {id: r.q, hazard: h, when: {field: score, gt: {param: cut}}, then: {points: 1},"
        " because: b}",
        "RR110",
        "r.q",
        "parameter 'cut' is compared with 'score', whose values lie in [0, 40]",
    ),
    (  # subsumed by a broader rule with the same effect
        "  - {id: r.narrow, hazard: h, when: {field: y, gt: 8}, then: {floor: high},"
        " because: b}\n"
        "  - {id: r.broad, hazard: h, when: {field: y, gt: 6}, then: {floor: high}, because: b}",
        "  - {id: r.narrow, hazard: h, when: {field: y, gt: 8}, then: {floor: critical},"
        " because: b}\n"
        "  - {id: r.broad, hazard: h, when: {field: y, gt: 6}, then: {floor: high}, because: b}",
        "RR111",
        "r.narrow",
        "is subsumed by rule 'r.broad'",
    ),
    (  # a floor at a level the bands do not define
        "  - {id: r.fl, hazard: h2, when: {field: x, gt: 45}, then: {points: 1, floor: high},"
        " because: b}",
        "  - {id: r.fl, hazard: h2, when: {field: x, gt: 45}, then: {points: 1, floor: moderate},"
        " because: b}",
        "RR405",
        "r.fl",
        "a level the bands of hazard 'h2' do not define",
    ),
    (  # overlapping zones
        "  - {id: z.a, hazard: h, when: {field: score, between: [0, 10]}, then: {points: 1},"
        " because: b}\n"
        "  - {id: z.b, hazard: h, when: {field: score, between: [10, 20]}, then: {points: 2},"
        " because: b}\n"
        "  - {id: z.c, hazard: h, when: {field: score, gt: 20}, then: {points: 3}, because: b}",
        "  - {id: z.a, hazard: h, when: {field: score, between: [0, 9]}, then: {points: 1},"
        " because: b}\n"
        "  - {id: z.b, hazard: h, when: {field: score, between: [10, 20]}, then: {points: 2},"
        " because: b}\n"
        "  - {id: z.c, hazard: h, when: {field: score, gt: 20}, then: {points: 3}, because: b}",
        "RR407",
        "z.b",
        "overlap: 10 is in both",
    ),
    (  # a gap between zones
        "  - {id: z.a, hazard: h, when: {field: score, between: [0, 9]}, then: {points: 1},"
        " because: b}\n"
        "  - {id: z.b, hazard: h, when: {field: score, between: [10, 20]}, then: {points: 2},"
        " because: b}\n"
        "  - {id: z.c, hazard: h, when: {field: score, gte: 25}, then: {points: 3}, because: b}",
        "  - {id: z.a, hazard: h, when: {field: score, between: [0, 9]}, then: {points: 1},"
        " because: b}\n"
        "  - {id: z.b, hazard: h, when: {field: score, between: [10, 20]}, then: {points: 2},"
        " because: b}\n"
        "  - {id: z.c, hazard: h, when: {field: score, gte: 21}, then: {points: 3}, because: b}",
        "RR407",
        "z.c",
        "with a gap: 21 is in no range",
    ),
]
H2 = "\n  h2: {title: H2, bands: {low: 0, moderate: 1, critical: 3}}\nrules:"
PARAMS = {
    "RR110": (
        "parameters:\n",
        "parameters:\n  cut: {type: integer, default: 20, min: 0, max: 100,"
        " description: a cut-off}\n",
        "parameters:\n  cut: {type: integer, default: 20, min: 0, max: 40,"
        " description: a cut-off}\n",
    )
}


def _case(extra: str, code: str, corrected: bool) -> list[Diagnostic]:
    replace: dict[str, Any] = {}
    if code == "RR405":
        replace["\nrules:"] = H2
    if code in PARAMS:
        old, bad, good = PARAMS[code]
        replace[old] = good if corrected else bad
    return lint_with(extra, **replace)


@pytest.mark.parametrize(("defect", "correction", "code", "rule_id", "text"), CASES)
def test_the_defect_is_found_and_the_correction_is_clean(
    defect: str, correction: str, code: str, rule_id: str | None, text: str
) -> None:
    found = only(_case(defect, code, corrected=False), code)
    assert found.rule_id == rule_id
    assert text in found.message
    assert found.line is not None
    assert found.file == "<string>"
    severity = "error" if code in ("RR107", "RR109", "RR405") else "warning"
    assert found.severity == severity
    assert code not in codes(_case(correction, code, corrected=True))


def test_a_cycle_no_rule_enters_makes_its_rules_dead() -> None:
    cycle = (
        "  - {id: r.c1, hazard: h, when: {all: [{finding: c2}, {field: x, gt: 1}]},"
        " then: {points: 1, assert: [c1]}, because: b}\n"
        "  - {id: r.c2, hazard: h, when: {all: [{finding: c1}, {field: y, gt: 1}]},"
        " then: {points: 1, assert: [c2]}, because: b}"
    )
    found = lint_with(cycle)
    dead = [d for d in found if d.code == "RR101"]
    assert [(d.rule_id, d.severity) for d in dead] == [("r.c1", "error"), ("r.c2", "error")]
    assert "RR202" in codes(found)
    entered = cycle.replace("{all: [{finding: c1}, {field: y, gt: 1}]}", "{field: y, gt: 1}")
    assert "RR101" not in codes(lint_with(entered))
    way_in = cycle.replace(
        "{all: [{finding: c1}, {field: y, gt: 1}]}",
        "{any: [{finding: c1}, {field: y, gt: 1}]}",
    )
    assert "RR101" not in codes(lint_with(way_in))


def test_a_hazard_without_rules() -> None:
    assert "RR406" not in codes(lint_with())
    empty = BASE.replace("EXTRA", "").replace(
        "\nrules:", "\n  unused: {title: U, bands: {low: 0, high: 1}}\nrules:", 1
    )
    d = only(lint(empty), "RR406")
    assert d.path == "hazards.unused"
    assert "hazard 'unused' has no rules" in d.message


def test_nested_thresholds_that_add_points_are_not_subsumed() -> None:
    cumulative = (
        "  - {id: r.t1, hazard: h, when: {field: y, gt: 6}, then: {points: 1}, because: b}\n"
        "  - {id: r.t2, hazard: h, when: {field: y, gt: 8}, then: {points: 1}, because: b}"
    )
    assert "RR111" not in codes(lint_with(cumulative))


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ("{field: x, lte: 50}", "RR106"),
        ("{not: {field: x, gt: 50}}", "RR106"),
        ("{field: x, gte: {param: limit0}}", "RR106"),
        ("{all: [{field: x, absent: true}, {not: {field: x, present: true}}]}", "RR108"),
    ],
)
def test_more_guards_that_guard_nothing(when: str, code: str) -> None:
    extra = f"  - {{id: r.g, hazard: h, when: {when}, then: {{points: 1}}, because: b}}"
    param = "parameters:\n  limit0: {type: integer, default: 0, min: 0, max: 0, description: z}\n"
    found = lint_with(extra, **{"parameters:\n": param})
    assert only(found, code).rule_id == "r.g"


def test_a_variant_is_not_told_what_it_leaves_unused_in_its_base(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(BASE.replace("EXTRA", ""), "utf-8")
    variant = tmp_path / "variant.yaml"
    variant.write_text(
        "ruleset: v\nversion: '1'\ntitle: V\nextends: base.yaml\ndisable: [r.over]\n", "utf-8"
    )
    found = lint(variant)
    # disabling r.over leaves the parameter unused (not reported: the base declares it) and
    # makes r.strain dead (reported: the variant broke it)
    assert "RR303" not in codes(found)
    dead = only(found, "RR101")
    assert dead.rule_id == "r.strain"
    assert dead.file is not None
    assert dead.file.endswith("base.yaml")
