"""Rules that can never fire, tests that are constant, rules that always fire (RR101-RR105,
RR109).

A rule is dead when its own condition is unsatisfiable (RR103), when it needs a finding that
only dead rules, or none, assert (RR101, found by a least fixpoint over the findings' possible
truth values, so that findings needing each other in a cycle no rule enters count as never
asserted), or when its own tests exclude every assessment on which the rules asserting a finding
it needs can fire (RR109). In live rules, tests of such findings are constant (RR102) and field
tests outside the input's declared domain can never hold (RR104); a condition that holds even
on an empty assessment makes the rule fire always (RR105).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from riskrules._types import Loc
from riskrules.authoring._context import LintContext, quoted
from riskrules.authoring._solver import ANY, FU, F, T, Truths
from riskrules.ruleset._conditions import (
    All,
    AnyOf,
    AtLeast,
    AtLeastSpec,
    Condition,
    FieldLeaf,
    FindingLeaf,
    Not,
    ParamRef,
    Truth,
    walk,
)
from riskrules.ruleset._spec import Input, did_you_mean

__all__ = ["check_rules"]


def check_rules(ctx: LintContext) -> None:
    """Find the dead rules (filling ``ctx.dead`` and ``ctx.status``) and report RR101-RR105
    and RR109."""
    rules = ctx.rs.rules
    for i, rule in enumerate(rules):
        if not ctx.solver.possible(rule.when, T, {}):
            ctx.contradictory.add(i)
    live, status = _live_rules(ctx)
    dead = set(range(len(rules))) - live
    ctx.dead, ctx.status = dead, status
    for i, rule in enumerate(rules):
        if i in ctx.contradictory:
            _report_contradiction(ctx, i)
        elif i in dead:
            if ctx.solver.possible(rule.when, T, status):
                _report_contradicted_findings(ctx, i, status)
            else:
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


def _statuses(ctx: LintContext, live: set[int]) -> dict[str, Truths]:
    """The truth values each finding can take when only the ``live`` rules can fire."""
    read = ctx.findings_read()
    return {
        f: (
            ANY
            if any(j in live for j in ctx.asserters.get(f, ()))
            else (FU if f in ctx.asserters else F)
        )
        for f in read | set(ctx.asserters)
    }


def _live_rules(ctx: LintContext) -> tuple[set[int], dict[str, Truths]]:
    """The rules that can fire, as a least fixpoint from no finding asserted: a rule joins once
    its condition can be true given the findings that rules already live can assert, each
    finding it reads positively standing for the conditions of its live asserters. Findings
    that need one another in a cycle no rule enters are never asserted, and their rules never
    fire."""
    live: set[int] = set()
    while True:
        status = _statuses(ctx, live)
        newly = {
            i
            for i, rule in enumerate(ctx.rs.rules)
            if i not in live
            and i not in ctx.contradictory
            and ctx.solver.possible(_inline(ctx, rule.when, live), T, status)
        }
        if not newly:
            return live, status
        live |= newly


def _inline(ctx: LintContext, cond: Condition, live: set[int]) -> Condition:
    """``cond`` with each finding read positively replaced by ``any`` of the conditions of the
    live rules asserting it: the inputs that assert a finding are those the rule then sees."""

    def rec(node: Condition, positive: bool) -> Condition:
        if isinstance(node, FindingLeaf):
            if not positive:
                return node
            sources = [
                ctx.rs.rules[j].when for j in ctx.asserters.get(node.finding, ()) if j in live
            ]
            if not sources:
                return node
            return _all_of(node, sources)
        if isinstance(node, All):
            return All.model_construct(all=tuple(rec(c, positive) for c in node.all))
        if isinstance(node, AnyOf):
            return AnyOf.model_construct(any=tuple(rec(c, positive) for c in node.any))
        if isinstance(node, Not):
            return Not.model_construct(not_=rec(node.not_, not positive))
        if isinstance(node, AtLeast):
            spec = node.at_least
            of = tuple(rec(c, positive) for c in spec.of)
            return AtLeast.model_construct(at_least=AtLeastSpec.model_construct(n=spec.n, of=of))
        return node

    return rec(cond, True)


def _all_of(finding: FindingLeaf, sources: list[Condition]) -> Condition:
    """The finding, true only together with one of the conditions that assert it."""
    either = sources[0] if len(sources) == 1 else AnyOf.model_construct(any=tuple(sources))
    return All.model_construct(all=(finding, either))


def _report_contradicted_findings(ctx: LintContext, i: int, status: dict[str, Truths]) -> None:
    """RR109: the rule needs findings whose asserting conditions its own tests exclude."""
    rule = ctx.rs.rules[i]
    needed = [(f, loc) for f, positive, loc in ctx.reads[i] if positive]
    names = quoted(dict.fromkeys(f for f, _ in needed))
    asserters = quoted(
        dict.fromkeys(
            ctx.rs.rules[j].id
            for f, _ in needed
            for j in ctx.asserters.get(f, ())
            if j not in ctx.dead
        )
    )
    ctx.emit(
        "RR109",
        needed[0][1] if needed else ("rules", i, "when"),
        f"rule {rule.id!r} can never fire: its own tests exclude every assessment on which "
        f"{asserters} can assert the finding(s) {names} it needs",
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
