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
    parser.add_argument(
        "--engine",
        choices=("auto", "native", "durable"),
        default="auto",
        help="rule engine (default: auto = durable where available, else native)",
    )
    parser.add_argument(
        "--param",
        action="append",
        type=_param,
        default=[],
        metavar="NAME=VALUE",
        help="override a ruleset parameter (repeatable)",
    )
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

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        obj: dict[str, object] = {}
        for key, value in items:
            if key in obj:
                raise ValueError(f"duplicate key {key!r}")
            obj[key] = value
        return obj

    def constant(name: str) -> object:
        raise ValueError(f"{name} is not a JSON number")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="riskrules",
        description="Explainable rule-based scoring of occupational risks in mental-health work.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_schema(commands)
    _add_score(commands)
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
