"""Cohort throughput benchmark: records/s per engine, single process, two processes and Dask.

Run from the repository root (after the Quickstart's test install, which includes Dask)::

    .venv/bin/python benchmarks/bench_cohort.py              # 20000 records, prints a table
    .venv/bin/python benchmarks/bench_cohort.py --quick      # 2000 records (smoke run)
    .venv/bin/python benchmarks/bench_cohort.py --n 100000 --json results.json

The cohort is synthetic (``riskrules.synthesize``, default ruleset), written once as JSON Lines and
as Parquet to a temporary directory. Modes, each timed end to end (read, score, write or
collect the rows; ruleset compilation in the workers included):

* ``batch``: ``score_file`` in this process (what ``riskrules batch`` runs), JSONL in and out.
* ``workers=2``: the same with ``workers=2`` (``Scorer.score_many(workers=2)``).
* ``dask parquet``: ``riskrules.dask.read_cohort`` on a ``LocalCluster`` of two worker
  processes with one thread each, reading Parquet on the workers and collecting the result
  frame (cluster start-up is not timed).
* ``dask from_sequence``: the pattern to avoid, for comparison: a Dask Bag built from the
  in-memory records with ``dask.bag.from_sequence`` and scored with ``score_bag``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import riskrules
from riskrules import Scorer, load_ruleset
from riskrules.research import score_file
from riskrules.research._synth import synthesize, write_synthetic


def engines() -> list[str]:
    """The engines that work here (durable-rules does not build on Python 3.13+)."""
    names = ["native"]
    try:
        Scorer("default", engine="durable").close()
    except riskrules.EngineError:
        pass
    else:
        names.append("durable")
    return names


def timed(fn: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    count = fn()
    return count, time.perf_counter() - start


def run(n: int, quick: bool) -> dict[str, Any]:
    import dask.bag as db
    from distributed import Client, LocalCluster

    import riskrules.dask as rdask
    from riskrules.research import _dask as _dask_impl

    ruleset = load_ruleset("default")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        jsonl, parquet = root / "cohort.jsonl", root / "cohort.parquet"
        write_synthetic(jsonl, n, seed=1)
        write_synthetic(parquet, n, seed=1)
        records = list(synthesize(n, seed=1))

        def add(engine: str, mode: str, fn: Callable[[], int]) -> None:
            count, seconds = timed(fn)
            if count != n:
                raise SystemExit(f"{mode}/{engine}: {count} rows for {n} records")
            results.append(
                {"engine": engine, "mode": mode, "records": n, "seconds": round(seconds, 3),
                 "records_per_s": round(n / seconds)}
            )  # fmt: skip
            print(f"  {engine:7} {mode:20} {n / seconds:10,.0f} records/s", file=sys.stderr)

        for engine in engines():
            for workers in (1, 2):
                mode = "batch" if workers == 1 else "workers=2"

                def batch(engine: str = engine, workers: int = workers) -> int:
                    with Scorer(ruleset, engine=engine) as scorer:
                        out = root / f"out-{engine}-{workers}.jsonl"
                        return score_file(jsonl, out, scorer=scorer, workers=workers).scored

                add(engine, mode, batch)

        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=40,
        )  # fmt: skip
        with cluster, Client(cluster) as client:
            for engine in engines():
                client.run(_dask_impl._clear_cache)

                def dask_parquet(engine: str = engine) -> int:
                    frame = rdask.read_cohort(parquet, ruleset, engine=engine).compute()
                    return len(frame)

                add(engine, "dask parquet", dask_parquet)

            if not quick or n <= 5000:
                client.run(_dask_impl._clear_cache)

                def dask_sequence() -> int:
                    bag = db.from_sequence(records, npartitions=8)
                    return len(rdask.score_bag(bag, ruleset, engine="native").compute())

                add("native", "dask from_sequence", dask_sequence)

    return {
        "records": n,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "riskrules": riskrules.__version__,
        "results": results,
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        f"Cohort throughput, {report['records']:,} synthetic records, Python {report['python']}, "
        f"{report['cpus']} CPUs",
        "",
        "| mode | engine | seconds | records/s |",
        "|---|---|---:|---:|",
    ]
    for row in report["results"]:
        lines.append(
            f"| {row['mode']} | {row['engine']} | {row['seconds']:.2f} | {row['records_per_s']:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="records in the cohort (20000)")
    parser.add_argument("--quick", action="store_true", help="2000 records (smoke run)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    n = 2000 if args.quick else args.n
    report = run(n, args.quick)
    print(table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
