"""Fuzz: cohort files in all three formats with corrupted records mixed in.

For every generated file, ``score_file(..., on_error="skip")`` accounts for every record: records
in = rows out + error lines, ids and order are kept, and every row equals the row of scoring
that record alone.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import strategies
from riskrules import Scorer, load_ruleset
from riskrules.research import report_row
from riskrules.research._batch import score_file

RULESET = load_ruleset("default")
INPUTS = list(RULESET.inputs)
GOOD = "good"

JSONL_BAD = {
    "not json": lambda rid, a: "{not json",
    "array": lambda rid, a: "[1, 2]",
    "duplicate key": lambda rid, a: json.dumps({"id": rid, **a})[:-1] + ', "id": "again"}',
    "out of range": lambda rid, a: json.dumps({"id": rid, **a, "clinician.active_clients": -1}),
    "unknown field": lambda rid, a: json.dumps({"id": rid, **a, "no.such.input": 1}),
    "too deep": lambda rid, a: json.dumps({"id": rid, "clinician": {"x": [[[[[[[[[[1]]]]]]]]]]}}),
}
TABLE_BAD = ("out of range", "bad enum")
CSV_BAD = (*TABLE_BAD, "cell count", "loose integer")


@pytest.fixture(scope="module")
def scorer() -> Iterator[Scorer]:
    with Scorer(RULESET, engine="native") as s:
        yield s


def _broken_facts(kind: str, facts: dict[str, Any]) -> dict[str, Any]:
    if kind == "out of range":
        return {**facts, "clinician.active_clients": -1}
    if kind == "bad enum":
        return {**facts, "client.sex": "other"}
    return facts


def write_jsonl(path: Path, plan: list[tuple[str, str, dict[str, Any]]], blank: bool) -> None:
    lines = []
    for rid, kind, facts in plan:
        lines.append(
            json.dumps({"id": rid, **facts}) if kind == GOOD else JSONL_BAD[kind](rid, facts)
        )
        if blank:
            lines.append("")
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def write_csv(path: Path, plan: list[tuple[str, str, dict[str, Any]]], blank: bool) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["id", *INPUTS])
        for rid, kind, facts in plan:
            facts = _broken_facts(kind, facts)
            cells = [rid, *(_cell(facts.get(name)) for name in INPUTS)]
            if kind == "cell count":
                cells = cells[:-1]
            elif kind == "loose integer":
                cells[1 + INPUTS.index("clinician.active_clients")] = "4_0"
            writer.writerow(cells)
            if blank:
                stream.write("\n")


def _arrow_type(name: str) -> Any:
    kind = RULESET.inputs[name].type
    return {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}.get(
        kind, pa.string()
    )


def write_parquet(path: Path, plan: list[tuple[str, str, dict[str, Any]]], blank: bool) -> None:
    rows = [{"id": rid, **_broken_facts(kind, facts)} for rid, kind, facts in plan]
    schema = pa.schema([("id", pa.string()), *((n, _arrow_type(n)) for n in INPUTS)])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, row_group_size=7)


WRITERS = {"jsonl": (write_jsonl, JSONL_BAD), "csv": (write_csv, CSV_BAD)}
WRITERS["parquet"] = (write_parquet, TABLE_BAD)


@st.composite
def cohorts(draw: Any, format: str) -> tuple[list[tuple[str, str, dict[str, Any]]], bool]:
    bad = list(WRITERS[format][1])
    n = draw(st.integers(1, 12))
    plan = []
    for i in range(n):
        kind = draw(st.sampled_from([GOOD, GOOD, *bad]))
        facts = draw(strategies.assessments(RULESET, missing=0.5))
        for name, value in facts.items():  # integers restricted to listed values stay valid
            allowed = RULESET.inputs[name].values
            if RULESET.inputs[name].type == "integer" and allowed and value not in allowed:
                facts[name] = draw(st.sampled_from(allowed))
        plan.append((f"r{i:03d}", kind, facts))
    return plan, draw(st.booleans())


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("format", ["jsonl", "csv", "parquet"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_record_is_a_row_or_an_error(scorer: Scorer, format: str, data: Any) -> None:
    plan, blank = data.draw(cohorts(format))
    with tempfile.TemporaryDirectory() as tmp:
        cohort = Path(tmp) / f"cohort.{format}"
        WRITERS[format][0](cohort, plan, blank)
        out = Path(tmp) / "rows.jsonl"
        summary = score_file(cohort, out, scorer=scorer, on_error="skip")
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        errors_path = Path(f"{out}.errors.jsonl")
        errors = (
            [json.loads(line) for line in errors_path.read_text(encoding="utf-8").splitlines()]
            if errors_path.exists()
            else []
        )
    assert len(plan) == len(rows) + len(errors) == summary.scored + summary.skipped
    assert (summary.errors_path is None) == (not errors)
    expected_good = [(i, rid, facts) for i, (rid, kind, facts) in enumerate(plan) if kind == GOOD]
    assert [row["id"] for row in rows] == [rid for _, rid, _ in expected_good]
    assert [e["index"] for e in errors] == [i for i, (_, k, _) in enumerate(plan) if k != GOOD]
    for row, (_, rid, facts) in zip(rows, expected_good, strict=True):
        assert row == _plain(report_row(scorer.score(facts), rid)), rid
