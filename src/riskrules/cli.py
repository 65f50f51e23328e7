"""The ``riskrules`` command.

Each subcommand registers itself in :func:`build_parser` through an ``_add_<name>`` function
that sets ``handler``; a handler takes the parsed arguments and returns the exit status.
Exit status: 0 success, 1 a check failed, 2 bad usage or bad input (the located message goes to
stderr).

``riskrules schema ruleset`` prints the JSON Schema of a ruleset file;
``--output schemas/ruleset.schema.json`` writes it there, and ``--check`` fails when that file
differs from what the models generate.

``riskrules score ASSESSMENT.json`` scores an assessment (``-`` reads standard input) and prints
the report as JSON, or with ``--format text`` a short summary; ``--explain PROTOCOL`` and
``--graph mermaid|dot|json|graphml`` print an explanation or the provenance graph instead.

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import RiskRulesError
from .loader import ruleset_json_schema

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]

SCHEMAS: dict[str, Callable[[], str]] = {"ruleset": ruleset_json_schema}
"""Schema name -> function returning its JSON text."""
SCHEMA_FILE = "schemas/{name}.schema.json"
"""Where each schema is committed, relative to the repository root."""


def _add_schema(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "schema",
        help="print or write the JSON Schema of a ruleset file",
        description="Generate the JSON Schema that ruleset YAML files are written against.",
    )
    parser.add_argument("name", choices=sorted(SCHEMAS), help="which schema")
    parser.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="write the schema to PATH instead of standard output",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=(
            "do not write; exit 1 if PATH (default: schemas/<name>.schema.json) differs from "
            "the generated schema"
        ),
    )
    parser.set_defaults(handler=_schema)


def _schema(args: argparse.Namespace) -> int:
    text = SCHEMAS[args.name]()
    target: str | None = args.output
    if target is None and args.check:
        target = SCHEMA_FILE.format(name=args.name)
    if args.check:
        assert target is not None
        try:
            current = Path(target).read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            state = "is missing" if current is None else "is stale"
            sys.stderr.write(
                f"{target} {state}; regenerate it with: "
                f"riskrules schema {args.name} --output {target}\n"
            )
            return 1
        return 0
    if target is None:
        sys.stdout.write(text)
        return 0
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return 0


# --------------------------------------------------------------------------- score

GRAPH_FORMATS = ("mermaid", "dot", "json", "graphml")
"""``riskrules score --graph`` formats (``json`` is node-link JSON)."""


def _param(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` for ``--param``; VALUE is read as JSON so that numbers stay numbers."""
    import json

    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


ENGINE_CHOICES = ("auto", "native", "durable")


def _add_engine(parser: argparse.ArgumentParser, *, default: str, help: str) -> None:
    """The ``--engine`` option shared by the scoring subcommands."""
    parser.add_argument("--engine", choices=ENGINE_CHOICES, default=default, help=help)


def _add_params(parser: argparse.ArgumentParser, flag: str, *, help: str) -> None:
    """A repeatable ``NAME=VALUE`` parameter override option (``--param`` and variants)."""
    parser.add_argument(
        flag, action="append", type=_param, default=[], metavar="NAME=VALUE", help=help
    )


def _add_score(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "score",
        help="score an assessment and print its report",
        description=(
            "Score an assessment (a JSON object; nested objects and dotted keys both work) "
            "against a ruleset and print the report, an explanation or the provenance graph. "
            "Screening and decision support, not a diagnosis."
        ),
    )
    parser.add_argument(
        "assessment", metavar="ASSESSMENT", help="assessment JSON file, or - for standard input"
    )
    parser.add_argument(
        "--ruleset",
        default="default",
        metavar="PATH|NAME",
        help="ruleset file, directory or built-in name (default: default)",
    )
    _add_engine(
        parser,
        default="auto",
        help="rule engine (default: auto = durable where available, else native)",
    )
    _add_params(parser, "--param", help="override a ruleset parameter (repeatable)")
    parser.add_argument(
        "--format",
        choices=("json", "text"),
        default="json",
        help="report format: json (the report as data) or text (a short summary)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--explain",
        metavar="PROTOCOL",
        help="print why PROTOCOL was recommended instead of the report",
    )
    output.add_argument(
        "--graph",
        choices=GRAPH_FORMATS,
        help="print the provenance graph instead of the report",
    )
    parser.set_defaults(handler=_score)


class _BadInput(Exception):
    """An assessment that is not readable JSON; the message is already located."""


def _read_assessment(source: str) -> Any:
    import json

    where = "<stdin>" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _BadInput(f"{where}: not UTF-8 text ({exc.reason})") from None

    from .cohort import strict_json_loads

    try:
        return strict_json_loads(text)
    except json.JSONDecodeError as exc:
        raise _BadInput(f"{where}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except ValueError as exc:
        raise _BadInput(f"{where}: invalid JSON: {exc}") from None
    except RecursionError:
        raise _BadInput(f"{where}: invalid JSON: nested too deeply") from None


def _score(args: argparse.Namespace) -> int:
    from .errors import AssessmentError
    from .graph import to_dot, to_graphml, to_mermaid, to_node_link_json
    from .scoring import Scorer

    try:
        assessment = _read_assessment(args.assessment)
    except _BadInput as exc:
        sys.stderr.write(f"riskrules: {exc}\n")
        return 2
    params = dict(args.param) or None
    with Scorer(args.ruleset, engine=args.engine, params=params) as scorer:
        try:
            report = scorer.score(assessment)
        except AssessmentError as exc:
            where = "<stdin>" if args.assessment == "-" else args.assessment
            sys.stderr.write(f"riskrules: {where}: {exc}\n")
            return 2
    if args.explain is not None:
        explanation = report.explain(args.explain)
        if args.format == "json":
            text = explanation.model_dump_json(indent=2) + "\n"
        else:
            text = explanation.text + "\n"
    elif args.graph is not None:
        exporters = {
            "mermaid": to_mermaid,
            "dot": to_dot,
            "json": lambda g: to_node_link_json(g) + "\n",
            "graphml": to_graphml,
        }
        text = exporters[args.graph](report.graph)
    elif args.format == "text":
        text = report.to_text()
    else:
        text = report.model_dump_json(indent=2) + "\n"
    sys.stdout.write(text)
    return 0


# --------------------------------------------------------------------------- graph

RULESET_GRAPH_FORMATS = ("mermaid", "dot", "graphml", "json", "html")
"""``riskrules graph`` formats (``json`` is node-link JSON, ``html`` a self-contained page)."""


def _add_graph(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    from .graph import ruleset_graph, to_dot, to_graphml, to_html, to_mermaid, to_node_link_json
    from .loader import load_ruleset

    ruleset = load_ruleset(args.ruleset)
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


# --------------------------------------------------------------------------- diff


def _add_diff(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    from .diff import diff_rulesets

    result = diff_rulesets(args.a, args.b)
    if args.format == "json":
        sys.stdout.write(result.to_json())
    else:
        sys.stdout.write(result.to_text(args.a, args.b))
    return 0 if result.identical else 1


# --------------------------------------------------------------------------- lint


def _add_lint(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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

    from .errors import RulesetError
    from .lint import Diagnostic, lint

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


# --------------------------------------------------------------------------- test


def _add_test(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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

    from .errors import RulesetError
    from .loader import load_ruleset
    from .testing import run_scenarios

    failed = unloadable = False
    results: list[dict[str, Any]] = []
    for path in args.paths:
        try:
            ruleset = load_ruleset(path)
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


# --------------------------------------------------------------------------- check


def _add_check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    _add_engine(parser, default="native", help="rule engine (default: native)")
    _add_params(parser, "--param", help="check with a ruleset parameter overridden (repeatable)")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    parser.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    import json
    import random

    from .errors import RulesetError
    from .loader import load_ruleset
    from .testing import check_properties

    if args.max_examples < 1:
        sys.stderr.write("riskrules: --max-examples must be at least 1\n")
        return 2
    seed = random.SystemRandom().randrange(2**32) if args.seed is None else args.seed
    failed = unloadable = False
    results: list[dict[str, Any]] = []
    for path in args.paths:
        try:
            ruleset = load_ruleset(path)
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


# --------------------------------------------------------------------------- compare


def _add_compare(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    parser.add_argument(
        "--cohort", required=True, metavar="COHORT", help="cohort file (.jsonl, .csv, .parquet)"
    )
    parser.add_argument("--id-column", default="id", help="the cohort's id column (default: id)")
    _add_engine(parser, default="auto", help="rule engine")
    _add_params(parser, "--param-a", help="override a parameter of ruleset A (repeatable)")
    _add_params(parser, "--param-b", help="override a parameter of ruleset B (repeatable)")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    parser.add_argument(
        "--figures", metavar="DIR", help="also write PNG figures into DIR (needs matplotlib)"
    )
    parser.set_defaults(handler=_compare)


def _compare(args: argparse.Namespace) -> int:
    from .compare import compare

    result = compare(
        args.a,
        args.b,
        args.cohort,
        engine=args.engine,
        params_a=dict(args.param_a) or None,
        params_b=dict(args.param_b) or None,
        id_column=args.id_column,
    )
    if args.figures is not None:
        result.figures(args.figures)
    sys.stdout.write(result.to_json() if args.format == "json" else result.to_text())
    return 0


# --------------------------------------------------------------------------- sweep


def _sweep_param(text: str) -> tuple[str, list[int | float]]:
    """``NAME=START:STOP:STEP`` or ``NAME=A,B,C`` for ``riskrules sweep --param``."""
    from .compare import parse_values

    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=START:STOP:STEP or NAME=A,B,C: {text!r}")
    try:
        return name.strip(), parse_values(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{name.strip()}: {exc}") from None


def _add_sweep(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    _add_params(parser, "--set", help="fix another parameter for the whole sweep (repeatable)")
    parser.add_argument(
        "--cohort", required=True, metavar="COHORT", help="cohort file (.jsonl, .csv, .parquet)"
    )
    parser.add_argument("--id-column", default="id", help="the cohort's id column (default: id)")
    _add_engine(parser, default="auto", help="rule engine")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    parser.add_argument(
        "--figures", metavar="DIR", help="also write PNG figures into DIR (needs matplotlib)"
    )
    parser.add_argument(
        "--level",
        metavar="LEVEL",
        help="2-D figures: shade the share at or above LEVEL (default: the second level)",
    )
    parser.set_defaults(handler=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    from .compare import sweep

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
    )
    if args.figures is not None:
        result.figures(args.figures, level=args.level)
    sys.stdout.write(result.to_json() if args.format == "json" else result.to_text())
    return 0


# --------------------------------------------------------------------------- batch


def _add_batch(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "batch",
        help="score a cohort file and write one result row per record",
        description=(
            "Score every record of a cohort (JSON Lines, CSV or Parquet) and write result rows "
            "(id, fingerprint, overall and per-hazard levels, scores, completeness, findings, "
            "protocols, fired rules) as JSON Lines, CSV or Parquet, streaming in constant memory."
        ),
    )
    parser.add_argument("cohort", metavar="COHORT", help="cohort file (.jsonl, .csv, .parquet)")
    parser.add_argument(
        "--ruleset",
        default="default",
        metavar="PATH|NAME",
        help="ruleset file, directory or built-in name (default: default)",
    )
    _add_engine(
        parser,
        default="auto",
        help="rule engine (default: auto = durable where available, else native)",
    )
    _add_params(parser, "--param", help="override a ruleset parameter (repeatable)")
    parser.add_argument("--out", required=True, metavar="RESULTS", help="result file to write")
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv", "parquet"),
        help="result format (default: from the RESULTS extension)",
    )
    parser.add_argument(
        "--cohort-format",
        choices=("jsonl", "csv", "parquet"),
        help="cohort format (default: from the COHORT extension)",
    )
    parser.add_argument(
        "--id-column", default="id", metavar="NAME", help="record id column (default: id)"
    )
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
    parser.set_defaults(handler=_batch)


def _batch(args: argparse.Namespace) -> int:
    from .cohort import score_file
    from .scoring import Scorer

    if args.workers < 1:
        sys.stderr.write("riskrules: --workers must be at least 1\n")
        return 2
    params = dict(args.param) or None
    with Scorer(args.ruleset, engine=args.engine, params=params) as scorer:
        summary = score_file(
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
        )
    message = f"riskrules: scored {summary.scored} records into {args.out}"
    if summary.errors_path is not None:
        message += f"; skipped {summary.skipped} (listed in {summary.errors_path})"
    sys.stderr.write(message + "\n")
    return 0


# --------------------------------------------------------------------------- synth


def _add_synth(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv", "parquet"),
        help="output format (default: from the PATH extension)",
    )
    parser.set_defaults(handler=_synth)


def _synth(args: argparse.Namespace) -> int:
    import json

    from .synth import synthesize, write_synthetic

    if args.n < 0 or not 0.0 <= args.missing <= 1.0:
        sys.stderr.write("riskrules: --n must be >= 0 and --missing between 0 and 1\n")
        return 2
    if args.out is None:
        if args.format not in (None, "jsonl"):
            sys.stderr.write("riskrules: standard output takes JSON Lines only; use --out\n")
            return 2
        for record in synthesize(args.n, args.seed, args.missing):
            sys.stdout.write(json.dumps(record) + "\n")
        return 0
    write_synthetic(args.out, args.n, args.seed, missing=args.missing, format=args.format)
    return 0


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the CDS Hooks service (needs riskrules[service])",
        description=(
            "Serve CDS Hooks cards over HTTP (docs/cds-hooks.md). Requests must carry a JWT "
            "signed by an issuer listed in --config, unless --insecure-dev is given."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument(
        "--ruleset",
        default="default",
        metavar="PATH|NAME",
        help="ruleset file, directory or built-in name (default: default)",
    )
    _add_engine(parser, default="auto", help="rule engine (default: auto)")
    parser.add_argument(
        "--config", metavar="FILE", help="JSON/YAML file: audience, issuers and their JWKS"
    )
    parser.add_argument(
        "--insecure-dev",
        action="store_true",
        help="accept requests without a token (local trials only; logs a warning)",
    )
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import logging

    try:
        import uvicorn

        from .service import ServiceConfig, create_app, load_config
    except ImportError:
        sys.stderr.write(
            "riskrules: serve needs the service extra: pip install riskrules[service]\n"
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.config:
        config = load_config(args.config, insecure_dev=args.insecure_dev)
    elif args.insecure_dev:
        config = ServiceConfig(insecure_dev=True)
    else:
        sys.stderr.write("riskrules: serve needs --config FILE (or --insecure-dev)\n")
        return 2
    app = create_app(ruleset=args.ruleset, engine=args.engine, config=config)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="riskrules",
        description="Explainable rule-based scoring of occupational risks in mental-health work.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_schema(commands)
    _add_score(commands)
    _add_graph(commands)
    _add_diff(commands)
    _add_lint(commands)
    _add_test(commands)
    _add_check(commands)
    _add_compare(commands)
    _add_sweep(commands)
    _add_batch(commands)
    _add_synth(commands)
    _add_serve(commands)
    return parser


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
