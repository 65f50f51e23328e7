"""Assessment validation: every way an input can be wrong gets one located AssessmentError."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from riskrules import AssessmentError, Input, RiskRulesError, Scorer
from scoring_examples import HEAVY, demo_ruleset

RULESET = demo_ruleset()
INPUTS: dict[str, Input] = dict(RULESET.inputs)
GROUPS = {".".join(name.split(".")[:i]) for name in INPUTS for i in range(1, len(name.split(".")))}


@pytest.fixture(scope="module")
def scorer() -> Iterator[Scorer]:
    with Scorer(RULESET) as s:
        yield s


BAD: list[tuple[str, Any, str, Any, str]] = [
    # (case, assessment, field, value, constraint contains)
    (
        "nested typo",
        {"clinician": {"active_client": 3}},
        "clinician.active_client",
        3,
        "unknown field (did you mean 'clinician.active_clients'?)",
    ),
    (
        "dotted typo",
        {"clinician.proqol.burnot": 44},
        "clinician.proqol.burnot",
        44,
        "unknown field (did you mean 'clinician.proqol.burnout'?)",
    ),
    (
        "group typo",
        {"clinican": {"active_clients": 3}},
        "clinican",
        {"active_clients": 3},
        "unknown field (did you mean 'clinician'?)",
    ),
    ("unrelated field", {"weather": "rain"}, "weather", "rain", "reads no such input"),
    ("unknown field set to null", {"clinician": {"activ": None}}, "clinician.activ", None,
     "unknown"),
    ("empty key", {"": 1}, "", 1, "unknown field"),
    ("trailing dot", {"clinician.": {"active_clients": 1}}, "clinician.", None, "unknown field"),
    ("bool as integer", {"clinician.active_clients": True}, "clinician.active_clients", True,
     "must be an integer, not a boolean"),
    ("string as integer", {"clinician": {"active_clients": "12"}}, "clinician.active_clients",
     "12", "must be an integer, not a string"),
    ("float as integer", {"clinician": {"active_clients": 12.0}}, "clinician.active_clients",
     12.0, "must be an integer, not a decimal number"),
    ("huge integer", {"clinician": {"active_clients": 2**60}}, "clinician.active_clients",
     2**60, "magnitude"),
    ("NaN", {"clinician": {"trauma_sessions_share": math.nan}},
     "clinician.trauma_sessions_share", None, "must be a finite number"),
    ("infinity", {"clinician": {"trauma_sessions_share": math.inf}},
     "clinician.trauma_sessions_share", math.inf, "must be a finite number"),
    ("bool as number", {"clinician": {"trauma_sessions_share": False}},
     "clinician.trauma_sessions_share", False, "must be a number, not a boolean"),
    ("string as number", {"clinician": {"trauma_sessions_share": "0.5"}},
     "clinician.trauma_sessions_share", "0.5", "must be a number, not a string"),
    ("below minimum", {"clinician": {"active_clients": -1}}, "clinician.active_clients", -1,
     "must be >= 0"),
    ("above maximum", {"clinician": {"proqol": {"burnout": 51}}}, "clinician.proqol.burnout",
     51, "must be <= 50"),
    ("number above maximum", {"clinician.trauma_sessions_share": 1.01},
     "clinician.trauma_sessions_share", 1.01, "must be <= 1"),
    ("undeclared enum value", {"client": {"sex": "Female"}}, "client.sex", "Female",
     "must be one of 'female', 'male' (did you mean 'female'?)"),
    ("enum as number", {"client": {"sex": 1}}, "client.sex", 1, "not an integer"),
    ("string as boolean", {"clinician": {"life_crisis": "true"}}, "clinician.life_crisis",
     "true", "must be true or false, not a string"),
    ("integer as boolean", {"clinician": {"life_crisis": 1}}, "clinician.life_crisis", 1,
     "must be true or false, not an integer"),
    ("dotted and nested", {"clinician.active_clients": 3, "clinician": {"active_clients": 4}},
     "clinician.active_clients", 4, "given twice"),
    ("null and nested", {"clinician.active_clients": None, "clinician": {"active_clients": 4}},
     "clinician.active_clients", 4, "given twice"),
    ("partly dotted twice", {"clinician.proqol": {"burnout": 20},
                             "clinician": {"proqol": {"burnout": 20}}},
     "clinician.proqol.burnout", 20, "given twice"),
    ("value for a group", {"clinician": 5}, "clinician", 5, "must be an object of fields"),
    ("list for a group", {"client": {"cssrs": [True]}}, "client.cssrs", [True],
     "must be an object of fields, not an array"),
    ("object for a value", {"clinician": {"active_clients": {"n": 3}}},
     "clinician.active_clients", {"n": 3}, "must be an integer, not an object"),
    ("non-string key", {1: 2}, "", 1, "field names must be strings"),
    ("top-level list", [HEAVY], "", [HEAVY], "an assessment must be an object"),
    ("top-level null", None, "", None, "an assessment must be an object of fields, not null"),
    ("top-level string", "{}", "", "{}", "not a string"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("assessment", "field", "value", "constraint"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_bad_assessments_are_located(
    scorer: Scorer, assessment: Any, field: str, value: Any, constraint: str
) -> None:
    with pytest.raises(AssessmentError) as info:
        scorer.score(assessment)
    error = info.value
    assert error.field == field
    if value is not None:
        assert error.value == value
    assert constraint in error.constraint
    assert str(error).startswith(f"{field or '<assessment>'}: ")
    assert constraint in str(error)


GOOD: list[tuple[str, Any]] = [
    ("empty", {}),
    ("nested", {"clinician": {"active_clients": 40, "proqol": {"burnout": 44}}}),
    ("dotted", {"clinician.active_clients": 40, "clinician.proqol.burnout": 44}),
    ("mixed", {"clinician.proqol": {"burnout": 44}, "clinician": {"active_clients": 40}}),
    ("group null", {"clinician": None, "client": {"sex": None}}),
    ("empty group", {"clinician": {}, "client": {"cssrs": {}}}),
    ("integer for a number", {"clinician": {"trauma_sessions_share": 1}}),
    ("bounds inclusive", {"clinician": {"active_clients": 0, "proqol": {"burnout": 50}}}),
]


@pytest.mark.parametrize("assessment", [case[1] for case in GOOD], ids=[c[0] for c in GOOD])
def test_good_assessments_are_accepted(scorer: Scorer, assessment: Any) -> None:
    scorer.score(assessment)


def test_nested_dotted_and_mixed_forms_score_alike(scorer: Scorer) -> None:
    forms = [GOOD[1][1], GOOD[2][1], GOOD[3][1]]
    texts = {scorer.score(form).model_dump_json() for form in forms}
    assert len(texts) == 1
    assert "caseload.burnout_high" in texts.pop()


def test_assessment_error_is_a_riskrules_error_with_attributes(scorer: Scorer) -> None:
    with pytest.raises(RiskRulesError) as info:
        scorer.score({"client": {"sex": "x"}})
    assert isinstance(info.value, AssessmentError)
    assert (info.value.field, info.value.value) == ("client.sex", "x")


SEGMENTS = sorted({part for name in INPUTS for part in name.split(".")})
NAMES = sorted(INPUTS) + sorted(GROUPS)
NEAR = [
    *NAMES,
    *SEGMENTS,
    "proqol.burnout",
    "audit_c.total",
    "cssrs.q4",
    "clinician.active_client",
    "client.Sex",
    "clinician.",
    ".clinician",
    "",
    "clinician..active_clients",
]
KEYS = st.one_of(st.sampled_from(NEAR), st.sampled_from(NEAR), st.text(max_size=6))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 60),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 1.0, 0.0, -0.0, 12.0, 1e308]),
    st.sampled_from(["female", "male", "Female", "", "12", "true"]),
    st.text(max_size=5),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)


def _valid_value(spec: Input) -> st.SearchStrategy[Any]:
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "enum":
        return st.sampled_from(spec.values or ())
    low = -(2**53) + 1 if spec.min is None else spec.min
    high = 2**53 - 1 if spec.max is None else spec.max
    if spec.type == "integer":
        return st.integers(int(low), int(high))
    return st.one_of(st.integers(math.ceil(low), math.floor(high)), st.floats(low, high))


@st.composite
def shaped(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly well-formed assessments: inputs placed nested, dotted or half-and-half, with
    values usually valid; sometimes a field twice, a wild value or a stray key."""
    doc: dict[str, Any] = {}
    names = draw(st.lists(st.sampled_from(sorted(INPUTS)), max_size=10, unique=True))
    if names and draw(st.integers(0, 9)) == 0:
        names.append(draw(st.sampled_from(names)))
    for name in names:
        spec = INPUTS[name]
        roll = draw(st.integers(0, 19))
        value = draw(SCALARS) if roll == 0 else None if roll == 1 else draw(_valid_value(spec))
        parts = name.split(".")
        split = draw(st.integers(0, len(parts) - 1))
        node = doc
        for part in parts[:split]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[".".join(parts[split:])] = value
    if draw(st.integers(0, 9)) == 0:
        doc[draw(KEYS)] = draw(JSON)
    return doc


DOCS = st.one_of(
    shaped(),
    shaped(),
    st.dictionaries(KEYS, JSON, max_size=6),
    st.dictionaries(st.sampled_from(sorted(INPUTS)), SCALARS, max_size=8),
    JSON,
)


def _value_ok(spec: Input, value: Any) -> bool:
    """The declared type and bounds, stated directly from the input specification."""
    if spec.type == "boolean":
        return type(value) is bool
    if spec.type == "enum":
        return type(value) is str and value in (spec.values or ())
    if spec.type == "integer":
        ok = type(value) is int and abs(value) < 2**53
    else:
        ok = type(value) in (int, float) and math.isfinite(value)
        ok = ok and (type(value) is float or abs(value) < 2**53)
    return (
        ok and (spec.min is None or value >= spec.min) and (spec.max is None or value <= spec.max)
    )


def flatten(doc: Any) -> dict[str, Any] | None:
    """The facts a valid assessment stands for (nulls kept), or None when it is invalid.

    Written independently of the library: a key's full name is the dotted join of the keys on
    its way; a full name must be an input (holding a valid value or null) or, holding an object
    or null, a prefix of one; no input may be given twice.
    """
    if type(doc) is not dict:
        return None
    facts: dict[str, Any] = {}

    def visit(node: dict[Any, Any], prefix: str) -> bool:
        for key, value in node.items():
            if type(key) is not str:
                return False
            name = prefix + key
            if type(value) is dict and name in GROUPS:
                if not visit(value, name + "."):
                    return False
            elif name in INPUTS:
                if name in facts or not (value is None or _value_ok(INPUTS[name], value)):
                    return False
                facts[name] = value
            elif not (name in GROUPS and value is None):
                return False
        return True

    return facts if visit(doc, "") else None


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=DOCS)
def test_fuzz_only_assessment_errors_and_no_report_from_invalid_input(
    scorer: Scorer, doc: Any
) -> None:
    expected = flatten(doc)
    event("valid" if expected is not None else "invalid")
    try:
        report = scorer.score(doc)
    except AssessmentError:
        assert expected is None, f"a valid assessment was rejected: {doc!r}"
        return
    assert expected is not None, f"a report was produced from an invalid assessment: {doc!r}"
    dotted = {name: value for name, value in expected.items() if value is not None}
    assert report.model_dump_json() == scorer.score(dotted).model_dump_json()
    for firing in report.fired:
        for field, value in firing.reads.items():
            assert value == dotted.get(field)
            assert type(value) is type(dotted.get(field))
