"""The patterns docs/scaling.md shows, run on a LocalCluster of processes: ``compute()``,
``to_parquet`` and ``to_csv`` of ``read_cohort``'s result, and the skip mode that keeps bad
records as rows with an error (like ``riskrules batch --on-error skip``)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster

import riskrules.dask as rdask
from riskrules import Scorer, load_ruleset
from riskrules.research import iter_records, report_row
from riskrules.research._synth import write_synthetic

ENGINE = "native"
RULESET = load_ruleset("default")


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    cluster = LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address=":0", silence_logs=40
    )
    with cluster, Client(cluster) as client:
        yield client


@pytest.fixture(scope="module", params=["parquet", "jsonl"])
def cohort(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / f"cohort.{request.param}"
    write_synthetic(path, 120, seed=11)
    return path


def expected_rows(path: Path) -> list[dict[str, Any]]:
    with Scorer(RULESET, engine=ENGINE) as scorer:
        rows = [
            report_row(scorer.score(r.assessment), r.id)
            for r in iter_records(path, ruleset=RULESET)
        ]
    return [{k: ";".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows]


def test_compute(client: Client, cohort: Path) -> None:
    result = rdask.read_cohort(cohort, RULESET, engine=ENGINE).compute()
    assert result.to_dict("records") == expected_rows(cohort)


def test_to_parquet(client: Client, cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    rdask.read_cohort(cohort, RULESET, engine=ENGINE).to_parquet(out, write_index=False)
    table = pq.read_table(out)
    assert table.column_names == list(expected_rows(cohort)[0])
    back = pd.read_parquet(out)
    assert back.to_dict("records") == expected_rows(cohort)


def test_to_csv(client: Client, cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    rdask.read_cohort(cohort, RULESET, engine=ENGINE).to_csv(str(out / "part-*.csv"), index=False)
    rows: list[dict[str, str]] = []
    for part in sorted(out.glob("part-*.csv"), key=lambda p: int(p.stem.split("-")[1])):
        with part.open(encoding="utf-8", newline="") as stream:
            rows.extend(csv.DictReader(stream))
    want = expected_rows(cohort)
    assert [r["id"] for r in rows] == [w["id"] for w in want]
    assert [r["overall_level"] for r in rows] == [w["overall_level"] for w in want]
    assert [float(r["caseload.score"]) for r in rows] == [w["caseload.score"] for w in want]


def test_skip_mode_keeps_bad_records_as_rows_with_an_error(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps({"id": "ok1", "clinician.active_clients": 10}),
        json.dumps({"id": "neg", "clinician.active_clients": -1}),
        "{not json",
        json.dumps({"id": "ok2", "clinician.active_clients": 50}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = rdask.read_cohort(path, RULESET, engine=ENGINE, on_error="skip", blocksize=60)
    assert frame.npartitions >= 2
    result = frame.compute().reset_index(drop=True)
    assert list(result.columns)[-1] == "error"
    assert result["id"].tolist()[:2] == ["ok1", "neg"]
    assert pd.isna(result["id"][2])
    assert result["id"][3] == "ok2"
    errors = result["error"].tolist()
    assert pd.isna(errors[0])
    assert pd.isna(errors[3])
    assert "clinician.active_clients" in errors[1]
    assert "must be >= 0" in errors[1]
    assert "invalid JSON" in errors[2]
    assert pd.isna(result["overall_level"][1])
    with Scorer(RULESET, engine=ENGINE) as scorer:
        assert (
            result["overall_level"][3]
            == scorer.score({"clinician.active_clients": 50}).overall_level
        )
    out = tmp_path / "skipped"
    frame.to_parquet(out, write_index=False)
    assert pd.read_parquet(out)["error"].notna().sum() == 2


def test_skip_mode_on_a_parquet_cohort(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "mixed.parquet"
    pd.DataFrame({"id": ["a", "b", "c"], "clinician.active_clients": [10, -3, 40]}).to_parquet(
        path, index=False
    )
    result = rdask.read_cohort(path, RULESET, engine=ENGINE, on_error="skip").compute()
    assert result["id"].tolist() == ["a", "b", "c"]
    assert result["error"].notna().tolist() == [False, True, False]


def test_on_error_is_checked_before_computing(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="on_error"):
        rdask.read_cohort(path, RULESET, on_error="ignore")
