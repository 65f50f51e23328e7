"""The native engine's condition compiler: conditions to closures over three-valued ints.

A compiled condition is called as ``node(facts, vals)`` and answers 0 (FALSE), 1 (UNKNOWN) or
2 (TRUE); ``vals`` holds the current value of every finding the same way. Conditions are compiled
in negation normal form: ``not`` is pushed down to the leaves (Kleene logic keeps De Morgan's laws,
and k-of-n negates to (n-k+1)-of-n over the negated children), where it flips the operator, so no
closure ever negates. Nested ``all``/``any`` of the same kind are flattened, finding reads inside
``all``/``any`` are read straight from the value list instead of through a closure call,
never-asserted findings fold to FALSE, constants fold away and field tests are evaluated before
other children.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeAlias

from riskrules.errors import EngineError
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

__all__ = ["Node", "compile_condition"]

Node: TypeAlias = Callable[[Mapping[str, Any], list[int]], int]
"""A compiled condition: ``(facts, finding values) -> 0 | 1 | 2``."""

Compiled: TypeAlias = "Node | _FindingRead | int"
"""A compiled condition: a closure, a finding read for the parent to inline, or a constant
truth value when it does not depend on the assessment."""

_MISSING: Any = object()

_NEGATED_OP = {**NEGATED_OP, "between": "outside", "outside": "between"}
"""``outside`` is the engine's own negation of ``between``."""


def compile_condition(cond: Condition, fid: Mapping[str, int]) -> Node:
    """A rule's (parameter-resolved) condition as one closure; ``fid`` numbers the findings
    that some rule asserts."""
    compiled = _compile(cond, fid)
    return _const(compiled) if isinstance(compiled, int) else _node(compiled)


def _compile(cond: Condition, fid: Mapping[str, int], negated: bool = False) -> Compiled:
    """Compile a (parameter-resolved) condition, negated if asked, to a closure or constant."""
    if isinstance(cond, Not):
        return _compile(cond.not_, fid, not negated)
    if isinstance(cond, FieldLeaf):
        return _field(cond.field, _NEGATED_OP[cond.op] if negated else cond.op, cond.value)
    if isinstance(cond, FindingLeaf):
        k = fid.get(cond.finding)
        if k is None:  # never asserted: always FALSE
            return 2 if negated else 0
        return _finding(k, negated)
    if isinstance(cond, All | AnyOf):
        conjunction = isinstance(cond, All) != negated
        parts = [_compile(child, fid, neg) for child, neg in _gather(cond, negated, conjunction)]
        return _all(parts) if conjunction else _any(parts)
    if isinstance(cond, AtLeast):
        spec = cond.at_least
        parts = [_compile(child, fid, negated) for child in spec.of]
        n = len(parts) - spec.n + 1 if negated else spec.n
        return _at_least(n, parts)
    raise EngineError(f"not a condition: {type(cond).__name__}")


def _gather(cond: Condition, negated: bool, conjunction: bool) -> Iterator[tuple[Condition, bool]]:
    """The operands of a (possibly negated) ``all``/``any``, with nested ones of the same
    effective kind flattened into it (associativity)."""
    if isinstance(cond, Not):
        yield from _gather(cond.not_, not negated, conjunction)
        return
    if isinstance(cond, All | AnyOf) and (isinstance(cond, All) != negated) == conjunction:
        children = cond.all if isinstance(cond, All) else cond.any
        for child in children:
            yield from _gather(child, negated, conjunction)
        return
    yield cond, negated


class _FindingRead:
    """A finding read (possibly negated); connectives inline it instead of calling it."""

    __slots__ = ("index", "negated")

    def __init__(self, index: int, negated: bool) -> None:
        self.index = index
        self.negated = negated


def _finding(k: int, negated: bool) -> _FindingRead:
    return _FindingRead(k, negated)


def _node(part: Node | _FindingRead) -> Node:
    """A callable for a finding read that is not inlined (at the top of a rule, in k-of-n)."""
    if not isinstance(part, _FindingRead):
        return part
    k = part.index
    if part.negated:

        def not_finding(facts: Mapping[str, Any], vals: list[int]) -> int:
            return 2 - vals[k]

        return not_finding

    def finding(facts: Mapping[str, Any], vals: list[int]) -> int:
        return vals[k]

    return finding


def _const(value: int) -> Node:
    def const(facts: Mapping[str, Any], vals: list[int]) -> int:
        return value

    return const


def _split(
    parts: list[Compiled],
) -> tuple[list[int], tuple[int, ...], tuple[int, ...], list[Node]]:
    """Constants, positive and negated finding indices, and closures (field tests first)."""
    consts: list[int] = []
    pos: list[int] = []
    neg: list[int] = []
    leaves: list[Node] = []
    others: list[Node] = []
    for part in parts:
        if isinstance(part, int):
            consts.append(part)
        elif isinstance(part, _FindingRead):
            (neg if part.negated else pos).append(part.index)
        elif getattr(part, "_field_test", False):
            leaves.append(part)
        else:
            others.append(part)
    return consts, tuple(dict.fromkeys(pos)), tuple(dict.fromkeys(neg)), leaves + others


def _all(parts: list[Compiled]) -> Compiled:
    consts, pos, neg, nodes = _split(parts)
    least = min(consts, default=2)
    if least == 0 or (not pos and not neg and not nodes):
        return least
    if least == 1:
        nodes.append(_const(1))
    if not neg and not nodes and len(pos) == 1:
        return _FindingRead(pos[0], False)
    if not pos and not nodes and len(neg) == 1:
        return _FindingRead(neg[0], True)
    if not pos and not neg:
        return _all_nodes(nodes)
    if not nodes:
        return _all_findings(pos, neg)
    return _all_nodes([_all_findings(pos, neg), *nodes])


def _all_findings(pos: tuple[int, ...], neg: tuple[int, ...]) -> Node:
    """Kleene ``and`` of finding reads, read inline."""

    def all_findings(facts: Mapping[str, Any], vals: list[int]) -> int:
        result = 2
        for k in pos:
            v = vals[k]
            if not v:
                return 0
            if v == 1:
                result = 1
        for k in neg:
            v = vals[k]
            if v == 2:
                return 0
            if v:
                result = 1
        return result

    if len(pos) == 1 and not neg:
        (k,) = pos

        def one_finding(facts: Mapping[str, Any], vals: list[int]) -> int:
            return vals[k]

        return one_finding
    return all_findings


def _all_nodes(nodes: list[Node]) -> Node:
    if len(nodes) == 1:
        return nodes[0]
    if len(nodes) == 2:
        a, b = nodes

        def all2(facts: Mapping[str, Any], vals: list[int]) -> int:
            x = a(facts, vals)
            if not x:
                return 0
            y = b(facts, vals)
            if not y:
                return 0
            return x if x < y else y

        return all2
    children = tuple(nodes)

    def all_(facts: Mapping[str, Any], vals: list[int]) -> int:
        result = 2
        for child in children:
            v = child(facts, vals)
            if not v:
                return 0
            if v == 1:
                result = 1
        return result

    return all_


def _any(parts: list[Compiled]) -> Compiled:
    consts, pos, neg, nodes = _split(parts)
    most = max(consts, default=0)
    if most == 2 or (not pos and not neg and not nodes):
        return most
    if most == 1:
        nodes.append(_const(1))
    if not neg and not nodes and len(pos) == 1:
        return _FindingRead(pos[0], False)
    if not pos and not nodes and len(neg) == 1:
        return _FindingRead(neg[0], True)
    if not pos and not neg:
        return _any_nodes(nodes)
    findings = _any_findings(pos, neg)
    if not nodes:
        return findings
    return _any_nodes([findings, *nodes])


def _any_findings(pos: tuple[int, ...], neg: tuple[int, ...]) -> Node:
    """Kleene ``or`` of finding reads, read inline."""

    def any_findings(facts: Mapping[str, Any], vals: list[int]) -> int:
        result = 0
        for k in pos:
            v = vals[k]
            if v == 2:
                return 2
            if v:
                result = 1
        for k in neg:
            v = vals[k]
            if not v:
                return 2
            if v == 1:
                result = 1
        return result

    return any_findings


def _any_nodes(nodes: list[Node]) -> Node:
    if len(nodes) == 1:
        return nodes[0]
    if len(nodes) == 2:
        a, b = nodes

        def any2(facts: Mapping[str, Any], vals: list[int]) -> int:
            x = a(facts, vals)
            if x == 2:
                return 2
            y = b(facts, vals)
            return x if x > y else y

        return any2
    children = tuple(nodes)

    def any_(facts: Mapping[str, Any], vals: list[int]) -> int:
        result = 0
        for child in children:
            v = child(facts, vals)
            if v == 2:
                return 2
            if v:
                result = 1
        return result

    return any_


def _at_least(n: int, parts: list[Compiled]) -> Compiled:
    consts = [p for p in parts if isinstance(p, int)]
    nodes = [_node(p) for p in parts if not isinstance(p, int)]
    n -= consts.count(2)
    unknown = consts.count(1)
    if n <= 0:
        return 2
    if n > len(nodes) + unknown:
        return 0
    # Constant unknowns can never make it TRUE on their own; evaluate them as nodes.
    nodes.extend(_const(1) for _ in range(unknown))
    if n == len(nodes):
        return _all(list(nodes))
    if n == 1:
        return _any(list(nodes))
    children = tuple(nodes)
    spare = len(children) - n  # how many children may be FALSE before n is out of reach

    def at_least(facts: Mapping[str, Any], vals: list[int]) -> int:
        true = false = 0
        for child in children:
            v = child(facts, vals)
            if v == 2:
                true += 1
                if true >= n:
                    return 2
            elif not v:
                false += 1
                if false > spare:
                    return 0
        return 1

    return at_least


def _field(name: str, op: str, value: Any) -> Node:
    node = _field_test(name, op, value)
    node._field_test = True  # type: ignore[attr-defined]
    return node


def _field_test(name: str, op: str, value: Any) -> Node:
    """A closure for one field test; a missing input is UNKNOWN except for present/absent."""
    if op in ("present", "absent"):
        return _presence(name, op)
    operands = value if isinstance(value, tuple) else (value,)
    if any(isinstance(o, ParamRef) for o in operands):
        raise EngineError(f"parameter left unresolved in a test of {name!r}")
    missing = _MISSING
    if op in ("in", "not_in"):
        members = frozenset(operands)
        hit, miss = (2, 0) if op == "in" else (0, 2)

        def member(facts: Mapping[str, Any], vals: list[int]) -> int:
            x = facts.get(name, missing)
            if x is missing:
                return 1
            return hit if x in members else miss

        return member
    if op in ("between", "outside"):
        low, high = operands
        inside, out = (2, 0) if op == "between" else (0, 2)

        def between(facts: Mapping[str, Any], vals: list[int]) -> int:
            x = facts.get(name, missing)
            if x is missing:
                return 1
            return inside if low <= x <= high else out

        return between
    return _comparison(name, op, value)


def _presence(name: str, op: str) -> Node:
    """``present`` or ``absent``: never UNKNOWN."""
    if op == "present":

        def present(facts: Mapping[str, Any], vals: list[int]) -> int:
            return 2 if name in facts else 0

        return present

    def absent(facts: Mapping[str, Any], vals: list[int]) -> int:
        return 0 if name in facts else 2

    return absent


def _comparison(name: str, op: str, value: Any) -> Node:
    """A comparison of the input with one constant, each operator its own closure (no
    operator call per evaluation)."""
    missing = _MISSING
    if op == "eq":

        def eq(facts: Mapping[str, Any], vals: list[int]) -> int:
            x = facts.get(name, missing)
            if x is missing:
                return 1
            return 2 if x == value else 0

        return eq
    if op == "ne":

        def ne(facts: Mapping[str, Any], vals: list[int]) -> int:
            x = facts.get(name, missing)
            if x is missing:
                return 1
            return 2 if x != value else 0

        return ne
    if op == "gt":

        def gt(facts: Mapping[str, Any], vals: list[int]) -> int:
            x = facts.get(name, missing)
            if x is missing:
                return 1
            return 2 if x > value else 0

        return gt
    if op == "gte":

        def gte(facts: Mapping[str, Any], vals: list[int]) -> int:
            x = facts.get(name, missing)
            if x is missing:
                return 1
            return 2 if x >= value else 0

        return gte
    if op == "lt":

        def lt(facts: Mapping[str, Any], vals: list[int]) -> int:
            x = facts.get(name, missing)
            if x is missing:
                return 1
            return 2 if x < value else 0

        return lt
    if op == "lte":

        def lte(facts: Mapping[str, Any], vals: list[int]) -> int:
            x = facts.get(name, missing)
            if x is missing:
                return 1
            return 2 if x <= value else 0

        return lte
    raise EngineError(f"unknown operator {op!r} in a test of {name!r}")
