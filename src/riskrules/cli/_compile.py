"""``riskrules compile``: compile a ruleset with bound parameters for the native Scorer and,
with ``--show``, print the generated Python source (input validation, the engine's evaluation
and aggregation; rule ids in its comments)."""

from __future__ import annotations

import argparse
import sys

from riskrules.cli._options import Commands, add_params


def add_compile(commands: Commands) -> None:
    parser = commands.add_parser(
        "compile",
        help="compile a ruleset to Python and print the generated source",
        description=(
            "Load a ruleset, bind its parameters and generate the Python code the native "
            "engine runs for it: input validation, rule evaluation and aggregation. Without "
            "--show it only checks that the ruleset compiles."
        ),
    )
    parser.add_argument(
        "ruleset", metavar="RULESET", help="ruleset file, directory or built-in name"
    )
    add_params(parser, "--param", help="override a ruleset parameter (repeatable)")
    parser.add_argument(
        "--show", action="store_true", help="print the generated source to standard output"
    )
    parser.set_defaults(handler=_compile)


def _compile(args: argparse.Namespace) -> int:
    from riskrules.engines._base import Program
    from riskrules.engines._codegen import shown
    from riskrules.ruleset import load_ruleset
    from riskrules.scoring._generated import ScorerCode, scorer_source
    from riskrules.scoring._scorer import bind_params

    ruleset = load_ruleset(args.ruleset)
    program = Program.build(ruleset, bind_params(ruleset, dict(args.param) or None))
    generated = scorer_source(ruleset, program)
    ScorerCode(ruleset, program).engine.close()  # compiles it
    if args.show:
        sys.stdout.write(shown(generated))
    else:
        sys.stdout.write(
            f"compiled {ruleset.ruleset} {ruleset.version}: {len(ruleset.rules)} rules, "
            f"{len(generated.source.splitlines())} lines of Python\n"
        )
    return 0
