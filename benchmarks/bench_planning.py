"""Planning benchmark: what_if calls per second, and the time of lower and next_questions.

Run from the repository root (after the Quickstart's test install)::

    .venv/bin/python benchmarks/bench_planning.py            # prints a table
    .venv/bin/python benchmarks/bench_planning.py --engine native --seconds 2

``what_if`` rescores once per call when it is given the assessment's report (``report=``),
twice without it; both are measured, next to a plain ``Scorer.score`` for scale. ``lower`` and
``next_questions`` rescore once per candidate they try; their time is per call.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

from riskrules import Scorer
from riskrules.planning import lower, next_questions, what_if

ASSESSMENT = {
    "clinician": {
        "active_clients": 40,
        "supervision_hours_per_month": 1,
        "direct_hours_per_week": 28,
        "cbi": {"personal": 60},
        "proqol": {"burnout": 30, "compassion_satisfaction": 35},
    }
}


def rate(call: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Calls per second of ``call`` over about ``seconds`` (after one warm-up call)."""
    call()
    n = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        call()
        n += 1
    return n / elapsed, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="native")
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    with Scorer("default", engine=args.engine) as scorer:
        report = scorer.score(ASSESSMENT)
        change = {"clinician.active_clients": 30}
        rows = [
            ("Scorer.score", lambda: scorer.score(ASSESSMENT)),
            ("what_if (report given)", lambda: what_if(scorer, ASSESSMENT, change, report=report)),
            ("what_if", lambda: what_if(scorer, ASSESSMENT, change)),
            ("lower caseload (max_changes=2)", lambda: lower(scorer, ASSESSMENT, "caseload")),
            ("next_questions (k=3)", lambda: next_questions(scorer, ASSESSMENT, 3)),
        ]
        print(f"python {platform.python_version()}, engine {scorer.engine}")
        print(f"{'call':34} {'calls/s':>10} {'ms/call':>9}")
        for name, call in rows:
            per_second, _ = rate(call, args.seconds)
            print(f"{name:34} {per_second:10.0f} {1000 / per_second:9.3f}")


if __name__ == "__main__":
    main()
