"""Value domains for the linter: the values a present input may take, and those that make a
field test true or false.

A domain is a finite set of values (booleans, enums, integers with ``values``) or a union of
intervals (other numbers). :class:`LeafDomains` gives, for each field test, the values of its
input that make it true and those that make it false, within the declared domain; a parameter
stands for every value its bounds allow.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

from riskrules.ruleset._conditions import FieldLeaf, ParamRef, leaf_test
from riskrules.ruleset._spec import Input, Ruleset

__all__ = ["Domain", "LeafDomains", "declared_domain", "intersect", "is_number"]

Span: TypeAlias = tuple[float, bool, float, bool]
"""``(low, low_closed, high, high_closed)``; infinite ends are open."""
Spans: TypeAlias = tuple[Span, ...]
Domain: TypeAlias = "frozenset[Any] | Spans"
"""The values a present input may still take: a finite set, or a union of intervals."""

_INF = math.inf
_REALS: Spans = ((-_INF, False, _INF, False),)


def _span_empty(span: Span, integer: bool) -> bool:
    lo, lo_closed, hi, hi_closed = span
    if integer:
        first = lo if math.isinf(lo) else (math.ceil(lo) if lo_closed else math.floor(lo) + 1)
        last = hi if math.isinf(hi) else (math.floor(hi) if hi_closed else math.ceil(hi) - 1)
        return first > last
    return lo > hi or (lo == hi and not (lo_closed and hi_closed))


def _intersect_spans(a: Spans, b: Spans, integer: bool) -> Spans:
    out: list[Span] = []
    for alo, alc, ahi, ahc in a:
        for blo, blc, bhi, bhc in b:
            if alo == blo:
                lo, lc = alo, alc and blc
            else:
                lo, lc = (alo, alc) if alo > blo else (blo, blc)
            if ahi == bhi:
                hi, hc = ahi, ahc and bhc
            else:
                hi, hc = (ahi, ahc) if ahi < bhi else (bhi, bhc)
            span = (lo, lc, hi, hc)
            if not _span_empty(span, integer):
                out.append(span)
    return tuple(out)


def _contains(spans: Spans, value: Any) -> bool:
    return any(
        lo < value < hi or (value == lo and lc) or (value == hi and hc) for lo, lc, hi, hc in spans
    )


def intersect(a: Domain, b: Domain, integer: bool) -> Domain:
    if isinstance(a, frozenset):
        assert isinstance(b, frozenset)
        return a & b
    assert not isinstance(b, frozenset)
    return _intersect_spans(a, b, integer)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def declared_domain(spec: Input) -> Domain:
    """Every value a present input may take."""
    if spec.type == "boolean":
        return frozenset({True, False})
    if spec.values is not None:
        return frozenset(spec.values)
    lo = -_INF if spec.min is None else spec.min
    hi = _INF if spec.max is None else spec.max
    return ((lo, not math.isinf(lo), hi, not math.isinf(hi)),)


def _span(lo: float, lo_closed: bool, hi: float, hi_closed: bool) -> Span:
    return (lo, lo_closed and not math.isinf(lo), hi, hi_closed and not math.isinf(hi))


def _without(value: float) -> Spans:
    return (_span(-_INF, False, value, False), _span(value, False, _INF, False))


class LeafDomains:
    """For each field test: the values of its input that make it true, and those that make it
    false (both within the declared domain). A parameter stands for every value its bounds
    allow, so the sets are the widest the test can have."""

    def __init__(self, ruleset: Ruleset) -> None:
        self._ruleset = ruleset
        self._cache: dict[int, tuple[Domain, Domain]] = {}

    def of(self, leaf: FieldLeaf) -> tuple[Domain, Domain]:
        key = id(leaf)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._compute(leaf)
        return found

    def _compute(self, leaf: FieldLeaf) -> tuple[Domain, Domain]:
        spec = self._ruleset.inputs[leaf.field]
        declared = declared_domain(spec)
        operands = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
        if spec.type in ("boolean", "enum"):
            if any(isinstance(o, ParamRef) for o in operands):
                return declared, declared
            assert isinstance(declared, frozenset)
            test = leaf_test(leaf.op, leaf.value)
            holds = frozenset(v for v in declared if test(v))
            return holds, declared - holds
        true_spans, false_spans = self._spans(leaf.op, operands)
        if isinstance(declared, frozenset):
            return (
                frozenset(v for v in declared if _contains(true_spans, v)),
                frozenset(v for v in declared if _contains(false_spans, v)),
            )
        integer = spec.type == "integer"
        return (
            _intersect_spans(declared, true_spans, integer),
            _intersect_spans(declared, false_spans, integer),
        )

    def _range(self, operand: Any) -> tuple[float, float] | None:
        if isinstance(operand, ParamRef):
            param = self._ruleset.parameters.get(operand.param)
            if param is None:
                return None
            lo = -_INF if param.min is None else param.min
            hi = _INF if param.max is None else param.max
            return lo, hi
        if is_number(operand):
            return operand, operand
        return None

    def _spans(self, op: str, operands: tuple[Any, ...]) -> tuple[Spans, Spans]:
        if op in ("in", "not_in"):
            members = sorted({v for v in operands if is_number(v)})
            points = tuple(_span(m, True, m, True) for m in members)
            gaps: list[Span] = []
            previous = -_INF
            for m in members:
                gaps.append(_span(previous, False, m, False))
                previous = m
            gaps.append(_span(previous, False, _INF, False))
            return (points, tuple(gaps)) if op == "in" else (tuple(gaps), points)
        ranges = [self._range(o) for o in operands]
        if any(r is None for r in ranges):
            return _REALS, _REALS
        if op == "between":
            (alo, ahi), (blo, bhi) = (r for r in ranges if r is not None)
            inside = (_span(alo, True, bhi, True),)
            outside = (_span(-_INF, False, ahi, False), _span(blo, False, _INF, False))
            return inside, outside
        lo, hi = next(r for r in ranges if r is not None)
        if op == "gt":
            return (_span(lo, False, _INF, False),), (_span(-_INF, False, hi, True),)
        if op == "gte":
            return (_span(lo, True, _INF, False),), (_span(-_INF, False, hi, False),)
        if op == "lt":
            return (_span(-_INF, False, hi, False),), (_span(lo, True, _INF, False),)
        if op == "lte":
            return (_span(-_INF, False, hi, True),), (_span(lo, False, _INF, False),)
        equal = (_span(lo, True, hi, True),)
        unequal = _without(lo) if lo == hi else _REALS
        return (equal, unequal) if op == "eq" else (unequal, equal)
