"""Scoring speed against a plain function, GoRules ZEN and durable, measured side by side.

Run from the repository root (``pip install -e '.[test,bench]'`` for ZEN)::

    .venv/bin/python benchmarks/bench_speed.py             # everything, prints tables
    .venv/bin/python benchmarks/bench_speed.py --quick     # smoke run
    .venv/bin/python benchmarks/bench_speed.py --json results.json

Every contender runs in this one process on the same inputs, several passes in turn; the
figures are medians of per-assessment times over the passes, so ratios are comparable even on a
noisy machine. Before anything is timed, outputs are checked equal:

* ``baseline`` (``baseline.py``): the default ruleset as one plain function, written by the
  benchmark's own generator; same levels, findings and recommendations as ``Scorer.score`` on
  every one of the 2,000 synthetic assessments (nested, as a caller passes them).
* ``zen``: GoRules ZEN (``zen-engine``) on an equivalent decision for the caseload and substance
  use hazards (``zen_decision.py``); same levels on complete assessments.
* ``durable``: ``Scorer(engine="durable")``, same report JSON.

Then the scaling of the native engine with generated rulesets of 50 to 5,000 rules (load,
compile, per-assessment time and memory per Scorer), and cohort throughput: ``riskrules batch``
in this process against a plain loop (read a JSON line, call the baseline, write a row) over the
same JSON Lines file.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import riskrules
from baseline import build_baseline
from baseline import plain_loop as run_plain_loop
from riskrules import EngineError, Ruleset, Scorer, load_ruleset
from riskrules.engines import _compiled as compiled_engine
from riskrules.research._synth import synthesize
from synthetic import generate_assessments, generate_ruleset

ZEN_HAZARDS = ["caseload", "substance_abuse"]


def nest(record: dict[str, Any]) -> dict[str, Any]:
    """A synthetic record (dotted keys and ``id``) as the nested assessment a caller sends."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "id":
            continue
        *groups, last = key.split(".")
        node = out
        for group in groups:
            node = node.setdefault(group, {})
        node[last] = value
    return out


def per_call_us(fn: Callable[[Any], object], inputs: list[Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    for item in inputs:
        fn(item)
    return (time.perf_counter() - start) / len(inputs) * 1e6


def side_by_side(
    contenders: dict[str, tuple[Callable[[Any], object], list[Any]]], passes: int
) -> dict[str, float]:
    """Median per-call microseconds of each contender, the passes interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(passes):
        for name, (fn, inputs) in contenders.items():
            samples[name].append(per_call_us(fn, inputs))
    return {name: round(statistics.median(values), 1) for name, values in samples.items()}


def check_baseline(ruleset: Ruleset, scorer: Scorer, baseline: Any, cases: list[Any]) -> None:
    for case in cases:
        report = scorer.score(case)
        expected = (
            {hid: h.level for hid, h in report.hazards.items()},
            set(report.findings),
            [rec.protocol for rec in report.recommendations],
        )
        if baseline(case) != expected:
            raise SystemExit(f"baseline disagrees with Scorer.score on {case!r}")


def zen_contender(ruleset: Ruleset, scorer: Scorer, cases: list[Any]) -> Callable[[Any], object]:
    import zen

    from zen_decision import zen_decision_json

    decision = zen.ZenEngine().create_decision(zen_decision_json(ruleset, ZEN_HAZARDS))
    for case in cases:
        out = decision.evaluate(case)["result"]
        report = scorer.score(case)
        for hid in ZEN_HAZARDS:
            if ruleset.scale[int(out[f"level_{hid}"])] != report.hazards[hid].level:
                raise SystemExit(f"ZEN disagrees on {hid} for {case!r}")
    return decision.evaluate


def bench_default(n: int, passes: int) -> dict[str, Any]:
    ruleset = load_ruleset("default")
    cases = [nest(r) for r in synthesize(n, seed=11)]
    complete = [nest(r) for r in synthesize(n, seed=12, missing=0.0)]
    native = Scorer(ruleset, engine="native")
    closure = Scorer(ruleset, engine="closure")
    baseline = build_baseline(ruleset)
    check_baseline(ruleset, native, baseline, cases)
    contenders: dict[str, tuple[Callable[[Any], object], list[Any]]] = {
        "baseline": (baseline, cases),
        "native score": (native.score, cases),
        "native score+json": (lambda a: native.score(a).model_dump_json(), cases),
        "closure score": (closure.score, cases),
    }
    try:
        durable = Scorer(ruleset, engine="durable")
    except EngineError:
        durable = None
    if durable is not None:
        for case in cases[:200]:
            if durable.score(case).model_dump_json() != native.score(case).model_dump_json():
                raise SystemExit("durable and native reports differ")
        contenders["durable score"] = (durable.score, cases)
        contenders["durable score+json"] = (
            lambda a: durable.score(a).model_dump_json(),
            cases,
        )
    try:
        zen_eval = zen_contender(ruleset, native, complete)
    except ImportError:
        pass
    else:
        contenders["zen (2 hazards, complete)"] = (zen_eval, complete)
        contenders["native score (complete)"] = (native.score, complete)
    return side_by_side(contenders, passes)


def memory_of(build: Callable[[], Scorer]) -> tuple[Scorer, int]:
    gc.collect()
    tracemalloc.start()
    scorer = build()
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return scorer, size


def bench_scaling(sizes: list[int], n: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        start = time.perf_counter()
        ruleset = generate_ruleset(size, seed=size)
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        scorer = Scorer(ruleset, engine="native")
        compile_s = time.perf_counter() - start
        # memory: a second Scorer with the code cache cleared, traced apart from the timing
        compiled_engine._code.cache_clear()
        other, memory = memory_of(lambda r=ruleset: Scorer(r, engine="native"))
        other.close()
        cases = generate_assessments(ruleset, n, seed=size)
        times = [per_call_us(scorer.score, cases) for _ in range(3)]
        engine_only = []
        facts = [scorer._validate(c) for c in cases]
        for _ in range(3):
            engine_only.append(per_call_us(scorer._engine.run, facts))
        rows.append(
            {
                "rules": size,
                "load_ms": round(load_s * 1e3, 1),
                "compile_ms": round(compile_s * 1e3, 1),
                "score_us": round(statistics.median(times), 1),
                "engine_us": round(statistics.median(engine_only), 1),
                "scorer_mib": round(memory / 2**20, 2),
            }
        )
        scorer.close()
        print(f"  scaling {size}: {rows[-1]}", file=sys.stderr)
    return rows


def bench_cohort(n: int) -> dict[str, Any]:
    from riskrules.research import score_file

    ruleset = load_ruleset("default")
    baseline = build_baseline(ruleset)
    with tempfile.TemporaryDirectory() as tmp:
        cohort = Path(tmp) / "cohort.jsonl"
        with cohort.open("w", encoding="utf-8") as out:
            for record in synthesize(n, seed=21):
                out.write(json.dumps({"id": record["id"], **nest(record)}) + "\n")

        def plain_loop() -> None:
            run_plain_loop(cohort, Path(tmp) / "plain.jsonl", baseline)

        def batch_in_process() -> None:
            with Scorer(ruleset, engine="native") as scorer:
                score_file(cohort, Path(tmp) / "batch.jsonl", scorer=scorer)

        def batch_cli() -> None:
            subprocess.run(
                [sys.executable, "-m", "riskrules", "batch", str(cohort), "--out",
                 str(Path(tmp) / "cli.jsonl")],
                check=True, capture_output=True,
            )  # fmt: skip

        results: dict[str, float] = {}
        for name, fn in (
            ("plain loop", plain_loop),
            ("riskrules batch (in process)", batch_in_process),
            ("riskrules batch (CLI, process start included)", batch_cli),
        ):
            seconds = []
            for _ in range(2):
                start = time.perf_counter()
                fn()
                seconds.append(time.perf_counter() - start)
            results[name] = round(n / statistics.median(seconds))
            print(f"  cohort {name}: {results[name]:,} records/s", file=sys.stderr)
    return {"records": n, "records_per_s": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs (smoke run)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-cohort", action="store_true")
    args = parser.parse_args(argv)
    n = 300 if args.quick else 2000
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "riskrules": riskrules.__version__,
        "default_us": bench_default(n, 3 if args.quick else 7),
    }
    print_default(results["default_us"])
    if not args.skip_scaling:
        sizes = [50, 200] if args.quick else [50, 200, 1000, 5000]
        results["scaling"] = bench_scaling(sizes, 200 if args.quick else 1000)
        print_scaling(results["scaling"])
    if not args.skip_cohort:
        results["cohort"] = bench_cohort(2000 if args.quick else 20000)
        for name, rate in results["cohort"]["records_per_s"].items():
            print(f"{name:48} {rate:>10,} records/s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def print_default(us: dict[str, float]) -> None:
    base = us["baseline"]
    native = us["native score"]
    print(f"{'contender':32} {'us/assessment':>14} {'x baseline':>11} {'x native':>9}")
    for name, value in us.items():
        print(f"{name:32} {value:>14.1f} {value / base:>11.2f} {value / native:>9.2f}")
    if "zen (2 hazards, complete)" in us:
        ratio = us["zen (2 hazards, complete)"] / us["native score (complete)"]
        print(f"ZEN / native (complete assessments): {ratio:.2f}")


def print_scaling(rows: list[dict[str, Any]]) -> None:
    head = ("rules", "load ms", "compile ms", "score us", "engine us", "MiB")
    print("{:>6} {:>9} {:>11} {:>9} {:>10} {:>6}".format(*head))
    for r in rows:
        print(
            f"{r['rules']:>6} {r['load_ms']:>9} {r['compile_ms']:>11} {r['score_us']:>9} "
            f"{r['engine_us']:>10} {r['scorer_mib']:>6}"
        )


if __name__ == "__main__":
    sys.exit(main())
