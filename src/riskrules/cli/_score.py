"""``riskrules score``: score one assessment and print the report, an explanation or a graph.

``--set FIELD=VALUE`` prints what changing inputs would change instead (:mod:`riskrules.planning`);
the text report of an incomplete assessment ends with the questions that matter most.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Mapping
from typing import Any

from riskrules.cli._options import (
    Commands,
    add_engine,
    add_params,
    add_ruleset,
    add_unknown_fields,
)

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
    add_ruleset(parser)
    add_engine(
        parser,
        default="auto",
        help="rule engine (default: auto = native)",
    )
    add_params(parser, "--param", help="override a ruleset parameter (repeatable)")
    parser.add_argument(
        "--format",
        choices=("json", "text"),
        default="json",
        help="report format: json (the report as data) or text (a short summary)",
    )
    parser.add_argument(
        "--set",
        dest="changes",
        type=_change,
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help=(
            'what if FIELD (a dotted input name) had VALUE (JSON: 30, true, "weekly"; null '
            "leaves it unassessed); prints the difference instead of the report (repeatable)"
        ),
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
    add_unknown_fields(parser)
    parser.set_defaults(handler=_score)


def _change(text: str) -> tuple[str, Any]:
    """``FIELD=VALUE`` with VALUE read as JSON, or as a string when it is not JSON."""
    import json

    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, not {text!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


QUESTIONS = 3
"""How many questions ``riskrules score --format text`` suggests for an incomplete assessment."""


def _with_questions(text: str, questions: tuple[Any, ...]) -> str:
    """The report text with "to complete this assessment, ask" before its disclaimer."""
    if not questions:
        return text
    lines = ["To complete this assessment, ask:"]
    for q in questions:
        moves = "; ".join(f"{r.hazard} {r.lowest}..{r.highest}" for r in q.levels)
        lines.append(f"  - {q.input}" + (f" (could move {moves})" if moves else ""))
    head, _, disclaimer = text.rstrip("\n").rpartition("\n\n")
    return head + "\n\n" + "\n".join(lines) + "\n\n" + disclaimer + "\n"


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
    questions: tuple[Any, ...] = ()
    with Scorer(args.ruleset, engine=args.engine, params=params) as scorer:
        if args.unknown_fields == "ignore" and isinstance(assessment, Mapping):
            from riskrules.research._fields import drop_undeclared

            assessment, dropped = drop_undeclared(assessment, scorer.ruleset)
            sys.stderr.write(f"riskrules: ignored {dropped} fields the ruleset does not declare\n")
        try:
            report = scorer.score(assessment)
            if args.changes:
                return _what_if(args, scorer, assessment, report)
            if args.format == "text" and not report.complete and args.explain is None:
                from riskrules.planning import next_questions

                questions = next_questions(scorer, assessment, QUESTIONS, report=report)
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
        text = _with_questions(report.to_text(), questions)
    else:
        text = report.model_dump_json(indent=2) + "\n"
    sys.stdout.write(text)
    return 0


def _what_if(args: argparse.Namespace, scorer: Any, assessment: Any, report: Any) -> int:
    from riskrules.planning import what_if

    if args.explain is not None or args.graph is not None:
        sys.stderr.write("riskrules: --set prints a difference; it takes no --explain or --graph\n")
        return 2
    diff = what_if(scorer, assessment, dict(args.changes), report=report)
    if args.format == "text":
        sys.stdout.write(diff.to_text())
    else:
        sys.stdout.write(diff.model_dump_json(indent=2, exclude={"report"}) + "\n")
    return 0
