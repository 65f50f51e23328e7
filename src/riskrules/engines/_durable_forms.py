"""Formulas of the durable engine: literals on integer fact properties joined by ``$and``/``$or``.

A condition in negation normal form becomes a :data:`Form`: a constant, a :class:`Lit` or a
:class:`Gate`. Gates carry the size measures (connectives, ``$or`` branches, literals,
root-to-leaf paths) that decide how a formula is split into durable patterns, and
:class:`Builder` keeps formulas flat, folded and small as they are built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

__all__ = ["Builder", "Form", "Gate", "Lit"]


@dataclass(frozen=True, slots=True)
class Lit:
    """``prop <op> value`` on an integer fact property; ``op`` is a durable operator."""

    prop: str
    op: str
    value: int


class Gate:
    """``$and``/``$or`` over parts, with the size measures the splitter needs."""

    __slots__ = ("branches", "conn", "hash", "op", "parts", "paths", "size")

    op: str
    parts: tuple[Form, ...]
    hash: int
    conn: int
    branches: int
    size: int
    paths: int

    def __init__(self, op: str, parts: tuple[Form, ...]) -> None:
        self.op = op
        self.parts = parts
        self.hash = hash((op, parts))
        conn = 1
        branches = len(parts) if op == "$or" else 0
        size = 0
        paths = 1 if op == "$and" else 0
        for part in parts:
            if isinstance(part, Gate):
                conn += part.conn
                branches += part.branches
                size += part.size
                sub = part.paths
            else:
                size += 1
                sub = 1
            paths = paths * sub if op == "$and" else paths + sub
        self.conn = conn
        self.branches = branches
        self.size = size
        self.paths = min(paths, 1 << 30)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return (
            isinstance(other, Gate)
            and self.hash == other.hash
            and self.op == other.op
            and self.parts == other.parts
        )


Form: TypeAlias = "bool | Lit | Gate"


class Builder:
    """Smart constructors that keep formulas flat, folded and small.

    ``domains`` gives every property's integer range; a conjunction merges the literals on one
    property into at most two bounds plus exclusions, so contradictions fold to False and
    literals that always hold disappear.
    """

    def __init__(self, domains: Mapping[str, tuple[int, int]]) -> None:
        self.domains = domains

    def and_(self, parts: Iterable[Form]) -> Form:
        lits: dict[str, list[Lit]] = {}
        gates: dict[Gate, None] = {}
        stack = list(parts)
        stack.reverse()
        while stack:
            part = stack.pop()
            if part is True:
                continue
            if part is False:
                return False
            if isinstance(part, Lit):
                lits.setdefault(part.prop, []).append(part)
            elif isinstance(part, Gate):
                if part.op == "$and":
                    stack.extend(reversed(part.parts))
                else:
                    gates[part] = None
        out: list[Form] = []
        for prop, group in lits.items():
            merged = self._merge(prop, group)
            if merged is None:
                return False
            out.extend(merged)
        out.extend(gates)
        if not out:
            return True
        if len(out) == 1:
            return out[0]
        return Gate("$and", tuple(out))

    def or_(self, parts: Iterable[Form]) -> Form:
        seen: dict[Form, None] = {}
        stack = list(parts)
        stack.reverse()
        while stack:
            part = stack.pop()
            if part is False:
                continue
            if part is True:
                return True
            if isinstance(part, Gate) and part.op == "$or":
                stack.extend(reversed(part.parts))
            else:
                seen[part] = None
        out = list(seen)
        if not out:
            return False
        if len(out) == 1:
            return out[0]
        return Gate("$or", tuple(out))

    def _merge(self, prop: str, lits: list[Lit]) -> list[Form] | None:
        """The conjunction of ``lits`` (all on ``prop``) as few literals; None if unsatisfiable."""
        low, high = self.domains[prop]
        dom_low, dom_high = low, high
        excluded: set[int] = set()
        for lit in lits:
            v = lit.value
            if lit.op == "$eq":
                low, high = max(low, v), min(high, v)
            elif lit.op == "$neq":
                excluded.add(v)
            elif lit.op == "$gt":
                low = max(low, v + 1)
            elif lit.op == "$gte":
                low = max(low, v)
            elif lit.op == "$lt":
                high = min(high, v - 1)
            else:  # $lte
                high = min(high, v)
        while low <= high and low in excluded:
            low += 1
        while low <= high and high in excluded:
            high -= 1
        if low > high:
            return None
        if low == high:
            return [] if dom_low == dom_high else [Lit(prop, "$eq", low)]
        out: list[Form] = []
        if low > dom_low:
            out.append(Lit(prop, "$gte", low))
        if high < dom_high:
            out.append(Lit(prop, "$lte", high))
        out.extend(Lit(prop, "$neq", v) for v in sorted(excluded) if low < v < high)
        return out
