"""lower: the smallest changes that bring a hazard down, on the default rulesets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from riskrules import Scorer
from riskrules.planning import lower

# Caseload score 4 (high): over capacity 2 + too little supervision 1 + CBI personal burnout 1.
HIGH_CASELOAD = {
    "clinician": {"active_clients": 40, "supervision_hours_per_month": 1, "cbi": {"personal": 60}}
}


@pytest.fixture(scope="module")
def scorer() -> Iterator[Scorer]:
    with Scorer("default", engine="native") as s:
        yield s


def _proposals(plan: object) -> list[list[tuple[str, object, object]]]:
    return [
        [(c.input, c.before, c.after) for c in cf.changes]
        for cf in plan.counterfactuals  # type: ignore[attr-defined]
    ]


def test_caseload_high_to_moderate_fewer_clients_or_more_supervision(scorer: Scorer) -> None:
    plan = lower(scorer, HIGH_CASELOAD, "caseload", "moderate")
    assert (plan.level, plan.to) == ("high", "moderate")
    assert _proposals(plan) == [
        [("clinician.active_clients", 40, 35)],
        [("clinician.supervision_hours_per_month", 1, 4)],
    ]
    first, second = plan.counterfactuals
    assert first.stopped == ("caseload.over_capacity",)
    assert first.protocols == ("caseload_reduction",)
    assert second.stopped == ("caseload.low_supervision",)
    assert second.protocols == ("clinical_supervision",)
    assert first.distance < second.distance
    assert all(cf.level == "moderate" for cf in plan.counterfactuals)


def test_screening_scores_are_never_proposed(scorer: Scorer) -> None:
    plan = lower(scorer, HIGH_CASELOAD, "caseload", "low")
    assert "clinician.cbi.personal" not in plan.searched
    proposed = {c.input for cf in plan.counterfactuals for c in cf.changes}
    assert proposed
    assert "clinician.cbi.personal" not in proposed
    # score 4 to below 2 needs both working-condition changes; CBI personal keeps 1 point
    assert _proposals(plan) == [
        [
            ("clinician.active_clients", 40, 35),
            ("clinician.supervision_hours_per_month", 1, 4),
        ]
    ]


def test_fixed_inputs_are_left_alone(scorer: Scorer) -> None:
    plan = lower(scorer, HIGH_CASELOAD, "caseload", fixed=["clinician.active_clients"])
    assert _proposals(plan) == [[("clinician.supervision_hours_per_month", 1, 4)]]


def test_no_answer_is_removed_and_nothing_found_is_empty(scorer: Scorer) -> None:
    plan = lower(
        scorer,
        HIGH_CASELOAD,
        "caseload",
        "low",
        fixed=["clinician.supervision_hours_per_month"],
        max_changes=3,
    )
    assert plan.counterfactuals == ()


def test_a_crisis_from_screening_answers_has_no_actionable_change(scorer: Scorer) -> None:
    assessment = {"client": {"cssrs": {"q1": True, "q2": True, "q4": True}}}
    assert scorer.score(assessment).hazards["crisis"].level == "critical"
    plan = lower(scorer, assessment, "crisis")
    assert plan.searched == ()
    assert plan.counterfactuals == ()


def test_a_hazard_at_or_below_the_target_needs_nothing(scorer: Scorer) -> None:
    plan = lower(scorer, {"clinician": {"active_clients": 20}}, "caseload")
    assert (plan.level, plan.to, plan.counterfactuals) == ("low", "low", ())


def test_bad_arguments_are_value_errors(scorer: Scorer) -> None:
    with pytest.raises(ValueError, match="unknown hazard"):
        lower(scorer, HIGH_CASELOAD, "no_such_hazard")
    with pytest.raises(ValueError, match="unknown level"):
        lower(scorer, HIGH_CASELOAD, "caseload", "severe")
    with pytest.raises(ValueError, match="unknown input"):
        lower(scorer, HIGH_CASELOAD, "caseload", fixed=["clinician.nope"])
    with pytest.raises(ValueError, match="max_changes"):
        lower(scorer, HIGH_CASELOAD, "caseload", max_changes=0)
