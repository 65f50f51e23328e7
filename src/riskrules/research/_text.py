"""Plain-text summaries of a :class:`Comparison` and a :class:`SweepResult` (the default output
of ``riskrules compare`` and ``riskrules sweep``): aligned tables, one section per idea."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from riskrules.research._results import (
    OVERALL,
    Comparison,
    ComparisonSide,
    SweepResult,
    level_counts,
)

__all__ = ["comparison_text", "sweep_text"]


def _percent(part: float) -> str:
    return f"{100 * part:.1f}%"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], indent: str = "  ") -> list[str]:
    """Left-aligned first column, right-aligned others."""
    body = [list(header), *(list(row) for row in rows)]
    widths = [max(len(row[i]) for row in body) for i in range(len(header))]
    lines = []
    for row in body:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append(indent + "  ".join(cells).rstrip())
    return lines


def _side(label: str, s: ComparisonSide) -> str:
    return f"{label}: {s.ruleset} {s.version} ({s.fingerprint[:12]})"


def _header(result: Comparison) -> list[str]:
    """Both rulesets, the parameters that differ, the record count and the level scale."""
    a, b = result.a, result.b
    lines = ["riskrules comparison", _side("  A", a), _side("  B", b)]
    differing = sorted(
        name for name in set(a.params) | set(b.params) if a.params.get(name) != b.params.get(name)
    )
    for name in differing:
        lines.append(
            f"  parameter {name}: A {a.params.get(name, '-')}, B {b.params.get(name, '-')}"
        )
    for side, only in (("A", result.only_a), ("B", result.only_b)):
        if only:
            lines.append(f"  hazards only in {side} (not compared): {', '.join(only)}")
    return [
        *lines,
        f"Records: {result.records}; incomplete reports: A {result.overall.incomplete_a}, "
        f"B {result.overall.incomplete_b}",
        *(
            [
                f"Ignored fields (not declared by the ruleset): A {result.ignored_fields['a']}, "
                f"B {result.ignored_fields['b']}"
            ]
            if result.ignored_fields is not None
            else []
        ),
        f"Levels: {' < '.join(result.levels)}",
    ]


def _agreement(result: Comparison) -> list[str]:
    """The agreement table: one row per hazard and overall."""
    lines = ["", "Agreement (kappa: Cohen's; weighted: quadratic; raised/lowered: level under B):"]
    return lines + _table(
        ("", "agreement", "kappa", "weighted", "raised", "lowered"),
        (
            (
                item.name,
                _percent(item.agreement),
                f"{item.kappa:.3f}",
                f"{item.weighted_kappa:.3f}",
                str(item.raised),
                str(item.lowered),
            )
            for item in (result.overall, *result.hazards)
        ),
    )


def _transitions(result: Comparison) -> list[str]:
    """The transition matrix of overall and of each hazard whose level changed somewhere."""
    unchanged = [h.name for h in result.hazards if not (h.raised or h.lowered)]
    lines: list[str] = []
    for item in (result.overall, *result.hazards):
        if item.name in unchanged:
            continue
        lines += ["", f"Transitions, {item.name} (rows A, columns B):"]
        lines += _table(
            ("A \\ B", *result.levels),
            (
                (level, *map(str, row))
                for level, row in zip(result.levels, item.matrix, strict=True)
            ),
        )
    if unchanged:
        lines += ["", f"No level changed for: {', '.join(unchanged)}"]
    return lines


def _rule_rates(result: Comparison) -> list[str]:
    """The firing rates of the rules that fired a different number of times."""
    changed = [r for r in result.rules if r.fired_a != r.fired_b]
    lines = ["", "Rule firing rates that differ (A, B, difference in points):"]
    if not changed:
        return [*lines, "  none"]
    return lines + _table(
        ("rule", "A", "B", "difference"),
        (
            (
                r.rule,
                "-" if r.rate_a is None else _percent(r.rate_a),
                "-" if r.rate_b is None else _percent(r.rate_b),
                "-" if r.difference is None else f"{100 * r.difference:+.1f}",
            )
            for r in changed
        ),
    )


def _protocols(result: Comparison) -> list[str]:
    """The protocols that some record gained or lost."""
    changed = [p for p in result.recommendations if p.gained or p.lost]
    lines = ["", "Recommendation changes (records):"]
    if not changed:
        return [*lines, "  none"]
    return lines + _table(
        ("protocol", "A", "B", "gained", "lost"),
        (
            (p.protocol, str(p.recommended_a), str(p.recommended_b), str(p.gained), str(p.lost))
            for p in changed
        ),
    )


def _changed(result: Comparison, max_changed: int) -> list[str]:
    """The records whose overall level changed, up to ``max_changed`` of them."""
    lines = ["", f"Records whose overall level changed: {len(result.changed)}"]
    lines += [f"  {c.id}: {c.a} -> {c.b}" for c in result.changed[:max_changed]]
    if len(result.changed) > max_changed:
        lines.append(f"  ... and {len(result.changed) - max_changed} more (see the JSON output)")
    return lines


def comparison_text(result: Comparison, *, max_changed: int = 50) -> str:
    """A readable summary: agreement table, transition matrices, rule firing rates that differ,
    recommendation changes and (up to ``max_changed``) records whose level changed."""
    lines = [
        *_header(result),
        *_agreement(result),
        *_transitions(result),
        *_rule_rates(result),
        *_protocols(result),
        *_changed(result, max_changed),
    ]
    return "\n".join(lines) + "\n"


def sweep_text(result: SweepResult) -> str:
    """One table per hazard and overall: record counts per level at each grid point."""
    rs = result.ruleset
    lines = [
        f"riskrules sweep: ruleset {rs.ruleset} {rs.version} ({rs.fingerprint[:12]}), "
        f"{result.records} records"
        + (
            ""
            if result.ignored_fields is None
            else f"; {result.ignored_fields} fields ignored (not declared by the ruleset)"
        ),
        "Swept: "
        + "; ".join(
            f"{name} = {', '.join(map(str, result.values[name]))}" for name in result.parameters
        ),
    ]
    if result.unaffected:
        lines.append(
            "Not shown (the swept parameters cannot change their levels): "
            + ", ".join(result.unaffected)
        )
    for hazard in (OVERALL, *result.hazards):
        lines += ["", f"{hazard}: records per level"]
        lines += _table(
            (*result.parameters, *result.levels, "incomplete"),
            (
                (
                    *(str(p.params[name]) for name in result.parameters),
                    *(str(level_counts(p, hazard)[lv]) for lv in result.levels),
                    str(p.incomplete[hazard]),
                )
                for p in result.points
            ),
        )
    return "\n".join(lines) + "\n"
