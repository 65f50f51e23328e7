"""Lint time of the built-in rulesets: how long ``riskrules.lint`` takes on each.

Run from the repository root::

    .venv/bin/python benchmarks/bench_lint.py            # median of 20 runs per ruleset
    .venv/bin/python benchmarks/bench_lint.py --runs 5

Each ruleset is loaded once; the time is that of ``lint(ruleset)`` alone (every check, the
satisfiability searches included), the median of ``--runs`` runs after one warm-up, and the
time of ``lint(name)`` with loading, once. The target is well under a second per ruleset.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from riskrules import RulesetError, lint, load_ruleset
from riskrules.ruleset._sources import builtin_names, builtin_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}")
    print(f"{'ruleset':<20} {'rules':>6} {'lint (median)':>14} {'load + lint':>12}  findings")
    for name in builtin_names(builtin_root()):
        try:
            ruleset = load_ruleset(name)
        except RulesetError:  # a fragment that does not load alone
            continue
        lint(ruleset)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            found = lint(ruleset)
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        lint(name)
        whole = time.perf_counter() - start
        median = statistics.median(times)
        print(
            f"{name:<20} {len(ruleset.rules):>6} {median * 1000:>11.1f} ms "
            f"{whole * 1000:>9.1f} ms  {len(found)}"
        )


if __name__ == "__main__":
    main()
