"""The Scorer: parameters, engine choice and failures, the cached ``score()``, ``score_many``,
determinism across engines, threads and logging."""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeAlias

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskrules
from engines_here import DURABLE, ENGINES
from riskrules import (
    AssessmentError,
    EngineError,
    Ruleset,
    RulesetError,
    Scorer,
    score,
)
from riskrules.engines._base import Evaluation, Program
from riskrules.scoring import _scorer as scoring_module
from scoring_examples import HEAVY, demo_ruleset
from strategies import assessments, rulesets

Caseload: TypeAlias = Callable[..., dict[str, Any]]
"""The ``caseload`` fixture: an assessment with every caseload input given."""


def test_params_override_defaults_and_are_reported(demo: Ruleset, caseload: Caseload) -> None:
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


def test_unknown_engine_is_an_engine_error(demo: Ruleset) -> None:
    with pytest.raises(EngineError, match="did you mean 'native'"):
        Scorer(demo, engine="nativ")


def test_auto_engine_is_native_on_every_python(demo: Ruleset) -> None:
    with Scorer(demo) as s:
        assert s.engine == "native"
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
    with (
        Scorer(demo, engine="durable") as s,
        pytest.raises(EngineError, match="broken engine failed"),
    ):
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
            self.inner = real("closure", program)

        def run(self, facts: Mapping[str, Any]) -> Evaluation:
            return self.inner.run(facts)

        def close(self) -> None:
            closed.append("closed")
            self.inner.close()

    monkeypatch.setattr(scoring_module, "compile_engine", lambda name, program: Spy(program))
    s = Scorer(demo, engine="closure")
    s.score({})
    ref = weakref.ref(s)
    del s
    gc.collect()
    assert ref() is None
    assert closed == ["closed"]


def test_dropping_a_native_scorer_closes_its_generated_engine(demo: Ruleset) -> None:
    s = Scorer(demo, engine="native")
    s.score({})
    engine, ref = s._engine, weakref.ref(s)
    del s
    gc.collect()
    assert ref() is None
    with pytest.raises(EngineError, match="closed"):
        engine.run({})


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


def test_score_many_is_lazy(scorer: Scorer, caseload: Caseload) -> None:
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
def test_one_scorer_shared_by_eight_threads_matches_sequential(
    demo: Ruleset, engine: str, caseload: Caseload
) -> None:
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


def test_debug_logging_never_names_assessment_values(
    demo: Ruleset, caplog: pytest.LogCaptureFixture, caseload: Caseload
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
