"""Aggregation: bands, caps, floors, missing data, recommendations, and an independent recount
of every aggregate on generated rulesets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskrules import RiskReport, Ruleset, Scorer
from riskrules.ruleset._conditions import FieldLeaf, FindingLeaf, walk
from riskrules.ruleset._spec import URGENCIES
from scoring_examples import HEAVY, demo_data
from strategies import assessments, rulesets

Caseload: TypeAlias = Callable[..., dict[str, Any]]
"""The ``caseload`` fixture: an assessment with every caseload input given."""


def test_every_demo_rule_fires_on_the_heavy_assessment(scorer: Scorer) -> None:
    report = scorer.score(HEAVY)
    assert [f.rule for f in report.fired] == [
        "crisis.high_risk",  # salience 10 fires first
        "caseload.over_capacity",
        "caseload.trauma_heavy",
        "caseload.life_crisis",
        "substance.audit_c_positive",
        "caseload.burnout_high",  # needs the finding asserted in round one
        "substance.in_crisis",
    ]
    assert report.findings == ("cssrs.high_risk", "caseload.over_capacity", "audit_c.positive")
    assert report.overall_level == "critical"
    assert report.complete is True
    assert report.indeterminate == ()


@pytest.mark.parametrize(
    ("fields", "score_", "level"),
    [
        ({}, 0, "low"),
        ({"life_crisis": True}, 2, "low"),  # 2 < moderate's 3
        ({"active_clients": 36}, 3, "moderate"),  # exactly the moderate threshold
        ({"active_clients": 35}, 0, "low"),  # gt, not gte, the parameter
        ({"active_clients": 36, "trauma_sessions_share": 0.5}, 5, "moderate"),
        ({"active_clients": 36, "trauma_sessions_share": 0.5, "life_crisis": True}, 7, "high"),
    ],
)
def test_caseload_bands(
    scorer: Scorer, fields: dict[str, Any], score_: int, level: str, caseload: Caseload
) -> None:
    result = scorer.score(caseload(**fields)).hazards["caseload"]
    assert (result.score, result.level, result.complete) == (score_, level, True)
    assert result.possible_level == level


def test_cap_limits_the_score_and_the_level(scorer: Scorer, caseload: Caseload) -> None:
    everything = caseload(
        active_clients=40, burnout=44, trauma_sessions_share=0.9, life_crisis=True
    )
    result = scorer.score(everything).hazards["caseload"]
    assert result.score == 8  # 3 + 4 + 2 + 2 = 11, capped at 8
    assert result.level == "high"  # would be critical (>= 10) without the cap

    data = demo_data()
    del data["hazards"]["caseload"]["cap"]
    with Scorer(Ruleset.model_validate(data), engine="native") as uncapped:
        result = uncapped.score(everything).hazards["caseload"]
    assert (result.score, result.level) == (11, "critical")


def test_floor_raises_the_level_of_a_zero_point_rule(scorer: Scorer) -> None:
    report = scorer.score({"client": {"cssrs": {"q4": True, "q5": False}}})
    crisis = report.hazards["crisis"]
    assert (crisis.score, crisis.level, crisis.complete) == (0, "critical", True)
    assert report.overall_level == "critical"


def test_floor_never_lowers_a_level(caseload: Caseload) -> None:
    data = demo_data()
    data["rules"][1]["then"]["floor"] = "moderate"  # caseload.burnout_high
    data["rules"][1]["then"]["points"] = 10
    with Scorer(Ruleset.model_validate(data), engine="native") as s:
        result = s.score(caseload(active_clients=40, burnout=44)).hazards["caseload"]
    assert (result.score, result.level) == (8, "high")  # 13 capped at 8: high beats the floor


def test_float_points_sum_in_ruleset_order(caseload: Caseload) -> None:
    data = demo_data()
    data["rules"][0]["then"]["points"] = 1.5
    data["rules"][2]["then"]["points"] = 1.5
    with Scorer(Ruleset.model_validate(data), engine="native") as s:
        result = s.score(caseload(active_clients=40, trauma_sessions_share=0.9)).hazards["caseload"]
    assert result.score == 3.0
    assert isinstance(result.score, float)
    assert result.level == "moderate"


def test_missing_inputs_make_hazards_incomplete_not_low(scorer: Scorer) -> None:
    report = scorer.score({"clinician": {"active_clients": 40}})
    caseload_result = report.hazards["caseload"]
    assert caseload_result.level == "moderate"
    assert caseload_result.possible_level == "high"  # 3 + 4 + 2 + 2 capped at 8, floor high
    assert caseload_result.complete is False
    assert caseload_result.missing == (
        "clinician.life_crisis",
        "clinician.proqol.burnout",
        "clinician.trauma_sessions_share",
    )
    crisis = report.hazards["crisis"]
    assert (crisis.level, crisis.possible_level, crisis.complete) == ("low", "critical", False)
    assert crisis.missing == ("client.cssrs.q4", "client.cssrs.q5")
    assert report.complete is False


def test_missing_follows_unknown_findings_transitively(scorer: Scorer) -> None:
    report = scorer.score({"client": {"sex": "male", "audit_c": {"total": 6}}})
    assert [f.rule for f in report.fired] == ["substance.audit_c_positive"]
    open_rules = {i.rule: i.missing for i in report.indeterminate}
    # substance.in_crisis reads cssrs.high_risk, which only the indeterminate crisis rule asserts
    assert open_rules["substance.in_crisis"] == ("client.cssrs.q4", "client.cssrs.q5")
    substance = report.hazards["substance_abuse"]
    assert substance.missing == ("client.cssrs.q4", "client.cssrs.q5")
    assert (substance.score, substance.level, substance.possible_level) == (2, "moderate", "high")


def test_indeterminate_rules_are_listed_in_ruleset_order(scorer: Scorer) -> None:
    report = scorer.score({})
    assert [i.rule for i in report.indeterminate] == [r.id for r in scorer.ruleset.rules]
    open_rules = {i.rule: i.missing for i in report.indeterminate}
    # burnout_high reads the finding over_capacity may assert: its input is missing too
    assert open_rules["caseload.burnout_high"] == (
        "clinician.active_clients",
        "clinician.proqol.burnout",
    )
    assert report.fired == ()
    assert all(not h.complete for h in report.hazards.values())


def test_a_finding_no_rule_can_assert_is_false(scorer: Scorer, caseload: Caseload) -> None:
    report = scorer.score(caseload(active_clients=20, burnout=None))
    # over_capacity is definitely false, so burnout_high is false without a burnout score
    assert report.hazards["caseload"].complete is True
    assert "caseload.burnout_high" not in [i.rule for i in report.indeterminate]


def test_a_definite_no_is_complete_even_with_other_data_missing(scorer: Scorer) -> None:
    report = scorer.score({"client": {"sex": "female", "audit_c": {"total": 2}}})
    substance = report.hazards["substance_abuse"]
    # AUDIT-C is negative, so substance.in_crisis is false whatever C-SSRS says
    assert (substance.level, substance.complete, substance.missing) == ("low", True, ())
    assert report.hazards["crisis"].complete is False


def test_runs_with_the_same_firings_keep_their_own_values_and_gaps(scorer: Scorer) -> None:
    first = scorer.score({"clinician": {"active_clients": 40}})
    second = scorer.score({"clinician": {"active_clients": 44}, "client": {"sex": "male"}})
    third = scorer.score({"clinician": {"active_clients": 50}})
    assert [f.rule for f in first.fired] == [f.rule for f in second.fired]
    assert [i.rule for i in first.indeterminate] == [i.rule for i in second.indeterminate]
    gaps = [{i.rule: i.missing for i in r.indeterminate} for r in (first, second, third)]
    assert gaps[0]["substance.audit_c_positive"] == ("client.audit_c.total", "client.sex")
    assert gaps[1]["substance.audit_c_positive"] == ("client.audit_c.total",)
    assert gaps[2] == gaps[0]
    values = [r.fired[0].reads["clinician.active_clients"] for r in (first, second, third)]
    assert values == [40, 44, 50]


def test_null_means_not_assessed(scorer: Scorer) -> None:
    nulls = {"clinician": {"active_clients": None, "proqol": None}, "client": None}
    assert scorer.score(nulls).model_dump_json() == scorer.score({}).model_dump_json()


def test_fired_rules_report_what_they_read(scorer: Scorer) -> None:
    report = scorer.score({"client": {"cssrs": {"q5": True}}})
    (firing,) = report.fired
    assert firing.rule == "crisis.high_risk"
    assert firing.reads == {"client.cssrs.q4": None, "client.cssrs.q5": True}
    assert (firing.points, firing.floor, firing.hazard) == (0, "critical", "crisis")
    assert firing.because == "Yes to C-SSRS Q4 or Q5."


def test_recommendations_are_ranked(scorer: Scorer) -> None:
    recs = scorer.score(HEAVY).recommendations
    assert [r.protocol for r in recs] == [
        "crisis_intervention",  # crisis has the highest priority
        "caseload_reduction",  # urgent, high; ties with specialist_referral, then by id
        "specialist_referral",
        "clinical_supervision",  # soon, high, two supporting rules
        "brief_counselling",  # soon, high, one supporting rule
        "self_care_plan",  # routine, four supporting rules
        "peer_consultation",  # routine, one supporting rule
    ]
    by_id = {r.protocol: r for r in recs}
    assert by_id["clinical_supervision"].because == (
        "caseload.trauma_heavy",
        "caseload.burnout_high",
    )
    assert by_id["crisis_intervention"].level == "critical"
    assert by_id["crisis_intervention"].urgency == "immediate"
    assert by_id["crisis_intervention"].title == "Crisis intervention"


def test_priority_outranks_urgency() -> None:
    data = demo_data()
    data["protocols"]["crisis_intervention"]["urgency"] = "routine"
    with Scorer(Ruleset.model_validate(data), engine="native") as s:
        recs = s.score(HEAVY).recommendations
    assert recs[0].protocol == "crisis_intervention"


def test_without_priority_urgency_then_level_then_support_rank() -> None:
    data = demo_data()
    data["hazards"]["crisis"]["priority"] = 0
    data["protocols"]["crisis_intervention"]["urgency"] = "soon"
    with Scorer(Ruleset.model_validate(data), engine="native") as s:
        recs = [r.protocol for r in s.score(HEAVY).recommendations]
    # soon: crisis_intervention (critical) > clinical_supervision (high, 2 rules) > brief (1 rule)
    assert recs.index("caseload_reduction") < recs.index("crisis_intervention")
    assert recs.index("crisis_intervention") < recs.index("clinical_supervision")
    assert recs.index("clinical_supervision") < recs.index("brief_counselling")


def test_band_recommendation_follows_the_hazard_level(scorer: Scorer, caseload: Caseload) -> None:
    low = scorer.score(caseload(life_crisis=True))
    assert low.hazards["caseload"].level == "low"
    assert "self_care_plan" not in [r.protocol for r in low.recommendations]

    moderate = scorer.score(caseload(active_clients=40))
    (rec,) = [r for r in moderate.recommendations if r.protocol == "self_care_plan"]
    assert rec.because == ("caseload.over_capacity",)
    assert rec.level == "moderate"


def test_floor_reaching_a_band_recommends_it() -> None:
    data = demo_data()
    data["hazards"]["crisis"]["recommend"] = {"critical": ["specialist_referral"]}
    with Scorer(Ruleset.model_validate(data), engine="native") as s:
        report = s.score({"client": {"cssrs": {"q4": True}}})
    (rec,) = [r for r in report.recommendations if r.protocol == "specialist_referral"]
    assert rec.because == ("crisis.high_risk",)
    assert rec.level == "critical"


def _expected_missing(
    ruleset: Ruleset, report: RiskReport, present: set[str]
) -> dict[str, set[str]]:
    """Per indeterminate rule: absent inputs it tests by value, plus those of the indeterminate
    rules asserting any not-asserted finding it reads, found by a breadth-first search."""
    open_rules = [ruleset.rule(i.rule) for i in report.indeterminate]
    result = {}
    for start in open_rules:
        seen, queue, absent = {start.id}, [start], set()
        while queue:
            rule = queue.pop(0)
            for node, _, _ in walk(rule.when):
                if isinstance(node, FieldLeaf) and node.op not in ("present", "absent"):
                    # a value test on an absent field is unknown; present/absent never are
                    absent.update({node.field} - present)
                if isinstance(node, FindingLeaf) and node.finding not in report.findings:
                    for other in open_rules:
                        if node.finding in other.then.assert_ and other.id not in seen:
                            seen.add(other.id)
                            queue.append(other)
        result[start.id] = absent
    return result


def _check_aggregation(ruleset: Ruleset, report: RiskReport, present: set[str]) -> None:
    """Recompute the report's aggregates from its fired and indeterminate rules, independently."""
    scale = list(ruleset.scale)
    fired = [ruleset.rule(f.rule) for f in report.fired]
    open_ids = {i.rule for i in report.indeterminate}
    expected_missing = _expected_missing(ruleset, report, present)
    for item in report.indeterminate:
        assert set(item.missing) == expected_missing[item.rule], item.rule
        assert list(item.missing) == sorted(item.missing)

    def level_of(hid: str, rules: list[Any]) -> int:
        hazard = ruleset.hazards[hid]
        total = sum(r.then.points for r in rules if r.hazard == hid)
        if hazard.cap is not None:
            total = min(total, hazard.cap)
        level = max(scale.index(lv) for lv, t in hazard.bands.items() if t <= total)
        floors = [scale.index(r.then.floor) for r in rules if r.hazard == hid and r.then.floor]
        return max([level, *floors])

    levels = {}
    for hid in ruleset.hazards:
        result = report.hazards[hid]
        levels[hid] = level_of(hid, fired)
        assert result.level == scale[levels[hid]]
        assert result.complete == (not any(ruleset.rule(r).hazard == hid for r in open_ids))
        with_open = fired + [ruleset.rule(r) for r in open_ids]
        assert result.possible_level == scale[level_of(hid, with_open)]
        if result.complete:
            assert result.missing == ()
        else:
            assert result.missing, f"incomplete hazard {hid} names no missing input"
        mine = [i.rule for i in report.indeterminate if ruleset.rule(i.rule).hazard == hid]
        assert set(result.missing) == set().union(*(expected_missing[r] for r in mine))
    assert report.overall_level == scale[max(levels.values(), default=0)]
    assert report.complete == (not open_ids)

    expected: set[str] = {p for r in fired for p in r.then.recommend}
    for hid, hazard in ruleset.hazards.items():
        for lv, protocols in hazard.recommend.items():
            if scale.index(lv) <= levels[hid]:
                expected.update(protocols)
    recs = report.recommendations
    assert {r.protocol for r in recs} == expected
    keys = [
        (
            -max(
                [
                    ruleset.hazards[ruleset.rule(b).hazard].priority
                    for b in r.because
                    if r.protocol in ruleset.rule(b).then.recommend
                ]
                + [
                    h.priority
                    for hid, h in ruleset.hazards.items()
                    if any(
                        r.protocol in ps and scale.index(lv) <= levels[hid]
                        for lv, ps in h.recommend.items()
                    )
                ]
            ),
            -URGENCIES.index(r.urgency),
            -scale.index(r.level),
            -len(r.because),
            r.protocol,
        )
        for r in recs
    ]
    assert keys == sorted(keys)


@settings(max_examples=60)
@given(data=st.data(), ruleset=rulesets(max_rules=10))
def test_aggregation_matches_an_independent_recount(data: st.DataObject, ruleset: Ruleset) -> None:
    with Scorer(ruleset, engine="native") as s:
        for _ in range(3):
            assessment = data.draw(assessments(ruleset))
            _check_aggregation(ruleset, s.score(assessment), set(assessment))


def test_aggregation_oracle_on_the_demo(scorer: Scorer, demo: Ruleset, caseload: Caseload) -> None:
    for assessment in (HEAVY, {}, caseload(active_clients=40), {"client": {"cssrs": {"q4": True}}}):
        report = scorer.score(assessment)
        present = {name for f in report.fired for name, v in f.reads.items() if v is not None}
        present |= set(_dotted(assessment))
        _check_aggregation(demo, report, present)


def _dotted(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, Mapping):
            out.update(_dotted(value, f"{prefix}{key}."))
        elif value is not None:
            out[f"{prefix}{key}"] = value
    return out


def test_missing_inputs_follow_a_cycle_of_findings() -> None:
    data = {
        "ruleset": "cycle",
        "version": "1",
        "title": "Cycle",
        "inputs": {"x": {"type": "integer"}, "y": {"type": "integer"}, "z": {"type": "integer"}},
        "hazards": {"h": {"title": "H", "bands": {"low": 0, "high": 2}}},
        "rules": [
            {
                "id": "a",
                "hazard": "h",
                "when": {"any": [{"field": "x", "gt": 1}, {"finding": "g"}]},
                "then": {"assert": ["f"]},
                "because": "x or g",
            },
            {
                "id": "b",
                "hazard": "h",
                "when": {"any": [{"field": "y", "gt": 1}, {"finding": "f"}]},
                "then": {"assert": ["g"]},
                "because": "y or f",
            },
            {
                "id": "c",
                "hazard": "h",
                "when": {"all": [{"finding": "g"}, {"field": "z", "gt": 0}]},
                "then": {"points": 2},
                "because": "g and z",
            },
        ],
    }
    ruleset = Ruleset.model_validate(data)
    with Scorer(ruleset, engine="native") as s:
        report = s.score({"z": 1})
        assert {i.rule: i.missing for i in report.indeterminate} == {
            "a": ("x", "y"),
            "b": ("x", "y"),
            "c": ("x", "y"),
        }
        assert report.hazards["h"].possible_level == "high"
        _check_aggregation(ruleset, report, {"z"})
        report = s.score({"y": 2, "z": 1})
        assert [f.rule for f in report.fired] == ["b", "a", "c"]
