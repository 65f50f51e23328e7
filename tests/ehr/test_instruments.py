"""Instrument item scoring at published values, its errors, and its fit to the default contract."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import riskrules
from riskrules import AssessmentError
from riskrules.ehr._instruments import (
    INSTRUMENTS,
    assessment_from_items,
    score_audit,
    score_audit_c,
    score_cage_aid,
    score_cbi,
    score_cssrs_screener,
    score_dast10,
    score_proqol,
    score_stss,
    stss_subscales,
)

PROQOL_CS = (3, 6, 12, 16, 18, 20, 22, 24, 27, 30)
PROQOL_BO = (1, 4, 8, 10, 15, 17, 19, 21, 26, 29)
PROQOL_BO_REVERSED = (1, 4, 15, 17, 29)
PROQOL_STS = (2, 5, 7, 9, 11, 13, 14, 23, 25, 28)


def every(count: int, value: Any) -> dict[int, Any]:
    return dict.fromkeys(range(1, count + 1), value)


@contextlib.contextmanager
def raises_at(field: str) -> Iterator[None]:
    """Expect an AssessmentError located at ``field``."""
    with pytest.raises(AssessmentError) as info:
        yield
    assert info.value.field == field, str(info.value)


@pytest.fixture(scope="module")
def scorer() -> Any:
    with riskrules.Scorer("default", engine="native") as s:
        yield s


def test_proqol_subscales_partition_the_thirty_items() -> None:
    assert sorted(PROQOL_CS + PROQOL_BO + PROQOL_STS) == list(range(1, 31))


def test_proqol_minimum_and_maximum() -> None:
    lowest = every(30, 1) | dict.fromkeys(PROQOL_BO_REVERSED, 5)
    highest = every(30, 5) | dict.fromkeys(PROQOL_BO_REVERSED, 1)
    keys = ("compassion_satisfaction", "burnout", "secondary_traumatic_stress")
    assert score_proqol(lowest) == {f"clinician.proqol.{k}": 10 for k in keys}
    assert score_proqol(highest) == {f"clinician.proqol.{k}": 50 for k in keys}


@pytest.mark.parametrize("item", PROQOL_BO_REVERSED)
def test_proqol_each_reverse_item_scores_six_minus_the_answer(item: int) -> None:
    base = every(30, 3)  # 3 reverses to 3: the burnout sum starts at 30
    for answer, contributes in ((1, 5), (2, 4), (4, 2), (5, 1)):
        result = score_proqol(base | {item: answer})
        assert result["clinician.proqol.burnout"] == 27 + contributes
        assert result["clinician.proqol.compassion_satisfaction"] == 30


@pytest.mark.parametrize("item", sorted(set(PROQOL_BO) - set(PROQOL_BO_REVERSED)))
def test_proqol_other_burnout_items_score_as_answered(item: int) -> None:
    assert score_proqol(every(30, 3) | {item: 5})["clinician.proqol.burnout"] == 32


@pytest.mark.parametrize(
    ("items", "field"),
    [(PROQOL_CS, "compassion_satisfaction"), (PROQOL_STS, "secondary_traumatic_stress")],
)
def test_proqol_cs_and_sts_items_land_in_their_subscale(items: tuple[int, ...], field: str) -> None:
    for item in items:
        result = score_proqol(every(30, 3) | {item: 5})
        assert result[f"clinician.proqol.{field}"] == 32
        assert result["clinician.proqol.burnout"] == 30


def test_proqol_missing_item_is_an_error_or_drops_only_its_subscale() -> None:
    answers = every(30, 2)
    del answers[17]
    with raises_at("proqol5.item17"):
        score_proqol(answers)
    assert score_proqol(answers, partial=True) == {
        "clinician.proqol.compassion_satisfaction": 20,
        "clinician.proqol.secondary_traumatic_stress": 20,
    }
    assert score_proqol(every(30, 2) | {17: None}, partial=True) == score_proqol(
        answers, partial=True
    )


@pytest.mark.parametrize("value", [0, 6, -1, True, 2.0, "3", [3]])
def test_proqol_out_of_range_or_wrong_type_answer(value: Any) -> None:
    with raises_at("proqol5.item5"):
        score_proqol(every(30, 3) | {5: value})


@pytest.mark.parametrize("key", ["3", "item3", 3.0, True])
def test_item_keys_must_be_integers(key: Any) -> None:
    with pytest.raises(AssessmentError, match="integers 1 to 30") as info:
        score_proqol({key: 3})
    assert info.value.field == "proqol5"
    assert info.value.value == key


@pytest.mark.parametrize("key", [0, 31])
def test_unknown_item_number(key: int) -> None:
    with raises_at(f"proqol5.item{key}"):
        score_proqol(every(30, 3) | {key: 3})


def test_answers_must_be_a_mapping() -> None:
    with raises_at("proqol5"):
        score_proqol([3] * 30)  # type: ignore[arg-type]


def test_stss_total_and_subscales_at_their_bounds() -> None:
    assert score_stss(every(17, 1)) == {"clinician.stss.total": 17}
    assert score_stss(every(17, 5)) == {"clinician.stss.total": 85}
    assert stss_subscales(every(17, 1)) == {"intrusion": 5, "avoidance": 7, "arousal": 5}
    assert stss_subscales(every(17, 5)) == {"intrusion": 25, "avoidance": 35, "arousal": 25}


@pytest.mark.parametrize(
    ("name", "items"),
    [
        ("intrusion", (2, 3, 6, 10, 13)),
        ("avoidance", (1, 5, 7, 9, 12, 14, 17)),
        ("arousal", (4, 8, 11, 15, 16)),
    ],
)
def test_stss_subscale_items(name: str, items: tuple[int, ...]) -> None:
    result = stss_subscales(every(17, 1) | dict.fromkeys(items, 5))
    assert result[name] == 5 * len(items)
    assert all(
        v == {"intrusion": 5, "avoidance": 7, "arousal": 5}[k]
        for k, v in result.items()
        if k != name
    )


def test_stss_requires_every_item() -> None:
    answers = every(17, 2)
    del answers[9]
    with raises_at("stss.item9"):
        score_stss(answers)
    assert score_stss(answers, partial=True) == {}
    assert stss_subscales(answers, partial=True) == {"intrusion": 10, "arousal": 10}
    with raises_at("stss.item3"):
        score_stss(every(17, 2) | {3: 6})


@pytest.mark.parametrize(("code", "score"), [(1, 100.0), (2, 75.0), (3, 50.0), (4, 25.0), (5, 0.0)])
def test_cbi_response_codes_map_to_published_scores(code: int, score: float) -> None:
    assert score_cbi(every(19, code)) == {
        "clinician.cbi.personal": score,
        "clinician.cbi.work": (6 * score + (100 - score)) / 7,  # item 13 reversed
        "clinician.cbi.client": score,
    }


def test_cbi_item_13_is_reversed_and_scales_are_means() -> None:
    answers = every(19, 5) | {13: 5}  # "never" enough energy: the most burnt-out answer
    assert score_cbi(answers)["clinician.cbi.work"] == 100 / 7
    answers = every(19, 1) | {13: 1}
    assert score_cbi(answers)["clinician.cbi.work"] == 600 / 7
    lowest = every(19, 5) | {13: 1}
    highest = every(19, 1) | {13: 5}
    assert set(score_cbi(lowest).values()) == {0.0}
    assert set(score_cbi(highest).values()) == {100.0}
    mixed = score_cbi(every(19, 3) | {1: 1, 2: 5, 3: 2, 14: 2})
    assert mixed["clinician.cbi.personal"] == (100 + 0 + 75 + 50 * 3) / 6
    assert mixed["clinician.cbi.client"] == (75 + 50 * 5) / 6


def test_cbi_published_minimum_answered_items() -> None:
    personal_three = {1: 1, 2: 2, 3: 3}
    work_four = {7: 1, 8: 1, 9: 1, 13: 5}
    client_all = dict.fromkeys(range(14, 20), 4)
    result = score_cbi(personal_three | work_four | client_all)
    assert result == {
        "clinician.cbi.personal": 75.0,
        "clinician.cbi.work": 100.0,
        "clinician.cbi.client": 25.0,
    }
    with raises_at("cbi.item3"):
        score_cbi({1: 1, 2: 1} | work_four | client_all)
    with raises_at("cbi.item10"):
        score_cbi(personal_three | {7: 1, 8: 1, 9: 1} | client_all)
    with raises_at("cbi.item19"):
        score_cbi(personal_three | work_four | dict.fromkeys(range(14, 19), 4))
    assert score_cbi(personal_three | {7: 1}, partial=True) == {"clinician.cbi.personal": 75.0}


def test_cbi_rejects_mapped_scores() -> None:
    with raises_at("cbi.item1"):
        score_cbi(every(19, 3) | {1: 75})


def test_audit_minimum_and_maximum() -> None:
    assert score_audit(every(10, 0)) == {
        "client.audit.item10": 0,
        "client.audit.item9": 0,
        "client.audit.total": 0,
        "client.audit_c.total": 0,
    }
    assert score_audit(every(10, 4)) == {
        "client.audit.item10": 4,
        "client.audit.item9": 4,
        "client.audit.total": 40,
        "client.audit_c.total": 12,
    }


@pytest.mark.parametrize("item", [9, 10])
def test_audit_items_9_and_10_score_0_2_or_4(item: int) -> None:
    for value in (0, 2, 4):
        assert score_audit(every(10, 0) | {item: value})[f"client.audit.item{item}"] == value
    for value in (1, 3, 5, -2):
        with raises_at(f"audit.item{item}"):
            score_audit(every(10, 0) | {item: value})


@pytest.mark.parametrize("item", range(1, 9))
def test_audit_items_1_to_8_score_0_to_4(item: int) -> None:
    assert score_audit(every(10, 0) | {item: 3})["client.audit.total"] == 3
    with raises_at(f"audit.item{item}"):
        score_audit(every(10, 0) | {item: 5})


def test_audit_missing_items() -> None:
    answers = every(10, 2)
    del answers[5]
    with raises_at("audit.item5"):
        score_audit(answers)
    assert score_audit(answers, partial=True) == {
        "client.audit.item10": 2,
        "client.audit.item9": 2,
        "client.audit_c.total": 6,
    }


def test_audit_c_is_items_1_to_3() -> None:
    assert score_audit_c({1: 0, 2: 0, 3: 0}) == {"client.audit_c.total": 0}
    assert score_audit_c({1: 4, 2: 4, 3: 4}) == {"client.audit_c.total": 12}
    assert score_audit_c({1: 1, 2: 3, 3: 0}) == {"client.audit_c.total": 4}
    with raises_at("audit_c.item4"):
        score_audit_c({1: 1, 2: 1, 3: 1, 4: 1})
    with raises_at("audit_c.item2"):
        score_audit_c({1: 1, 3: 1})
    assert score_audit_c({1: 1, 3: 1}, partial=True) == {}


def test_dast10_item_3_is_reversed() -> None:
    assert score_dast10(every(10, False) | {3: True}) == {"client.dast10.total": 0}
    assert score_dast10(every(10, True) | {3: False}) == {"client.dast10.total": 10}
    assert score_dast10(every(10, False)) == {"client.dast10.total": 1}
    assert score_dast10(every(10, True)) == {"client.dast10.total": 9}


@pytest.mark.parametrize("item", [i for i in range(1, 11) if i != 3])
def test_dast10_yes_scores_one(item: int) -> None:
    base = every(10, False) | {3: True}
    assert score_dast10(base | {item: True}) == {"client.dast10.total": 1}


def test_yes_no_items_need_booleans_and_all_answers() -> None:
    with raises_at("dast10.item2"):
        score_dast10(every(10, False) | {2: 1})
    with raises_at("dast10.item10"):
        score_dast10(every(9, False))
    assert score_dast10(every(9, False), partial=True) == {}
    with raises_at("cage_aid.item4"):
        score_cage_aid(every(3, True))
    with raises_at("cage_aid.item1"):
        score_cage_aid(every(4, True) | {1: "yes"})


def test_cage_aid_totals() -> None:
    assert score_cage_aid(every(4, False)) == {"client.cage_aid.total": 0}
    assert score_cage_aid(every(4, True)) == {"client.cage_aid.total": 4}
    for item in range(1, 5):
        assert score_cage_aid(every(4, False) | {item: True}) == {"client.cage_aid.total": 1}


GATES_NO = {"q1": False, "q2": False, "q6_lifetime": False}


def test_cssrs_gates_no_skips_follow_ups() -> None:
    assert score_cssrs_screener(GATES_NO) == {
        "client.cssrs.q1": False,
        "client.cssrs.q2": False,
        "client.cssrs.q6_lifetime": False,
    }


def test_cssrs_all_asked() -> None:
    answers = {
        "q1": True,
        "q2": True,
        "q3": False,
        "q4": True,
        "q5": False,
        "q6_lifetime": True,
        "q6_past_3_months": True,
    }
    assert score_cssrs_screener(answers) == {f"client.cssrs.{k}": v for k, v in answers.items()}


@pytest.mark.parametrize("question", ["q3", "q4", "q5"])
@pytest.mark.parametrize("answer", [True, False])
def test_cssrs_answer_after_q2_no_breaks_the_skip_pattern(question: str, answer: bool) -> None:
    with pytest.raises(AssessmentError, match="skip pattern") as info:
        score_cssrs_screener(GATES_NO | {question: answer})
    assert info.value.field == f"cssrs_screener.{question}"
    with pytest.raises(AssessmentError, match="skip pattern"):
        score_cssrs_screener(GATES_NO | {question: answer}, partial=True)


def test_cssrs_q3_without_q2_breaks_the_skip_pattern() -> None:
    with pytest.raises(AssessmentError, match="q2 is unanswered"):
        score_cssrs_screener({"q1": True, "q3": True, "q6_lifetime": False}, partial=True)


@pytest.mark.parametrize("answer", [True, False])
def test_cssrs_past_3_months_after_lifetime_no(answer: bool) -> None:
    with raises_at("cssrs_screener.q6_past_3_months"):
        score_cssrs_screener(GATES_NO | {"q6_past_3_months": answer})


@pytest.mark.parametrize("question", ["q3", "q4", "q5"])
def test_cssrs_missing_follow_up_after_q2_yes(question: str) -> None:
    answers = {"q1": True, "q2": True, "q3": True, "q4": True, "q5": True, "q6_lifetime": False}
    del answers[question]
    with raises_at(f"cssrs_screener.{question}"):
        score_cssrs_screener(answers)
    assert f"client.cssrs.{question}" not in score_cssrs_screener(answers, partial=True)


def test_cssrs_missing_gate_and_bad_values() -> None:
    with raises_at("cssrs_screener.q1"):
        score_cssrs_screener({"q2": False, "q6_lifetime": False})
    with raises_at("cssrs_screener.q6_past_3_months"):
        score_cssrs_screener({"q1": False, "q2": False, "q6_lifetime": True})
    with raises_at("cssrs_screener.q1"):
        score_cssrs_screener(GATES_NO | {"q1": 1})
    with raises_at("cssrs_screener"):
        score_cssrs_screener(GATES_NO | {"q7": True})
    with raises_at("cssrs_screener"):
        score_cssrs_screener(GATES_NO | {1: True})  # type: ignore[dict-item]


def test_assessment_from_items_merges_and_checks_agreement() -> None:
    items = {
        "audit": every(10, 0) | {1: 1, 2: 1, 3: 1},
        "audit_c": {1: 1, 2: 1, 3: 1},
        "cage_aid": every(4, False),
    }
    result = assessment_from_items(items)
    assert list(result) == sorted(result)
    assert result["client.audit_c.total"] == 3
    with raises_at("client.audit_c.total"):
        assessment_from_items(items | {"audit_c": {1: 1, 2: 1, 3: 2}})
    with raises_at("phq9"):
        assessment_from_items({"phq9": {}})
    assert set(INSTRUMENTS) == {
        "proqol5",
        "stss",
        "cbi",
        "audit",
        "audit_c",
        "dast10",
        "cage_aid",
        "cssrs_screener",
    }


def test_partial_assessment_leaves_inputs_missing(scorer: Any) -> None:
    answers = every(30, 4)
    del answers[2]
    assessment = assessment_from_items({"proqol5": answers}, partial=True)
    assert "clinician.proqol.secondary_traumatic_stress" not in assessment
    hazard = scorer.score(assessment).hazards["trauma_exposure"]
    assert not hazard.complete
    assert "clinician.proqol.secondary_traumatic_stress" in hazard.missing


likert = st.integers(1, 5)


@st.composite
def cssrs_answers(draw: st.DrawFn) -> dict[str, bool]:
    answers = {"q1": draw(st.booleans()), "q2": draw(st.booleans())}
    if answers["q2"]:
        answers |= {q: draw(st.booleans()) for q in ("q3", "q4", "q5")}
    answers["q6_lifetime"] = draw(st.booleans())
    if answers["q6_lifetime"]:
        answers["q6_past_3_months"] = draw(st.booleans())
    return answers


full_items = st.fixed_dictionaries(
    {},
    optional={
        "proqol5": st.fixed_dictionaries(dict.fromkeys(range(1, 31), likert)),
        "stss": st.fixed_dictionaries(dict.fromkeys(range(1, 18), likert)),
        "cbi": st.fixed_dictionaries(dict.fromkeys(range(1, 20), likert)),
        "audit": st.fixed_dictionaries(
            {i: st.sampled_from((0, 2, 4)) if i > 8 else st.integers(0, 4) for i in range(1, 11)}
        ),
        "dast10": st.fixed_dictionaries({i: st.booleans() for i in range(1, 11)}),
        "cage_aid": st.fixed_dictionaries({i: st.booleans() for i in range(1, 5)}),
        "cssrs_screener": cssrs_answers(),
    },
)


@given(full_items)
def test_totals_stay_within_the_contract_and_validate(scorer: Any, items: dict[str, Any]) -> None:
    assessment = assessment_from_items(items)
    inputs = scorer.ruleset.inputs
    for field, value in assessment.items():
        spec = inputs[field]
        if spec.type == "boolean":
            assert type(value) is bool
        else:
            assert spec.min is None or value >= spec.min
            assert spec.max is None or value <= spec.max
            assert spec.values is None or value in spec.values
    scorer.score(assessment)  # raises AssessmentError if the contract rejects it


@given(
    st.dictionaries(st.integers(1, 30), st.one_of(st.none(), likert), max_size=30),
    st.booleans(),
)
def test_partial_answers_score_or_raise_located(answers: dict[int, Any], partial: bool) -> None:
    answered = {item for item, value in answers.items() if value is not None}
    unanswered = sorted(set(range(1, 31)) - answered)
    if partial or not unanswered:
        result = score_proqol(answers, partial=partial)
        assert all(10 <= v <= 50 for v in result.values())
        assert len(result) == sum(
            answered.issuperset(items) for items in (PROQOL_CS, PROQOL_BO, PROQOL_STS)
        )
    else:
        with pytest.raises(AssessmentError) as info:
            score_proqol(answers)
        assert info.value.field.removeprefix("proqol5.item") in {str(i) for i in unanswered}


def test_skipped_follow_ups_are_not_missing_but_unasked_ones_are(scorer: Any) -> None:
    gated = assessment_from_items(
        {"cssrs_screener": {"q1": True, "q2": False, "q6_lifetime": False}}
    )
    assert not any(
        f.startswith("client.cssrs.") for f in scorer.score(gated).hazards["crisis"].missing
    )
    unasked = assessment_from_items(
        {"cssrs_screener": {"q1": True, "q2": True, "q3": False, "q6_lifetime": False}},
        partial=True,
    )
    assert "client.cssrs.q4" not in unasked
    missing = scorer.score(unasked).hazards["crisis"].missing
    assert {"client.cssrs.q4", "client.cssrs.q5"} <= set(missing)


def test_module_examples() -> None:
    import doctest

    import riskrules.instruments

    assert doctest.testmod(riskrules.instruments).failed == 0


def with_gaps(answers: st.SearchStrategy[dict[Any, Any]]) -> st.SearchStrategy[dict[Any, Any]]:
    """Complete answers with some of them unanswered (dropped or ``None``)."""

    @st.composite
    def gapped(draw: st.DrawFn) -> dict[Any, Any]:
        full = draw(answers)
        gaps = draw(st.sets(st.sampled_from(sorted(full, key=str)))) if full else set()
        return {
            k: (draw(st.sampled_from([None, ...])) if k in gaps else v) for k, v in full.items()
        }

    def drop_ellipsis(d: dict[Any, Any]) -> dict[Any, Any]:
        return {k: v for k, v in d.items() if v is not ...}

    return gapped().map(drop_ellipsis)


def unasked_after_gap(answers: dict[str, Any]) -> dict[str, Any]:
    """Drop the follow-ups of an unanswered gate: a record cannot show they were asked."""
    for gate, follow_ups in (("q2", ("q3", "q4", "q5")), ("q6_lifetime", ("q6_past_3_months",))):
        if answers.get(gate) is None:
            answers = {k: v for k, v in answers.items() if k not in follow_ups}
    return answers


def due_questions(answers: dict[str, Any]) -> set[str]:
    due = {"q1", "q2", "q6_lifetime"}
    if answers.get("q2") is True:
        due |= {"q3", "q4", "q5"}
    if answers.get("q6_lifetime") is True:
        due.add("q6_past_3_months")
    return due


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "proqol5": with_gaps(st.fixed_dictionaries(dict.fromkeys(range(1, 31), likert))),
            "stss": with_gaps(st.fixed_dictionaries(dict.fromkeys(range(1, 18), likert))),
            "cbi": with_gaps(st.fixed_dictionaries(dict.fromkeys(range(1, 20), likert))),
            "audit_c": with_gaps(
                st.fixed_dictionaries(dict.fromkeys(range(1, 4), st.integers(0, 4)))
            ),
            "dast10": with_gaps(st.fixed_dictionaries(dict.fromkeys(range(1, 11), st.booleans()))),
            "cssrs_screener": with_gaps(cssrs_answers()).map(unasked_after_gap),
        },
    )
)
def test_partial_assessments_always_validate(scorer: Any, items: dict[str, Any]) -> None:
    assessment = assessment_from_items(items, partial=True)
    report = scorer.score(assessment)
    # Unanswered due questions never make the crisis hazard a complete, plain "low".
    cssrs = items.get("cssrs_screener")
    if cssrs is not None:
        answered = {k for k, v in cssrs.items() if v is not None}
        crisis = report.hazards["crisis"]
        if due_questions(cssrs) - answered:
            assert not (crisis.complete and crisis.level == "low")


def test_submodule_is_imported_lazily() -> None:
    code = (
        "import sys, riskrules\n"
        "assert 'riskrules.instruments' not in sys.modules\n"
        "assert riskrules.instruments.score_cage_aid({1: True, 2: False, 3: False, 4: False})"
        " == {'client.cage_aid.total': 1}\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_docs_example_runs_and_matches_its_comment() -> None:
    text = (Path(__file__).parents[2] / "docs" / "instruments.md").read_text(encoding="utf-8")
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(block, "docs/instruments.md", "exec"), namespace)
    assert namespace["report"].overall_level in ("low", "moderate", "high", "critical")
    shown = "".join(line.lstrip("# ") for line in block.splitlines() if line.startswith("# {"))
    shown += "".join(line.lstrip("# ") for line in block.splitlines() if line.startswith("#  '"))
    assert shown.replace(" ", "") == str(
        score_audit({1: 2, 2: 1, 3: 1, 4: 0, 5: 0, 6: 0, 7: 1, 8: 0, 9: 0, 10: 2})
    ).replace(" ", "")


def test_cssrs_questions_a_short_form_never_asks_are_left_out() -> None:
    answers = {"q1": True, "q2": True, "q6_lifetime": False}
    with pytest.raises(AssessmentError, match="missing answer"):
        score_cssrs_screener(answers)
    assert score_cssrs_screener(answers, not_asked=("q3", "q4", "q5")) == {
        "client.cssrs.q1": True,
        "client.cssrs.q2": True,
        "client.cssrs.q6_lifetime": False,
    }
    with pytest.raises(AssessmentError, match="missing answer") as info:
        score_cssrs_screener({"q1": True, "q2": True}, not_asked=("q3", "q4", "q5"))
    assert info.value.field == "cssrs_screener.q6_lifetime"
    with pytest.raises(AssessmentError, match="not_asked takes"):
        score_cssrs_screener(answers, not_asked=("q9",))
