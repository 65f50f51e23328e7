"""Cut-off tables written as sibling rules: ranges that overlap, and gaps between them (RR407).

An instrument's zones are usually one rule per range of one input (``between: [0, 22]``,
``between: [23, 41]``, ``gte: 42``), all scoring the same hazard. Such rules form a *table*
when they test one input only, with literal bounds, and at least one of them is bounded on
both sides. Of its open-ended ranges only the widest on each side is a zone (thresholds that
only grow, ``gt: 35`` then ``gt: 50``, are cumulative by design), and a range that contains
another zone's whole range is not a zone (it is a screen across several zones). Two zones that
share a value overlap; a value of the input's declared domain between two consecutive zones
that no zone covers is a gap.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from riskrules.authoring._context import LintContext
from riskrules.authoring._domains import is_number
from riskrules.ruleset._conditions import All, Condition, FieldLeaf
from riskrules.ruleset._spec import Input

__all__ = ["check_tables"]


@dataclass(frozen=True)
class _Range:
    lo: float
    lo_closed: bool
    hi: float
    hi_closed: bool

    def clip(self, other: _Range) -> _Range:
        lo, lo_closed = max((self.lo, not self.lo_closed), (other.lo, not other.lo_closed))
        hi, hi_closed = min((self.hi, self.hi_closed), (other.hi, other.hi_closed))
        return _Range(lo, not lo_closed, hi, hi_closed)

    def contains(self, x: float) -> bool:
        above = x > self.lo or (x == self.lo and self.lo_closed)
        below = x < self.hi or (x == self.hi and self.hi_closed)
        return above and below

    def two_sided(self) -> bool:
        return not (math.isinf(self.lo) or math.isinf(self.hi))

    def covers(self, other: _Range) -> bool:
        return self.clip(other) == other

    def text(self) -> str:
        left, right = "[" if self.lo_closed else "(", "]" if self.hi_closed else ")"
        return f"{left}{self.lo:g}, {self.hi:g}{right}"


_ALL = _Range(-math.inf, False, math.inf, False)


def _leaf_range(leaf: FieldLeaf) -> _Range | None:
    op, value = leaf.op, leaf.value
    if op == "between":
        lo, hi = value
        return _Range(lo, True, hi, True) if is_number(lo) and is_number(hi) else None
    if not is_number(value):
        return None
    return {
        "gt": _Range(value, False, math.inf, False),
        "gte": _Range(value, True, math.inf, False),
        "lt": _Range(-math.inf, False, value, False),
        "lte": _Range(-math.inf, False, value, True),
        "eq": _Range(value, True, value, True),
    }.get(op)


def _rule_range(cond: Condition) -> tuple[str, _Range] | None:
    """The one input and literal range a condition tests, if that is all it tests."""
    leaves = cond.all if isinstance(cond, All) else (cond,)
    if not all(isinstance(leaf, FieldLeaf) for leaf in leaves):
        return None
    fields = {leaf.field for leaf in leaves if isinstance(leaf, FieldLeaf)}
    if len(fields) != 1:
        return None
    out = _ALL
    for leaf in leaves:
        assert isinstance(leaf, FieldLeaf)
        r = _leaf_range(leaf)
        if r is None:
            return None
        out = out.clip(r)
    return fields.pop(), out


def _values_between(spec: Input, a: _Range, b: _Range) -> list[float]:
    """Values of the input's domain above zone ``a`` and below zone ``b`` (empty: no gap)."""
    gap = _Range(a.hi, not a.hi_closed, b.lo, not b.lo_closed)
    if spec.values is not None:
        return [v for v in spec.values if isinstance(v, int | float) and gap.contains(v)]
    if spec.type == "integer":
        first = math.ceil(gap.lo) if gap.lo_closed else math.floor(gap.lo) + 1
        return [first] if gap.contains(first) else []
    if gap.lo < gap.hi or (gap.lo == gap.hi and gap.lo_closed and gap.hi_closed):
        return [gap.lo]
    return []


def _overlap(spec: Input, a: _Range, b: _Range) -> list[float]:
    """Values of the input's domain in both zones (empty: none)."""
    both = a.clip(b)
    if spec.values is not None:
        return [v for v in spec.values if isinstance(v, int | float) and both.contains(v)]
    if spec.type == "integer":
        first = math.ceil(both.lo) if both.lo_closed else math.floor(both.lo) + 1
        return [first] if both.contains(first) else []
    if both.lo < both.hi or (both.lo == both.hi and both.lo_closed and both.hi_closed):
        return [both.lo]
    return []


def check_tables(ctx: LintContext) -> None:
    """Report overlaps and gaps in every table of sibling rules."""
    tables: dict[tuple[str, str], list[tuple[int, _Range, str]]] = {}
    for i, rule in enumerate(ctx.rs.rules):
        found = _rule_range(rule.when)
        if found is None or i in ctx.dead:
            continue
        field, span = found
        spec = ctx.rs.inputs.get(field)
        if spec is None or not spec.numeric:
            continue
        declared = _Range(
            -math.inf if spec.min is None else spec.min,
            spec.min is not None,
            math.inf if spec.max is None else spec.max,
            spec.max is not None,
        )
        side = "both" if span.two_sided() else ("up" if math.isinf(span.hi) else "down")
        tables.setdefault((rule.hazard, field), []).append((i, span.clip(declared), side))
    for (_, field), rows in tables.items():
        zones = _zones(rows)
        if len(zones) >= 2:
            zones.sort(key=lambda pair: (pair[1].lo, not pair[1].lo_closed))
            _report_table(ctx, field, zones)


def _zones(rows: list[tuple[int, _Range, str]]) -> list[tuple[int, _Range]]:
    """The zones of a table: its two-sided ranges and its widest open-ended range on each side
    (narrower open-ended ones are cumulative thresholds), less any range containing another."""
    if not any(side == "both" for _, _, side in rows):
        return []
    kept = [(i, z) for i, z, side in rows if side == "both"]
    ups = [(i, z) for i, z, side in rows if side == "up"]
    downs = [(i, z) for i, z, side in rows if side == "down"]
    if ups:
        kept.append(min(ups, key=lambda pair: (pair[1].lo, not pair[1].lo_closed)))
    if downs:
        kept.append(max(downs, key=lambda pair: (pair[1].hi, pair[1].hi_closed)))
    return [(i, z) for i, z in kept if not any(j != i and z.covers(y) for j, y in kept)]


def _report_table(ctx: LintContext, field: str, zones: list[tuple[int, _Range]]) -> None:
    spec = ctx.rs.inputs[field]
    rules = ctx.rs.rules
    for (i, a), (j, b) in itertools.pairwise(zones):
        shared = _overlap(spec, a, b)
        if shared:
            ctx.emit(
                "RR407",
                ("rules", j, "when"),
                f"rules {rules[i].id!r} {a.text()} and {rules[j].id!r} {b.text()} form a cut-off "
                f"table on {field!r} and overlap: {shared[0]:g} is in both",
                rules[j].id,
            )
            continue
        missing = _values_between(spec, a, b)
        if missing:
            ctx.emit(
                "RR407",
                ("rules", j, "when"),
                f"rules {rules[i].id!r} {a.text()} and {rules[j].id!r} {b.text()} form a cut-off "
                f"table on {field!r} with a gap: {missing[0]:g} is in no range",
                rules[j].id,
            )
