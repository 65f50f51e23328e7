"""The native Scorer's generated validation and aggregation against the reference path.

The closure engine's Scorer validates with :class:`AssessmentValidator` and aggregates with the
reference :class:`Aggregator`; the native Scorer runs generated code for both. Over generated
rulesets and assessments (nested, dotted, mixed, and broken in the ways callers break them) they
must give the same report JSON or the same located error.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskrules import AssessmentError, Ruleset, Scorer
from riskrules.scoring._validation import AssessmentValidator
from strategies import assessments, rulesets


def _nest(dotted: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        *groups, last = key.split(".")
        node = out
        for group in groups:
            node = node.setdefault(group, {})
        node[last] = value
    return out


def _outcome(scorer: Scorer, assessment: Any) -> str:
    try:
        return scorer.score(assessment).model_dump_json()
    except AssessmentError as exc:
        return f"error: {exc}"


_BREAKAGES = st.sampled_from(
    [
        None,
        "a string",
        True,
        1.5,
        -(2**60),
        float("nan"),
        float("inf"),
        [1],
        {"nested": 1},
        {},
    ]
)


@st.composite
def _forms(draw: st.DrawFn, ruleset: Ruleset) -> Any:
    """An assessment for ``ruleset`` as callers send it: nested, dotted or mixed, sometimes
    with a value replaced, a field added or a group of the wrong type."""
    facts = draw(assessments(ruleset))
    if facts and draw(st.booleans()):
        name = draw(st.sampled_from(sorted(facts)))
        facts[name] = draw(_BREAKAGES)
    if draw(st.integers(0, 9)) == 0:
        facts[draw(st.sampled_from(["client.unknown", "clinician", "other"]))] = 1
    form = draw(st.sampled_from(["nested", "dotted", "mixed"]))
    if form == "dotted":
        return facts
    nested = _nest(facts) if form == "nested" else _nest(dict(list(facts.items())[::2]))
    if form == "mixed":
        nested.update(dict(list(facts.items())[1::2]))
    if draw(st.integers(0, 9)) == 0:
        nested[draw(st.sampled_from(["client", "clinician"]))] = draw(_BREAKAGES)
    return nested


@settings(max_examples=150)
@given(st.data())
def test_generated_scoring_matches_the_reference(data: st.DataObject) -> None:
    ruleset = data.draw(rulesets(max_rules=14), label="ruleset")
    cases = data.draw(st.lists(_forms(ruleset), min_size=1, max_size=8), label="assessments")
    with Scorer(ruleset, engine="native") as native, Scorer(ruleset, engine="closure") as ref:
        for case in cases:
            assert _outcome(native, case) == _outcome(ref, case)


@settings(max_examples=100)
@given(st.data())
def test_the_fast_path_accepts_only_what_the_validator_accepts_alike(data: st.DataObject) -> None:
    ruleset = data.draw(rulesets(max_rules=6), label="ruleset")
    validate = AssessmentValidator(ruleset)
    with Scorer(ruleset, engine="native") as scorer:
        code = scorer._code
        assert code is not None
        assert code.nested is not None
        for case in data.draw(st.lists(_forms(ruleset), min_size=1, max_size=8)):
            values = code.nested(case)
            if values is None:
                continue  # the full validator decides
            assert values == code.values(validate(case))


def test_the_usual_forms_take_the_fast_path() -> None:
    with Scorer("default", engine="native") as scorer:
        code = scorer._code
        assert code is not None
        assert code.nested is not None
        nested = {"clinician": {"active_clients": 40, "proqol": {"burnout": None}}, "client": None}
        assert code.nested(nested) is not None
        assert code.nested({"clinician.active_clients": 40}) is not None
        for slow in (
            {"clinician": {"active_clients": 40}, "client.sex": "female"},  # mixed
            {"clinician": {"active_clients": True}},  # a boolean for an integer
            {"clinician": {"active_clients": 40.0}},  # a float for an integer
            {"clinician": {"unknown": 1}},
            {"clinician": []},
        ):
            assert code.nested(slow) is None


@pytest.mark.parametrize("engine", ["native", "closure"])
def test_scores_keep_the_type_of_their_points(engine: str) -> None:
    """Equal integer and float scores are different report parts (1 prints as 1, 1.0 as 1.0)."""
    ruleset = Ruleset.model_validate(
        {
            "ruleset": "types", "version": "1", "title": "Types",
            "inputs": {"a": {"type": "boolean"}, "b": {"type": "boolean"}},
            "hazards": {"h": {"title": "H", "bands": {"low": 0, "high": 1}}},
            "rules": [
                {"id": "h.a", "hazard": "h", "when": {"field": "a", "eq": True},
                 "then": {"points": 1}, "because": "A."},
                {"id": "h.b", "hazard": "h", "when": {"field": "b", "eq": True},
                 "then": {"points": 1.0}, "because": "B."},
            ],
        }
    )  # fmt: skip
    with Scorer(ruleset, engine=engine) as scorer:
        assert scorer.score({"a": True, "b": False}).hazards["h"].score == 1
        assert '"score":1.0' in scorer.score({"a": False, "b": True}).model_dump_json()
        assert '"score":1,' in scorer.score({"a": True, "b": False}).model_dump_json()


@pytest.mark.parametrize("form", ["nested", "dotted"])
def test_default_ruleset_scenarios_score_alike(form: str) -> None:
    from riskrules import load_ruleset

    ruleset = load_ruleset("default")
    validate = AssessmentValidator(ruleset)
    for scenario in ruleset.tests:
        params = dict(scenario.params) or None
        with (
            Scorer(ruleset, engine="native", params=params) as native,
            Scorer(ruleset, engine="closure", params=params) as ref,
        ):
            case = validate(scenario.input) if form == "dotted" else scenario.input
            assert native.score(case).model_dump_json() == ref.score(case).model_dump_json()


def _two_inputs(inputs: dict[str, Any]) -> Ruleset:
    names = list(inputs)
    return Ruleset.model_validate(
        {
            "ruleset": "odd", "version": "1", "title": "Odd names",
            "inputs": inputs,
            "hazards": {"h": {"title": "H", "bands": {"low": 0, "high": 1}}},
            "rules": [
                {"id": f"h.r{k}", "hazard": "h", "when": {"field": name, "present": True},
                 "then": {"points": 1}, "because": "Given."}
                for k, name in enumerate(names)
            ],
        }
    )  # fmt: skip


def test_names_the_fast_path_cannot_take_go_to_the_validator() -> None:
    """An input that is also a group, or an enum label longer than an assessment may hold,
    leaves the generated validation out; scoring still works through the full validator."""
    group = _two_inputs({"a": {"type": "integer"}, "a.b": {"type": "integer"}})
    long_label = "x" * 10_001
    labels = _two_inputs({"k": {"type": "enum", "values": ["short", long_label]}})
    for ruleset, good, bad in (
        (group, {"a": 2, "a.b": 3}, {"a": "2"}),
        (labels, {"k": "short"}, {"k": long_label}),
    ):
        with Scorer(ruleset, engine="native") as native, Scorer(ruleset, engine="closure") as ref:
            assert native._code is not None
            assert native._code.nested is None
            assert _outcome(native, good) == _outcome(ref, good)
            assert _outcome(native, good).startswith("{")
            assert _outcome(native, bad) == _outcome(ref, bad)
            assert _outcome(native, bad).startswith("error: ")
