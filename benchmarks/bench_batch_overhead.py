"""Batch overhead: what ``riskrules batch`` spends per record outside ``Scorer.score``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_batch_overhead.py              # 20000 records
    .venv/bin/python benchmarks/bench_batch_overhead.py --n 2000     # smoke run
    .venv/bin/python benchmarks/bench_batch_overhead.py --against ../main/src

The cohort is built as ``bench_speed.py``'s ``bench_cohort`` builds it: synthetic records of the
default ruleset, nested, with ids, as JSON Lines. Timed in one process, the passes interleaved,
CPU time per record (median of the passes):

* ``score``: ``Scorer.score`` alone on the cohort's assessments, read beforehand;
* ``batch``: ``score_file`` with one worker, JSON Lines in and out (what ``riskrules batch``
  runs);
* ``read``: ``iter_records`` alone over the cohort file;
* ``batch, scoring replayed``: ``score_file`` again, with a stand-in scorer that hands out
  reports scored beforehand: everything batch does but scoring;
* ``plain loop``: ``json.loads`` a line, call the plain function of ``baseline.py``,
  ``json.dumps`` a row.

``overhead`` is batch minus score (taken pass by pass): the time per record spent outside
scoring; ``read`` is the reading part of it, ``rest`` the result rows, writing and the loop
around them. The last line is the plain loop's time over batch's: batch's throughput as a share
of the plain loop's (the goal is at least 0.5). ``--against SRC`` measures this tree's ``src``
and another source tree (e.g. a checkout of the main branch), each in its own process, the
passes alternating between the two, and prints them side by side: before and after a change.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


REPLAYED = 2000
"""Reports scored beforehand that the replaying scorer hands out in turn."""


class Replay:
    """A stand-in Scorer for ``score_file`` that hands out reports scored beforehand, in turn,
    whatever the assessment: a batch run with it costs everything but the scoring."""

    def __init__(self, scorer: Any, reports: list[Any]) -> None:
        self.ruleset = scorer.ruleset
        self._reports = reports
        self._next = itertools.cycle(reports).__next__

    def rewind(self) -> None:
        self._next = itertools.cycle(self._reports).__next__

    def score(self, assessment: Any) -> Any:
        return self._next()

    def score_many(self, assessments: Iterable[Any], **options: Any) -> Iterator[Any]:
        return (self._next() for _ in assessments)


@contextlib.contextmanager
def prepared(n: int) -> Iterator[dict[str, Callable[[], None]]]:
    """The timed runs over one cohort of ``n`` records, ready to be run again and again."""
    from baseline import build_baseline
    from baseline import plain_loop as run_plain_loop
    from bench_speed import nest
    from riskrules import Scorer, load_ruleset
    from riskrules.research import iter_records, score_file
    from riskrules.research._synth import synthesize

    ruleset = load_ruleset("default")
    baseline = build_baseline(ruleset)
    with tempfile.TemporaryDirectory() as tmp, Scorer(ruleset, engine="native") as scorer:
        cohort = Path(tmp) / "cohort.jsonl"
        with cohort.open("w", encoding="utf-8") as out:
            for record in synthesize(n, seed=21):
                out.write(json.dumps({"id": record["id"], **nest(record)}) + "\n")
        assessments = [r.assessment for r in iter_records(cohort, ruleset=ruleset)]

        def score() -> None:
            score = scorer.score
            for assessment in assessments:
                score(assessment)

        def batch() -> None:
            score_file(cohort, Path(tmp) / "batch.jsonl", scorer=scorer)

        replay = Replay(scorer, [scorer.score(a) for a in assessments[:REPLAYED]])

        def batch_replayed() -> None:
            replay.rewind()
            score_file(cohort, Path(tmp) / "replayed.jsonl", scorer=replay)

        def read() -> None:
            deque(iter_records(cohort, ruleset=ruleset), maxlen=0)

        def plain_loop() -> None:
            run_plain_loop(cohort, Path(tmp) / "plain.jsonl", baseline)

        score()  # warm up: the scorer's caches settle before anything is timed
        gc.collect()
        gc.freeze()  # the assessments held for ``score`` are not scanned by the collector
        try:
            yield {
                "score": score,
                "batch": batch,
                "read": read,
                "batch, scoring replayed": batch_replayed,
                "plain loop": plain_loop,
            }
        finally:
            gc.unfreeze()


def one_pass(runs: dict[str, Callable[[], None]]) -> dict[str, float]:
    """CPU seconds of each run, once."""
    seconds = {}
    for name, run in runs.items():
        gc.collect()
        start = time.process_time()
        run()
        seconds[name] = time.process_time() - start
    return seconds


def figures(passes: list[dict[str, float]], n: int) -> dict[str, float]:
    """Median microseconds per record of each run, and of the overhead within each pass (the
    differences are taken pass by pass, between runs timed seconds apart)."""
    us = {name: statistics.median(p[name] for p in passes) / n * 1e6 for name in passes[0]}
    us["overhead"] = statistics.median(p["batch"] - p["score"] for p in passes) / n * 1e6
    rest = (p["batch"] - p["score"] - p["read"] for p in passes)
    us["rest"] = statistics.median(rest) / n * 1e6
    return us


def measure(n: int, passes: int) -> dict[str, float]:
    """``figures`` of ``passes`` passes in this process."""
    with prepared(n) as runs:
        return figures([one_pass(runs) for _ in range(passes)], n)


def serve(n: int) -> None:
    """Run one pass for each line read from stdin and answer with its seconds as JSON."""
    with prepared(n) as runs:
        print("ready", flush=True)
        for _ in sys.stdin:
            print(json.dumps(one_pass(runs)), flush=True)


def side_by_side(trees: dict[str, Path], n: int, passes: int) -> dict[str, dict[str, float]]:
    """``figures`` for each source tree, each served by its own process, the passes alternating
    between the trees (first one first, then the other) so that both see the same machine."""
    servers: dict[str, subprocess.Popen[str]] = {}
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in trees}

    def ask(name: str, line: str) -> str:
        server = servers[name]
        if line:
            print(line, file=server.stdin, flush=True)
        return server.stdout.readline() if server.stdout else ""

    try:
        for name, src in trees.items():
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(HERE)])}
            argv = [sys.executable, __file__, "--n", str(n), "--serve"]
            pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
            servers[name] = subprocess.Popen(argv, env=env, text=True, **pipes)
        for name in trees:
            if ask(name, "").strip() != "ready":
                raise SystemExit(f"{name}: the measuring process did not start")
        order = list(trees)
        for i in range(passes):
            for name in order if i % 2 == 0 else order[::-1]:
                samples[name].append(json.loads(ask(name, "pass")))
    finally:
        for server in servers.values():
            server.communicate()  # closes its stdin: it ends
    return {name: figures(values, n) for name, values in samples.items()}


ROWS = (
    ("score", "Scorer.score alone, us/record"),
    ("batch", "score_file, us/record"),
    ("overhead", "batch - score, us/record"),
    ("read", "  of which reading (iter_records)"),
    ("rest", "  of which rows, writing, loop"),
    ("batch, scoring replayed", "score_file, scoring replayed"),
    ("plain loop", "plain loop, us/record"),
)


def table(results: dict[str, dict[str, float]]) -> str:
    names = list(results)
    lines = [f"{'':38}" + "".join(f"{name:>16}" for name in names)]
    for key, label in ROWS:
        lines.append(f"{label:38}" + "".join(f"{results[n][key]:>16.2f}" for n in names))
    rates = [1e6 / results[n]["batch"] for n in names]
    lines.append(f"{'score_file, records/s':38}" + "".join(f"{r:>16,.0f}" for r in rates))
    plain = [1e6 / results[n]["plain loop"] for n in names]
    lines.append(f"{'plain loop, records/s':38}" + "".join(f"{r:>16,.0f}" for r in plain))
    ratios = [results[n]["plain loop"] / results[n]["batch"] for n in names]
    lines.append(f"{'batch / plain loop throughput':38}" + "".join(f"{r:>16.2f}" for r in ratios))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="records in the cohort (20000)")
    parser.add_argument("--passes", type=int, default=5, help="interleaved passes (5)")
    parser.add_argument("--against", metavar="SRC", help="another source tree to compare with")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.n)
        return 0
    if args.against:
        trees = {"this tree": HERE.parent / "src", "against": Path(args.against).resolve()}
        results = side_by_side(trees, args.n, args.passes)
    else:
        results = {"this run": measure(args.n, args.passes)}
    print(f"Batch overhead, {args.n:,} synthetic records (default ruleset, JSON Lines in and out)")
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
