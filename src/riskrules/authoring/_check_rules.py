"""Rules that can never fire, tests that are constant, rules that always fire (RR101-RR105).

A rule is dead when its own condition is unsatisfiable (RR103), or when it needs a finding that
only dead rules, or none, assert (RR101); the latter is found by a fixpoint over the findings'
possible truth values. In live rules, tests of such findings are constant (RR102) and field
tests outside the input's declared domain can never hold (RR104); a condition that holds even
on an empty assessment makes the rule fire always (RR105).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from riskrules._types import Loc
from riskrules.authoring._context import LintContext, quoted
from riskrules.authoring._solver import ANY, FU, F, T
from riskrules.ruleset._conditions import FieldLeaf, ParamRef, Truth, walk
from riskrules.ruleset._spec import Input, did_you_mean

__all__ = ["check_rules"]


def check_rules(ctx: LintContext) -> None:
    """Find the dead rules (filling ``ctx.dead`` and ``ctx.status``) and report RR101-RR105."""
    rules = ctx.rs.rules
    for i, rule in enumerate(rules):
        if not ctx.solver.possible(rule.when, T, {}):
            ctx.contradictory.add(i)
    dead = set(ctx.contradictory)
    read = ctx.findings_read()
    while True:
        status = {
            f: (
                ANY
                if any(j not in dead for j in ctx.asserters.get(f, ()))
                else (FU if f in ctx.asserters else F)
            )
            for f in read | set(ctx.asserters)
        }
        newly = {
            i
            for i, rule in enumerate(rules)
            if i not in dead and not ctx.solver.possible(rule.when, T, status)
        }
        if not newly:
            break
        dead |= newly
    ctx.dead, ctx.status = dead, status
    for i, rule in enumerate(rules):
        if i in ctx.contradictory:
            _report_contradiction(ctx, i)
        elif i in dead:
            _report_missing_findings(ctx, i)
        else:
            _report_constant_findings(ctx, i)
            _report_impossible_tests(ctx, i)
            if not ctx.solver.possible(rule.when, FU, status):
                ctx.emit(
                    "RR105",
                    ("rules", i, "when"),
                    f"rule {rule.id!r} fires on every assessment, even an empty one: its "
                    "condition is always true",
                    rule.id,
                )


def _which(ctx: LintContext, finding: str) -> str:
    """``finding 'x', which no rule asserts`` (or which only dead rules assert)."""
    asserters = [j for j in ctx.asserters.get(finding, ()) if j in ctx.dead]
    if not asserters:
        hint = did_you_mean(finding, sorted(ctx.asserters))
        return f"finding {finding!r}, which no rule asserts{hint}"
    ids = quoted(ctx.rs.rules[j].id for j in asserters)
    return f"finding {finding!r}, which only rules that can never fire assert ({ids})"


def _impossible_tests(ctx: LintContext, i: int) -> Iterator[tuple[FieldLeaf, bool, Loc]]:
    """Field tests of rule ``i`` that can never take the value the rule needs from them."""
    for node, path, positive in walk(ctx.rs.rules[i].when):
        if isinstance(node, FieldLeaf) and node.op not in ("present", "absent"):
            holds, fails = ctx.domains.of(node)
            if not (holds if positive else fails):
                yield node, positive, ("rules", i, "when", *path, node.op)


def _describe(spec: Input) -> str:
    if spec.type == "boolean":
        return "true or false"
    if spec.values is not None:
        return "one of " + ", ".join(spec.labels)
    bounds = [f"min {spec.min}" if spec.min is not None else "", ""]
    if spec.max is not None:
        bounds[1] = f"max {spec.max}"
    shown = ", ".join(b for b in bounds if b)
    kind = "an integer" if spec.type == "integer" else "a number"
    return f"{kind} with {shown}" if shown else f"any {spec.type}"


def _show_value(value: Any) -> str:
    if isinstance(value, ParamRef):
        return f"parameter {value.param}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_show_value(v) for v in value) + "]"
    return str(value)


_SYMBOLS = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _show_leaf(leaf: FieldLeaf) -> str:
    op = leaf.op
    if op in ("present", "absent"):
        return f"`{leaf.field} is {op}`"
    if op == "between":
        low, high = leaf.value
        return f"`{leaf.field} between {_show_value(low)} and {_show_value(high)}`"
    symbol = _SYMBOLS.get(op, op.replace("_", " "))
    return f"`{leaf.field} {symbol} {_show_value(leaf.value)}`"


def _explain_test(ctx: LintContext, leaf: FieldLeaf, positive: bool) -> str:
    described = _describe(ctx.rs.inputs[leaf.field])
    if positive:
        return f"{leaf.field!r} is {described}, so {_show_leaf(leaf)} can never hold"
    return (
        f"{leaf.field!r} is {described}, so {_show_leaf(leaf)} always holds when it is "
        "assessed and the `not` around it can never hold"
    )


def _report_contradiction(ctx: LintContext, i: int) -> None:
    rule = ctx.rs.rules[i]
    for leaf, positive, loc in _impossible_tests(ctx, i):
        ctx.emit(
            "RR103",
            loc,
            f"rule {rule.id!r} can never fire: {_explain_test(ctx, leaf, positive)}",
            rule.id,
        )
        return
    fields = sorted({node.field for node, _, _ in walk(rule.when) if isinstance(node, FieldLeaf)})
    ctx.emit(
        "RR103",
        ("rules", i, "when"),
        f"rule {rule.id!r} can never fire: its tests of {quoted(fields)} contradict each "
        "other or the inputs' declared values",
        rule.id,
    )


def _report_missing_findings(ctx: LintContext, i: int) -> None:
    rule = ctx.rs.rules[i]
    needed: dict[str, Loc] = {}
    for finding, positive, loc in ctx.reads[i]:
        if positive and Truth.TRUE not in ctx.status[finding]:
            needed.setdefault(finding, loc)
    if not needed:  # pragma: no cover - a rule dead by findings needs one of them
        needed[""] = ("rules", i, "when")
    reasons = "; and ".join(_which(ctx, f) for f in needed if f)
    ctx.emit(
        "RR101",
        next(iter(needed.values())),
        f"rule {rule.id!r} can never fire: it needs {reasons}",
        rule.id,
    )


def _report_constant_findings(ctx: LintContext, i: int) -> None:
    rule = ctx.rs.rules[i]
    seen: set[tuple[str, bool]] = set()
    for finding, positive, loc in ctx.reads[i]:
        status = ctx.status[finding]
        if Truth.TRUE in status or (finding, positive) in seen:
            continue
        seen.add((finding, positive))
        never_asserted = status == F
        if positive:
            effect = "always false" if never_asserted else "never true"
            text = f"this test is {effect}"
        else:
            effect = "always true" if never_asserted else "never false"
            text = f"read under `not`, this test is {effect}"
        ctx.emit(
            "RR102",
            loc,
            f"rule {rule.id!r} reads {_which(ctx, finding)}; {text}",
            rule.id,
        )


def _report_impossible_tests(ctx: LintContext, i: int) -> None:
    rule = ctx.rs.rules[i]
    for leaf, positive, loc in _impossible_tests(ctx, i):
        ctx.emit(
            "RR104",
            loc,
            f"in rule {rule.id!r}, {_explain_test(ctx, leaf, positive)}",
            rule.id,
        )
