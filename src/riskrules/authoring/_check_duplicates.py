"""Duplicate rules: equivalent conditions in the same hazard (RR401).

Conditions are compared in a normal form (negations pushed to the leaves, ``all``/``any``
flattened, deduplicated and sorted), so two rules written differently but always true together
are found.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from riskrules.authoring._context import LintContext
from riskrules.authoring._domains import is_number
from riskrules.ruleset._conditions import (
    NEGATED_OP,
    All,
    AnyOf,
    AtLeast,
    Condition,
    FieldLeaf,
    FindingLeaf,
    Not,
    ParamRef,
)

__all__ = ["check_duplicates"]


def check_duplicates(ctx: LintContext) -> None:
    """Report each rule whose condition is equivalent to an earlier one's in its hazard."""
    first: dict[tuple[str, Any], int] = {}
    for i, rule in enumerate(ctx.rs.rules):
        key = (rule.hazard, _canonical(rule.when))
        j = first.setdefault(key, i)
        if j != i:
            ctx.emit(
                "RR401",
                ("rules", i, "when"),
                f"rule {rule.id!r} has the same condition as rule {ctx.rs.rules[j].id!r} in "
                f"hazard {rule.hazard!r}: they always fire together; merge them or make the "
                "conditions differ",
                rule.id,
            )


def _norm(value: Any) -> Any:
    if isinstance(value, ParamRef):
        return ("param", value.param)
    if isinstance(value, bool):
        return ("bool", value)
    if is_number(value):
        return ("number", int(value) if float(value).is_integer() else value)
    if isinstance(value, tuple):
        return tuple(_norm(v) for v in value)
    return ("text", value)


def _junction(kind: str, parts: Iterable[Any]) -> Any:
    flat: set[Any] = set()
    for part in parts:
        if isinstance(part, tuple) and part and part[0] == kind:
            flat.update(part[1])
        else:
            flat.add(part)
    if len(flat) == 1:
        return next(iter(flat))
    return (kind, tuple(sorted(flat, key=repr)))


def _canonical(cond: Condition, positive: bool = True) -> Any:
    """A normal form of a condition: negations pushed to the leaves, ``all``/``any`` flattened,
    deduplicated and sorted, one-member ``in`` as ``eq``, parameters kept by name. Conditions
    with equal normal forms have the same value on every assessment."""
    if isinstance(cond, FieldLeaf):
        op, value = cond.op, cond.value
        if op in ("in", "not_in") and len(set(value)) == 1:
            op, value = ("eq" if op == "in" else "ne"), value[0]
        if op in ("in", "not_in"):
            value = tuple(sorted({_norm(v) for v in value}, key=repr))
        else:
            value = _norm(value)
        if not positive:
            if op == "between":
                return ("not", ("field", cond.field, op, value))
            op = NEGATED_OP[op]
        return ("field", cond.field, op, value)
    if isinstance(cond, FindingLeaf):
        return ("finding", cond.finding) if positive else ("not", ("finding", cond.finding))
    if isinstance(cond, Not):
        return _canonical(cond.not_, not positive)
    if isinstance(cond, All | AnyOf):
        children = cond.all if isinstance(cond, All) else cond.any
        conjunction = isinstance(cond, All) == positive
        return _junction(
            "all" if conjunction else "any", (_canonical(c, positive) for c in children)
        )
    assert isinstance(cond, AtLeast)
    spec = cond.at_least
    k = len(spec.of)
    n = spec.n if positive else k - spec.n + 1
    parts = [_canonical(c, positive) for c in spec.of]
    if n == 1:
        return _junction("any", parts)
    if n == k:
        return _junction("all", parts)
    return ("at_least", n, tuple(sorted(parts, key=repr)))
