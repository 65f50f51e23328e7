"""Cohort files: reading JSON Lines/CSV/Parquet, result rows, ``riskrules batch`` and workers."""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

import strategies
from riskrules import AssessmentError, RiskRulesError, Scorer, load_ruleset
from riskrules.cli import main
from riskrules.research import (
    Progress,
    Record,
    UnreadableRecord,
    count_records,
    iter_records,
    report_row,
    result_columns,
)
from riskrules.research._synth import write_synthetic

RULESET = load_ruleset("default")
HAZARDS = list(RULESET.hazards)


@pytest.fixture(scope="module")
def scorer() -> Any:
    with Scorer(RULESET, engine="native") as s:
        yield s


def batch(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["batch", "--engine", "native", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_records_nested_and_dotted(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"id": "a", "clinician": {"active_clients": 40}}\n'
        "\n"
        '{"clinician.proqol.burnout": 30}\n'
        '{"id": 7, "client.sex": "female"}\n',
        encoding="utf-8",
    )
    records = list(iter_records(path, ruleset=RULESET))
    assert records == [
        Record(0, "a", {"clinician": {"active_clients": 40}}),
        Record(1, None, {"clinician.proqol.burnout": 30}),
        Record(2, "7", {"client.sex": "female"}),
    ]
    assert count_records(path) == 3


def test_bad_json_line_is_a_located_unscorable_record(tmp_path: Path, scorer: Any) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "a"}\n{"id": "b", oops}\n[1, 2]\n{"id": "d"}\n', encoding="utf-8")
    records = list(iter_records(path, ruleset=RULESET))
    assert [r.index for r in records] == [0, 1, 2, 3]
    assert records[3].id == "d"
    for bad, line in ((records[1], 2), (records[2], 3)):
        assert isinstance(bad.assessment, UnreadableRecord)
        with pytest.raises(AssessmentError, match=f"line {line}"):
            scorer.score(bad.assessment)


def test_csv_cells_follow_declared_types(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "id,clinician.active_clients,clinician.direct_hours_per_week,client.cssrs.q1,client.sex\n"
        "r1,40,32.5,true,female\n"
        "r2,,30,FALSE,\n"
        "r3,many,x,maybe,other\n",
        encoding="utf-8",
    )
    records = list(iter_records(path, ruleset=RULESET))
    assert records[0] == Record(
        0,
        "r1",
        {
            "clinician.active_clients": 40,
            "clinician.direct_hours_per_week": 32.5,
            "client.cssrs.q1": True,
            "client.sex": "female",
        },
    )
    assert records[1].assessment == {
        "clinician.direct_hours_per_week": 30,
        "client.cssrs.q1": False,
    }
    # cells that do not convert stay strings so that validation names the field
    assert records[2].assessment["clinician.active_clients"] == "many"
    with pytest.raises(AssessmentError) as info, Scorer(RULESET, engine="native") as s:
        s.score(records[2].assessment)
    assert info.value.field == "clinician.active_clients"


def test_parquet_nested_struct_columns(tmp_path: Path) -> None:
    import pyarrow as pa

    table = pa.table(
        {
            "id": ["x", "y"],
            "clinician": [{"active_clients": 40.0, "proqol": {"burnout": 30}}, None],
            "client.sex": ["male", None],
        }
    )
    path = tmp_path / "c.parquet"
    pq.write_table(table, path)
    records = list(iter_records(path, ruleset=RULESET))
    assert records[0] == Record(
        0,
        "x",
        {"clinician": {"active_clients": 40, "proqol": {"burnout": 30}}, "client.sex": "male"},
    )
    assert isinstance(records[0].assessment["clinician"]["active_clients"], int)
    assert records[1] == Record(1, "y", {})
    assert count_records(path) == 2


def test_parquet_without_pyarrow_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(RiskRulesError, match=r"riskrules\[parquet\]"):
        list(iter_records(tmp_path / "c.parquet", ruleset=RULESET))


def test_broken_csv_file_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,client.sex\nr1,f\xe9male\n")
    status, _, err = batch(capsys, str(path), "--out", str(tmp_path / "r.csv"))
    assert status == 2
    assert f"{path}: not UTF-8 text" in err
    assert not (tmp_path / "r.csv").exists()


def test_unknown_extension_needs_a_format(tmp_path: Path) -> None:
    with pytest.raises(RiskRulesError, match="extension"):
        iter_records(tmp_path / "c.txt", ruleset=RULESET)


def test_report_row_columns_and_values(scorer: Any) -> None:
    report = scorer.score({"clinician": {"active_clients": 40}})
    row = report_row(report, "r1")
    assert list(row) == result_columns(RULESET)
    assert list(row)[:4] == ["id", "ruleset_fingerprint", "overall_level", "complete"]
    assert list(row)[-3:] == ["findings", "protocols", "fired"]
    assert row["id"] == "r1"
    assert row["ruleset_fingerprint"] == RULESET.fingerprint
    assert row["caseload.level"] == report.hazards["caseload"].level
    assert row["caseload.score"] == report.hazards["caseload"].score
    assert row["fired"] == [f.rule for f in report.fired]
    assert "caseload.over_capacity" in row["fired"]
    assert row["protocols"] == [r.protocol for r in report.recommendations]
    for hazard in HAZARDS:
        assert f"{hazard}.complete" in row


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "cohort.jsonl"
    write_synthetic(path, 120, seed=5)
    return path


def test_round_trip_jsonl_csv_parquet(
    cohort: Path, tmp_path: Path, scorer: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = [
        report_row(scorer.score(r.assessment), r.id) for r in iter_records(cohort, ruleset=RULESET)
    ]
    status, out, err = batch(capsys, str(cohort), "--out", str(tmp_path / "r.jsonl"))
    assert (status, out) == (0, "")
    assert "scored 120 records" in err
    assert read_jsonl(tmp_path / "r.jsonl") == expected
    assert expected[0]["id"] == "synthetic-000001"

    # the same cohort as CSV and as Parquet scores to the same rows
    for kind in ("csv", "parquet"):
        source = tmp_path / f"cohort.{kind}"
        write_synthetic(source, 120, seed=5)
        assert batch(capsys, str(source), "--out", str(tmp_path / f"{kind}.jsonl"))[0] == 0
        assert read_jsonl(tmp_path / f"{kind}.jsonl") == expected

    assert batch(capsys, str(cohort), "--out", str(tmp_path / "r.csv"))[0] == 0
    lines = (tmp_path / "r.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == result_columns(RULESET)
    assert len(lines) == 121
    first = dict(zip(lines[0].split(","), lines[1].split(","), strict=True))
    assert first["id"] == "synthetic-000001"
    assert first["fired"] == ";".join(expected[0]["fired"])
    assert first["complete"] == ("true" if expected[0]["complete"] else "false")

    assert batch(capsys, str(cohort), "--out", str(tmp_path / "r.parquet"))[0] == 0
    table = pq.read_table(tmp_path / "r.parquet")
    assert table.column_names == result_columns(RULESET)
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    assert rows[3]["fired"] == expected[3]["fired"]
    assert rows[3]["caseload.score"] == expected[3]["caseload.score"]


def bad_cohort(tmp_path: Path) -> Path:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"id": "ok1", "clinician": {"active_clients": 12}}\n'
        '{"id": "neg", "clinician": {"active_clients": -3}}\n'
        "not json\n"
        '{"id": "ok2", "client.sex": "female"}\n',
        encoding="utf-8",
    )
    return path


def test_on_error_skip_lists_bad_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = bad_cohort(tmp_path)
    out = tmp_path / "r.jsonl"
    status, _, err = batch(capsys, str(source), "--out", str(out), "--on-error", "skip")
    assert status == 0
    assert "skipped 2" in err
    assert [row["id"] for row in read_jsonl(out)] == ["ok1", "ok2"]
    errors = read_jsonl(tmp_path / "r.jsonl.errors.jsonl")
    assert [(e["index"], e["id"]) for e in errors] == [(1, "neg"), (2, None)]
    assert errors[0]["field"] == "clinician.active_clients"
    assert "must be >= 0" in errors[0]["error"]
    assert "line 3" in errors[1]["error"]
    assert "invalid JSON" in errors[1]["error"]

    custom = tmp_path / "mine.jsonl"
    status, _, err = batch(
        capsys, str(source), "--out", str(out), "--on-error", "skip", "--errors", str(custom)
    )
    assert status == 0
    assert str(custom) in err
    assert len(read_jsonl(custom)) == 2


def test_on_error_fail_exits_2_without_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = bad_cohort(tmp_path)
    out = tmp_path / "r.csv"
    status, _, err = batch(capsys, str(source), "--out", str(out))
    assert status == 2
    assert "record 1 (id neg)" in err
    assert "clinician.active_clients" in err
    assert "must be >= 0" in err
    assert list(tmp_path.iterdir()) == [source]


def test_workers_give_the_same_rows(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert batch(capsys, str(cohort), "--out", str(one))[0] == 0
    assert batch(capsys, str(cohort), "--out", str(two), "--workers", "2")[0] == 0
    assert one.read_bytes() == two.read_bytes()


def test_score_many_workers_reports_and_errors(scorer: Any) -> None:
    assessments: list[dict[str, Any]] = [{"clinician": {"active_clients": n}} for n in range(30)]
    assessments.insert(7, {"clinician": {"active_clients": "many"}})
    assessments.append({"clinician": {"active_clients": 40}})
    serial = list(scorer.score_many(assessments, on_error="return"))
    parallel = list(scorer.score_many(assessments, workers=2, chunk_size=4, on_error="return"))
    assert isinstance(parallel[7], AssessmentError)
    assert str(parallel[7]) == str(serial[7])
    pairs = [(a, b) for a, b in zip(serial, parallel, strict=True) if not isinstance(a, Exception)]
    assert all(a.model_dump_json() == b.model_dump_json() for a, b in pairs)
    assert parallel[0].engine == "native"
    last = parallel[-1]
    assert last.explain(last.recommendations[0].protocol).paths  # the ruleset is attached
    with pytest.raises(AssessmentError):
        list(scorer.score_many(assessments, workers=2, chunk_size=4))
    with pytest.raises(ValueError, match="workers"):
        scorer.score_many(assessments, workers=0)


def test_progress_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    piped = io.StringIO()
    bar = Progress(total=10, stream=piped, interval=0)
    for _ in range(10):
        bar.update()
    bar.close()
    assert piped.getvalue() == ""

    tty = Terminal()
    bar = Progress(total=10, stream=tty, interval=0)
    for _ in range(10):
        bar.update()
    bar.close()
    text = tty.getvalue()
    assert "10/10 (100%)" in text
    assert "records/s" in text
    assert "ETA" in text


def test_batch_prints_no_progress_when_piped(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, err = batch(capsys, str(cohort), "--out", str(tmp_path / "r.jsonl"))
    assert "records/s" not in err
    assert "\r" not in err


def test_batch_draws_progress_on_a_terminal(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["batch", "--engine", "native", str(cohort), "--out", str(tmp_path / "r.csv")]) == 0
    text = terminal.getvalue()
    assert "120/120 (100%) records" in text
    assert "records/s" in text


@given(facts=strategies.assessments(RULESET, missing=0.4))
@settings(max_examples=50)
def test_csv_and_jsonl_read_back_what_was_written(facts: dict[str, Any]) -> None:
    def cell(value: Any) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    columns = ["id", *RULESET.inputs]
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, jsonl_path = Path(tmp) / "c.csv", Path(tmp) / "c.jsonl"
        with csv_path.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(columns)
            writer.writerow(["r"] + [cell(facts[c]) if c in facts else "" for c in columns[1:]])
        jsonl_path.write_text(json.dumps({"id": "r", **facts}) + "\n", encoding="utf-8")
        for path in (csv_path, jsonl_path):
            (record,) = iter_records(path, ruleset=RULESET)
            assert record.id == "r"
            assert record.assessment == facts
            assert {k: type(v) for k, v in record.assessment.items()} == {
                k: type(v) for k, v in facts.items()
            }
