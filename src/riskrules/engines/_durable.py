"""The durable-rules engine: a :class:`~riskrules.engines._base.Program` run on durable's Rete.

Every use of durable-rules (its C extension ``durable_rules_engine``) lives in this module and is
imported lazily by :func:`compile`, so riskrules imports and works where durable-rules does not
build (CPython 3.13+); there :func:`compile` raises :class:`~riskrules.errors.EngineError`.

How a program becomes durable rulesets
--------------------------------------
Each rule's condition is put in negation normal form over *literals* (integer comparisons on fact
properties) joined by ``$and``/``$or``. Kleene logic needs no second copy of the condition: in
negation normal form a condition is TRUE exactly when it holds with every unknown literal read as
false, and not FALSE exactly when it holds with every unknown literal read as true. So each round
asserts two facts built from the same state, a *pessimistic* one (``t``) and an *optimistic* one
(``n``), and one pattern per rule tells both answers. Values are encoded so that durable only ever
compares small integers:

* a field becomes properties ``a`` and ``b`` holding its *rank* among the constants the rules
  compare it with (so int/float mixes, long floats and enum strings compare exactly), and ``e``
  (present or not). A missing field is ``a=-1, b=TOP`` in the pessimistic fact, where every
  comparison fails, and ``a=TOP, b=-1`` in the optimistic one, where every comparison holds:
  lower bounds test ``a``, upper bounds test ``b``;
* a finding read positively is ``p`` (1 = asserted, resp. asserted or possible), read negatively
  ``n`` (0 = surely not asserted, resp. not asserted).

durable-rules 2.0.28 has hard limits that shape the rest, all measured: at most 15 ``$and``/``$or``
per pattern (error 113); a matching walk of at most 64 pending alpha nodes (error 303); at most 511
children per alpha node (more hangs); 4,096 rules per ruleset; 254 properties per fact. Conditions
are therefore split into several patterns when needed (any one matching means the rule matches),
``$or`` branches are made exclusive where that is cheap (a fact reaching a pattern through two
branches is matched twice), and patterns are packed into *groups*, each behind its own two-level
guard (``k``, ``j``) and fed its own fact. Matching a fact costs time in proportion to its number
of properties, so a group grows with the pattern that adds the fewest new ones. Every durable rule
has a large ``cap``, so all its matches in a batch arrive as one action message.

How an assessment runs
----------------------
The definite and possible passes of :mod:`riskrules.engines._base` run in Python rounds; within a
round durable matches every pattern of the groups concerned against that round's facts (asserted in
one batch) and the matches are collected synchronously by draining the session's actions in the
calling thread. No durable ``Host``, dispatcher or timer thread is involved. After round 0 only the
groups of rules reading a finding that just changed are re-matched. Firings of a round are put in
(salience, ruleset) order here, not by durable's ``pri``.

durable answers an empty batch with an uninitialised session offset, and using an offset that is
not the session's crashes the process: empty batches are never sent and every offset is checked.

Sessions are pooled (at most :data:`MAX_SESSIONS` per engine, far below durable's 1,024): creating
one costs about 10 microseconds per durable rule and it is reused after its facts are retracted.
A session is opened by firing a sentinel rule, because ``delete_state`` on a session that never
started an action frees uninitialised memory; sessions are deleted only on close, before the
ruleset itself is deleted with the C extension's ``delete_ruleset`` (durable's Python API cannot
unregister a ruleset). A session that failed mid-run is discarded.
"""

from __future__ import annotations

import bisect
import contextlib
import importlib
import itertools
import json
import logging
import math
import operator
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from riskrules.engines._base import Evaluation, Program
from riskrules.errors import EngineError
from riskrules.ruleset._conditions import (
    All,
    AnyOf,
    AtLeast,
    Condition,
    FieldLeaf,
    FindingLeaf,
    Not,
    ParamRef,
    Truth,
    findings_read,
    walk,
)

__all__ = ["MAX_SESSIONS", "DurableEngine", "compile"]

MAX_SESSIONS = 32
"""Live durable sessions per engine; more concurrent runs wait for a free one."""

# Limits of durable-rules 2.0.28 (measured) and the margins kept below them.
_MAX_CONNECTIVES = 15  # $and/$or per pattern, the outer $and included (error 113 above 15)
_MAX_BRANCHES = 24  # sum of $or branch counts in one pattern: bounds the matching stack (64)
_MAX_PATHS = 64  # root-to-leaf paths in one pattern: bounds duplicate matches per fact
_GROUP_STACK = 40  # per group: patterns plus their $or branches
_GROUP_PATTERNS = 24  # patterns per group
_FACT_PROPERTIES = 240  # durable allows 254 properties per fact, sid, id and guards included
_MAX_PATTERNS_PER_RULE = 512
_MAX_PATTERNS = 4000  # durable refuses more than 4,096 rules in one ruleset
_MAX_FORM_SIZE = 50_000  # literals in one expanded condition

_OPEN = -1
"""Guard value of the sentinel fact that opens a session."""
_RESERVED = ("sid", "id", "$s", "k", "j", "$forward")
"""Property names durable or the guards use; generated names must not collide with their hash."""

_TRUTHS = (Truth.FALSE, Truth.UNKNOWN, Truth.TRUE)
_session_ids = itertools.count()
logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- loading


def _load_durable() -> Any:
    """The durable-rules C extension, or EngineError when it is not installed."""
    try:
        return importlib.import_module("durable_rules_engine")
    except ImportError:
        raise EngineError(
            "the durable engine needs durable-rules 2.0.28, which is not installed "
            "(it builds on CPython 3.11 and 3.12 only); use engine='native'"
        ) from None


# --------------------------------------------------------------------------- formulas


@dataclass(frozen=True, slots=True)
class _Lit:
    """``prop <op> value`` on an integer fact property; ``op`` is a durable operator."""

    prop: str
    op: str
    value: int


class _Gate:
    """``$and``/``$or`` over parts, with the size measures the splitter needs."""

    __slots__ = ("branches", "conn", "hash", "op", "parts", "paths", "size")

    op: str
    parts: tuple[_Form, ...]
    hash: int
    conn: int
    branches: int
    size: int
    paths: int

    def __init__(self, op: str, parts: tuple[_Form, ...]) -> None:
        self.op = op
        self.parts = parts
        self.hash = hash((op, parts))
        conn = 1
        branches = len(parts) if op == "$or" else 0
        size = 0
        paths = 1 if op == "$and" else 0
        for part in parts:
            if isinstance(part, _Gate):
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
            isinstance(other, _Gate)
            and self.hash == other.hash
            and self.op == other.op
            and self.parts == other.parts
        )


_Form: TypeAlias = "bool | _Lit | _Gate"


class _Builder:
    """Smart constructors that keep formulas flat, folded and small.

    ``domains`` gives every property's integer range; a conjunction merges the literals on one
    property into at most two bounds plus exclusions, so contradictions fold to False and
    literals that always hold disappear.
    """

    def __init__(self, domains: Mapping[str, tuple[int, int]]) -> None:
        self.domains = domains

    def and_(self, parts: Iterable[_Form]) -> _Form:
        lits: dict[str, list[_Lit]] = {}
        gates: dict[_Gate, None] = {}
        stack = list(parts)
        stack.reverse()
        while stack:
            part = stack.pop()
            if part is True:
                continue
            if part is False:
                return False
            if isinstance(part, _Lit):
                lits.setdefault(part.prop, []).append(part)
            elif isinstance(part, _Gate):
                if part.op == "$and":
                    stack.extend(reversed(part.parts))
                else:
                    gates[part] = None
        out: list[_Form] = []
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
        return _Gate("$and", tuple(out))

    def or_(self, parts: Iterable[_Form]) -> _Form:
        seen: dict[_Form, None] = {}
        stack = list(parts)
        stack.reverse()
        while stack:
            part = stack.pop()
            if part is False:
                continue
            if part is True:
                return True
            if isinstance(part, _Gate) and part.op == "$or":
                stack.extend(reversed(part.parts))
            else:
                seen[part] = None
        out = list(seen)
        if not out:
            return False
        if len(out) == 1:
            return out[0]
        return _Gate("$or", tuple(out))

    def _merge(self, prop: str, lits: list[_Lit]) -> list[_Form] | None:
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
            return [] if dom_low == dom_high else [_Lit(prop, "$eq", low)]
        out: list[_Form] = []
        if low > dom_low:
            out.append(_Lit(prop, "$gte", low))
        if high < dom_high:
            out.append(_Lit(prop, "$lte", high))
        out.extend(_Lit(prop, "$neq", v) for v in sorted(excluded) if low < v < high)
        return out


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True, slots=True)
class _Field:
    """How one input is encoded: its rank space and the fact properties it uses."""

    name: str
    kind: str  # "numeric" | "enum" | "boolean"
    consts: tuple[Any, ...]
    """numeric: the sorted constants rules compare it with; enum: declared values; boolean."""
    top: int
    """One above the highest rank a present value can take."""
    a: str
    b: str
    e: str

    def rank(self, value: Any) -> int:
        """Rank of a present value: numeric ``2i`` between constants, ``2i+1`` on constant i."""
        if self.kind == "numeric":
            if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
                raise EngineError(f"input {self.name!r} needs a number")
            consts = self.consts
            i = bisect.bisect_left(consts, value)
            return 2 * i + 1 if i < len(consts) and consts[i] == value else 2 * i
        if self.kind == "boolean":
            if value is True:
                return 1
            if value is False:
                return 0
            raise EngineError(f"input {self.name!r} needs true or false")
        for i, known in enumerate(self.consts):
            if known == value and isinstance(value, str):
                return i
        raise EngineError(f"input {self.name!r} needs one of its declared values")

    def const_rank(self, value: Any) -> int:
        if self.kind == "numeric":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise EngineError(f"a test of {self.name!r} compares with {value!r}, not a number")
            return 2 * self.consts.index(value) + 1
        if self.kind == "boolean":
            if not isinstance(value, bool):
                raise EngineError(f"a test of {self.name!r} compares with {value!r}, not a bool")
            return int(value)
        if value not in self.consts or not isinstance(value, str):
            raise EngineError(f"a test of {self.name!r} compares with undeclared {value!r}")
        return self.consts.index(value)


def _fnv1a(name: str) -> int:
    """durable's property hash (32-bit FNV-1a)."""
    h = 2166136261
    for byte in name.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


class _Names:
    """Short property names whose durable hashes never collide."""

    def __init__(self) -> None:
        self._hashes = {_fnv1a(name) for name in _RESERVED}
        self._hashes.add(739185624)  # durable's hash for the $forward nodes of $or

    def new(self, stem: str) -> str:
        for suffix in itertools.chain([""], (f"_{i}" for i in itertools.count())):
            name = stem + suffix
            h = _fnv1a(name)
            if h not in self._hashes:
                self._hashes.add(h)
                return name
        raise AssertionError("unreachable")


# --------------------------------------------------------------------------- compiler


@dataclass(frozen=True, slots=True)
class _Group:
    """Patterns matched against one small fact pair per round.

    A fact's JSON is ``head`` (guards and field properties, fixed for an assessment) followed by
    ``tail`` (finding properties, which change between rounds), each a ``%d`` template filled
    from a value vector by the matching picker.
    """

    rules: tuple[int, ...]
    head: str
    head_values: Callable[[Sequence[int]], tuple[int, ...]]
    tail: str
    tail_values: Callable[[Sequence[int]], tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class _Stratum:
    groups: tuple[int, ...]
    readers: Mapping[int, tuple[int, ...]]
    """Finding index -> rules of this stratum that read it."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything compiled from a program; immutable, shared by all runs."""

    definitions: dict[str, Any]
    actions: Mapping[str, int]
    """durable rule name -> program rule index: the action of each durable rule."""
    fields: tuple[_Field, ...]
    nfindings: int
    asserts: tuple[tuple[int, ...], ...]
    rank: tuple[int, ...]
    """Rule index -> position in firing order (sorting key for a round's firings)."""
    strata: tuple[_Stratum, ...]
    groups: tuple[_Group, ...]
    rule_groups: tuple[tuple[int, ...], ...]
    nrules: int


class _Compiler:
    """Turns a Program into durable rule definitions and run-time tables."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.names = _Names()
        self.finding_ids = {name: k for k, name in enumerate(program.findings)}
        self.fields: dict[str, _Field] = {}
        self.domains: dict[str, tuple[int, int]] = {"k": (-1, 1 << 20), "j": (0, 1 << 20)}
        self.find_props: list[tuple[str, str]] = []
        for k in range(len(program.findings)):
            p, n = self.names.new(f"p{k}"), self.names.new(f"n{k}")
            self.find_props.append((p, n))
            self.domains[p] = (0, 1)
            self.domains[n] = (0, 1)
        self._collect_fields()
        self.build = _Builder(self.domains)

    # -- inputs

    def _collect_fields(self) -> None:
        consts: dict[str, set[Any]] = {}
        for rule in self.program.rules:
            for node, _, _ in walk(rule.when):
                if not isinstance(node, FieldLeaf):
                    continue
                spec = self.program.inputs.get(node.field)
                if spec is None:
                    raise EngineError(f"rule {rule.id!r} reads undeclared input {node.field!r}")
                bucket = consts.setdefault(node.field, set())
                if node.op in ("present", "absent") or spec.type not in ("integer", "number"):
                    continue
                value = node.value
                for operand in value if isinstance(value, tuple) else (value,):
                    if isinstance(operand, ParamRef):
                        raise EngineError(f"parameter {operand.param!r} left unresolved")
                    if isinstance(operand, bool) or not isinstance(operand, int | float):
                        raise EngineError(
                            f"rule {rule.id!r} compares numeric {node.field!r} with {operand!r}"
                        )
                    if isinstance(operand, float) and not math.isfinite(operand):
                        raise EngineError(f"rule {rule.id!r} compares with {operand!r}")
                    bucket.add(operand)
        for name in sorted(consts):
            spec = self.program.inputs[name]
            k = len(self.fields)
            if spec.type in ("integer", "number"):
                values: tuple[Any, ...] = tuple(sorted(consts[name]))
                kind, top = "numeric", 2 * len(values) + 1
            elif spec.type == "boolean":
                values, kind, top = (False, True), "boolean", 2
            else:
                values, kind = tuple(spec.values or ()), "enum"
                top = len(values)
            field = _Field(
                name,
                kind,
                values,
                top,
                self.names.new(f"a{k}"),
                self.names.new(f"b{k}"),
                self.names.new(f"e{k}"),
            )
            self.fields[name] = field
            self.domains[field.a] = (-1, top)
            self.domains[field.b] = (-1, top)
            self.domains[field.e] = (0, 1)

    # -- conditions to formulas

    def formula(self, cond: Condition, positive: bool) -> _Form:
        """The negation normal form of ``cond`` (or of ``not cond`` when not ``positive``)."""
        b = self.build
        if isinstance(cond, FieldLeaf):
            return self._field(cond, positive)
        if isinstance(cond, FindingLeaf):
            k = self.finding_ids.get(cond.finding)
            if k is None:  # never asserted: FALSE
                return not positive
            p, n = self.find_props[k]
            return _Lit(p, "$eq", 1) if positive else _Lit(n, "$eq", 0)
        if isinstance(cond, Not):
            return self.formula(cond.not_, not positive)
        if isinstance(cond, All):
            parts = [self.formula(c, positive) for c in cond.all]
            return b.and_(parts) if positive else b.or_(parts)
        if isinstance(cond, AnyOf):
            parts = [self.formula(c, positive) for c in cond.any]
            return b.or_(parts) if positive else b.and_(parts)
        if isinstance(cond, AtLeast):
            spec = cond.at_least
            parts = [self.formula(c, positive) for c in spec.of]
            need = spec.n if positive else len(parts) - spec.n + 1
            return self._at_least(need, parts)
        raise EngineError(f"not a condition: {type(cond).__name__}")

    def _at_least(self, n: int, parts: list[_Form]) -> _Form:
        """At least ``n`` of ``parts`` (monotone, so the same form serves both readings)."""
        n -= sum(1 for p in parts if p is True)
        rest = [p for p in parts if not isinstance(p, bool)]
        b = self.build
        memo: dict[tuple[int, int], _Form] = {}
        budget = [_MAX_FORM_SIZE]

        def at(k: int, i: int) -> _Form:
            if k <= 0:
                return True
            left = len(rest) - i
            if k > left:
                return False
            if k == left:
                return b.and_(rest[i:])
            if k == 1:
                return b.or_(rest[i:])
            key = (k, i)
            if key not in memo:
                form = b.or_([b.and_([rest[i], at(k - 1, i + 1)]), at(k, i + 1)])
                budget[0] -= form.size if isinstance(form, _Gate) else 1
                if budget[0] < 0:
                    raise EngineError("an at_least condition is too large for the durable engine")
                memo[key] = form
            return memo[key]

        return at(n, 0)

    def _field(self, leaf: FieldLeaf, positive: bool) -> _Form:
        field = self.fields[leaf.field]
        op = leaf.op
        if op in ("present", "absent"):
            return _Lit(field.e, "$eq", int((op == "present") == positive))
        value = leaf.value
        ranks = [field.const_rank(v) for v in (value if isinstance(value, tuple) else (value,))]
        b = self.build
        a_, b_ = field.a, field.b
        if op == "between":
            lo, hi = ranks
            if positive:
                return b.and_([_Lit(a_, "$gte", lo), _Lit(b_, "$lte", hi)])
            # the second branch requires a present value, so a missing one matches once
            return b.or_([_Lit(b_, "$lt", lo), b.and_([_Lit(a_, "$gt", hi), _Lit(b_, "$gte", 0)])])
        if op in ("in", "not_in"):
            return self._members(field, ranks, equal=(op == "in") == positive)
        r = ranks[0]
        if op == "eq" or op == "ne":
            return self._members(field, [r], equal=(op == "eq") == positive)
        flip = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}
        if not positive:
            op = flip[op]
        if op in ("gt", "gte"):
            return _Lit(a_, "$" + op, r)
        return _Lit(b_, "$" + op, r)

    def _members(self, field: _Field, ranks: list[int], *, equal: bool) -> _Form:
        """``x`` equals one of ``ranks`` (``equal``) or none of them, as literals on a and b.

        Present ``x`` has ``a == b == rank``; missing ``x`` fails every literal pessimistically
        and passes every literal optimistically. Disjuncts after the first also require
        ``b >= 0`` so that an optimistic missing value matches only once.
        """
        b = self.build
        if not equal:
            return b.and_([_Lit(field.a, "$gte", 0)] + [_Lit(field.a, "$neq", r) for r in ranks])
        spans: list[list[int]] = []
        step = 2 if field.kind == "numeric" else 1  # numeric values fall between constants
        for r in sorted(set(ranks)):
            if spans and step == 1 and r == spans[-1][1] + 1:
                spans[-1][1] = r
            else:
                spans.append([r, r])
        disjuncts: list[_Form] = []
        for i, (lo, hi) in enumerate(spans):
            parts: list[_Form] = [_Lit(field.a, "$gte", lo), _Lit(field.b, "$lte", hi)]
            if i:
                parts.append(_Lit(field.b, "$gte", 0))
            disjuncts.append(b.and_(parts))
        return b.or_(disjuncts)

    # -- splitting and packing

    def split(self, form: _Form, rule_id: str) -> list[_Form]:
        """Patterns whose disjunction is ``form``, each within durable's limits."""
        out: list[_Form] = []
        stack = [form]
        while stack:
            f = stack.pop()
            if f is False:
                continue
            if not isinstance(f, _Gate) or _fits(f):
                out.append(f)
            elif f.op == "$or":
                stack.extend(reversed(f.parts))
            else:
                ors = [p for p in f.parts if isinstance(p, _Gate) and p.op == "$or"]
                pick = max(ors, key=lambda g: (g.branches + g.conn, g.size))
                others = [p for p in f.parts if p is not pick]
                stack.extend(reversed([self.build.and_([*others, p]) for p in pick.parts]))
            if len(out) > _MAX_PATTERNS_PER_RULE:
                raise EngineError(f"the condition of rule {rule_id!r} is too large for durable")
        return out


def _fits(g: _Gate) -> bool:
    """Whether ``g`` makes one pattern: a top ``$and`` merges into the pattern's guard ``$and``."""
    connectives = 1 + (g.conn - 1 if g.op == "$and" else g.conn)
    return connectives < _MAX_CONNECTIVES and g.branches <= _MAX_BRANCHES and g.paths <= _MAX_PATHS


def _props(form: _Form, into: dict[str, None]) -> None:
    if isinstance(form, _Lit):
        into[form.prop] = None
    elif isinstance(form, _Gate):
        for part in form.parts:
            _props(part, into)


def _cost(form: _Form) -> int:
    return 1 + (form.branches if isinstance(form, _Gate) else 0)


def _json(form: _Form) -> Any:
    if isinstance(form, _Lit):
        if form.op == "$eq":
            return {form.prop: form.value}
        return {form.op: {form.prop: form.value}}
    assert isinstance(form, _Gate)
    return {form.op: [_json(p) for p in form.parts]}


def _pattern(form: _Form, k: int, j: int) -> dict[str, Any]:
    guards: list[Any] = [{"k": k}, {"j": j}]
    if form is True:
        return {"$and": guards}
    if isinstance(form, _Gate) and form.op == "$and":
        return {"$and": guards + [_json(p) for p in form.parts]}
    return {"$and": [*guards, _json(form)]}


def _pack(
    pieces: list[tuple[int, _Form]], packed: list[list[tuple[int, _Form]]], program: Program
) -> list[int]:
    """Append groups of ``pieces`` to ``packed``; return the new group indices.

    A group grows with the pattern that adds the fewest new properties to its fact (then the
    earliest), within the stack, pattern and property budgets: the cost of matching a fact in
    durable grows with its number of properties.
    """
    items: list[tuple[int, _Form, frozenset[str], int]] = []
    for i, piece in pieces:
        found: dict[str, None] = {}
        _props(piece, found)
        if len(found) > _FACT_PROPERTIES:
            raise EngineError(f"rule {program.rules[i].id!r} reads too many inputs for durable")
        items.append((i, piece, frozenset(found), _cost(piece)))
    mine: list[int] = []
    while items:
        i, piece, props, stack = items.pop(0)
        group = [(i, piece)]
        have = set(props)
        while items and len(group) < _GROUP_PATTERNS:
            best = -1
            fewest = _FACT_PROPERTIES + 1
            for k, (_, _, more, cost) in enumerate(items):
                if stack + cost > _GROUP_STACK:
                    continue
                new = len(more - have)
                if new < fewest and len(have) + new <= _FACT_PROPERTIES:
                    best, fewest = k, new
                    if not new:
                        break
            if best < 0:
                break
            i, piece, props, cost = items.pop(best)
            group.append((i, piece))
            have |= props
            stack += cost
        mine.append(len(packed))
        packed.append(group)
    return mine


def _getter(slots: Sequence[int]) -> Callable[[Sequence[int]], tuple[int, ...]]:
    if not slots:
        return lambda values: ()
    if len(slots) == 1:
        (slot,) = slots

        def one(values: Sequence[int]) -> tuple[int, ...]:
            return (values[slot],)

        return one
    return operator.itemgetter(*slots)


def _plan(program: Program) -> _Plan:
    """Compile ``program``: formulas, patterns, groups, guards and fact templates."""
    comp = _Compiler(program)
    nrules = len(program.rules)
    order = [i for stratum in program.strata for i in stratum]
    if sorted(order) != list(range(nrules)):
        raise EngineError("program strata do not list every rule exactly once")
    rank = [0] * nrules
    for position, i in enumerate(order):
        rank[i] = position

    # Value vector layouts: fields (a, b, e) per field; findings (p, n) per finding.
    slot: dict[str, int] = {}
    for k, field in enumerate(comp.fields.values()):
        slot[field.a], slot[field.b], slot[field.e] = 3 * k, 3 * k + 1, 3 * k + 2
    finding_props: set[str] = set()
    for f, (p, n) in enumerate(comp.find_props):
        slot[p], slot[n] = 2 * f, 2 * f + 1
        finding_props.update((p, n))

    # Patterns per rule, packed into groups stratum by stratum.
    packed: list[list[tuple[int, _Form]]] = []
    strata_groups: list[list[int]] = []
    for members in program.strata:
        pieces = [
            (i, piece)
            for i in members
            for piece in comp.split(comp.formula(program.rules[i].when, True), program.rules[i].id)
        ]
        strata_groups.append(_pack(pieces, packed, program))

    total = sum(len(g) for g in packed)
    if total > _MAX_PATTERNS:
        raise EngineError(f"the program needs {total} durable rules; durable allows 4,096")

    base = max(1, math.isqrt(max(len(packed) - 1, 0)) + 1)
    definitions: dict[str, Any] = {"open": {"all": [{"m": {"k": _OPEN}}]}}
    actions: dict[str, int] = {}
    groups: list[_Group] = []
    rule_groups: list[list[int]] = [[] for _ in range(nrules)]
    for g, patterns in enumerate(packed):
        k, j = divmod(g, base)
        props: dict[str, None] = {}
        rules: dict[int, None] = {}
        for m, (i, piece) in enumerate(patterns):
            name = f"r{i}_{g}_{m}"
            definitions[name] = {"all": [{"m": _pattern(piece, k, j)}], "cap": _CAP}
            actions[name] = i
            _props(piece, props)
            rules[i] = None
        for i in rules:
            rule_groups[i].append(g)
        heads = [p for p in props if p not in finding_props]
        tails = [p for p in props if p in finding_props]
        groups.append(
            _Group(
                rules=tuple(rules),
                head=f'{{"k":{k},"j":{j}' + "".join(f',"{p}":%d' for p in heads),
                head_values=_getter([slot[p] for p in heads]),
                tail="".join(f',"{p}":%d' for p in tails),
                tail_values=_getter([slot[p] for p in tails]),
            )
        )

    strata: list[_Stratum] = []
    for members, mine in zip(program.strata, strata_groups, strict=True):
        readers: dict[int, list[int]] = {}
        for i in members:
            for name, _positive in findings_read(program.rules[i].when):
                read = comp.finding_ids.get(name)
                if read is not None and i not in readers.setdefault(read, []):
                    readers[read].append(i)
        strata.append(_Stratum(tuple(mine), {f: tuple(r) for f, r in readers.items()}))

    return _Plan(
        definitions=definitions,
        actions=actions,
        fields=tuple(comp.fields.values()),
        nfindings=len(program.findings),
        asserts=tuple(
            tuple(dict.fromkeys(comp.finding_ids[f] for f in rule.asserts))
            for rule in program.rules
        ),
        rank=tuple(rank),
        strata=tuple(strata),
        groups=tuple(groups),
        rule_groups=tuple(tuple(g) for g in rule_groups),
        nrules=nrules,
    )


# --------------------------------------------------------------------------- running


def _encode(plan: _Plan, facts: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """The field part of the pessimistic and optimistic value vectors."""
    pess: list[int] = []
    opt: list[int] = []
    for field in plan.fields:
        if field.name in facts:
            r = field.rank(facts[field.name])
            pess += (r, r, 1)
            opt += (r, r, 1)
        else:
            pess += (-1, field.top, 0)
            opt += (field.top, -1, 0)
    return pess, opt


_PESSIMISTIC = '"id":"t'
_OPTIMISTIC = '"id":"n'
"""How a matched fact shows in an action message: fact ids begin with their kind."""
_CAP = 10_000
"""Frames per action: every match of a durable rule in one batch comes as one message."""


class _State:
    """The value vectors of one assessment, kept up to date as findings change.

    ``fields`` and ``findings`` hold the pessimistic (index 0) and optimistic (index 1) values;
    ``heads`` caches each group's rendered head, which does not change during a run.
    """

    __slots__ = ("fields", "findings", "heads", "vals")

    def __init__(self, plan: _Plan, fields: tuple[list[int], list[int]]) -> None:
        self.fields = fields
        self.findings = ([0] * (2 * plan.nfindings), [0] * (2 * plan.nfindings))
        self.vals = [0] * plan.nfindings  # 0 FALSE, 1 possible, 2 asserted
        self.heads: dict[int, str] = {}

    def confirm(self, f: int) -> bool:
        """Mark finding ``f`` asserted; False if it already was."""
        if self.vals[f] == 2:
            return False
        self.vals[f] = 2
        pess, opt = self.findings
        pess[2 * f] = pess[2 * f + 1] = opt[2 * f] = opt[2 * f + 1] = 1
        return True

    def possible(self, f: int) -> bool:
        """Mark finding ``f`` possible; False if it was already asserted or possible."""
        if self.vals[f]:
            return False
        self.vals[f] = 1
        self.findings[0][2 * f + 1] = 1
        self.findings[1][2 * f] = 1
        return True

    def facts(self, plan: _Plan, groups: Iterable[int], kinds: str, ids: list[str]) -> str:
        """The JSON array of the groups' facts of the given kinds (``t``, ``n``); records ids.

        An empty string when there are no facts: durable must never see an empty batch (it
        answers with an uninitialised session offset, and using that offset crashes).
        """
        texts = []
        heads = self.heads
        for g in groups:
            group = plan.groups[g]
            for kind in kinds:
                index = kind == "n"
                key = 2 * g + index
                head = heads.get(key)
                if head is None:
                    head = heads[key] = group.head % group.head_values(self.fields[index])
                fid = f"{kind}{len(ids)}"
                ids.append(fid)
                tail = group.tail % group.tail_values(self.findings[index])
                texts.append(f'{head}{tail},"sid":"%s","id":"{fid}"}}')
        return "[" + ",".join(texts) + "]" if texts else ""


class _Session:
    """One durable session serving one assessment at a time.

    :meth:`match` asserts a round's facts in one batch and drains the resulting actions in the
    calling thread; the action of every durable rule records which program rule matched which
    kind of fact. :meth:`retract` withdraws the run's facts afterwards.
    """

    __slots__ = ("actions", "handle", "ids", "mod", "offset", "sid")

    def __init__(
        self, mod: Any, handle: int, actions: Mapping[str, int], sid: str, offset: int
    ) -> None:
        self.mod = mod
        self.handle = handle
        self.actions = actions
        self.sid = sid
        self.offset = offset
        """durable's index of this session's state, fixed for the session's life."""
        self.ids: list[str] = []

    @classmethod
    def open(cls, mod: Any, handle: int, actions: Mapping[str, int], sid: str) -> _Session:
        """Create a session by firing the sentinel rule (see the module docstring)."""
        fact = f'{{"id":"open","sid":"{sid}","k":{_OPEN}}}'
        try:
            code, offset = mod.assert_fact(handle, fact)
            if code != 0:
                raise EngineError("durable did not open a session")
            result = mod.start_action_for_state(handle, offset)
            while result is not None:
                result = mod.complete_and_start_action(handle, offset)
            mod.retract_fact(handle, fact)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"durable could not open a session: {exc}") from None
        return cls(mod, handle, actions, sid, offset)

    def match(self, batch: str) -> tuple[set[int], set[int]]:
        """Assert a batch (``%s`` left for the sid); the rules matched per kind of fact."""
        true: set[int] = set()
        maybe: set[int] = set()
        if not batch:
            return true, maybe
        mod, handle = self.mod, self.handle
        code, offset = mod.assert_facts(handle, batch.replace("%s", self.sid))
        if code == 2:
            raise EngineError("durable reported a fact as already observed")
        if offset != self.offset:  # never hand durable an offset it did not mean
            raise EngineError("durable answered for another session")
        actions = self.actions
        errors: list[str] = []
        result = mod.start_action_for_state(handle, offset)
        message: str | None = None if result is None else result[1]
        while message is not None:
            # One message per matched durable rule: ``cap`` batches all its frames (facts).
            try:
                rule = actions[message[2 : message.index('"', 2)]]
                hit = False
                if _PESSIMISTIC in message:
                    true.add(rule)
                    hit = True
                if _OPTIMISTIC in message:
                    maybe.add(rule)
                    hit = True
                if not hit:
                    raise ValueError("no fact of this run")
            except (ValueError, KeyError) as exc:
                errors.append(f"unexpected match message ({type(exc).__name__})")
            message = mod.complete_and_start_action(handle, offset)
        if errors:
            raise EngineError(f"durable actions failed: {errors[0]}")
        return true, maybe

    def retract(self) -> None:
        """Withdraw every fact asserted since the last retract."""
        if self.ids:
            sid = self.sid
            self.mod.retract_facts(
                self.handle,
                "[" + ",".join(f'{{"sid":"{sid}","id":"{i}"}}' for i in self.ids) + "]",
            )
            self.ids = []


def _evaluate(session: _Session, plan: _Plan, fields: tuple[list[int], list[int]]) -> Evaluation:
    """The semantics of :mod:`riskrules.engines._base`, with durable doing every match.

    Within a stratum, same-stratum findings are read positively only and finding values only
    grow, so a rule that matched stays matched: sets of matches simply accumulate.
    """
    state = _State(plan, fields)
    status = [0] * plan.nrules
    fired: list[int] = []
    ids = session.ids
    asserts, rank, rule_groups = plan.asserts, plan.rank, plan.rule_groups
    for stratum in plan.strata:
        if not stratum.groups:
            continue
        groups: Iterable[int] = stratum.groups
        unknown: set[int] = set()
        # Definite pass: each round matches both facts; the optimistic matches of the last
        # round are where the possible pass starts.
        while True:
            true, maybe = session.match(state.facts(plan, groups, "tn", ids))
            unknown |= maybe
            changed: list[int] = []
            for i in sorted((i for i in true if status[i] != 2), key=rank.__getitem__):
                status[i] = 2
                fired.append(i)
                changed += [f for f in asserts[i] if state.confirm(f)]
            again = _affected(stratum, changed, status)
            if not again:
                break
            groups = sorted({g for i in again for g in rule_groups[i]})
        # Possible pass: rules not FALSE make their findings possible, to a fixpoint.
        while True:
            changed = [
                f for i in unknown if status[i] != 2 for f in asserts[i] if state.possible(f)
            ]
            again = _affected(stratum, changed, status)
            if not again:
                break
            groups = sorted({g for i in again for g in rule_groups[i]})
            unknown |= session.match(state.facts(plan, groups, "n", ids))[1]
        for i in unknown:
            if status[i] != 2:
                status[i] = 1
    truths = _TRUTHS
    return Evaluation(fired=tuple(fired), status=tuple([truths[s] for s in status]))


def _affected(stratum: _Stratum, changed: list[int], status: list[int]) -> set[int]:
    """Rules of the stratum, not fired yet, that read a finding that just changed."""
    readers = stratum.readers
    return {i for f in changed for i in readers.get(f, ()) if status[i] != 2}


# --------------------------------------------------------------------------- engine


def _release(mod: Any, handle: int, sessions: list[_Session]) -> None:
    """Delete the pooled sessions, then the ruleset (run on close or garbage collection)."""
    for session in sessions:
        try:
            mod.delete_state(handle, session.sid)
        except Exception:  # nothing more can be done for a broken session
            continue
    sessions.clear()
    try:
        mod.delete_ruleset(handle)
    except Exception:  # pragma: no cover - only an invalid handle fails
        return


class DurableEngine:
    """A :class:`~riskrules.engines._base.Program` compiled to durable-rules; thread-safe.

    Build it with :func:`compile`; call :meth:`close` (or drop it) to release the native
    ruleset and its sessions.
    """

    name: ClassVar[str] = "durable"

    def __init__(self, program: Program) -> None:
        mod = _load_durable()
        plan = _plan(program)
        try:
            handle = mod.create_ruleset(
                f"riskrules{next(_session_ids)}", json.dumps(plan.definitions)
            )
        except Exception as exc:
            raise EngineError(f"durable could not compile the program: {exc}") from None
        self._mod = mod
        self._plan = plan
        self._handle: int = handle
        self._idle: list[_Session] = []
        self._live = 0
        self._busy = 0
        self._closed = False
        self._cond = threading.Condition()
        self._finalizer = weakref.finalize(self, _release, mod, handle, self._idle)
        logger.debug(
            "compiled %d rules to %d durable rules in %d groups",
            len(program.rules),
            len(plan.definitions) - 1,
            len(plan.groups),
        )

    @property
    def durable_rules(self) -> int:
        """How many durable rules the program compiled to (patterns plus the sentinel)."""
        return len(self._plan.definitions)

    def run(self, facts: Mapping[str, Any]) -> Evaluation:
        """Run one assessment's facts to the fixpoint; see :mod:`riskrules.engines._base`."""
        fields = _encode(self._plan, facts)
        session = self._acquire()
        ok = False
        try:
            result = _evaluate(session, self._plan, fields)
            session.retract()
            ok = True
            return result
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"durable failed: {type(exc).__name__}: {exc}") from None
        finally:
            self._give_back(session, ok)

    def close(self) -> None:
        """Wait for running assessments, then release the native ruleset and sessions."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            while self._busy:
                self._cond.wait()
        self._finalizer()

    def __enter__(self) -> DurableEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the session pool

    def _acquire(self) -> _Session:
        with self._cond:
            while True:
                if self._closed:
                    raise EngineError("the durable engine was closed and cannot score any more")
                if self._idle:
                    self._busy += 1
                    return self._idle.pop()
                if self._live < MAX_SESSIONS:
                    self._live += 1
                    self._busy += 1
                    break
                self._cond.wait()
        try:
            # A session that failed to open is left alone: deleting it could crash.
            return _Session.open(
                self._mod, self._handle, self._plan.actions, f"s{next(_session_ids)}"
            )
        except BaseException:
            with self._cond:
                self._live -= 1
                self._busy -= 1
                self._cond.notify_all()
            raise

    def _give_back(self, session: _Session, ok: bool) -> None:
        """Return a session to the pool; one that failed mid-run is deleted instead."""
        if not ok:
            with contextlib.suppress(Exception):  # the session is abandoned either way
                self._mod.delete_state(self._handle, session.sid)
        with self._cond:
            self._busy -= 1
            if ok:
                self._idle.append(session)
            else:
                self._live -= 1
            self._cond.notify_all()


def compile(program: Program) -> DurableEngine:
    """Compile ``program`` for durable-rules (EngineError if durable-rules is unavailable)."""
    return DurableEngine(program)


# --------------------------------------------------------------------------- baseline


def _direct_runner(program: Program) -> tuple[Callable[[Mapping[str, Any]], list[int]], Any]:
    """The same durable definitions driven directly, for the wrapper-overhead benchmark.

    Returns ``(run, close)``; ``run(facts)`` returns the fired rule indices. It issues the same
    durable calls as :class:`DurableEngine` (same facts, rounds and retraction) from one inline
    loop on one session, without the engine's session pool, locking, error translation or
    status bookkeeping. Not thread-safe; ``close()`` releases the ruleset.
    """
    mod = _load_durable()
    plan = _plan(program)
    handle = mod.create_ruleset(f"riskrules{next(_session_ids)}", json.dumps(plan.definitions))
    session = _Session.open(mod, handle, plan.actions, f"s{next(_session_ids)}")
    sid = session.sid
    assert_facts = mod.assert_facts
    start = mod.start_action_for_state
    complete = mod.complete_and_start_action
    actions, asserts, rank, rule_groups = plan.actions, plan.asserts, plan.rank, plan.rule_groups

    def drive(batch: str) -> tuple[set[int], set[int]]:
        true: set[int] = set()
        maybe: set[int] = set()
        if not batch:
            return true, maybe
        _, offset = assert_facts(handle, batch.replace("%s", sid))
        res = start(handle, offset)
        message = None if res is None else res[1]
        while message is not None:
            rule = actions[message[2 : message.index('"', 2)]]
            if _PESSIMISTIC in message:
                true.add(rule)
            if _OPTIMISTIC in message:
                maybe.add(rule)
            message = complete(handle, offset)
        return true, maybe

    def run(facts: Mapping[str, Any]) -> list[int]:
        state = _State(plan, _encode(plan, facts))
        done = [False] * plan.nrules
        fired: list[int] = []
        ids: list[str] = []
        for stratum in plan.strata:
            todo: Iterable[int] = stratum.groups
            unknown: set[int] = set()
            while todo:  # definite pass
                true, maybe = drive(state.facts(plan, todo, "tn", ids))
                unknown |= maybe
                changed = []
                for i in sorted((i for i in true if not done[i]), key=rank.__getitem__):
                    done[i] = True
                    fired.append(i)
                    changed += [f for f in asserts[i] if state.confirm(f)]
                again = {i for f in changed for i in stratum.readers.get(f, ()) if not done[i]}
                todo = sorted({g for i in again for g in rule_groups[i]})
            while True:  # possible pass
                changed = [
                    f for i in unknown if not done[i] for f in asserts[i] if state.possible(f)
                ]
                again = {i for f in changed for i in stratum.readers.get(f, ()) if not done[i]}
                if not again:
                    break
                todo = sorted({g for i in again for g in rule_groups[i]})
                unknown |= drive(state.facts(plan, todo, "n", ids))[1]
        mod.retract_facts(
            handle, "[" + ",".join(f'{{"sid":"{sid}","id":"{i}"}}' for i in ids) + "]"
        )
        return fired

    def close() -> None:
        _release(mod, handle, [session])

    return run, close
