"""Scoring benchmark: per-score latency per engine, baselines, load/compile time and memory.

Run from the repository root (after the Quickstart's test install)::

    .venv/bin/python benchmarks/bench_scoring.py            # full run, prints a table
    .venv/bin/python benchmarks/bench_scoring.py --quick    # fewer repetitions
    .venv/bin/python benchmarks/bench_scoring.py --json results.json

Everything is measured in one run on one machine, so the ratios are comparable even where the
absolute numbers are noisy. Baselines:

* ``durable direct``: the same compiled durable-rules definitions driven by one inline loop
  (``durable_direct.py``), without the engine wrapper (session pool, locks, status bookkeeping).
  Wrapper overhead is the ratio of the durable engine's ``run`` to it; the run stops if the two
  do not fire the same rules on every benchmark assessment.
* ``naive loop``: pure Python that re-evaluates every rule with the reference interpreter
  (``riskrules.ruleset.evaluate``) until nothing new fires: what a first implementation
  would do. Like the engines it reports fired rules; it computes no indeterminate statuses.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import riskrules
from riskrules import Ruleset, Scorer, load_ruleset
from riskrules.engines import _compiled as native
from riskrules.engines import _durable as durable
from riskrules.engines._base import Program
from riskrules.ruleset._conditions import Truth, evaluate
from synthetic import generate_assessments, generate_ruleset

DURABLE = importlib.util.find_spec("durable_rules_engine") is not None
"""Whether durable-rules is installed (it does not build on Python 3.13+)."""


def rss_bytes() -> int:
    """Resident set size of this process (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def timings(fn: Callable[[Any], object], inputs: list[Any], repeat: int) -> list[float]:
    """Per-call seconds over ``repeat`` calls cycling through ``inputs``."""
    out: list[float] = []
    clock = time.perf_counter
    n = len(inputs)
    for i in range(repeat):
        item = inputs[i % n]
        start = clock()
        fn(item)
        out.append(clock() - start)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_us": statistics.median(ordered) * 1e6,
        "p99_us": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6,
    }


def naive_loop(program: Program) -> Callable[[Mapping[str, Any]], list[int]]:
    """Fire-until-fixpoint over all rules with the tree-walking reference evaluator."""
    rules = program.rules

    def run(facts: Mapping[str, Any]) -> list[int]:
        asserted: set[str] = set()
        fired: list[int] = []
        done = [False] * len(rules)

        def finding(name: str) -> Truth:
            return Truth.TRUE if name in asserted else Truth.FALSE

        for stratum in program.strata:
            progress = True
            while progress:
                progress = False
                for i in stratum:
                    if not done[i] and evaluate(rules[i].when, facts, finding) is Truth.TRUE:
                        done[i] = True
                        fired.append(i)
                        asserted.update(rules[i].asserts)
                        progress = True
        return fired

    return run


def check_direct(
    direct: Callable[[Mapping[str, Any]], list[int]],
    engine: durable.DurableEngine,
    facts: list[dict[str, Any]],
) -> None:
    """Refuse to compare timings unless the direct drive fires exactly what the engine fires."""
    for item in facts:
        if direct(item) != list(engine.run(item).fired):
            raise SystemExit("durable direct drive and engine disagree; the baseline is broken")


def facts_of(scorer: Scorer, assessments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validated engine facts for each assessment (what engines receive)."""
    validate = scorer._validate  # the benchmark measures engines on exactly their input
    return [validate(a) for a in assessments]


def bench_ruleset(
    label: str, ruleset: Ruleset, assessments: list[dict[str, Any]], repeat: int
) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleset": label, "rules": len(ruleset.rules)}
    params = {name: p.default for name, p in ruleset.parameters.items()}
    program = Program.build(ruleset, params)

    start = time.perf_counter()
    native_engine = native.compile(program)
    result["compile_native_ms"] = (time.perf_counter() - start) * 1e3

    scorer = Scorer(ruleset, engine="native")
    facts = facts_of(scorer, assessments)
    rows: dict[str, dict[str, float]] = {}
    rows["native engine.run"] = summary(timings(native_engine.run, facts, repeat))
    rows["native score()"] = summary(timings(scorer.score, assessments, repeat))
    naive = naive_loop(program)
    rows["naive loop"] = summary(timings(naive, facts, max(repeat // 4, 200)))
    if DURABLE:
        from durable_direct import direct_runner

        start = time.perf_counter()
        durable_engine = durable.compile(program)
        result["compile_durable_ms"] = (time.perf_counter() - start) * 1e3
        direct, close = direct_runner(program)
        check_direct(direct, durable_engine, facts)
        durable_repeat = max(repeat // 4, 200)
        # interleave wrapper and direct drive so both see the same machine load
        wrapped_t: list[float] = []
        direct_t: list[float] = []
        for _ in range(4):
            wrapped_t += timings(durable_engine.run, facts, durable_repeat // 4)
            direct_t += timings(direct, facts, durable_repeat // 4)
        rows["durable engine.run"] = summary(wrapped_t)
        rows["durable direct drive"] = summary(direct_t)
        with Scorer(ruleset, engine="durable") as dscorer:
            rows["durable score()"] = summary(timings(dscorer.score, assessments, durable_repeat))
        close()
        durable_engine.close()
        result["wrapper_overhead"] = (
            rows["durable engine.run"]["median_us"] / rows["durable direct drive"]["median_us"]
        )
        result["native_vs_durable_engine"] = (
            rows["durable engine.run"]["median_us"] / rows["native engine.run"]["median_us"]
        )
        result["native_vs_durable_score"] = (
            rows["durable score()"]["median_us"] / rows["native score()"]["median_us"]
        )
    result["native_vs_naive"] = (
        rows["naive loop"]["median_us"] / rows["native engine.run"]["median_us"]
    )
    result["timings"] = rows
    scorer.close()
    native_engine.close()
    return result


def bench_load(repeat: int) -> dict[str, float]:
    loads: list[float] = []
    compiles: dict[str, list[float]] = {"native": [], "durable": []}
    for _ in range(repeat):
        start = time.perf_counter()
        ruleset = load_ruleset("default")
        loads.append(time.perf_counter() - start)
        for engine in compiles:
            if engine == "durable" and not DURABLE:
                continue
            start = time.perf_counter()
            Scorer(ruleset, engine=engine).close()
            compiles[engine].append(time.perf_counter() - start)
    out = {"load_default_ms": statistics.median(loads) * 1e3}
    for engine, samples in compiles.items():
        if samples:
            out[f"scorer_{engine}_ms"] = statistics.median(samples) * 1e3
    return out


def bench_memory(engines: list[str], scores: int, scorers: int) -> dict[str, Any]:
    """Memory per compiled Scorer, and RSS before/after many scores (it must stay flat)."""
    ruleset = load_ruleset("default")
    assessments = [json.loads(p.read_text()) for p in sorted(Path("examples").glob("*.json"))] or [
        {}
    ]
    out: dict[str, Any] = {}
    for engine in engines:
        gc.collect()
        before = rss_bytes()
        tracemalloc.start()
        kept = [Scorer(ruleset, engine=engine) for _ in range(scorers)]
        gc.collect()
        python_bytes = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        # Python objects (tracemalloc) and the whole process (RSS, includes durable's C heap)
        out[f"{engine}_python_kib_per_scorer"] = python_bytes / scorers / 1024
        out[f"{engine}_rss_kib_per_scorer"] = (rss_bytes() - before) / scorers / 1024
        for s in kept:
            s.close()
        del kept
        scorer = Scorer(ruleset, engine=engine)
        warm = max(scores // 10, 1)
        for i in range(warm):
            scorer.score(assessments[i % len(assessments)])
        gc.collect()
        start_rss = rss_bytes()
        for i in range(scores):
            scorer.score(assessments[i % len(assessments)])
        gc.collect()
        end_rss = rss_bytes()
        scorer.close()
        out[f"{engine}_rss_growth_kib"] = (end_rss - start_rss) / 1024
        out[f"{engine}_scores"] = scores
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    repeat = 2_000 if args.quick else 20_000
    rss_scores = 5_000 if args.quick else 200_000
    engines = ["native"] + (["durable"] if DURABLE else [])

    default = load_ruleset("default")
    default_inputs = generate_assessments(default, 500, seed=1, missing=0.15)
    synthetic = generate_ruleset(200, seed=0)
    synthetic_inputs = generate_assessments(synthetic, 500, seed=1, missing=0.1)

    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
        "riskrules": riskrules.__version__,
        "rulesets": [
            bench_ruleset("default", default, default_inputs, repeat),
            bench_ruleset("synthetic-200", synthetic, synthetic_inputs, repeat),
        ],
        "load": bench_load(5 if args.quick else 20),
        "memory": bench_memory(engines, rss_scores, 20 if args.quick else 100),
    }
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0


def print_table(results: dict[str, Any]) -> None:
    m = results["machine"]
    print(
        f"riskrules {results['riskrules']} on Python {m['python']}, {m['platform']}, "
        f"{m['cpus']} CPUs"
    )
    for block in results["rulesets"]:
        print(f"\n{block['ruleset']} ruleset ({block['rules']} rules)")
        print(f"  {'measure':<24} {'median us':>10} {'p99 us':>10}")
        for name, row in block["timings"].items():
            print(f"  {name:<24} {row['median_us']:>10.1f} {row['p99_us']:>10.1f}")
        print(f"  native engine vs naive loop:     {block['native_vs_naive']:.1f}x faster")
        if "wrapper_overhead" in block:
            print(
                "  native vs durable (engine.run):  "
                f"{block['native_vs_durable_engine']:.1f}x faster"
            )
            print(
                f"  native vs durable (score()):     {block['native_vs_durable_score']:.1f}x faster"
            )
            print(
                f"  durable wrapper overhead:        {block['wrapper_overhead']:.2f}x direct drive"
            )
    print("\nload and compile (median ms)")
    for key, value in results["load"].items():
        print(f"  {key:<24} {value:>10.2f}")
    print("\nmemory")
    for key, value in results["memory"].items():
        print(
            f"  {key:<28} {value:>10.1f}"
            if isinstance(value, float)
            else f"  {key:<28} {value:>10}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
