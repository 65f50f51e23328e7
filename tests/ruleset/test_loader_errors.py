"""Bad rulesets, one defect each: every error is one located RulesetError in plain words.

Most cases start from ``tests/data/caseload.yaml`` and change one thing; the expected line and
column are those of the changed text in the edited file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from riskrules import RulesetError, load_ruleset

DATA = Path(__file__).parents[1] / "data"
BASE = (DATA / "caseload.yaml").read_text(encoding="utf-8")
HEADER = "# yaml-language-server: $schema=../schemas/ruleset.schema.json\n"
OPERATORS = "eq, ne, gt, gte, lt, lte, in, not_in, between, present, absent"

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@dataclass(frozen=True)
class Bad:
    """One defective ruleset and the error it must give."""

    name: str
    message: str
    line: int | None
    column: int | None
    path: str
    rule_id: str | None = None
    old: str = ""
    new: str = ""
    files: dict[str, str] = field(default_factory=dict)
    """Whole files instead of an edit of the base; ``main.yaml`` is loaded."""
    file: str = "caseload.yaml"
    fragment: bool = False
    """``message`` is only a fragment of the message."""

    def write(self, directory: Path) -> str:
        if self.files:
            for name, text in self.files.items():
                (directory / name).write_text(text, encoding="utf-8")
            return "main.yaml"
        assert self.old in BASE, f"{self.name}: {self.old!r} is not in the base ruleset"
        edited = BASE.replace(self.old, self.new, 1)
        (directory / "caseload.yaml").write_text(edited, encoding="utf-8")
        return "caseload.yaml"


def _manifest(*includes: str) -> str:
    listed = ", ".join(includes)
    return f"{HEADER}ruleset: main\nversion: '1'\ntitle: Main\ninclude: [{listed}]\n"


_RULE = "rules:\n  - {id: x.dup, hazard: h, when: {finding: f}, then: {}, because: b}\n"
_HAZARD = "hazards:\n  h: {title: H, bands: {low: 0}}\n"

CASES = [
    Bad(
        "yaml syntax",
        "invalid YAML: mapping values are not allowed in this context",
        5,
        16,
        "",
        old="title: Caseload and burnout\nreferences",
        new="title: Caseload: burnout\nreferences",
    ),
    Bad(
        "duplicate key",
        "duplicate key 'version' (first defined at line 4)",
        6,
        1,
        "",
        old="title: Caseload and burnout\n",
        new="title: Caseload and burnout\nversion: 1.0.1\n",
    ),
    Bad(
        "yes is not a boolean in a condition",
        "boolean input 'clinician.life_crisis' compares with true or false, not 'yes'",
        44,
        48,
        "rules[2].when.at_least.of[1].eq",
        "caseload.strained_setting",
        old="life_crisis, eq: true}",
        new="life_crisis, eq: yes}",
    ),
    Bad(
        "yes is not a boolean in a model field",
        "expected true or false, got 'yes' (only true and false are booleans)",
        58,
        35,
        "tests[0].expect.complete.caseload",
        old="expect: {levels: {caseload: high},",
        new="expect: {complete: {caseload: yes},",
    ),
    Bad(
        "unknown key",
        "unknown key 'pints' (did you mean 'points'?)",
        34,
        12,
        "rules[1].then",
        "caseload.burnout_high",
        old="then: {points: 4",
        new="then: {pints: 4",
    ),
    Bad(
        "renamed key",
        "unknown key 'reason' (expected 'because')",
        48,
        5,
        "rules[2]",
        "caseload.strained_setting",
        old="    because: Two or more strains at once.",
        new="    reason: Two or more strains at once.",
    ),
    Bad(
        "misspelt condition key",
        "unknown key 'fild' (did you mean 'field'?)",
        32,
        11,
        "rules[1].when.all[1]",
        "caseload.burnout_high",
        old="- field: clinician.proqol.burnout",
        new="- fild: clinician.proqol.burnout",
    ),
    Bad(
        "unknown input with did-you-mean",
        "unknown input 'clinician.proqol.burnot' (did you mean 'clinician.proqol.burnout'?)",
        32,
        11,
        "rules[1].when.all[1]",
        "caseload.burnout_high",
        old="- field: clinician.proqol.burnout",
        new="- field: clinician.proqol.burnot",
    ),
    Bad(
        "unknown hazard",
        "unknown hazard 'caselod' (did you mean 'caseload'?)",
        38,
        13,
        "rules[2].hazard",
        "caseload.strained_setting",
        old="strained_setting\n    hazard: caseload",
        new="strained_setting\n    hazard: caselod",
    ),
    Bad(
        "unknown protocol",
        "unknown protocol 'peer_consult' (did you mean 'peer_consultation'?)",
        25,
        69,
        "rules[0].then.recommend[0]",
        "caseload.over_capacity",
        old="recommend: [peer_consultation]",
        new="recommend: [peer_consult]",
    ),
    Bad(
        "unknown parameter",
        "unknown parameter 'max_active_client' (did you mean 'max_active_clients'?)",
        24,
        49,
        "rules[0].when.gt",
        "caseload.over_capacity",
        old="{param: max_active_clients}",
        new="{param: max_active_client}",
    ),
    Bad(
        "misspelt parameter reference key",
        "unknown key 'parm' (did you mean 'param'?)",
        24,
        50,
        "rules[0].when.gt",
        "caseload.over_capacity",
        old="{param: max_active_clients}",
        new="{parm: max_active_clients}",
    ),
    Bad(
        "unknown source reference",
        "unknown reference 'proqol6' (did you mean 'proqol5'?)",
        36,
        13,
        "rules[1].source",
        "caseload.burnout_high",
        old="    source: proqol5",
        new="    source: proqol6",
    ),
    Bad(
        "gt on a boolean input",
        "operator 'gt' does not apply to boolean input 'clinician.life_crisis'; use eq/ne",
        44,
        48,
        "rules[2].when.at_least.of[1].gt",
        "caseload.strained_setting",
        old="life_crisis, eq: true}",
        new="life_crisis, gt: 1}",
    ),
    Bad(
        "gt on an enum input",
        "operator 'gt' does not apply to enum input 'clinician.setting'; use eq, ne, in or not_in",
        43,
        44,
        "rules[2].when.at_least.of[0].gt",
        "caseload.strained_setting",
        old="in: [inpatient, community]",
        new="gt: inpatient",
    ),
    Bad(
        "undeclared enum value",
        "'comunity' is not a declared value of 'clinician.setting' "
        "(inpatient, outpatient, community) (did you mean 'community'?)",
        43,
        44,
        "rules[2].when.at_least.of[0].in",
        "caseload.strained_setting",
        old="in: [inpatient, community]",
        new="in: [inpatient, comunity]",
    ),
    Bad(
        "constant out of the input's bounds",
        "60 is above the declared maximum 50 of 'clinician.proqol.burnout'",
        33,
        16,
        "rules[1].when.all[1].gte",
        "caseload.burnout_high",
        old="gte: 42",
        new="gte: 60",
    ),
    Bad(
        "hexadecimal is not a number",
        "numeric input 'clinician.proqol.burnout' compares with numbers, not '0x2A'",
        33,
        16,
        "rules[1].when.all[1].gte",
        "caseload.burnout_high",
        old="gte: 42",
        new="gte: 0x2A",
    ),
    Bad(
        "nan as a threshold",
        "nan is not a finite number",
        33,
        16,
        "rules[1].when.all[1].gte",
        "caseload.burnout_high",
        old="gte: 42",
        new="gte: .nan",
    ),
    Bad(
        "bands not increasing",
        "band thresholds must be strictly increasing: high at 3 is not above moderate at 3",
        19,
        40,
        "hazards.caseload.bands.high",
        old="high: 6, critical",
        new="high: 3, critical",
    ),
    Bad(
        "bands in the wrong order",
        "bands must follow the level scale order (low, moderate, high, critical): "
        "'moderate' comes after 'high'",
        19,
        40,
        "hazards.caseload.bands.moderate",
        old="{low: 0, moderate: 3, high: 6, critical: 10}",
        new="{low: 0, high: 3, moderate: 6, critical: 10}",
    ),
    Bad(
        "band level not in the scale",
        "unknown level 'severe'",
        19,
        51,
        "hazards.caseload.bands.severe",
        old="critical: 10}",
        new="severe: 10}",
    ),
    Bad(
        "floor is not a level",
        "unknown level 'hihg' (did you mean 'high'?)",
        34,
        30,
        "rules[1].then.floor",
        "caseload.burnout_high",
        old="floor: high",
        new="floor: hihg",
    ),
    Bad(
        "duplicate rule id across included files",
        "duplicate rule id 'x.dup' (also defined at a.yaml:5:10)",
        3,
        10,
        "rules[0].id",
        "x.dup",
        files={
            "main.yaml": _manifest("a.yaml", "b.yaml"),
            "a.yaml": HEADER + _HAZARD + _RULE,
            "b.yaml": HEADER + _RULE,
        },
        file="b.yaml",
    ),
    Bad(
        "duplicate input across included files",
        "duplicate input 'x' (also defined at a.yaml:3:3)",
        3,
        3,
        "inputs",
        files={
            "main.yaml": _manifest("a.yaml", "b.yaml"),
            "a.yaml": HEADER + "inputs:\n  x: {type: boolean}\n",
            "b.yaml": HEADER + "inputs:\n  x: {type: boolean}\n",
        },
        file="b.yaml",
    ),
    Bad(
        "include cycle",
        "include cycle: a.yaml -> b.yaml -> a.yaml",
        2,
        11,
        "include[0]",
        files={
            "main.yaml": _manifest("a.yaml"),
            "a.yaml": HEADER + "include: [b.yaml]\n",
            "b.yaml": HEADER + "include: [a.yaml]\n",
        },
        file="b.yaml",
    ),
    Bad(
        "missing include file",
        "cannot include 'nope.yaml': file not found",
        5,
        19,
        "include[1]",
        files={"main.yaml": _manifest("a.yaml", "nope.yaml"), "a.yaml": HEADER + _HAZARD},
        file="main.yaml",
    ),
    Bad(
        "missing ruleset id on the top file",
        "missing required key 'ruleset' (the top file of a ruleset declares ruleset, "
        "version and title)",
        3,
        1,
        "",
        old="ruleset: caseload\n",
        new="",
    ),
    Bad(
        "at_least n larger than its list",
        "at_least n=5 but only 4 conditions listed",
        41,
        9,
        "rules[2].when.at_least",
        "caseload.strained_setting",
        old="n: 2",
        new="n: 5",
    ),
    Bad(
        "two operators in a leaf",
        f"a field test needs exactly one operator ({OPERATORS}); got gte, lt",
        32,
        11,
        "rules[1].when.all[1]",
        "caseload.burnout_high",
        old="gte: 42\n",
        new="gte: 42\n          lt: 45\n",
    ),
    Bad(
        "no operator in a leaf",
        f"a field test needs exactly one operator ({OPERATORS}); got none",
        32,
        11,
        "rules[1].when.all[1]",
        "caseload.burnout_high",
        old="          gte: 42\n",
        new="",
    ),
    Bad(
        "two condition kinds in one mapping",
        "a condition takes exactly one of all, any, not, at_least, field, finding; "
        "got 'finding' and 'field'",
        31,
        11,
        "rules[1].when.all[0]",
        "caseload.burnout_high",
        old="- finding: caseload.over_capacity",
        new="- {finding: caseload.over_capacity, field: x}",
    ),
    Bad(
        "wrong type for points",
        "expected a number, got 'three'",
        25,
        20,
        "rules[0].then.points",
        "caseload.over_capacity",
        old="points: 3",
        new="points: three",
    ),
    Bad(
        "wrong type for salience",
        "expected an integer, got 1.5",
        48,
        15,
        "rules[2].salience",
        "caseload.strained_setting",
        old="    then: {points: 1.5}\n",
        new="    then: {points: 1.5}\n    salience: 1.5\n",
    ),
    Bad(
        "number where text is needed",
        "expected a string, got 1.0 (quote it to make it text)",
        4,
        10,
        "version",
        old="version: 1.0.0",
        new="version: 1.0",
    ),
    Bad(
        "missing because",
        "missing required key 'because'",
        37,
        5,
        "rules[2]",
        "caseload.strained_setting",
        old="    because: Two or more strains at once.\n",
        new="",
    ),
    Bad(
        "invalid id",
        "'Caseload' is not an id (lower-case letters, digits and _, starting with a letter)",
        17,
        3,
        "hazards",
        old="hazards:\n  caseload:",
        new="hazards:\n  Caseload:",
    ),
    Bad(
        "non-string key",
        "mapping keys must be strings, not integer 1",
        8,
        3,
        "references",
        old="parameters:\n",
        new="  1: {citation: x}\nparameters:\n",
    ),
    Bad(
        "python tag",
        "unsupported tag '!!python/object/apply:os.system'",
        8,
        13,
        "parameters",
        old="parameters:\n",
        new="parameters: !!python/object/apply:os.system [echo]\n",
    ),
    Bad(
        "top level is a list",
        "a ruleset file must be a mapping of sections, not a list",
        2,
        1,
        "",
        files={"main.yaml": HEADER + "- ruleset: x\n"},
        file="main.yaml",
    ),
    Bad(
        "recursive alias",
        "recursive alias '*x' (it refers to itself)",
        2,
        26,
        "references[3]",
        files={"main.yaml": HEADER + "references: &x [1, 2, 3, *x]\n"},
        file="main.yaml",
    ),
    Bad(
        "values on a number input",
        "only enum and integer inputs take values, not a number input",
        15,
        27,
        "inputs['clinician.trauma_share']",
        fragment=True,
        old="clinician.trauma_share: {type: number, min: 0, max: 1}",
        new="clinician.trauma_share: {type: number, values: [0, 1]}",
    ),
    Bad(
        "allowed integer value outside bounds",
        "value 60 lies outside min/max",
        11,
        29,
        "inputs['clinician.active_clients']",
        fragment=True,
        old="clinician.active_clients: {type: integer, min: 0, max: 1000, unit: clients}",
        new="clinician.active_clients: {type: integer, min: 0, max: 50, values: [10, 60]}",
    ),
    Bad(
        "billion laughs",
        "the document expands to more than 100000 nodes (aliases included)",
        7,
        8,
        "f[0]",
        files={"main.yaml": HEADER + BILLION_LAUGHS},
        file="main.yaml",
    ),
    Bad(
        "oversize file",
        "the file is larger than the 1 MiB limit for a ruleset file",
        None,
        None,
        "",
        files={"main.yaml": HEADER + "description: " + "x" * (1 << 20) + "\n"},
        file="main.yaml",
    ),
]


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 25
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_ruleset(case: Bad, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    entry = case.write(tmp_path)
    with pytest.raises(RulesetError) as caught:
        load_ruleset(entry)
    err = caught.value
    got = (err.file, err.line, err.column, err.path, err.rule_id)
    assert got == (case.file, case.line, case.column, case.path, case.rule_id), str(err)
    if case.fragment:
        assert case.message in err.message
    else:
        assert err.message == case.message


def test_printed_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    edited = BASE.replace("- field: clinician.proqol.burnout", "- field: clinician.proqol.burnot")
    (tmp_path / "caseload.yaml").write_text(edited, encoding="utf-8")
    with pytest.raises(RulesetError) as caught:
        load_ruleset("caseload.yaml")
    assert str(caught.value) == (
        "caseload.yaml:32:11: rules[1].when.all[1]: unknown input 'clinician.proqol.burnot' "
        "(did you mean 'clinician.proqol.burnout'?) [rule caseload.burnout_high]"
    )


def test_an_alias_bomb_is_rejected_at_the_first_alias_over_the_cap() -> None:
    # Expanded, this small document has about 4e8 nodes. The count is kept per anchor while
    # composing, so the rejection comes at the first alias that crosses the cap (f's first
    # *e, line 6) without building anything: "g", "h" and "i" are never even reached.
    assert len(BILLION_LAUGHS.encode()) < 400
    with pytest.raises(RulesetError) as caught:
        load_ruleset(BILLION_LAUGHS)
    assert (caught.value.line, caught.value.column, caught.value.path) == (6, 8, "f[0]")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(BILLION_LAUGHS, max_nodes=10**6)
    assert (caught.value.line, caught.value.column, caught.value.path) == (7, 8, "g[0]")
