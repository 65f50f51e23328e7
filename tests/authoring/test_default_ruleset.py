"""The built-in default ruleset: its scenarios, its published cut-offs and its safety guarantees.

Every scenario in ``rulesets/*.yaml`` is scored on every available engine and its expectations
are checked here with :func:`riskrules.testing.check_expect`, the checker ``riskrules test``
uses. The published cut-offs are asserted again as explicit examples at their exact boundary
values, so a change to a threshold in the YAML fails a test that names the instrument and the
value.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engines_here import ENGINES
from riskrules import AssessmentError, Ruleset, Scorer, load_ruleset
from riskrules.ruleset._spec import Expect, Input, Scenario
from riskrules.testing import check_expect, run_scenarios

ROOT = Path(__file__).resolve().parents[2]
RULESETS = ROOT / "rulesets"
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs" / "default-ruleset.md"

HAZARD_FILES = (
    "boundary_crossings.yaml",
    "trauma_exposure.yaml",
    "caseload.yaml",
    "substance_abuse.yaml",
    "crisis.yaml",
)


@pytest.fixture(scope="module")
def default() -> Ruleset:
    return load_ruleset("default")


class Scorers:
    """Compiled Scorers per (ruleset, engine, params), built once and closed at the end."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str], Scorer] = {}

    def get(self, ruleset: Ruleset, engine: str, params: Mapping[str, Any] | None = None) -> Scorer:
        key = (ruleset.fingerprint, engine, json.dumps(dict(params or {}), sort_keys=True))
        if key not in self._cache:
            self._cache[key] = Scorer(ruleset, engine=engine, params=dict(params or {}) or None)
        return self._cache[key]

    def close(self) -> None:
        for scorer in self._cache.values():
            scorer.close()


@pytest.fixture(scope="module")
def scorers() -> Iterator[Scorers]:
    cache = Scorers()
    yield cache
    cache.close()


@pytest.fixture(scope="module")
def native(default: Ruleset, scorers: Scorers) -> Scorer:
    return scorers.get(default, "native")


def run_scenario(scorers: Scorers, ruleset: Ruleset, engine: str, scenario: Scenario) -> None:
    report = scorers.get(ruleset, engine, scenario.params).score(scenario.input)
    found = check_expect(report, scenario.expect, ruleset)
    assert not found, f"scenario {scenario.name!r} on {engine}: " + "; ".join(map(str, found))


def _scenario_ids() -> list[str]:
    return [s.name for s in load_ruleset("default").tests]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", _scenario_ids())
def test_default_scenario_holds(default: Ruleset, scorers: Scorers, engine: str, name: str) -> None:
    (scenario,) = [s for s in default.tests if s.name == name]
    run_scenario(scorers, default, engine, scenario)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("filename", HAZARD_FILES)
def test_hazard_file_loads_alone_and_its_scenarios_hold(
    scorers: Scorers, engine: str, filename: str
) -> None:
    ruleset = load_ruleset(RULESETS / filename)
    assert ruleset.ruleset == filename.removesuffix(".yaml")
    assert set(ruleset.hazards) == {ruleset.ruleset}
    assert ruleset.tests, f"{filename} has no scenarios"
    for scenario in ruleset.tests:
        run_scenario(scorers, ruleset, engine, scenario)


def test_checker_reports_a_contradicted_expectation(native: Scorer) -> None:
    report = native.score({"client": {"audit": {"total": 7, "item9": 0, "item10": 0}}})
    wrong = Expect(
        levels={"substance_abuse": "high"},
        fired=("audit.zone_2",),
        not_findings=("audit.zone_1",),
        recommendations=("specialist_referral",),
    )
    assert [(m.check, m.subject) for m in check_expect(report, wrong)] == [
        ("levels", "substance_abuse"),
        ("fired", "audit.zone_2"),
        ("not_findings", "audit.zone_1"),
        ("recommendations", "specialist_referral"),
    ]


def test_every_rule_fires_in_some_scenario(default: Ruleset) -> None:
    results = run_scenarios(default, engines=["native"])
    assert results.passed
    assert not results.uncovered, f"rules no scenario fires: {results.uncovered}"
    assert results.coverage == 100


def test_every_band_edge_has_a_scenario_on_both_sides(default: Ruleset, scorers: Scorers) -> None:
    scores: dict[str, set[float]] = {h: set() for h in default.hazards}
    for scenario in default.tests:
        report = scorers.get(default, "native", scenario.params).score(scenario.input)
        for hazard, result in report.hazards.items():
            scores[hazard].add(result.score)
    for hazard, spec in default.hazards.items():
        thresholds = list(spec.bands.values())
        uppers = [*thresholds[2:], float("inf")]
        for below, edge, above in zip(thresholds[:-1], thresholds[1:], uppers, strict=True):
            assert any(below <= s < edge for s in scores[hazard]), (
                f"{hazard}: no scenario scores just below the edge at {edge}"
            )
            assert any(edge <= s < above for s in scores[hazard]), (
                f"{hazard}: no scenario scores at or just above the edge at {edge}"
            )


AUDIT_ZONES = ("audit.zone_1", "audit.zone_2", "audit.zone_3", "audit.zone_4")
DAST_BANDS = ("dast10.none", "dast10.low", "dast10.moderate", "dast10.substantial", "dast10.severe")
STSS_BANDS = ("stss.little", "stss.mild", "stss.moderate", "stss.high", "stss.severe")

CUTOFFS: list[tuple[str, Any, str, tuple[str, ...]]] = [
    # (input, value, expected finding, the instrument's band findings)
    # AUDIT zones, WHO 2001: I 0-7, II 8-15, III 16-19, IV 20-40
    ("client.audit.total", 0, "audit.zone_1", AUDIT_ZONES),
    ("client.audit.total", 7, "audit.zone_1", AUDIT_ZONES),
    ("client.audit.total", 8, "audit.zone_2", AUDIT_ZONES),
    ("client.audit.total", 15, "audit.zone_2", AUDIT_ZONES),
    ("client.audit.total", 16, "audit.zone_3", AUDIT_ZONES),
    ("client.audit.total", 19, "audit.zone_3", AUDIT_ZONES),
    ("client.audit.total", 20, "audit.zone_4", AUDIT_ZONES),
    ("client.audit.total", 40, "audit.zone_4", AUDIT_ZONES),
    # DAST-10, Skinner 1982: 0 none, 1-2 low, 3-5 moderate, 6-8 substantial, 9-10 severe
    ("client.dast10.total", 0, "dast10.none", DAST_BANDS),
    ("client.dast10.total", 1, "dast10.low", DAST_BANDS),
    ("client.dast10.total", 2, "dast10.low", DAST_BANDS),
    ("client.dast10.total", 3, "dast10.moderate", DAST_BANDS),
    ("client.dast10.total", 5, "dast10.moderate", DAST_BANDS),
    ("client.dast10.total", 6, "dast10.substantial", DAST_BANDS),
    ("client.dast10.total", 8, "dast10.substantial", DAST_BANDS),
    ("client.dast10.total", 9, "dast10.severe", DAST_BANDS),
    ("client.dast10.total", 10, "dast10.severe", DAST_BANDS),
    # STSS, Bride 2007: <28 little, 28-37 mild, 38-43 moderate, 44-48 high, >=49 severe
    ("clinician.stss.total", 17, "stss.little", STSS_BANDS),
    ("clinician.stss.total", 27, "stss.little", STSS_BANDS),
    ("clinician.stss.total", 28, "stss.mild", STSS_BANDS),
    ("clinician.stss.total", 37, "stss.mild", STSS_BANDS),
    ("clinician.stss.total", 38, "stss.moderate", STSS_BANDS),
    ("clinician.stss.total", 43, "stss.moderate", STSS_BANDS),
    ("clinician.stss.total", 44, "stss.high", STSS_BANDS),
    ("clinician.stss.total", 48, "stss.high", STSS_BANDS),
    ("clinician.stss.total", 49, "stss.severe", STSS_BANDS),
    ("clinician.stss.total", 85, "stss.severe", STSS_BANDS),
]
# ProQOL 5, Stamm 2010: each subscale raw sum <=22 low, 23-41 moderate, >=42 high
for _field, _prefix in (
    ("clinician.proqol.burnout", "proqol.burnout"),
    ("clinician.proqol.secondary_traumatic_stress", "proqol.sts"),
    ("clinician.proqol.compassion_satisfaction", "proqol.cs"),
):
    _bands = (f"{_prefix}_low", f"{_prefix}_moderate", f"{_prefix}_high")
    for _score, _band in ((10, 0), (22, 0), (23, 1), (41, 1), (42, 2), (50, 2)):
        CUTOFFS.append((_field, _score, _bands[_band], _bands))


@pytest.mark.parametrize(
    ("field", "value", "finding", "bands"),
    CUTOFFS,
    ids=[f"{field}={value}->{finding}" for field, value, finding, _ in CUTOFFS],
)
def test_published_band_cutoff(
    native: Scorer, field: str, value: Any, finding: str, bands: tuple[str, ...]
) -> None:
    report = native.score({field: value})
    assert [b for b in bands if b in report.findings] == [finding]
    assert not [i.rule for i in report.indeterminate if i.rule in bands]


BINARY_CUTOFFS: list[tuple[dict[str, Any], str, bool]] = [
    # AUDIT-C, Bradley 2007: positive at >=4 for men, >=3 for women
    ({"client": {"sex": "male", "audit_c": {"total": 3}}}, "audit_c.positive", False),
    ({"client": {"sex": "male", "audit_c": {"total": 4}}}, "audit_c.positive", True),
    ({"client": {"sex": "female", "audit_c": {"total": 2}}}, "audit_c.positive", False),
    ({"client": {"sex": "female", "audit_c": {"total": 3}}}, "audit_c.positive", True),
    # CAGE-AID, Brown & Rounds 1995: >=1 positive screen
    ({"client": {"cage_aid": {"total": 0}}}, "cage_aid.positive", False),
    ({"client": {"cage_aid": {"total": 1}}}, "cage_aid.positive", True),
    # CBI, PUMA study convention: >=50 high burnout
    ({"clinician": {"cbi": {"personal": 49}}}, "cbi.personal_high", False),
    ({"clinician": {"cbi": {"personal": 49.99}}}, "cbi.personal_high", False),
    ({"clinician": {"cbi": {"personal": 50}}}, "cbi.personal_high", True),
    ({"clinician": {"cbi": {"work": 49}}}, "cbi.work_high", False),
    ({"clinician": {"cbi": {"work": 50}}}, "cbi.work_high", True),
    ({"clinician": {"cbi": {"client": 49}}}, "cbi.client_high", False),
    ({"clinician": {"cbi": {"client": 50.0}}}, "cbi.client_high", True),
]


@pytest.mark.parametrize(
    ("assessment", "finding", "positive"),
    BINARY_CUTOFFS,
    ids=[f"{json.dumps(a, sort_keys=True)}->{f}={p}" for a, f, p in BINARY_CUTOFFS],
)
def test_published_screen_cutoff(
    native: Scorer, assessment: dict[str, Any], finding: str, positive: bool
) -> None:
    report = native.score(assessment)
    assert (finding in report.findings) is positive
    assert finding not in {i.rule for i in report.indeterminate}


@pytest.mark.parametrize(
    ("total", "next_protocol", "floor"),
    [
        (7, "simple_advice", "moderate"),
        (12, "brief_counselling", "high"),
        (17, "specialist_referral", "high"),
    ],
)
@pytest.mark.parametrize("item", ["item9", "item10"])
def test_who_next_highest_intervention(
    native: Scorer, total: int, next_protocol: str, floor: str, item: str
) -> None:
    plain = native.score({"client": {"audit": {"total": total, "item9": 2, "item10": 2}}})
    raised = native.score({"client": {"audit": {"total": total, "item9": 2, item: 4}}})
    assert next_protocol not in {r.protocol for r in plain.recommendations}
    assert next_protocol in {r.protocol for r in raised.recommendations}
    scale = ("low", "moderate", "high", "critical")
    assert scale.index(raised.hazards["substance_abuse"].level) >= scale.index(floor)


@pytest.mark.parametrize("item", ["item9", "item10"])
@pytest.mark.parametrize("value", [1, 3])
def test_audit_items_9_and_10_take_only_their_published_scores(
    native: Scorer, item: str, value: int
) -> None:
    with pytest.raises(AssessmentError) as caught:
        native.score({"client": {"audit": {item: value}}})
    assert caught.value.field == f"client.audit.{item}"
    assert caught.value.constraint == "must be one of 0, 2, 4"


def test_audit_zone_4_with_item_4_stays_at_its_own_intervention(native: Scorer) -> None:
    report = native.score({"client": {"audit": {"total": 30, "item9": 4, "item10": 4}}})
    assert not [f.rule for f in report.fired if f.rule.startswith("audit.next_intervention")]
    assert "specialist_referral" in {r.protocol for r in report.recommendations}


def test_missing_audit_is_never_zone_1(native: Scorer) -> None:
    report = native.score({"client": {"dast10": {"total": 0}}})
    assert "audit.zone_1" not in report.findings
    assert "audit.zone_1" in {i.rule for i in report.indeterminate}
    assert report.hazards["substance_abuse"].complete is False


CSSRS = ("q1", "q2", "q3", "q4", "q5", "q6_lifetime", "q6_past_3_months")
_GATES = {"q3": "q2", "q4": "q2", "q5": "q2", "q6_past_3_months": "q6_lifetime"}


def _cssrs_expected(answers: Mapping[str, bool], items: tuple[str, ...]) -> str:
    """The screener's triage for ``items`` written out directly: any recorded yes counts; a
    follow-up skipped because its gate was answered no is a no; anything else missing is open."""
    if any(answers.get(q) is True for q in items):
        return "fired"
    for q in items:
        if q not in answers and not (q in _GATES and answers.get(_GATES[q]) is False):
            return "indeterminate"
    return "not_fired"


def _cssrs_cases() -> list[dict[str, bool]]:
    cases = []
    for combo in itertools.product((True, False, None), repeat=len(CSSRS)):
        cases.append({q: v for q, v in zip(CSSRS, combo, strict=True) if v is not None})
    return cases


@pytest.mark.parametrize("engine", ENGINES)
def test_cssrs_every_answer_combination(default: Ruleset, scorers: Scorers, engine: str) -> None:
    scorer = scorers.get(default, engine)
    for answers in _cssrs_cases():
        report = scorer.score({"client": {"cssrs": answers}})
        fired = {f.rule for f in report.fired}
        open_rules = {i.rule for i in report.indeterminate}
        for rule, items in (
            ("cssrs.high_risk", ("q4", "q5", "q6_past_3_months")),
            ("cssrs.positive", ("q1", "q2", "q3", "q6_lifetime")),
        ):
            status = (
                "fired" if rule in fired else "indeterminate" if rule in open_rules else "not_fired"
            )
            assert status == _cssrs_expected(answers, items), f"{rule} on {answers}"
        crisis = report.hazards["crisis"]
        if "cssrs.high_risk" in fired:
            assert crisis.level == "critical", answers
            assert report.recommendations[0].protocol == "crisis_intervention", answers
        elif "cssrs.positive" in fired:
            assert crisis.level == "moderate", answers
        else:
            assert crisis.level == "low", answers
            assert crisis.complete is (
                "cssrs.high_risk" not in open_rules and "cssrs.positive" not in open_rules
            )


def _value(spec: Input) -> st.SearchStrategy[Any]:
    if spec.type == "boolean":
        return st.booleans()
    if spec.values is not None:  # enum values, or the only scores an integer may take
        return st.sampled_from(spec.values)
    low = spec.min if spec.min is not None else 0
    high = spec.max if spec.max is not None else low + 200
    if spec.type == "integer":
        return st.integers(int(low), int(high))
    return st.floats(float(low), float(high), allow_nan=False, allow_infinity=False)


@st.composite
def _assessments(draw: st.DrawFn, inputs: Mapping[str, Input]) -> dict[str, Any]:
    """Any valid assessment for ``inputs``: each field absent, null or a value in bounds."""
    result: dict[str, Any] = {}
    for name, spec in sorted(inputs.items()):
        choice = draw(st.sampled_from(("absent", "null", "value", "value")))
        if choice == "null":
            result[name] = None
        elif choice == "value":
            result[name] = draw(_value(spec))
    return result


_DEFAULT = load_ruleset("default")
_HIGH_RISK = st.sampled_from(
    ({"client.cssrs.q4": True}, {"client.cssrs.q5": True}, {"client.cssrs.q6_past_3_months": True})
)


@pytest.mark.parametrize("engine", ENGINES)
@given(assessment=_assessments(_DEFAULT.inputs), answer=_HIGH_RISK)
def test_high_risk_is_critical_with_crisis_intervention_first_whatever_else(
    default: Ruleset,
    scorers: Scorers,
    engine: str,
    assessment: dict[str, Any],
    answer: dict[str, bool],
) -> None:
    report = scorers.get(default, engine).score({**assessment, **answer})
    assert "cssrs.high_risk" in report.findings
    assert report.hazards["crisis"].level == "critical"
    assert report.overall_level == "critical"
    assert report.recommendations[0].protocol == "crisis_intervention"
    assert report.recommendations[0].urgency == "immediate"


@pytest.mark.parametrize("engine", ENGINES)
@given(assessment=_assessments(_DEFAULT.inputs))
def test_sexual_contact_is_always_a_critical_violation(
    default: Ruleset, scorers: Scorers, engine: str, assessment: dict[str, Any]
) -> None:
    report = scorers.get(default, engine).score({**assessment, "relationship.sexual_contact": True})
    assert "boundary.violation" in report.findings
    assert report.hazards["boundary_crossings"].level == "critical"


@given(assessment=_assessments(_DEFAULT.inputs))
def test_an_incomplete_hazard_is_never_shown_as_plain_low(
    native: Scorer, assessment: dict[str, Any]
) -> None:
    report = native.score(assessment)
    for hazard, result in report.hazards.items():
        if not result.complete:
            assert result.missing, hazard
            assert {i.hazard for i in report.indeterminate} >= {hazard}


@pytest.mark.parametrize("engine", ENGINES)
def test_sexual_contact_alone_recommends_protecting_the_client(
    default: Ruleset, scorers: Scorers, engine: str
) -> None:
    report = scorers.get(default, engine).score({"relationship": {"sexual_contact": True}})
    assert report.hazards["boundary_crossings"].level == "critical"
    assert "safer_therapeutic_environment" in {r.protocol for r in report.recommendations}


def _examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json"))


def test_at_least_five_examples() -> None:
    names = {p.stem for p in _examples()}
    assert len(names) >= 5
    assert {
        "well_supported_clinician",
        "heavy_trauma_caseload",
        "boundary_crossing_dyad",
        "client_alcohol_and_drugs",
        "client_in_crisis",
    } <= names


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.stem)
def test_example_scores_on_every_engine(default: Ruleset, scorers: Scorers, path: Path) -> None:
    assessment = json.loads(path.read_text(encoding="utf-8"))
    dumps = {
        engine: scorers.get(default, engine).score(assessment).model_dump_json()
        for engine in ENGINES
    }
    assert len(set(dumps.values())) == 1, "engines disagree"


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.stem)
def test_example_matches_its_scenario(default: Ruleset, path: Path) -> None:
    named = [s for s in default.tests if s.name == f"example: {path.stem}"]
    assert named, f"default.yaml has no scenario 'example: {path.stem}'"
    assert json.loads(path.read_text(encoding="utf-8")) == named[0].input


CONTRACT_INPUTS: dict[str, str] = {
    "clinician.active_clients": "integer",
    "clinician.direct_hours_per_week": "number",
    "clinician.trauma_sessions_share": "number",
    "clinician.supervision_hours_per_month": "number",
    "clinician.proqol.compassion_satisfaction": "integer",
    "clinician.proqol.burnout": "integer",
    "clinician.proqol.secondary_traumatic_stress": "integer",
    "clinician.stss.total": "integer",
    "clinician.cbi.personal": "number",
    "clinician.cbi.work": "number",
    "clinician.cbi.client": "number",
    "clinician.life_crisis": "boolean",
    "clinician.works_with_marginalized_communities": "boolean",
    "clinician.months_since_cultural_competency_training": "number",
    **{
        f"relationship.crossings.{d}": "boolean"
        for d in (
            "role",
            "time",
            "place",
            "money",
            "gifts",
            "clothing",
            "language",
            "self_disclosure",
            "physical_contact",
        )
    },
    "relationship.sexual_contact": "boolean",
    "relationship.special_client": "boolean",
    "relationship.dual_relationship": "boolean",
    "client.sex": "enum",
    "client.audit.total": "integer",
    "client.audit.item9": "integer",
    "client.audit.item10": "integer",
    "client.audit_c.total": "integer",
    "client.dast10.total": "integer",
    "client.cage_aid.total": "integer",
    **{f"client.cssrs.{q}": "boolean" for q in CSSRS},
    "client.trauma_history": "boolean",
    "client.abusive_relationship_history": "boolean",
    "client.emotional_manipulation": "boolean",
}
CONTRACT_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "clinician.active_clients": (0, None),
    "clinician.direct_hours_per_week": (0, 80),
    "clinician.trauma_sessions_share": (0, 1),
    "clinician.supervision_hours_per_month": (0, None),
    "clinician.proqol.compassion_satisfaction": (10, 50),
    "clinician.proqol.burnout": (10, 50),
    "clinician.proqol.secondary_traumatic_stress": (10, 50),
    "clinician.stss.total": (17, 85),
    "clinician.cbi.personal": (0, 100),
    "clinician.cbi.work": (0, 100),
    "clinician.cbi.client": (0, 100),
    "clinician.months_since_cultural_competency_training": (0, None),
    "client.audit.total": (0, 40),
    "client.audit_c.total": (0, 12),
    "client.dast10.total": (0, 10),
    "client.cage_aid.total": (0, 4),
}
FIXED_FINDINGS = (
    *AUDIT_ZONES,
    "audit_c.positive",
    *DAST_BANDS,
    "cage_aid.positive",
    *(f"proqol.{s}_{b}" for s in ("burnout", "sts", "cs") for b in ("low", "moderate", "high")),
    *STSS_BANDS,
    "cssrs.high_risk",
    "cssrs.positive",
    "boundary.violation",
    "boundary.multiple_crossings",
)
FIXED_PROTOCOLS = (
    "alcohol_education",
    "simple_advice",
    "brief_counselling",
    "specialist_referral",
    "monitor_and_reassess",
    "further_investigation",
    "intensive_assessment",
    "crisis_intervention",
    "crisis_line_and_outpatient_referral",
    "clinical_supervision",
    "peer_consultation",
    "caseload_reduction",
    "self_care_plan",
    "trauma_support_services",
    "ethics_consultation",
    "cultural_competency_training",
    "community_outreach",
    "mindfulness_practice",
    "reflective_journaling",
    "continuing_education",
)


def test_input_contract(default: Ruleset) -> None:
    assert {name: spec.type for name, spec in default.inputs.items()} == CONTRACT_INPUTS
    assert default.inputs["client.sex"].values == ("female", "male")
    assert default.inputs["client.audit.item9"].values == (0, 2, 4)
    assert default.inputs["client.audit.item10"].values == (0, 2, 4)
    for name, (low, high) in CONTRACT_BOUNDS.items():
        assert (default.inputs[name].min, default.inputs[name].max) == (low, high), name


def test_hazards_levels_findings_and_protocols(default: Ruleset) -> None:
    assert list(default.hazards) == [
        "boundary_crossings",
        "trauma_exposure",
        "caseload",
        "substance_abuse",
        "crisis",
    ]
    assert default.scale == ("low", "moderate", "high", "critical")
    asserted = {f for rule in default.rules for f in rule.then.assert_}
    assert set(FIXED_FINDINGS) <= asserted
    assert set(FIXED_PROTOCOLS) <= set(default.protocols)
    recommended = {p for rule in default.rules for p in rule.then.recommend} | {
        p for hazard in default.hazards.values() for ps in hazard.recommend.values() for p in ps
    }
    assert set(default.protocols) == recommended, "every protocol is recommended somewhere"


def test_crisis_outranks_everything(default: Ruleset) -> None:
    immediate = [pid for pid, p in default.protocols.items() if p.urgency == "immediate"]
    assert immediate == ["crisis_intervention"]
    crisis = default.hazards["crisis"].priority
    assert all(h.priority < crisis for hid, h in default.hazards.items() if hid != "crisis")


def test_rules_cite_sources_except_documented_local_policy(default: Ruleset) -> None:
    unsourced = {rule.id for rule in default.rules if rule.source is None}
    assert unsourced == {
        "caseload.long_hours",
        "boundary.cultural_training_due",
        "substance.positive_screen",
        "compound.crisis_with_substance_use",
    }
    for name, param in default.parameters.items():
        assert "local policy" in param.description.lower(), name


def test_every_file_starts_with_the_schema_line() -> None:
    for path in sorted(RULESETS.glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/ruleset.schema.json", path


def test_docs_cover_every_rule_and_parameter(default: Ruleset) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for rule in default.rules:
        assert f"`{rule.id}`" in text, f"docs/default-ruleset.md does not list {rule.id}"
    for name, param in default.parameters.items():
        assert re.search(rf"`{name}`[^\n]*\b{param.default}\b", text), name
    assert "not a diagnosis" in text
