"""Write the report JSON of every example and every default-ruleset scenario to golden files.

One file per case in ``tests/data/golden/``: ``example-<name>.json`` for ``examples/<name>.json``
(scored with the default ruleset) and ``scenario-<index>.json`` for the default ruleset's scenario
of that index (scored with its parameters). Each file holds exactly ``report.model_dump_json()``.
``tests/scoring/test_golden.py`` compares every engine's output with them byte for byte, so a
change that alters report JSON shows up as a diff of these files.

    python scripts/golden_reports.py [--engine native|durable|auto] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from riskrules import Scorer, load_ruleset

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "tests" / "data" / "golden"


def cases() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(file name, assessment, params) of every golden case, in a stable order."""
    for path in sorted(EXAMPLES.glob("*.json")):
        yield f"example-{path.stem}.json", json.loads(path.read_text(encoding="utf-8")), {}
    ruleset = load_ruleset("default")
    for index, scenario in enumerate(ruleset.tests):
        yield f"scenario-{index:03d}.json", scenario.input, dict(scenario.params)


def reports(engine: str) -> Iterator[tuple[str, str]]:
    """(file name, report JSON) of every case scored with ``engine``."""
    ruleset = load_ruleset("default")
    scorers: dict[tuple[tuple[str, Any], ...], Scorer] = {}
    try:
        for name, assessment, params in cases():
            key = tuple(sorted(params.items()))
            if key not in scorers:
                scorers[key] = Scorer(ruleset, engine=engine, params=params or None)
            yield name, scorers[key].score(assessment).model_dump_json()
    finally:
        for scorer in scorers.values():
            scorer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--engine", default="closure", help="engine to score with (closure: the reference)"
    )
    parser.add_argument("--out", type=Path, default=GOLDEN, help="directory to write into")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for stale in args.out.glob("*.json"):
        stale.unlink()
    for name, text in reports(args.engine):
        (args.out / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
