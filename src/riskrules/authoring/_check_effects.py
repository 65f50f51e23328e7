"""Rules that do nothing, and rules another rule already covers (RR107, RR111).

A rule with no points, no findings, no protocols and no floor above the lowest level changes
nothing when it fires (RR107). A rule without points whose condition, whenever it is true,
makes another rule of the same hazard with the same effect true as well adds nothing that rule
does not (RR111): the narrower one is redundant, or its effect was meant to differ. Rules with
points are left alone: nested thresholds that each add points (``gt: 35``, ``gt: 50``) score
cumulatively by design.
"""

from __future__ import annotations

from riskrules.authoring._context import LintContext
from riskrules.authoring._solver import T
from riskrules.ruleset._conditions import All, Condition, FieldLeaf, FindingLeaf, Not, walk
from riskrules.ruleset._spec import Rule

__all__ = ["check_effects"]

_MAX_PAIRS = 2000
"""Pairs of rules with the same effect compared at most (keeps lint fast on huge rulesets)."""


def check_effects(ctx: LintContext) -> None:
    """Report RR107 for every rule, RR111 for the live rules."""
    lowest = ctx.rs.scale[0]
    for i, rule in enumerate(ctx.rs.rules):
        then = rule.then
        if then.points or then.assert_ or then.recommend or then.floor not in (None, lowest):
            continue
        floor = f"; its floor {lowest!r} is the lowest level" if then.floor else ""
        ctx.emit(
            "RR107",
            ("rules", i, "then"),
            f"rule {rule.id!r} has no effect: no points, no findings, no protocols{floor}",
            rule.id,
        )
    _subsumed(ctx)


def _fields(cond: Condition) -> set[str]:
    return {n.field for n, _, _ in walk(cond) if isinstance(n, FieldLeaf)}


def _reads_findings(cond: Condition) -> bool:
    return any(isinstance(n, FindingLeaf) for n, _, _ in walk(cond))


def _implies(ctx: LintContext, a: Rule, b: Rule) -> bool:
    """Whether ``b`` is true on every assessment on which ``a`` is true."""
    solver, status = ctx.solver, ctx.status
    if solver.possible(
        All.model_construct(all=(a.when, Not.model_construct(not_=b.when))), T, status
    ):
        return False  # a true while b false
    for field in _fields(b.when):  # b unknown needs one of its inputs missing
        missing = FieldLeaf.model_construct(field=field, absent=True)
        if solver.possible(All.model_construct(all=(a.when, missing)), T, status):
            return False
    return True


def _subsumed(ctx: LintContext) -> None:
    rules = ctx.rs.rules
    groups: dict[tuple[str, str], list[int]] = {}
    for i, rule in enumerate(rules):
        if i in ctx.dead or rule.then.points or _reads_findings(rule.when):
            continue
        key = (rule.hazard, rule.then.model_dump_json())
        groups.setdefault(key, []).append(i)
    budget = _MAX_PAIRS
    for members in groups.values():
        for i in members:
            for j in members:
                if i == j or budget <= 0:
                    continue
                budget -= 1
                a, b = rules[i], rules[j]
                if _implies(ctx, a, b) and not _implies(ctx, b, a):
                    ctx.emit(
                        "RR111",
                        ("rules", i, "when"),
                        f"rule {a.id!r} is subsumed by rule {b.id!r}: same hazard and effect, "
                        f"and {b.id!r} fires whenever {a.id!r} does; remove {a.id!r}, or give "
                        "it the effect it was meant to have",
                        a.id,
                    )
