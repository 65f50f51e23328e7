"""Researchers' commands: ``compare``, ``sweep``, ``batch`` and ``synth``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from riskrules.cli._options import (
    Commands,
    add_cohort,
    add_engine,
    add_figures,
    add_file_format,
    add_id_column,
    add_params,
    add_ruleset,
    add_text_or_json,
    add_unknown_fields,
)


def add_compare(commands: Commands) -> None:
    parser = commands.add_parser(
        "compare",
        help="score a cohort under two rulesets and compare the levels",
        description=(
            "Score every record of a cohort under ruleset A and ruleset B and report, per hazard "
            "and overall, the level transition matrix, percent agreement, Cohen's kappa and "
            "quadratic weighted kappa, rule firing-rate differences, recommendation changes and "
            "the records whose overall level changed (see docs/research.md). Exit status: 0 on "
            "success, 2 on bad input."
        ),
    )
    parser.add_argument("a", metavar="A", help="ruleset A: file, directory or built-in name")
    parser.add_argument("b", metavar="B", help="ruleset B: file, directory or built-in name")
    add_cohort(parser)
    add_id_column(parser)
    add_engine(parser, default="auto", help="rule engine")
    add_params(parser, "--param-a", help="override a parameter of ruleset A (repeatable)")
    add_params(parser, "--param-b", help="override a parameter of ruleset B (repeatable)")
    add_text_or_json(parser)
    add_figures(parser)
    add_unknown_fields(parser)
    parser.set_defaults(handler=_compare)


def _compare(args: argparse.Namespace) -> int:
    from riskrules.research._compare import compare

    result = compare(
        args.a,
        args.b,
        args.cohort,
        engine=args.engine,
        params_a=dict(args.param_a) or None,
        params_b=dict(args.param_b) or None,
        id_column=args.id_column,
        unknown_fields=args.unknown_fields,
    )
    if args.figures is not None:
        result.figures(args.figures)
    sys.stdout.write(result.to_json() if args.format == "json" else result.to_text())
    return 0


def _sweep_param(text: str) -> tuple[str, list[int | float]]:
    """``NAME=START:STOP:STEP`` or ``NAME=A,B,C`` for ``riskrules sweep --param``."""
    from riskrules.research._sweep import parse_values

    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=START:STOP:STEP or NAME=A,B,C: {text!r}")
    try:
        return name.strip(), parse_values(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{name.strip()}: {exc}") from None


def add_sweep(commands: Commands) -> None:
    parser = commands.add_parser(
        "sweep",
        help="level distribution of a cohort across parameter values",
        description=(
            "Score a cohort at every value of one ruleset parameter, or every pair of values of "
            "two, and report the level distribution per hazard and overall at each point. The "
            "ruleset is compiled once per point. Exit status: 0 on success, 2 on bad input."
        ),
    )
    parser.add_argument("ruleset", metavar="RULESET", help="ruleset file, directory or name")
    parser.add_argument(
        "--param",
        action="append",
        type=_sweep_param,
        required=True,
        metavar="NAME=START:STOP:STEP|A,B,C",
        help="a parameter to sweep, STOP included (give it once or twice)",
    )
    add_params(parser, "--set", help="fix another parameter for the whole sweep (repeatable)")
    add_cohort(parser)
    add_id_column(parser)
    add_engine(parser, default="auto", help="rule engine")
    add_text_or_json(parser)
    add_figures(parser)
    parser.add_argument(
        "--level",
        metavar="LEVEL",
        help="2-D figures: shade the share at or above LEVEL (default: the second level)",
    )
    add_unknown_fields(parser)
    parser.set_defaults(handler=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    from riskrules.research._sweep import sweep

    grid = dict(args.param)
    if len(grid) != len(args.param):
        sys.stderr.write("riskrules: sweep: each --param names a different parameter\n")
        return 2
    result = sweep(
        args.ruleset,
        args.cohort,
        grid,
        engine=args.engine,
        params=dict(args.set) or None,
        id_column=args.id_column,
        unknown_fields=args.unknown_fields,
    )
    if args.figures is not None:
        result.figures(args.figures, level=args.level)
    sys.stdout.write(result.to_json() if args.format == "json" else result.to_text())
    return 0


def add_batch(commands: Commands) -> None:
    parser = commands.add_parser(
        "batch",
        help="score a cohort file and write one result row per record",
        description=(
            "Score every record of a cohort (JSON Lines, CSV or Parquet) and write result rows "
            "(id, fingerprint, overall and per-hazard levels, scores, completeness, findings, "
            "protocols, fired rules) as JSON Lines, CSV or Parquet, streaming in constant memory."
        ),
    )
    add_cohort(parser, positional=True)
    add_ruleset(parser)
    add_engine(
        parser,
        default="auto",
        help="rule engine (default: auto = native)",
    )
    add_params(parser, "--param", help="override a ruleset parameter (repeatable)")
    parser.add_argument("--out", required=True, metavar="RESULTS", help="result file to write")
    add_file_format(parser, "--format", help="result format (default: from the RESULTS extension)")
    add_file_format(
        parser, "--cohort-format", help="cohort format (default: from the COHORT extension)"
    )
    add_id_column(parser, metavar="NAME", help="record id column (default: id)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="score in N processes (default: 1)",
    )
    parser.add_argument(
        "--on-error",
        choices=("skip", "fail"),
        default="fail",
        help=(
            "a bad record: fail = stop with exit 2 and write nothing (default); skip = list it "
            "in the errors file and go on"
        ),
    )
    parser.add_argument(
        "--errors",
        metavar="ERRORS.jsonl",
        help="where skipped records are listed (default: RESULTS.errors.jsonl)",
    )
    add_unknown_fields(parser)
    parser.set_defaults(handler=_batch)


def _batch(args: argparse.Namespace) -> int:
    from riskrules.scoring import Scorer

    if args.workers < 1:
        sys.stderr.write("riskrules: --workers must be at least 1\n")
        return 2
    params = dict(args.param) or None
    try:
        summary = _run_batch(args, Scorer(args.ruleset, engine=args.engine, params=params))
    except KeyboardInterrupt:
        sys.stderr.write("\nriskrules: interrupted; no results written\n")
        return 130
    message = f"riskrules: scored {summary.scored} records into {args.out}"
    if summary.errors_path is not None:
        message += f"; skipped {summary.skipped} (listed in {summary.errors_path})"
    if summary.ignored_fields is not None:
        message += f"; ignored {summary.ignored_fields} fields the ruleset does not declare"
    sys.stderr.write(message + "\n")
    return 0


def _run_batch(args: argparse.Namespace, scorer: Any) -> Any:
    from riskrules.research._batch import score_file

    with scorer:
        return score_file(
            args.cohort,
            args.out,
            scorer=scorer,
            cohort_format=args.cohort_format,
            out_format=args.format,
            id_column=args.id_column,
            workers=args.workers,
            on_error=args.on_error,
            errors_path=args.errors,
            progress=sys.stderr,
            unknown_fields=args.unknown_fields,
        )


def add_synth(commands: Commands) -> None:
    parser = commands.add_parser(
        "synth",
        help="write a synthetic cohort for the default ruleset",
        description=(
            "Write N synthetic assessments (ids synthetic-000001, ...) for the default "
            "ruleset's inputs, with correlated fields and a share of missing values. "
            "Not data about any person: for demos, benchmarks and tests."
        ),
    )
    parser.add_argument("--n", type=int, required=True, metavar="N", help="number of records")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed")
    parser.add_argument(
        "--missing",
        type=float,
        default=0.1,
        metavar="SHARE",
        help="share of fields left out at random, 0 to 1 (default: 0.1)",
    )
    parser.add_argument(
        "--out", metavar="PATH", help="file to write (default: JSON Lines on standard output)"
    )
    add_file_format(parser, "--format", help="output format (default: from the PATH extension)")
    parser.set_defaults(handler=_synth)


def _silence_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's final flush does not
    fail again on the closed pipe."""
    import os

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _synth(args: argparse.Namespace) -> int:
    import json

    from riskrules.research._synth import synthesize, write_synthetic

    if args.n < 0 or not 0.0 <= args.missing <= 1.0:
        sys.stderr.write("riskrules: --n must be >= 0 and --missing between 0 and 1\n")
        return 2
    if args.out is None:
        if args.format not in (None, "jsonl"):
            sys.stderr.write("riskrules: standard output takes JSON Lines only; use --out\n")
            return 2
        try:
            for record in synthesize(args.n, args.seed, args.missing):
                sys.stdout.write(json.dumps(record) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            # the reader has had enough (``synth | head``): stop quietly, as cat does
            _silence_stdout()
        return 0
    write_synthetic(args.out, args.n, args.seed, missing=args.missing, format=args.format)
    return 0
