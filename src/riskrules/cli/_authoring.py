"""Ruleset authors' commands: ``graph``, ``diff``, ``lint``, ``test`` and ``check``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskrules.cli._options import Commands, add_engine, add_params

if TYPE_CHECKING:
    from riskrules.ruleset._overrides import Override
    from riskrules.ruleset._spec import Ruleset

RULESET_GRAPH_FORMATS = ("mermaid", "dot", "graphml", "json", "html")
"""``riskrules graph`` formats (``json`` is node-link JSON, ``html`` a self-contained page)."""


def add_graph(commands: Commands) -> None:
    parser = commands.add_parser(
        "graph",
        help="draw a ruleset's static graph",
        description=(
            "Draw the static graph of a ruleset: inputs, rules, findings, hazards and protocols, "
            "and every edge a scoring could use. The html format is one self-contained page "
            "(no network access) to explore the graph in a browser."
        ),
    )
    parser.add_argument("ruleset", metavar="PATH", help="ruleset file, directory or built-in name")
    parser.add_argument(
        "--format",
        "-f",
        choices=RULESET_GRAPH_FORMATS,
        default="mermaid",
        help="output format (default: mermaid)",
    )
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write to FILE instead of standard output"
    )
    parser.add_argument("--title", help="title of the html page (default: the ruleset's title)")
    parser.set_defaults(handler=_graph)


def _graph(args: argparse.Namespace) -> int:
    from riskrules.graph import (
        ruleset_graph,
        to_dot,
        to_graphml,
        to_html,
        to_mermaid,
        to_node_link_json,
    )

    ruleset = load_noting(args.ruleset)
    graph = ruleset_graph(ruleset)
    exporters: dict[str, Callable[[Any], str]] = {
        "mermaid": to_mermaid,
        "dot": to_dot,
        "graphml": to_graphml,
        "json": lambda g: to_node_link_json(g) + "\n",
        "html": lambda g: to_html(g, title=args.title or ruleset.title),
    }
    text = exporters[args.format](graph)
    if args.output is None:
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def add_diff(commands: Commands) -> None:
    parser = commands.add_parser(
        "diff",
        help="compare two rulesets by meaning",
        description=(
            "List what changed from ruleset A to ruleset B, by id: rules, thresholds, points, "
            "floors, findings, recommendations, bands, caps, parameters, inputs, protocols and "
            "levels. Layout, comments, key order and file structure are ignored; a rule that "
            "moved in the list is reported as moved. Exit status: 0 when the two mean the "
            "same, 1 when they differ, 2 when one does not load."
        ),
    )
    parser.add_argument("a", metavar="A", help="the old ruleset: file, directory or built-in name")
    parser.add_argument("b", metavar="B", help="the new ruleset: file, directory or built-in name")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (grouped by section, +/-/~ markers) or json",
    )
    parser.set_defaults(handler=_diff)


def _diff(args: argparse.Namespace) -> int:
    import json

    from riskrules.authoring._diff import diff_rulesets

    a, b = load_noting(args.a), load_noting(args.b)
    result = diff_rulesets(a, b)
    if args.format == "json" and not (a.overrides or b.overrides):
        sys.stdout.write(result.to_json())
    elif args.format == "json":
        data = json.loads(result.to_json())
        data["overrides"] = {
            "a": [_override_dict(o) for o in a.overrides],
            "b": [_override_dict(o) for o in b.overrides],
        }
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(result.to_text(args.a, args.b))
        for label, ruleset in ((args.a, a), (args.b, b)):
            if ruleset.overrides:
                sys.stdout.write(f"\n{label} overrides what it builds on:\n")
                sys.stdout.write("".join(f"  {o}\n" for o in ruleset.overrides))
    return 0 if result.identical else 1


def load_noting(source: str) -> Ruleset:
    """Load ``source``; when it is a variant, say on stderr what it overrides."""
    from riskrules.ruleset._loader import load_ruleset

    ruleset = load_ruleset(source)
    if ruleset.overrides:
        changes = "; ".join(f"{o.action} {o.kind} {o.name}" for o in ruleset.overrides)
        sys.stderr.write(f"riskrules: {source} builds on another ruleset and {changes}\n")
    return ruleset


def _override_dict(override: Override) -> dict[str, str]:
    return {
        "kind": override.kind,
        "name": override.name,
        "action": override.action,
        "at": override.at,
        "original": override.original,
    }


def add_lint(commands: Commands) -> None:
    parser = commands.add_parser(
        "lint",
        help="check rulesets for dead rules, unreachable levels and unused declarations",
        description=(
            "Check rulesets statically and print one line per problem, like a compiler: "
            "FILE:LINE:COL CODE SEVERITY MESSAGE (the codes are explained in docs/lint.md). "
            "Exit status: 0 when there is no error, 1 when there is one (or, with --strict, a "
            "warning), 2 when a ruleset does not load."
        ),
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="ruleset file, directory or built-in name"
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (one line per diagnostic) or json (a list of diagnostic objects)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    parser.set_defaults(handler=_lint)


def _lint(args: argparse.Namespace) -> int:
    import json

    from riskrules.authoring import Diagnostic, lint
    from riskrules.errors import RulesetError

    found: dict[Diagnostic, None] = {}
    unloadable = False
    for path in args.paths:
        try:
            found.update(dict.fromkeys(lint(path)))
        except RulesetError as exc:
            sys.stderr.write(f"riskrules: {exc}\n")
            unloadable = True
    diagnostics = sorted(found, key=Diagnostic.sort_key)
    if args.format == "json":
        sys.stdout.write(json.dumps([d.to_dict() for d in diagnostics], indent=2) + "\n")
    else:
        sys.stdout.write("".join(f"{d}\n" for d in diagnostics))
    if unloadable:
        return 2
    failing = ("error", "warning") if args.strict else ("error",)
    return 1 if any(d.severity in failing for d in diagnostics) else 0


def add_test(commands: Commands) -> None:
    parser = commands.add_parser(
        "test",
        help="run rulesets' scenarios and report rule coverage",
        description=(
            "Run every scenario in each ruleset's tests: section on every available engine "
            "(or those given with --engine), print a diff (expected vs actual) per failure and "
            "report rule coverage: the rules fired by at least one scenario. Exit status: 0 "
            "when every scenario passes (and coverage reaches --min-coverage), 1 otherwise, 2 "
            "when a ruleset does not load."
        ),
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="ruleset file, directory or built-in name"
    )
    parser.add_argument(
        "--engine",
        action="append",
        choices=("native", "durable"),
        help="run on this engine (repeatable; default: every available engine)",
    )
    parser.add_argument(
        "--min-coverage",
        type=float,
        default=0.0,
        metavar="PERCENT",
        help="fail when a ruleset's rule coverage is below PERCENT (e.g. 100)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    parser.set_defaults(handler=_test)


def _test(args: argparse.Namespace) -> int:
    import json

    from riskrules.errors import RulesetError
    from riskrules.testing import run_scenarios

    failed = unloadable = False
    results: list[dict[str, Any]] = []
    for path in args.paths:
        try:
            ruleset = load_noting(path)
        except RulesetError as exc:
            sys.stderr.write(f"riskrules: {exc}\n")
            unloadable = True
            continue
        outcome = run_scenarios(ruleset, engines=args.engine)
        enough = outcome.coverage >= args.min_coverage
        failed = failed or not outcome.passed or not enough
        if args.format == "json":
            results.append({"source": path, **outcome.to_dict(), "coverage_ok": enough})
            continue
        sys.stdout.write(outcome.to_text(path))
        if not enough:
            sys.stdout.write(
                f"rule coverage {outcome.coverage:.1f}% is below the required "
                f"{args.min_coverage:g}%\n"
            )
    if args.format == "json":
        data = {"passed": not failed and not unloadable, "min_coverage": args.min_coverage}
        sys.stdout.write(json.dumps({**data, "rulesets": results}, indent=2) + "\n")
    if unloadable:
        return 2
    return 1 if failed else 0


def add_check(commands: Commands) -> None:
    parser = commands.add_parser(
        "check",
        help="search for counterexamples to rulesets' declared properties",
        description=(
            "Search, with hypothesis, for assessments that break the properties declared in "
            "each ruleset's properties: section (monotone, bounded, "
            "never_indeterminate_when_complete) and print the smallest counterexample found as "
            "scenarios ready to paste under tests:. Exit status: 0 when every property holds "
            "on the examples tried, 1 when one fails, 2 when a ruleset does not load."
        ),
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="ruleset file, directory or built-in name"
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=100,
        metavar="N",
        help="examples to try per property (default: 100)",
    )
    parser.add_argument(
        "--seed", type=int, help="seed of the search (default: a random one, which is printed)"
    )
    add_engine(parser, default="native", help="rule engine (default: native)")
    add_params(parser, "--param", help="check with a ruleset parameter overridden (repeatable)")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    parser.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    import json
    import random

    from riskrules.errors import RulesetError
    from riskrules.testing import check_properties

    if args.max_examples < 1:
        sys.stderr.write("riskrules: --max-examples must be at least 1\n")
        return 2
    seed = random.SystemRandom().randrange(2**32) if args.seed is None else args.seed
    failed = unloadable = False
    results: list[dict[str, Any]] = []
    for path in args.paths:
        try:
            ruleset = load_noting(path)
        except RulesetError as exc:
            sys.stderr.write(f"riskrules: {exc}\n")
            unloadable = True
            continue
        outcome = check_properties(
            ruleset,
            max_examples=args.max_examples,
            seed=seed,
            engine=args.engine,
            params=dict(args.param) or None,
        )
        failed = failed or not outcome.passed
        if args.format == "json":
            results.append({"source": path, **outcome.to_dict()})
        else:
            sys.stdout.write(outcome.to_text(path))
    if args.format == "json":
        data = {"passed": not failed and not unloadable, "seed": seed, "rulesets": results}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    if unloadable:
        return 2
    return 1 if failed else 0
