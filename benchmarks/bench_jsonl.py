"""JSON Lines I/O benchmark: what reading and writing cohort lines costs, per parser.

Run from the repository root::

    .venv/bin/python benchmarks/bench_jsonl.py            # 20000 synthetic records
    .venv/bin/python benchmarks/bench_jsonl.py --n 2000   # smoke run

Reading: the standard library's ``json.loads`` with the strict hooks riskrules needs (no repeated
keys, no NaN) against ``riskrules.research._cohort.loads_line`` (orjson, checked for repeated
keys and wide integers, with the strict parser as fallback), each over the same lines; then
``iter_records`` over the whole file. Writing: ``json.dumps`` against ``orjson.dumps`` of the
result rows. Medians of five runs, microseconds per record, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from riskrules import Scorer, load_ruleset
from riskrules.research import iter_records, report_row
from riskrules.research._cohort import loads_line, strict_json_loads
from riskrules.research._synth import write_synthetic


def median_us(run: Callable[[], Any], count: int, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    n = parser.parse_args().n
    ruleset = load_ruleset("default")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cohort.jsonl"
        write_synthetic(path, n, seed=1)
        raw = path.read_bytes().splitlines()
        text = [line.decode("utf-8") for line in raw]
        assert [loads_line(line) for line in raw] == [strict_json_loads(t) for t in text]
        strict = median_us(lambda: [strict_json_loads(t) for t in text], n)
        fast = median_us(lambda: [loads_line(line) for line in raw], n)
        plain = median_us(lambda: [orjson.loads(line) for line in raw], n)
        whole = median_us(lambda: sum(1 for _ in iter_records(path, ruleset=ruleset)), n)
        with Scorer(ruleset, engine="native") as scorer:
            records = list(iter_records(path, ruleset=ruleset))
            rows = [report_row(scorer.score(r.assessment), r.id) for r in records]
            score = median_us(lambda: [scorer.score(r.assessment) for r in records], n, 1)
        dumps = median_us(lambda: [json.dumps(row) for row in rows], n)
        odumps = median_us(lambda: [orjson.dumps(row) for row in rows], n)
    print(f"JSON Lines I/O, {n} synthetic default-ruleset records (us per record, median of 5)")
    print(f"  read  json.loads, strict hooks     {strict:7.2f}")
    print(f"  read  loads_line (orjson+checks)   {fast:7.2f}   {strict / fast:4.1f}x faster")
    print(f"  read  orjson.loads alone           {plain:7.2f}")
    print(f"  read  iter_records, whole file     {whole:7.2f}")
    print(f"  write json.dumps of a result row   {dumps:7.2f}")
    print(f"  write orjson.dumps of a result row {odumps:7.2f}   {dumps / odumps:4.1f}x faster")
    print(f"  for scale: score a record            {score:7.2f}")


if __name__ == "__main__":
    main()
