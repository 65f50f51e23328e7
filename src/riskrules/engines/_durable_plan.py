"""Compiling a :class:`~riskrules.engines._base.Program` to durable rule definitions.

Each rule's condition is put in negation normal form over *literals* (integer comparisons on fact
properties, see :mod:`riskrules.engines._durable_fields`) joined by ``$and``/``$or``. Kleene logic
needs no second copy of the condition: in negation normal form a condition is TRUE exactly when it
holds with every unknown literal read as false, and not FALSE exactly when it holds with every
unknown literal read as true. So each round asserts two facts built from the same state, a
*pessimistic* one (``t``) and an *optimistic* one (``n``), and one pattern per rule tells both
answers. A finding read positively is ``p`` (1 = asserted, resp. asserted or possible), read
negatively ``n`` (0 = surely not asserted, resp. not asserted).

durable-rules 2.0.28 has hard limits that shape the rest, all measured: at most 15 ``$and``/``$or``
per pattern (error 113); a matching walk of at most 64 pending alpha nodes (error 303); at most 511
children per alpha node (more hangs); 4,096 rules per ruleset; 254 properties per fact. Conditions
are therefore split into several patterns when needed (any one matching means the rule matches),
``$or`` branches are made exclusive where that is cheap (a fact reaching a pattern through two
branches is matched twice), and patterns are packed into *groups*, each behind its own two-level
guard (``k``, ``j``) and fed its own fact. Matching a fact costs time in proportion to its number
of properties, so a group grows with the pattern that adds the fewest new ones. Every durable rule
has a large ``cap``, so all its matches in a batch arrive as one action message.

:func:`compile_plan` returns the :class:`Plan`: the definitions and the tables the evaluation
rounds (:mod:`riskrules.engines._durable_rounds`) read.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from riskrules.engines._base import Program
from riskrules.engines._durable_fields import Field, Names
from riskrules.engines._durable_forms import Builder, Form, Gate, Lit
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
    findings_read,
    walk,
)

__all__ = ["OPEN", "Group", "Plan", "Stratum", "compile_plan"]

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

OPEN = -1
"""Guard value of the sentinel fact that opens a session."""
_CAP = 10_000
"""Frames per action: every match of a durable rule in one batch comes as one message."""


@dataclass(frozen=True, slots=True)
class Group:
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
class Stratum:
    """The groups of one stratum and which of its rules read each finding."""

    groups: tuple[int, ...]
    readers: Mapping[int, tuple[int, ...]]
    """Finding index -> rules of this stratum that read it."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything compiled from a program; immutable, shared by all runs."""

    definitions: dict[str, Any]
    actions: Mapping[str, int]
    """durable rule name -> program rule index: the action of each durable rule."""
    fields: tuple[Field, ...]
    nfindings: int
    asserts: tuple[tuple[int, ...], ...]
    rank: tuple[int, ...]
    """Rule index -> position in firing order (sorting key for a round's firings)."""
    strata: tuple[Stratum, ...]
    groups: tuple[Group, ...]
    rule_groups: tuple[tuple[int, ...], ...]
    nrules: int


class _Compiler:
    """Turns a Program into durable rule definitions and run-time tables."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.names = Names()
        self.finding_ids = {name: k for k, name in enumerate(program.findings)}
        self.fields: dict[str, Field] = {}
        self.domains: dict[str, tuple[int, int]] = {"k": (-1, 1 << 20), "j": (0, 1 << 20)}
        self.find_props: list[tuple[str, str]] = []
        for k in range(len(program.findings)):
            p, n = self.names.new(f"p{k}"), self.names.new(f"n{k}")
            self.find_props.append((p, n))
            self.domains[p] = (0, 1)
            self.domains[n] = (0, 1)
        self._collect_fields()
        self.build = Builder(self.domains)

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
            field = Field(
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

    def rule_formula(self, index: int) -> Form:
        """The formula of rule ``index``'s condition; a condition too large names its rule."""
        rule = self.program.rules[index]
        try:
            return self.formula(rule.when, True)
        except EngineError as exc:
            raise EngineError(f"rule {rule.id!r}: {exc}") from None

    def formula(self, cond: Condition, positive: bool) -> Form:
        """The negation normal form of ``cond`` (or of ``not cond`` when not ``positive``)."""
        b = self.build
        if isinstance(cond, FieldLeaf):
            return self._field(cond, positive)
        if isinstance(cond, FindingLeaf):
            k = self.finding_ids.get(cond.finding)
            if k is None:  # never asserted: FALSE
                return not positive
            p, n = self.find_props[k]
            return Lit(p, "$eq", 1) if positive else Lit(n, "$eq", 0)
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

    def _at_least(self, n: int, parts: list[Form]) -> Form:
        """At least ``n`` of ``parts`` (monotone, so the same form serves both readings).

        ``at(k, i)``, at least ``k`` of ``rest[i:]``, is ``rest[i] and at(k-1, i+1)`` or
        ``at(k, i+1)``. It is evaluated with an explicit stack, in the order a recursive
        evaluation would take, so that a long list of conditions cannot exhaust Python's stack.
        """
        n -= sum(1 for p in parts if p is True)
        rest = [p for p in parts if not isinstance(p, bool)]
        b = self.build
        memo: dict[tuple[int, int], Form] = {}
        budget = _MAX_FORM_SIZE

        def known(k: int, i: int) -> Form | None:
            """``at(k, i)`` when it is a base case or already built, else None."""
            if k <= 0:
                return True
            left = len(rest) - i
            if k > left:
                return False
            if k == left:
                return b.and_(rest[i:])
            if k == 1:
                return b.or_(rest[i:])
            return memo.get((k, i))

        top = known(n, 0)
        if top is not None:
            return top
        stack: list[list[Any]] = [[n, 0, None]]  # k, i, and the built "rest[i] and ..." part
        while True:
            frame = stack[-1]
            k, i = frame[0], frame[1]
            if frame[2] is None:
                x = known(k - 1, i + 1)
                if x is None:
                    stack.append([k - 1, i + 1, None])
                    continue
                frame[2] = b.and_([rest[i], x])
            z = known(k, i + 1)
            if z is None:
                stack.append([k, i + 1, None])
                continue
            form = b.or_([frame[2], z])
            budget -= form.size if isinstance(form, Gate) else 1
            if budget < 0:
                raise EngineError("an at_least condition is too large for the durable engine")
            memo[(k, i)] = form
            stack.pop()
            if not stack:
                return form

    def _field(self, leaf: FieldLeaf, positive: bool) -> Form:
        field = self.fields[leaf.field]
        op = leaf.op
        if op in ("present", "absent"):
            return Lit(field.e, "$eq", int((op == "present") == positive))
        value = leaf.value
        ranks = [field.const_rank(v) for v in (value if isinstance(value, tuple) else (value,))]
        b = self.build
        a_, b_ = field.a, field.b
        if op == "between":
            lo, hi = ranks
            if positive:
                return b.and_([Lit(a_, "$gte", lo), Lit(b_, "$lte", hi)])
            # the second branch requires a present value, so a missing one matches once
            return b.or_([Lit(b_, "$lt", lo), b.and_([Lit(a_, "$gt", hi), Lit(b_, "$gte", 0)])])
        if op in ("in", "not_in"):
            return self._members(field, ranks, equal=(op == "in") == positive)
        r = ranks[0]
        if op == "eq" or op == "ne":
            return self._members(field, [r], equal=(op == "eq") == positive)
        flip = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}
        if not positive:
            op = flip[op]
        if op in ("gt", "gte"):
            return Lit(a_, "$" + op, r)
        return Lit(b_, "$" + op, r)

    def _members(self, field: Field, ranks: list[int], *, equal: bool) -> Form:
        """``x`` equals one of ``ranks`` (``equal``) or none of them, as literals on a and b.

        Present ``x`` has ``a == b == rank``; missing ``x`` fails every literal pessimistically
        and passes every literal optimistically. Disjuncts after the first also require
        ``b >= 0`` so that an optimistic missing value matches only once.
        """
        b = self.build
        if not equal:
            return b.and_([Lit(field.a, "$gte", 0)] + [Lit(field.a, "$neq", r) for r in ranks])
        spans: list[list[int]] = []
        step = 2 if field.kind == "numeric" else 1  # numeric values fall between constants
        for r in sorted(set(ranks)):
            if spans and step == 1 and r == spans[-1][1] + 1:
                spans[-1][1] = r
            else:
                spans.append([r, r])
        disjuncts: list[Form] = []
        for i, (lo, hi) in enumerate(spans):
            parts: list[Form] = [Lit(field.a, "$gte", lo), Lit(field.b, "$lte", hi)]
            if i:
                parts.append(Lit(field.b, "$gte", 0))
            disjuncts.append(b.and_(parts))
        return b.or_(disjuncts)

    def split(self, form: Form, rule_id: str) -> list[Form]:
        """Patterns whose disjunction is ``form``, each within durable's limits."""
        out: list[Form] = []
        stack = [form]
        while stack:
            f = stack.pop()
            if f is False:
                continue
            if not isinstance(f, Gate) or _fits(f):
                out.append(f)
            elif f.op == "$or":
                stack.extend(reversed(f.parts))
            else:
                ors = [p for p in f.parts if isinstance(p, Gate) and p.op == "$or"]
                pick = max(ors, key=lambda g: (g.branches + g.conn, g.size))
                others = [p for p in f.parts if p is not pick]
                stack.extend(reversed([self.build.and_([*others, p]) for p in pick.parts]))
            if len(out) > _MAX_PATTERNS_PER_RULE:
                raise EngineError(f"the condition of rule {rule_id!r} is too large for durable")
        return out


def _fits(g: Gate) -> bool:
    """Whether ``g`` makes one pattern: a top ``$and`` merges into the pattern's guard ``$and``."""
    connectives = 1 + (g.conn - 1 if g.op == "$and" else g.conn)
    return connectives < _MAX_CONNECTIVES and g.branches <= _MAX_BRANCHES and g.paths <= _MAX_PATHS


def _props(form: Form, into: dict[str, None]) -> None:
    if isinstance(form, Lit):
        into[form.prop] = None
    elif isinstance(form, Gate):
        for part in form.parts:
            _props(part, into)


def _cost(form: Form) -> int:
    return 1 + (form.branches if isinstance(form, Gate) else 0)


def _json(form: Form) -> Any:
    if isinstance(form, Lit):
        if form.op == "$eq":
            return {form.prop: form.value}
        return {form.op: {form.prop: form.value}}
    assert isinstance(form, Gate)
    return {form.op: [_json(p) for p in form.parts]}


def _pattern(form: Form, k: int, j: int) -> dict[str, Any]:
    guards: list[Any] = [{"k": k}, {"j": j}]
    if form is True:
        return {"$and": guards}
    if isinstance(form, Gate) and form.op == "$and":
        return {"$and": guards + [_json(p) for p in form.parts]}
    return {"$and": [*guards, _json(form)]}


def _pack(
    pieces: list[tuple[int, Form]], packed: list[list[tuple[int, Form]]], program: Program
) -> list[int]:
    """Append groups of ``pieces`` to ``packed``; return the new group indices.

    A group grows with the pattern that adds the fewest new properties to its fact (then the
    earliest), within the stack, pattern and property budgets: the cost of matching a fact in
    durable grows with its number of properties.
    """
    items: list[tuple[int, Form, frozenset[str], int]] = []
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
    """The values at ``slots`` of a value vector, as a tuple (for a ``%d`` template)."""
    if not slots:
        return lambda values: ()
    if len(slots) == 1:
        (slot,) = slots

        def one(values: Sequence[int]) -> tuple[int, ...]:
            return (values[slot],)

        return one
    return operator.itemgetter(*slots)


def compile_plan(program: Program) -> Plan:
    """Compile ``program``: formulas, patterns, groups, guards and fact templates."""
    comp = _Compiler(program)
    rank = _firing_rank(program)
    # Patterns per rule, packed into groups stratum by stratum.
    packed: list[list[tuple[int, Form]]] = []
    strata_groups: list[list[int]] = []
    for members in program.strata:
        pieces = [
            (i, piece)
            for i in members
            for piece in comp.split(comp.rule_formula(i), program.rules[i].id)
        ]
        strata_groups.append(_pack(pieces, packed, program))
    total = sum(len(g) for g in packed)
    if total > _MAX_PATTERNS:
        raise EngineError(f"the program needs {total} durable rules; durable allows 4,096")
    definitions, actions, groups, rule_groups = _definitions(comp, packed)
    return Plan(
        definitions=definitions,
        actions=actions,
        fields=tuple(comp.fields.values()),
        nfindings=len(program.findings),
        asserts=tuple(
            tuple(dict.fromkeys(comp.finding_ids[f] for f in rule.asserts))
            for rule in program.rules
        ),
        rank=rank,
        strata=_strata(comp, strata_groups),
        groups=groups,
        rule_groups=rule_groups,
        nrules=len(program.rules),
    )


def _firing_rank(program: Program) -> tuple[int, ...]:
    """Rule index -> position in firing order; EngineError unless the strata list every rule
    exactly once."""
    nrules = len(program.rules)
    order = [i for stratum in program.strata for i in stratum]
    if sorted(order) != list(range(nrules)):
        raise EngineError("program strata do not list every rule exactly once")
    rank = [0] * nrules
    for position, i in enumerate(order):
        rank[i] = position
    return tuple(rank)


def _slots(comp: _Compiler) -> tuple[dict[str, int], set[str]]:
    """Each property's index in its value vector, and the properties of findings.

    Field vectors hold (a, b, e) per field; finding vectors hold (p, n) per finding.
    """
    slot: dict[str, int] = {}
    for k, field in enumerate(comp.fields.values()):
        slot[field.a], slot[field.b], slot[field.e] = 3 * k, 3 * k + 1, 3 * k + 2
    finding_props: set[str] = set()
    for f, (p, n) in enumerate(comp.find_props):
        slot[p], slot[n] = 2 * f, 2 * f + 1
        finding_props.update((p, n))
    return slot, finding_props


def _definitions(
    comp: _Compiler, packed: list[list[tuple[int, Form]]]
) -> tuple[dict[str, Any], dict[str, int], tuple[Group, ...], tuple[tuple[int, ...], ...]]:
    """The durable definitions (sentinel first), their actions, the groups with their guards
    and fact templates, and the groups of each rule."""
    slot, finding_props = _slots(comp)
    base = max(1, math.isqrt(max(len(packed) - 1, 0)) + 1)
    definitions: dict[str, Any] = {"open": {"all": [{"m": {"k": OPEN}}]}}
    actions: dict[str, int] = {}
    groups: list[Group] = []
    rule_groups: list[list[int]] = [[] for _ in comp.program.rules]
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
            Group(
                rules=tuple(rules),
                head=f'{{"k":{k},"j":{j}' + "".join(f',"{p}":%d' for p in heads),
                head_values=_getter([slot[p] for p in heads]),
                tail="".join(f',"{p}":%d' for p in tails),
                tail_values=_getter([slot[p] for p in tails]),
            )
        )
    return definitions, actions, tuple(groups), tuple(tuple(g) for g in rule_groups)


def _strata(comp: _Compiler, strata_groups: list[list[int]]) -> tuple[Stratum, ...]:
    """Each stratum's groups and, per finding, the rules of the stratum that read it."""
    program = comp.program
    strata: list[Stratum] = []
    for members, mine in zip(program.strata, strata_groups, strict=True):
        readers: dict[int, list[int]] = {}
        for i in members:
            for name, _positive in findings_read(program.rules[i].when):
                read = comp.finding_ids.get(name)
                if read is not None and i not in readers.setdefault(read, []):
                    readers[read].append(i)
        strata.append(Stratum(tuple(mine), {f: tuple(r) for f, r in readers.items()}))
    return tuple(strata)
