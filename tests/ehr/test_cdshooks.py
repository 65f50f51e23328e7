"""CDS Hooks cards: summary length, indicators, order, determinism, suggestions and links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskrules import RiskReport, Scorer, synthesize
from riskrules.ehr._cdshooks import OVERRIDE_REASONS, SUMMARY_LIMIT, cards

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer("default", engine="native")


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _check_card(card: dict[str, Any]) -> None:
    assert len(card["summary"]) < SUMMARY_LIMIT
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"]
    assert "not a diagnosis" in card["detail"]
    codes = [reason["code"] for reason in card["overrideReasons"]]
    assert codes == [code for code, _ in OVERRIDE_REASONS]


def test_crisis_card_first_and_critical(scorer: Scorer) -> None:
    result = cards(scorer.score(_example("client_in_crisis")))
    assert result[0]["source"]["topic"]["code"] == "crisis"
    assert result[0]["indicator"] == "critical"
    assert result[0]["summary"].startswith("Client crisis")
    for card in result:
        _check_card(card)


def test_indicator_mapping(scorer: Scorer) -> None:
    report = scorer.score(_example("heavy_trauma_caseload"))
    expected = {"moderate": "info", "high": "warning", "critical": "critical"}
    hazard_cards = [c for c in cards(report) if "topic" in c["source"]]
    assert hazard_cards
    for card in hazard_cards:
        hazard = report.hazards[card["source"]["topic"]["code"]]
        assert card["indicator"] == expected[hazard.level]
    levels = [report.hazards[c["source"]["topic"]["code"]].level for c in hazard_cards]
    assert levels == ["critical", "high"]


def test_no_cards_for_complete_low_report(scorer: Scorer) -> None:
    report = scorer.score(_example("well_supported_clinician"))
    assert report.overall_level == "low"
    assert all(h.complete for h in report.hazards.values())
    assert cards(report) == []


def test_incomplete_hazards_get_one_info_card(scorer: Scorer) -> None:
    report = scorer.score({})
    result = cards(report)
    assert len(result) == 1
    (card,) = result
    assert card["indicator"] == "info"
    assert "Incomplete" in card["summary"]
    for hazard in report.hazards.values():
        assert hazard.title in card["detail"]
        for name in hazard.missing:
            assert f"`{name}`" in card["detail"]


def test_reasons_missing_inputs_and_citation_in_detail(scorer: Scorer) -> None:
    report = scorer.score(_example("incomplete_assessment"))
    for card in cards(report):
        _check_card(card)
        topic = card["source"].get("topic")
        if topic is None:
            continue
        hazard = report.hazards[topic["code"]]
        for firing in report.fired:
            if firing.hazard == topic["code"]:
                assert firing.because in card["detail"]
        if not hazard.complete:
            assert "Missing inputs" in card["detail"]
    crisis = cards(scorer.score(_example("client_in_crisis")))[0]
    assert "Columbia" in crisis["detail"]
    assert crisis["source"]["url"].startswith("https://")


def test_suggestions_and_links(scorer: Scorer) -> None:
    report = scorer.score(_example("client_in_crisis"))
    plain = cards(report)[0]
    linked = cards(report, links_base="https://protocols.example.org/", source_label="Local")[0]
    assert "links" not in plain
    assert linked["source"]["label"] == "Local"
    titles = [s["label"] for s in linked["suggestions"]]
    assert any("Crisis intervention" in t for t in titles)
    for link in linked["links"]:
        assert link["type"] == "absolute"
        assert link["url"].startswith("https://protocols.example.org/protocols/")
    uuids = [s["uuid"] for s in linked["suggestions"]] + [linked["uuid"]]
    assert len(set(uuids)) == len(uuids)
    assert [s["uuid"] for s in plain["suggestions"]] == [s["uuid"] for s in linked["suggestions"]]


def test_cards_from_a_rebuilt_report(scorer: Scorer) -> None:
    report = scorer.score(_example("client_in_crisis"))
    rebuilt = RiskReport.model_validate_json(report.model_dump_json())
    result = cards(rebuilt)
    assert result[0]["summary"] == cards(report)[0]["summary"]
    for card in result:
        _check_card(card)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), missing=st.sampled_from([0.0, 0.2, 0.6]))
def test_cards_are_deterministic_and_well_formed(scorer: Scorer, seed: int, missing: float) -> None:
    for record in synthesize(8, seed, missing):
        assessment = {k: v for k, v in record.items() if k != "id"}
        report = scorer.score(assessment)
        first = json.dumps(cards(report, links_base="https://p.example.org"))
        assert first == json.dumps(
            cards(scorer.score(assessment), links_base="https://p.example.org")
        )
        result = cards(report)
        for card in result:
            _check_card(card)
        hazard_cards = [c for c in result if "topic" in c["source"]]
        at_least_moderate = [hid for hid, h in report.hazards.items() if h.level != "low"]
        assert sorted(c["source"]["topic"]["code"] for c in hazard_cards) == sorted(
            at_least_moderate
        )
        assert len({c["uuid"] for c in result}) == len(result)
        if "crisis" in at_least_moderate:
            assert result[0]["source"]["topic"]["code"] == "crisis"


def test_hazards_limit_the_cards(scorer: Scorer) -> None:
    report = scorer.score(_example("client_in_crisis"))
    only = cards(report, hazards=["crisis"])
    assert [c["source"]["topic"]["code"] for c in only] == ["crisis"]
    with pytest.raises(ValueError, match="no_such_hazard"):
        cards(report, hazards=["no_such_hazard"])


def test_instance_makes_uuids_per_call_and_key_makes_them_verifiable(scorer: Scorer) -> None:
    from riskrules.cdshooks import issued

    report = scorer.score(_example("client_in_crisis"))
    plain = cards(report)
    one = cards(report, instance="call-1", key=b"k" * 32)
    again = cards(report, instance="call-1", key=b"k" * 32)
    two = cards(report, instance="call-2", key=b"k" * 32)
    assert one == again
    assert {c["uuid"] for c in one}.isdisjoint(c["uuid"] for c in two)
    assert {c["uuid"] for c in one}.isdisjoint(c["uuid"] for c in plain)
    for card in one:
        assert issued(card["uuid"], b"k" * 32)
        assert not issued(card["uuid"], b"x" * 32)
        assert all(issued(s["uuid"], b"k" * 32) for s in card.get("suggestions", []))
    assert not any(issued(c["uuid"], b"k" * 32) for c in plain)
    assert not issued(one[0]["uuid"].upper(), b"k" * 32)
    assert not issued(None, b"k" * 32)
    assert not issued("not-a-uuid-but-exactly-36-characters", b"k" * 32)
