"""``riskrules plan``: per hazard above the lowest level it can take, the smallest changes that
would lower it one level and the protocols that address them (text, JSON or Markdown)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from riskrules.cli._options import Commands, add_engine, add_params, add_ruleset

__all__ = ["add_plan"]


def add_plan(commands: Commands) -> None:
    parser = commands.add_parser(
        "plan",
        help="what would lower each hazard's level, and what to ask next",
        description=(
            "For each hazard above the lowest level, list the smallest sets of input changes "
            "(within the inputs' declared domains, never inputs marked actionable: false) that "
            "would bring it one level down, with the rules that stop firing and the protocols "
            "that address them. Statements about the rules, not clinical advice."
        ),
    )
    parser.add_argument(
        "assessment", metavar="ASSESSMENT", help="assessment JSON file, or - for standard input"
    )
    add_ruleset(parser)
    add_engine(parser, default="auto", help="rule engine (default: auto)")
    add_params(parser, "--param", help="override a ruleset parameter (repeatable)")
    parser.add_argument(
        "--fixed",
        action="append",
        default=[],
        metavar="INPUT",
        help="an input the plan must not change (repeatable)",
    )
    parser.add_argument(
        "--max-changes",
        type=int,
        default=2,
        metavar="K",
        help="the most inputs one suggestion may change (default: 2)",
    )
    parser.add_argument(
        "--questions",
        type=int,
        default=3,
        metavar="K",
        help="for an incomplete assessment, how many questions to suggest (default: 3)",
    )
    parser.add_argument(
        "--format", choices=("text", "json", "markdown"), default="text", help="output format"
    )
    parser.set_defaults(handler=_plan)


def _plan(args: argparse.Namespace) -> int:
    from riskrules.cli._score import _BadInput, _read_assessment
    from riskrules.errors import AssessmentError
    from riskrules.planning import lower, next_questions
    from riskrules.scoring._scorer import Scorer

    if args.max_changes < 1 or args.questions < 0:
        sys.stderr.write("riskrules: --max-changes must be >= 1 and --questions >= 0\n")
        return 2
    where = "<stdin>" if args.assessment == "-" else args.assessment
    try:
        assessment = _read_assessment(args.assessment)
    except _BadInput as exc:
        sys.stderr.write(f"riskrules: {exc}\n")
        return 2
    with Scorer(args.ruleset, engine=args.engine, params=dict(args.param) or None) as scorer:
        unknown = sorted(set(args.fixed) - set(scorer.ruleset.inputs))
        if unknown:
            sys.stderr.write(f"riskrules: --fixed: unknown input(s): {', '.join(unknown)}\n")
            return 2
        try:
            report = scorer.score(assessment)
            every = [
                lower(
                    scorer,
                    assessment,
                    hid,
                    fixed=args.fixed,
                    max_changes=args.max_changes,
                    report=report,
                )
                for hid in report.hazards
            ]
            plans = [plan for plan in every if plan.to != plan.level]
            questions = (
                next_questions(scorer, assessment, args.questions, report=report)
                if not report.complete
                else ()
            )
        except AssessmentError as exc:
            sys.stderr.write(f"riskrules: {where}: {exc}\n")
            return 2
    titles = {hid: r.title for hid, r in report.hazards.items()}
    protocol_titles = {pid: p.title for pid, p in scorer.ruleset.protocols.items()}
    if args.format == "json":
        data = {
            "ruleset": report.ruleset.model_dump(mode="json"),
            "overall_level": report.overall_level,
            "hazards": [p.model_dump(mode="json") for p in plans],
            "questions": [q.model_dump(mode="json") for q in questions],
            "disclaimer": DISCLAIMER,
        }
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return 0
    markdown = args.format == "markdown"
    lines = _render(plans, questions, titles, protocol_titles, markdown=markdown)
    info = report.ruleset
    head = f"Risk management plan: ruleset {info.id} {info.version} ({info.fingerprint[:12]})"
    out = [f"# {head}" if markdown else head, "", *lines, "", DISCLAIMER]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


DISCLAIMER = (
    "These changes are statements about the rules (the smallest input changes after which the "
    "rules give a lower level), not clinical advice; inputs declared not actionable, such as a "
    "client's history or a screening score, are never proposed."
)


def _value(value: Any) -> str:
    if value is None:
        return "(not assessed)"
    return json.dumps(value)


def _render(
    plans: list[Any],
    questions: tuple[Any, ...],
    titles: dict[str, str],
    protocol_titles: dict[str, str],
    *,
    markdown: bool,
) -> list[str]:
    code = (lambda s: f"`{s}`") if markdown else (lambda s: s)
    lines: list[str] = []
    if not plans:
        lines.append("Every hazard is at the lowest level.")
    for plan in plans:
        head = f"{titles[plan.hazard]} ({plan.hazard}): {plan.level} -> {plan.to}"
        lines.append(f"## {head}" if markdown else head)
        if markdown:
            lines.append("")
        if not plan.counterfactuals:
            lines.append(
                f"- no change of at most {plan.max_changes} changeable input(s) lowers it"
                if markdown
                else f"  no change of at most {plan.max_changes} changeable input(s) lowers it"
            )
        for cf in plan.counterfactuals:
            change = ", ".join(
                f"{code(c.input)} {_value(c.before)} -> {_value(c.after)}" for c in cf.changes
            )
            stops = ", ".join(code(r) for r in cf.stopped) or "none"
            lines.append(("- " if markdown else "  - ") + f"{change} (stops: {stops})")
            if cf.protocols:
                named = ", ".join(f"{protocol_titles.get(p, p)} ({code(p)})" for p in cf.protocols)
                lines.append(("  " if markdown else "      ") + f"addressed by: {named}")
        lines.append("")
    if questions:
        lines.append(
            "## To complete this assessment, ask"
            if markdown
            else "To complete this assessment, ask:"
        )
        if markdown:
            lines.append("")
        for q in questions:
            moves = "; ".join(f"{r.hazard} {r.lowest}..{r.highest}" for r in q.levels)
            lines.append(
                ("- " if markdown else "  - ")
                + code(q.input)
                + (f" (could move {moves})" if moves else "")
            )
    while lines and not lines[-1]:
        lines.pop()
    return lines
