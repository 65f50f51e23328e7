"""RiskReport: JSON shape and order, immutability, round trips, explain()."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pydantic
import pytest

from riskrules import Explanation, RiskReport, RiskRulesError, Scorer
from riskrules.report import DISCLAIMER, NotRecommendedError
from scoring_examples import HEAVY, demo_ruleset


@pytest.fixture(scope="module")
def scorer() -> Iterator[Scorer]:
    with Scorer(demo_ruleset(), engine="native") as s:
        yield s


@pytest.fixture(scope="module")
def heavy(scorer: Scorer) -> RiskReport:
    return scorer.score(HEAVY)


def test_json_has_a_fixed_field_order(heavy: RiskReport) -> None:
    data = json.loads(heavy.model_dump_json())
    assert list(data) == [
        "ruleset",
        "params",
        "overall_level",
        "possible_level",
        "complete",
        "hazards",
        "findings",
        "fired",
        "indeterminate",
        "recommendations",
        "disclaimer",
    ]
    assert list(data["ruleset"]) == ["id", "version", "fingerprint"]
    assert list(data["hazards"]) == ["caseload", "substance_abuse", "crisis"]  # ruleset order
    assert list(data["hazards"]["caseload"]) == [
        "title",
        "score",
        "level",
        "possible_level",
        "complete",
        "missing",
    ]
    assert list(data["fired"][0]) == [
        "rule",
        "hazard",
        "points",
        "floor",
        "because",
        "reads",
        "findings_read",
    ]
    assert list(data["recommendations"][0]) == ["protocol", "title", "urgency", "level", "because"]


def test_ruleset_identity_is_reported(heavy: RiskReport, scorer: Scorer) -> None:
    assert heavy.ruleset.id == "demo"
    assert heavy.ruleset.version == "1.0.0"
    assert heavy.ruleset.fingerprint == scorer.ruleset.fingerprint
    assert len(heavy.ruleset.fingerprint) == 64


def test_engine_is_kept_but_not_serialised(heavy: RiskReport) -> None:
    assert heavy.engine == "native"
    assert "engine" not in heavy.model_dump()
    assert "native" not in heavy.model_dump_json()


def test_disclaimer_says_decision_support_not_diagnosis(heavy: RiskReport) -> None:
    assert heavy.disclaimer == DISCLAIMER
    assert "decision support" in heavy.disclaimer
    assert "not a diagnosis" in heavy.disclaimer


def test_reports_are_frozen(heavy: RiskReport) -> None:
    with pytest.raises(pydantic.ValidationError):
        heavy.overall_level = "low"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        heavy.hazards["caseload"].level = "low"  # type: ignore[misc]


def test_json_round_trip(heavy: RiskReport) -> None:
    text = heavy.model_dump_json()
    again = RiskReport.model_validate_json(text)
    assert again.model_dump_json() == text
    assert again.hazards["caseload"].score == 8
    assert again.fired[0].reads == {"client.cssrs.q4": False, "client.cssrs.q5": True}


def test_rebuilt_report_cannot_build_a_graph_without_its_ruleset(heavy: RiskReport) -> None:
    again = RiskReport.model_validate_json(heavy.model_dump_json())
    with pytest.raises(RiskRulesError, match="carries no ruleset"):
        _ = again.graph


def test_reports_of_the_same_input_are_equal(scorer: Scorer) -> None:
    first, second = scorer.score(HEAVY), scorer.score(HEAVY)
    assert first == second
    _ = first.graph  # a cached graph does not make reports differ
    assert first == second
    assert scorer.score(HEAVY) != scorer.score({})


def test_graph_is_built_once(heavy: RiskReport) -> None:
    assert heavy.graph is heavy.graph


def test_explain_a_chained_recommendation(heavy: RiskReport) -> None:
    explanation = heavy.explain("caseload_reduction")
    assert isinstance(explanation, Explanation)
    assert explanation.protocol == "caseload_reduction"
    assert explanation.paths == (
        (
            "input:clinician.active_clients",
            "rule:caseload.over_capacity",
            "finding:caseload.over_capacity",
            "rule:caseload.burnout_high",
            "protocol:caseload_reduction",
        ),
        (
            "input:clinician.proqol.burnout",
            "rule:caseload.burnout_high",
            "protocol:caseload_reduction",
        ),
    )
    lines = str(explanation).splitlines()
    assert lines[0].startswith("protocol:caseload_reduction (Caseload reduction; urgent)")
    assert (
        "input:clinician.proqol.burnout = 44 -> rule:caseload.burnout_high "
        "(points 4, floor high) -> protocol:caseload_reduction"
    ) in lines[2]
    assert str(explanation) == explanation.text


def test_explain_a_band_recommendation_goes_through_the_hazard(heavy: RiskReport) -> None:
    paths = heavy.explain("self_care_plan").paths
    assert all(path[-2:] == ("hazard:caseload", "protocol:self_care_plan") for path in paths)
    starts = {path[0] for path in paths}
    assert starts == {
        "input:clinician.active_clients",
        "input:clinician.proqol.burnout",
        "input:clinician.trauma_sessions_share",
        "input:clinician.life_crisis",
    }


def test_explain_across_hazards(heavy: RiskReport) -> None:
    text = heavy.explain("specialist_referral").text
    assert (
        "input:client.cssrs.q5 = true -> rule:crisis.high_risk (points 0, floor critical) -> "
        "finding:cssrs.high_risk -> rule:substance.in_crisis (points 3) -> "
        "protocol:specialist_referral"
    ) in text
    assert 'input:client.sex = "female"' in text


def test_explain_names_absent_inputs_a_fired_rule_read(scorer: Scorer) -> None:
    report = scorer.score({"client": {"cssrs": {"q5": True}}})
    text = report.explain("crisis_intervention").text
    assert "input:client.cssrs.q4 (not assessed) -> rule:crisis.high_risk" in text
    assert "input:client.cssrs.q5 = true -> rule:crisis.high_risk" in text


def test_explaining_a_protocol_that_was_not_recommended(scorer: Scorer) -> None:
    report = scorer.score({})
    with pytest.raises(NotRecommendedError) as info:
        report.explain("crisis_intervention")
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, RiskRulesError)
    assert str(info.value) == (
        "protocol 'crisis_intervention' was not recommended in this report (recommended: none)"
    )
    with pytest.raises(KeyError, match="no_such_protocol"):
        report.explain("no_such_protocol")


def test_recommendation_lookup(heavy: RiskReport) -> None:
    assert heavy.recommendation("peer_consultation").because == ("caseload.over_capacity",)
