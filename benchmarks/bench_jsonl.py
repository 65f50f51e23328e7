"""JSON Lines I/O benchmark: what reading and writing cohort lines costs, per parser.

Run from the repository root::

    .venv/bin/python benchmarks/bench_jsonl.py            # 20000 synthetic records
    .venv/bin/python benchmarks/bench_jsonl.py --n 2000   # smoke run

Reading, for lines of dotted keys (as ``riskrules synth`` writes them) and the same records as
nested objects: the standard library's ``json.loads`` with the strict hooks riskrules needs (no
repeated keys, no NaN) against ``riskrules.research._cohort.loads_line`` (orjson, checked for
repeated keys and wide integers, with the strict parser as fallback), each over the same lines;
then ``iter_records`` over the whole file. Writing: ``report_row`` and ``json.dumps`` (what
``RowWriter.write`` does) against ``ReportLines``, which writes the same bytes straight from the
report (what ``riskrules batch`` does), and ``orjson.dumps`` (different bytes: for scale), over
a few reports in turn, which stay in the processor's cache as a report just scored does.
Medians of five runs, microseconds per record, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from riskrules import Scorer, load_ruleset
from riskrules.research import iter_records, report_row
from riskrules.research._cohort import loads_line, strict_json_loads
from riskrules.research._row_json import ReportLines
from riskrules.research._synth import write_synthetic

WRITTEN = 200
"""Reports whose rows are written in turn when writing is timed."""


def median_us(run: Callable[[], Any], count: int, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) / count * 1e6


def nested(record: dict[str, Any]) -> dict[str, Any]:
    """A synthetic record with its dotted keys as nested objects (the id stays on top)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        *groups, last = key.split(".") if key != "id" else [key]
        node = out
        for group in groups:
            node = node.setdefault(group, {})
        node[last] = value
    return out


def reading(path: Path, ruleset: Any, n: int) -> dict[str, float]:
    """Microseconds per line of each way of reading the lines of ``path`` (nothing is kept)."""
    raw = path.read_bytes().splitlines()
    text = [line.decode("utf-8") for line in raw]
    assert [loads_line(line) for line in raw] == [strict_json_loads(t) for t in text]
    return {
        "strict": median_us(lambda: deque(map(strict_json_loads, text), maxlen=0), n),
        "fast": median_us(lambda: deque(map(loads_line, raw), maxlen=0), n),
        "orjson": median_us(lambda: deque(map(orjson.loads, raw), maxlen=0), n),
        "whole": median_us(lambda: deque(iter_records(path, ruleset=ruleset), maxlen=0), n),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    n = parser.parse_args().n
    ruleset = load_ruleset("default")
    with tempfile.TemporaryDirectory() as tmp:
        flat, deep = Path(tmp) / "cohort.jsonl", Path(tmp) / "nested.jsonl"
        write_synthetic(flat, n, seed=1)
        with deep.open("w", encoding="utf-8") as out:
            for line in flat.read_text(encoding="utf-8").splitlines():
                out.write(json.dumps(nested(json.loads(line))) + "\n")
        read = {"dotted keys": reading(flat, ruleset, n), "nested": reading(deep, ruleset, n)}
        with Scorer(ruleset, engine="native") as scorer:
            records = list(iter_records(flat, ruleset=ruleset))
            reports = [(scorer.score(r.assessment), r.id) for r in records]
            score = median_us(lambda: [scorer.score(r.assessment) for r in records], n, 1)
    lines = ReportLines(ruleset)
    assert [lines(*pair) for pair in reports] == [
        json.dumps(report_row(*p)) + "\n" for p in reports
    ]
    # a few reports written again and again: they stay in the cache, as a report just scored is
    sample = reports[:WRITTEN] * (n // WRITTEN)
    count = len(sample)
    dumps = median_us(lambda: deque((json.dumps(report_row(*p)) for p in sample), 0), count)
    direct = median_us(lambda: deque((lines(*pair) for pair in sample), 0), count)
    odumps = median_us(lambda: deque((orjson.dumps(report_row(*p)) for p in sample), 0), count)
    print(f"JSON Lines I/O, {n} synthetic default-ruleset records (us per record, median of 5)")
    for layout, us in read.items():
        print(f"  {layout} ({'one object' if layout != 'nested' else 'nested objects'} a line)")
        print(f"  read  json.loads, strict hooks     {us['strict']:7.2f}")
        ratio = us["strict"] / us["fast"]
        print(f"  read  loads_line (orjson+checks)   {us['fast']:7.2f}   {ratio:4.1f}x faster")
        print(f"  read  orjson.loads alone           {us['orjson']:7.2f}")
        print(f"  read  iter_records, whole file     {us['whole']:7.2f}")
    print(f"  write report_row + json.dumps      {dumps:7.2f}")
    print(f"  write ReportLines (same bytes)     {direct:7.2f}   {dumps / direct:4.1f}x faster")
    print(f"  write report_row + orjson.dumps    {odumps:7.2f}   (other bytes)")
    print(f"  for scale: score a record            {score:7.2f}")


if __name__ == "__main__":
    main()
