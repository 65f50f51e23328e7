"""The ``riskrules`` command.

Each subcommand registers itself in :func:`build_parser` through an ``_add_<name>`` function
that sets ``handler``; a handler takes the parsed arguments and returns the exit status.
Exit status: 0 success, 1 a check failed, 2 bad usage or bad input (the located message goes to
stderr).

``riskrules --version`` prints the installed version. ``riskrules schema ruleset`` prints the
JSON Schema of a ruleset file (``schema fhir-mapping``: of a FHIR questionnaire mapping file;
``schema report``: of report JSON; ``schema assessment --ruleset R``: of R's assessments);
``--output schemas/ruleset.schema.json`` writes it there, and ``--check`` fails when that file
differs from what the models generate.

``riskrules score ASSESSMENT.json`` scores an assessment (``-`` reads standard input) and prints
the report as JSON, or with ``--format text`` a short summary; ``--explain PROTOCOL`` and
``--graph mermaid|dot|json|graphml`` print an explanation or the provenance graph instead.

``riskrules plan ASSESSMENT.json`` lists, per hazard above the lowest level, the smallest input
changes that would lower it and the protocols that address them (``--format json|markdown``);
``riskrules score --set FIELD=VALUE`` prints what such a change does (docs/planning.md).
``riskrules compile RULESET --show`` prints the Python source the native engine generates for a
ruleset and its parameters (``--param NAME=VALUE``), with the rule ids in comments.

``riskrules graph PATH --format mermaid|dot|graphml|json|html`` draws a ruleset's static graph;
``riskrules diff A B`` lists the semantic differences between two rulesets (exit 1 when any).

``riskrules lint PATH...`` checks rulesets statically and prints ``file:line:col CODE severity
message`` per diagnostic (``--format json`` for data); exit 1 on an error (``--strict``: on a
warning too), 2 when a ruleset does not load.

``riskrules test PATH...`` runs every ruleset's ``tests:`` scenarios on every available engine,
prints a diff per failure and the rule coverage (``--min-coverage 100`` fails below); ``riskrules
check PATH...`` searches for counterexamples to the ruleset's ``properties:`` and prints the
smallest as scenarios ready to paste under ``tests:``. Both exit 1 when anything fails.

``riskrules batch COHORT --out RESULTS`` scores a cohort file (JSON Lines, CSV, Parquet) into
result rows (``--on-error skip|fail``, ``--workers N``); ``riskrules synth --n N --seed S``
writes a synthetic cohort for the default ruleset.

``riskrules compare A B --cohort COHORT`` scores a cohort under two rulesets and prints level
agreement (transition matrices, kappas), firing-rate and recommendation changes and the records
whose level changed; ``riskrules sweep RULESET --param NAME=20:60:5 --cohort COHORT`` prints the
level distribution at each parameter value (docs/research.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from riskrules.cli._authoring import add_check, add_diff, add_graph, add_lint, add_test
from riskrules.cli._compile import add_compile
from riskrules.cli._options import Handler
from riskrules.cli._plan import add_plan
from riskrules.cli._research import add_batch, add_compare, add_sweep, add_synth
from riskrules.cli._schema import add_schema
from riskrules.cli._score import add_score
from riskrules.cli._serve import add_serve
from riskrules.errors import RiskRulesError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="riskrules",
        description="Explainable rule-based scoring of occupational risks in mental-health work.",
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_schema(commands)
    add_score(commands)
    add_plan(commands)
    add_compile(commands)
    add_graph(commands)
    add_diff(commands)
    add_lint(commands)
    add_test(commands)
    add_check(commands)
    add_compare(commands)
    add_sweep(commands)
    add_batch(commands)
    add_synth(commands)
    add_serve(commands)
    return parser


class _Version(argparse.Action):
    """``--version``: the installed version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        import riskrules

        sys.stdout.write(f"riskrules {riskrules.__version__}\n")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else 2
    handler: Handler = args.handler
    try:
        return handler(args)
    except RiskRulesError as exc:
        sys.stderr.write(f"riskrules: {exc}\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"riskrules: {exc}\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
