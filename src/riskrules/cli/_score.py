"""``riskrules score``: score one assessment and print the report, an explanation or a graph."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from typing import Any

from riskrules.cli._options import Commands, add_engine, add_params

GRAPH_FORMATS = ("mermaid", "dot", "json", "graphml")
"""``riskrules score --graph`` formats (``json`` is node-link JSON)."""


def add_score(commands: Commands) -> None:
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
    add_engine(
        parser,
        default="auto",
        help="rule engine (default: auto = durable where available, else native)",
    )
    add_params(parser, "--param", help="override a ruleset parameter (repeatable)")
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


def _read_bytes(source: str, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of standard input or of a regular file (never a device, a
    FIFO or a directory, which could block or never end)."""
    if source == "-":
        binary = getattr(sys.stdin, "buffer", None)
        if binary is None:  # a text stream (e.g. replaced in tests): count characters
            return sys.stdin.read(limit + 1).encode("utf-8")
        data: bytes = binary.read(limit + 1)
        return data
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _BadInput(f"{source}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _BadInput(f"{source}: not a regular file")
    with os.fdopen(fd, "rb") as stream:
        try:
            return stream.read(limit + 1)
        except OSError as exc:
            raise _BadInput(f"{source}: cannot read: {exc.strerror or exc}") from None


def _read_assessment(source: str) -> Any:
    import json

    from riskrules.scoring._validation import MAX_BYTES

    where = "<stdin>" if source == "-" else source
    data = _read_bytes(source, MAX_BYTES)
    if len(data) > MAX_BYTES:
        raise _BadInput(f"{where}: larger than {MAX_BYTES} bytes; an assessment is smaller")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _BadInput(f"{where}: not UTF-8 text ({exc.reason})") from None

    from riskrules.research._cohort import strict_json_loads

    try:
        return strict_json_loads(text)
    except json.JSONDecodeError as exc:
        raise _BadInput(f"{where}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except ValueError as exc:
        raise _BadInput(f"{where}: invalid JSON: {exc}") from None
    except RecursionError:
        raise _BadInput(f"{where}: invalid JSON: nested too deeply") from None


def _score(args: argparse.Namespace) -> int:
    from riskrules.errors import AssessmentError
    from riskrules.graph import to_dot, to_graphml, to_mermaid, to_node_link_json
    from riskrules.scoring._scorer import Scorer

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
