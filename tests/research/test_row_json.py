"""JSON Lines result rows written straight from a report: the bytes ``json.dumps`` writes for
``report_row``, whatever the values (floats, non-ASCII ids, nulls, names of other types)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskrules import RiskReport, Scorer, load_ruleset
from riskrules.report import Firing, HazardResult, Recommendation
from riskrules.research import RowWriter, iter_records, report_row, result_columns, score_file
from riskrules.research._row_json import ReportLines
from riskrules.research._synth import write_synthetic

RULESET = load_ruleset("default")
LINES = ReportLines(RULESET)

FLOATS = """
ruleset: floats
version: 1.0.0
title: Fractional points
inputs:
  a.x: {type: integer, min: 0, max: 10}
hazards:
  h:
    title: H
    bands: {low: 0, moderate: 3}
rules:
  - {id: h.one, hazard: h, when: {field: a.x, gt: 0}, then: {points: 0.1}, because: One.}
  - {id: h.two, hazard: h, when: {field: a.x, gt: 1}, then: {points: 0.2}, because: Two.}
  - {id: h.tiny, hazard: h, when: {field: a.x, gt: 2}, then: {points: 0.0000001}, because: Tiny.}
  - {id: h.big, hazard: h, when: {field: a.x, gt: 3}, then: {points: 999999.5}, because: Big.}
"""


def stdlib_line(report: RiskReport, record_id: Any, columns: list[str]) -> str:
    """What RowWriter writes for ``report_row``: json.dumps of the row in column order."""
    row = report_row(report, record_id)
    return json.dumps({c: row[c] for c in columns}) + "\n"


@pytest.fixture(scope="module")
def reports() -> list[RiskReport]:
    with Scorer(RULESET, engine="native") as scorer:
        assessments = [
            {},
            {"clinician": {"active_clients": 50, "proqol": {"burnout": 45}}},
            {"client": {"cssrs": {"q1": True, "q2": True}}, "clinician": {"life_crisis": True}},
        ]
        return [scorer.score(a) for a in assessments]


IDS: list[Any] = [None, "", "a", "é", "😀", 'q"uote', "back\\slash", "ctl\x00\x1f\n\t"]
IDS += ["\u2028", "\x7f", "x:y", "\\u003a"]


@pytest.mark.parametrize("record_id", IDS)
def test_line_is_what_json_dumps_writes(reports: list[RiskReport], record_id: Any) -> None:
    columns = result_columns(RULESET)
    for report in reports:
        assert LINES(report, record_id) == stdlib_line(report, record_id, columns)


def test_fractional_scores_are_written_as_repr() -> None:
    ruleset = load_ruleset(FLOATS)
    lines, columns = ReportLines(ruleset), result_columns(ruleset)
    with Scorer(ruleset, engine="native") as scorer:
        scores = []
        for x in range(6):
            report = scorer.score({"a": {"x": x}})
            scores.append(report.hazards["h"].score)
            assert lines(report, f"r{x}") == stdlib_line(report, f"r{x}", columns)
    assert 0.30000000000000004 in scores
    assert any(isinstance(score, float) and score > 999999 for score in scores)


names = st.one_of(st.text(max_size=6), st.sampled_from(["h.one", "caseload.over_capacity"]))
odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(
    record_id=st.one_of(st.none(), st.text(max_size=8)),
    level=st.one_of(st.sampled_from(["low", "high"]), odd_values),
    score=st.one_of(st.integers(0, 10**6), odd_values),
    complete=st.one_of(st.booleans(), odd_values),
    findings=st.lists(st.one_of(names, odd_values), max_size=4),
    protocols=st.lists(names, max_size=3),
    fired=st.lists(st.one_of(names, st.integers()), max_size=4),
)
def test_any_values_give_the_stdlib_bytes(
    reports: list[RiskReport],
    record_id: Any,
    level: Any,
    score: Any,
    complete: Any,
    findings: list[Any],
    protocols: list[Any],
    fired: list[Any],
) -> None:
    """Values no scorer produces (they are built without validation here) still come out as
    json.dumps writes them: the fast path never changes a byte."""
    report = reports[1]
    hazards = dict(report.hazards)
    hazards["crisis"] = HazardResult.model_construct(level=level, score=score, complete=complete)
    odd = report.model_copy(
        update={
            "overall_level": level,
            "complete": complete,
            "hazards": hazards,
            "findings": tuple(findings),
            "recommendations": tuple(Recommendation.model_construct(protocol=p) for p in protocols),
            "fired": tuple(Firing.model_construct(rule=r) for r in fired),
        }
    )
    assert LINES(odd, record_id) == stdlib_line(odd, record_id, result_columns(RULESET))


def test_batch_file_bytes_equal_the_stdlib_writer(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.jsonl"
    write_synthetic(cohort, 60, seed=9, missing=0.3)
    lines = cohort.read_text(encoding="utf-8").splitlines()
    for i, record_id in enumerate(IDS):  # unusual ids, some written unescaped
        record = json.loads(lines[i])
        record["id"] = record_id
        lines[i] = json.dumps(record, ensure_ascii=i % 2 == 0)
    cohort.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = tmp_path / "expected.jsonl"
    with Scorer(RULESET, engine="native") as scorer:
        with RowWriter(expected, result_columns(RULESET), "jsonl") as writer:
            for record in iter_records(cohort, ruleset=RULESET):
                writer.write(report_row(scorer.score(record.assessment), record.id))
        score_file(cohort, tmp_path / "out.jsonl", scorer=scorer)
    assert (tmp_path / "out.jsonl").read_bytes() == expected.read_bytes()
