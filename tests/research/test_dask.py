"""riskrules.dask on LocalClusters (threads and processes): same rows as single-process scoring,
one compile per worker, bad records raise."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask.bag as db
import dask.dataframe as dd
import pandas as pd
import pytest
from distributed import Client, LocalCluster

import riskrules.dask as rdask
from riskrules import AssessmentError, Scorer, load_ruleset
from riskrules.research import _dask as _dask_impl
from riskrules.research import iter_records, report_row
from riskrules.research._synth import write_synthetic

N = 300
ENGINE = "native"


@pytest.fixture(scope="module")
def ruleset() -> Any:
    return load_ruleset("default")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cohort")
    paths = {"jsonl": root / "cohort.jsonl", "parquet": root / "cohort.parquet"}
    for path in paths.values():
        write_synthetic(path, N, seed=7)
    return paths


@pytest.fixture(scope="module")
def expected(ruleset: Any, cohort: dict[str, Path]) -> list[dict[str, Any]]:
    """Rows scored in this process, one record at a time, as the batch command writes them."""
    with Scorer(ruleset, engine=ENGINE) as scorer:
        return [
            report_row(scorer.score(record.assessment), record.id)
            for record in iter_records(cohort["jsonl"], ruleset=ruleset)
        ]


def _joined(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: ";".join(v) if isinstance(v, list) else v for k, v in row.items()} for row in rows]


@pytest.fixture(scope="module", params=["threads", "processes"])
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    if request.param == "threads":
        cluster = LocalCluster(processes=False, n_workers=1, threads_per_worker=2, **_quiet())
    else:
        cluster = LocalCluster(processes=True, n_workers=2, threads_per_worker=1, **_quiet())
    with cluster, Client(cluster) as client:
        yield client


def _quiet() -> dict[str, Any]:
    return {"dashboard_address": ":0", "silence_logs": 40}


@pytest.fixture
def fresh(client: Client) -> Client:
    """The client, with every worker's compiled-ruleset cache emptied."""
    client.run(_dask_impl._clear_cache)
    _dask_impl._clear_cache()
    return client


def test_import_riskrules_does_not_import_dask() -> None:
    code = "import sys, riskrules; print(any(m.split('.')[0] == 'dask' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_parquet_cohort_matches_single_process(
    fresh: Client, ruleset: Any, cohort: dict[str, Path], expected: list[dict[str, Any]]
) -> None:
    result = rdask.read_cohort(cohort["parquet"], ruleset, engine=ENGINE).compute()
    assert list(result.columns) == list(expected[0])
    assert result.to_dict("records") == _joined(expected)


def test_jsonl_cohort_in_many_blocks_matches_and_compiles_once_per_worker(
    fresh: Client, ruleset: Any, cohort: dict[str, Path], expected: list[dict[str, Any]]
) -> None:
    frame = rdask.read_cohort(cohort["jsonl"], ruleset, engine=ENGINE, blocksize=8_000)
    assert frame.npartitions >= 4
    result = frame.compute()
    assert result.to_dict("records") == _joined(expected)
    counts = fresh.run(rdask.compile_count)
    assert counts
    assert all(count <= 1 for count in counts.values())
    assert sum(counts.values()) >= 1
    # a second computation reuses the compiled rulesets
    rdask.read_cohort(cohort["jsonl"], ruleset, engine=ENGINE, blocksize=8_000).compute()
    assert fresh.run(rdask.compile_count) == counts


def test_parameters_are_part_of_the_worker_cache_key(
    fresh: Client, ruleset: Any, cohort: dict[str, Path]
) -> None:
    ddf = dd.read_parquet(cohort["parquet"])
    rdask.score_dataframe(ddf, ruleset, engine=ENGINE).compute()
    before = sum(fresh.run(rdask.compile_count).values())
    swept = rdask.score_dataframe(ddf, ruleset, engine=ENGINE, params={"max_active_clients": 20})
    levels = swept.compute()["caseload.level"]
    assert sum(fresh.run(rdask.compile_count).values()) > before
    with Scorer(ruleset, engine=ENGINE, params={"max_active_clients": 20}) as scorer:
        want = [
            scorer.score(r.assessment).hazards["caseload"].level
            for r in iter_records(cohort["jsonl"], ruleset=ruleset)
        ]
    assert list(levels) == want


def test_score_bag_returns_report_rows(
    fresh: Client, ruleset: Any, cohort: dict[str, Path], expected: list[dict[str, Any]]
) -> None:
    bag = db.read_text(str(cohort["jsonl"]), blocksize=10_000).map(json.loads)
    rows = rdask.score_bag(bag, ruleset, engine=ENGINE).compute()
    assert rows == expected


def test_pandas_missing_values_and_numpy_scalars(fresh: Client, ruleset: Any) -> None:
    records = [
        {"id": "a", "clinician.active_clients": 55, "clinician.direct_hours_per_week": 52.5},
        {"id": "b", "clinician.direct_hours_per_week": 38.0},
        {"id": "c", "clinician.active_clients": 12},
    ]
    frame = pd.DataFrame(records)
    frame["clinician.active_clients"] = frame["clinician.active_clients"].astype("Int64")
    floats = pd.DataFrame(records)  # NaN gaps turn the integer column into floats
    with Scorer(ruleset, engine=ENGINE) as scorer:
        want = [
            report_row(scorer.score({k: v for k, v in r.items() if k != "id"}), str(r["id"]))
            for r in records
        ]
    for source in (frame, floats):
        ddf = dd.from_pandas(source, npartitions=2)
        result = rdask.score_dataframe(ddf, ruleset, engine=ENGINE).compute()
        assert result.to_dict("records") == _joined(want)


def test_invalid_record_raises_assessment_error(
    fresh: Client, ruleset: Any, tmp_path: Path
) -> None:
    path = tmp_path / "bad.jsonl"
    lines = [
        {"id": "ok", "clinician.active_clients": 10},
        {"id": "bad", "clinician.active_clients": "x"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(AssessmentError) as info:
        rdask.read_cohort(path, ruleset, engine=ENGINE).compute()
    assert info.value.field == "clinician.active_clients"
    path.write_text("{not json\n")
    with pytest.raises(AssessmentError, match="invalid JSON"):
        rdask.read_cohort(path, ruleset, engine=ENGINE).compute()


def test_bad_engine_and_parameters_fail_before_computing(ruleset: Any, tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("{}\n")
    with pytest.raises(ValueError, match="engine"):
        rdask.read_cohort(path, ruleset, engine="rete")
    with pytest.raises(Exception, match="no_such_param"):
        rdask.read_cohort(path, ruleset, params={"no_such_param": 1})
