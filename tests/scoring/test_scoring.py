"""Scoring semantics: bands, caps, floors, missing data, recommendations, parameters, engines."""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskrules
from engines_here import DURABLE, ENGINES
from riskrules import (
    AssessmentError,
    EngineError,
    RiskReport,
    Ruleset,
    RulesetError,
    Scorer,
    score,
)
from riskrules.engines._base import Evaluation, Program
from riskrules.ruleset._conditions import FieldLeaf, FindingLeaf, walk
from riskrules.ruleset._spec import URGENCIES
from riskrules.scoring import _scorer as scoring_module
from scoring_examples import HEAVY, demo_data, demo_ruleset
from strategies import assessments, rulesets


@pytest.fixture(scope="module")
def demo() -> Ruleset:
    return demo_ruleset()


@pytest.fixture(scope="module")
def scorer(demo: Ruleset) -> Iterator[Scorer]:
    with Scorer(demo, engine="native") as s:
        yield s


def caseload(**fields: Any) -> dict[str, Any]:
    """An assessment with every caseload input given (defaults below every threshold)."""
    clinician: dict[str, Any] = {
        "active_clients": 20,
        "proqol": {"burnout": 20},
        "trauma_sessions_share": 0.1,
        "life_crisis": False,
    }
    for name, value in fields.items():
        if name == "burnout":
            clinician["proqol"]["burnout"] = value
        else:
            clinician[name] = value
    return {"clinician": clinician}


# --------------------------------------------------------------------------- bands, caps, floors


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
def test_caseload_bands(scorer: Scorer, fields: dict[str, Any], score_: int, level: str) -> None:
    result = scorer.score(caseload(**fields)).hazards["caseload"]
    assert (result.score, result.level, result.complete) == (score_, level, True)
    assert result.possible_level == level


def test_cap_limits_the_score_and_the_level(scorer: Scorer) -> None:
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


def test_floor_never_lowers_a_level() -> None:
    data = demo_data()
    data["rules"][1]["then"]["floor"] = "moderate"  # caseload.burnout_high
    data["rules"][1]["then"]["points"] = 10
    with Scorer(Ruleset.model_validate(data), engine="native") as s:
        result = s.score(caseload(active_clients=40, burnout=44)).hazards["caseload"]
    assert (result.score, result.level) == (8, "high")  # 13 capped at 8: high beats the floor


def test_float_points_sum_in_ruleset_order() -> None:
    data = demo_data()
    data["rules"][0]["then"]["points"] = 1.5
    data["rules"][2]["then"]["points"] = 1.5
    with Scorer(Ruleset.model_validate(data), engine="native") as s:
        result = s.score(caseload(active_clients=40, trauma_sessions_share=0.9)).hazards["caseload"]
    assert result.score == 3.0
    assert isinstance(result.score, float)
    assert result.level == "moderate"


# --------------------------------------------------------------------------- missing data


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


def test_a_finding_no_rule_can_assert_is_false(scorer: Scorer) -> None:
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


# --------------------------------------------------------------------------- recommendations


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


def test_band_recommendation_follows_the_hazard_level(scorer: Scorer) -> None:
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


# --------------------------------------------------------------------------- parameters


def test_params_override_defaults_and_are_reported(demo: Ruleset) -> None:
    with Scorer(demo, engine="native", params={"max_active_clients": 45}) as s:
        report = s.score(caseload(active_clients=40))
        assert s.params == {"burnout_high": 42, "max_active_clients": 45, "trauma_share": 0.5}
    assert report.params == {"burnout_high": 42, "max_active_clients": 45, "trauma_share": 0.5}
    assert list(report.params) == sorted(report.params)
    assert report.hazards["caseload"].level == "low"


@pytest.mark.parametrize(
    ("params", "path", "message"),
    [
        ({"max_active_client": 40}, "parameters.max_active_client", "did you mean"),
        ({"nonsense": 1}, "parameters.nonsense", "unknown parameter 'nonsense'"),
        ({"max_active_clients": 0}, "parameters.max_active_clients", "below the minimum 1"),
        ({"max_active_clients": 501}, "parameters.max_active_clients", "above the maximum 500"),
        ({"max_active_clients": 40.5}, "parameters.max_active_clients", "must be an integer"),
        ({"max_active_clients": True}, "parameters.max_active_clients", "must be a number"),
        ({"max_active_clients": "40"}, "parameters.max_active_clients", "must be a number"),
        ({"trauma_share": float("nan")}, "parameters.trauma_share", "must be finite"),
    ],
)
def test_bad_params_are_ruleset_errors(
    demo: Ruleset, params: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(RulesetError) as info:
        Scorer(demo, engine="native", params=params)
    assert info.value.path == path
    assert message in str(info.value)


def test_params_must_be_a_mapping(demo: Ruleset) -> None:
    with pytest.raises(RulesetError, match="params must be a mapping"):
        Scorer(demo, engine="native", params=[("max_active_clients", 40)])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- engines


def test_unknown_engine_is_an_engine_error(demo: Ruleset) -> None:
    with pytest.raises(EngineError, match="did you mean 'native'"):
        Scorer(demo, engine="nativ")


def test_auto_engine_prefers_durable_where_it_imports(demo: Ruleset) -> None:
    with Scorer(demo) as s:
        assert s.engine == ("durable" if DURABLE else "native")
        assert s.score(HEAVY).engine == s.engine


def test_durable_on_request(demo: Ruleset) -> None:
    if DURABLE:
        with Scorer(demo, engine="durable") as s:
            assert s.engine == "durable"
    else:
        with pytest.raises(EngineError):
            Scorer(demo, engine="durable")


def test_engine_failures_become_engine_errors(
    demo: Ruleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        name = "broken"

        def run(self, facts: Mapping[str, Any]) -> Evaluation:
            raise ZeroDivisionError("boom")

        def close(self) -> None:
            pass

    monkeypatch.setattr(scoring_module, "compile_engine", lambda name, program: Broken())
    with Scorer(demo) as s, pytest.raises(EngineError, match="broken engine failed"):
        s.score({})


def test_a_closed_scorer_refuses_to_score(demo: Ruleset) -> None:
    with Scorer(demo, engine="native") as s:
        s.score({})
    with pytest.raises(EngineError, match="closed"):
        s.score({})
    s.close()  # idempotent


def test_dropping_a_scorer_closes_its_engine(
    demo: Ruleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    real = scoring_module.compile_engine

    class Spy:
        name = "native"

        def __init__(self, program: Program) -> None:
            self.inner = real("native", program)

        def run(self, facts: Mapping[str, Any]) -> Evaluation:
            return self.inner.run(facts)

        def close(self) -> None:
            closed.append("closed")
            self.inner.close()

    monkeypatch.setattr(scoring_module, "compile_engine", lambda name, program: Spy(program))
    s = Scorer(demo)
    s.score({})
    ref = weakref.ref(s)
    del s
    gc.collect()
    assert ref() is None
    assert closed == ["closed"]


# --------------------------------------------------------------------------- score()


def test_module_score_caches_scorers_by_fingerprint(demo: Ruleset) -> None:
    first = score(HEAVY, ruleset=demo, engine="native")
    before = scoring_module._cached_scorer.cache_info().hits
    same_semantics = demo_ruleset()  # a different object with the same fingerprint
    second = score(HEAVY, ruleset=same_semantics, engine="native")
    assert scoring_module._cached_scorer.cache_info().hits == before + 1
    assert first.model_dump_json() == second.model_dump_json()


def test_module_score_keeps_bool_and_int_params_apart(demo: Ruleset) -> None:
    score({}, ruleset=demo, engine="native", params={"max_active_clients": 1})
    with pytest.raises(RulesetError, match="must be a number"):
        score({}, ruleset=demo, engine="native", params={"max_active_clients": True})


def test_module_score_validates_uncacheable_arguments(demo: Ruleset) -> None:
    with pytest.raises(EngineError, match="unknown engine"):
        score({}, ruleset=demo, engine=["native"])  # type: ignore[arg-type]
    with pytest.raises(RulesetError, match="params must be a mapping"):
        score({}, ruleset=demo, params=[("a", 1)])  # type: ignore[arg-type]


def test_score_many_is_lazy(scorer: Scorer) -> None:
    consumed: list[int] = []

    def feed() -> Iterator[dict[str, Any]]:
        for i in range(3):
            consumed.append(i)
            yield caseload(active_clients=30 + 5 * i)

    reports = scorer.score_many(feed())
    assert consumed == []
    first = next(reports)
    assert consumed == [0]
    assert first.hazards["caseload"].level == "low"
    assert [r.hazards["caseload"].level for r in reports] == ["low", "moderate"]


def test_score_many_stops_at_the_first_bad_assessment(scorer: Scorer) -> None:
    reports = scorer.score_many([{}, {"clinician": {"active_clients": -1}}, {}])
    next(reports)
    with pytest.raises(AssessmentError):
        next(reports)


# --------------------------------------------------------------------------- determinism


def test_same_input_gives_byte_identical_json(demo: Ruleset) -> None:
    texts = set()
    for engine in ENGINES:
        for _ in range(2):
            with Scorer(demo_ruleset(), engine=engine) as s:
                texts.add(s.score(HEAVY).model_dump_json())
                texts.add(s.score(HEAVY).model_dump_json())
    assert len(texts) == 1
    assert '"engine"' not in texts.pop()


@pytest.fixture(scope="module")
def engine_scorers(demo: Ruleset) -> Iterator[list[Scorer]]:
    scorers = [Scorer(demo, engine=engine) for engine in ENGINES]
    yield scorers
    for s in scorers:
        s.close()


def _demo_assessment() -> st.SearchStrategy[dict[str, Any]]:
    return assessments(demo_ruleset(), missing=0.3)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(assessment=_demo_assessment())
def test_engines_give_identical_reports_on_the_demo(
    engine_scorers: list[Scorer], assessment: dict[str, Any]
) -> None:
    texts = {s.score(assessment).model_dump_json() for s in engine_scorers}
    assert len(texts) == 1, assessment


@settings(max_examples=40)
@given(data=st.data(), ruleset=rulesets(max_rules=10))
def test_engines_give_identical_reports_on_generated_rulesets(
    data: st.DataObject, ruleset: Ruleset
) -> None:
    batch = [data.draw(assessments(ruleset)) for _ in range(3)]
    texts: list[list[str]] = []
    for engine in ENGINES:
        with Scorer(ruleset, engine=engine) as s:
            texts.append([s.score(a).model_dump_json() for a in batch])
    assert all(t == texts[0] for t in texts)


# --------------------------------------------------------------------------- aggregation oracle


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


def test_aggregation_oracle_on_the_demo(scorer: Scorer, demo: Ruleset) -> None:
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


# --------------------------------------------------------------------------- concurrency


def _score_in_threads(scorer: Scorer, batch: list[dict[str, Any]], n: int) -> list[list[str]]:
    """Every thread scores the whole batch at the same time; returns each thread's JSON."""
    results: list[list[str]] = [[] for _ in range(n)]
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def work(k: int) -> None:
        try:
            start.wait()
            results[k] = [scorer.score(a).model_dump_json() for a in batch]
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


@pytest.mark.parametrize("engine", ENGINES)
def test_one_scorer_shared_by_eight_threads_matches_sequential(demo: Ruleset, engine: str) -> None:
    batch = [
        HEAVY,
        {},
        caseload(active_clients=40),
        caseload(active_clients=40, burnout=44),
        {"client": {"sex": "male", "audit_c": {"total": 4}, "cssrs": {"q4": True}}},
        {"client": {"sex": "female", "audit_c": {"total": 3}}},
    ] * 10
    with Scorer(demo, engine=engine) as s:
        expected = [s.score(a).model_dump_json() for a in batch]
        assert _score_in_threads(s, batch, 8) == [expected] * 8


# --------------------------------------------------------------------------- logging


def test_debug_logging_never_names_assessment_values(
    demo: Ruleset, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="riskrules")
    with Scorer(demo, engine="native") as s:
        s.score(caseload(active_clients=777, burnout=43, trauma_sessions_share=0.123))
    assert caplog.records, "expected debug records"
    text = "\n".join(r.getMessage().replace(demo.fingerprint, "") for r in caplog.records)
    assert "caseload.over_capacity" in text
    for value in ("777", "43", "0.123"):
        assert value not in text


def test_public_names() -> None:
    for name in ("Scorer", "score", "RiskReport", "HazardResult", "Firing", "Indeterminate"):
        assert name in riskrules.__all__
    assert "Recommendation" in riskrules.__all__
    assert "Explanation" in riskrules.__all__
