"""Static analysis of a ruleset: mistakes that load fine but make rules, levels or protocols dead.

:func:`lint` returns :class:`Diagnostic` objects, each with a stable code (see :data:`CHECKS` and
``docs/lint.md``), a severity and the place in the YAML where the defect was written.

The analysis is sound in one direction: it claims that something can never happen (a rule never
fires, a level is never reached) only when that holds for every assessment that fits the declared
inputs and for every parameter value the parameters' bounds allow. When it cannot tell, it says
nothing. Conditions are checked by a small search over the Kleene semantics of
:mod:`riskrules.conditions`: each input is present or absent, a present value lies in its declared
domain (intervals for numbers, value sets for integers with ``values``, enums and booleans), and
a finding may take any truth value unless no rule that can fire asserts it.

>>> from riskrules import Ruleset
>>> rs = Ruleset.model_validate({
...     "ruleset": "demo", "version": "1", "title": "Demo",
...     "inputs": {"x": {"type": "integer", "min": 0, "max": 50}},
...     "hazards": {"h": {"title": "H", "bands": {"low": 0, "high": 1}}},
...     "rules": [{"id": "r", "hazard": "h", "when": {"field": "x", "gt": 50},
...                "then": {"points": 1}, "because": "x above 50"}],
... })
>>> [(d.code, d.severity, d.rule_id) for d in lint(rs)][:1]
[('RR103', 'error', 'r')]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from os import PathLike
from typing import Any, Literal, TypeAlias

import networkx as nx

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
    Truth,
    findings_read,
    leaf_test,
    params_used,
    walk,
)
from riskrules.ruleset._loader import load_ruleset, source_location
from riskrules.ruleset._safeyaml import format_path
from riskrules.ruleset._spec import Input, Ruleset, did_you_mean

__all__ = ["CHECKS", "Diagnostic", "Severity", "lint"]

Severity: TypeAlias = Literal["error", "warning"]
Loc: TypeAlias = tuple[str | int, ...]

CHECKS: Mapping[str, tuple[Severity, str]] = {
    "RR101": ("error", "rule can never fire: it needs a finding that no rule can assert"),
    "RR102": ("warning", "test of a finding that no rule can assert is constant"),
    "RR103": ("error", "rule can never fire: its conditions contradict each other or the bounds"),
    "RR104": ("warning", "field test that can never hold given the input's declared domain"),
    "RR105": ("warning", "rule fires on every assessment"),
    "RR201": ("error", "finding read under `not` inside its own dependency cycle"),
    "RR202": ("warning", "positive dependency cycle between findings"),
    "RR301": ("warning", "finding asserted but never read"),
    "RR302": ("warning", "input declared but never read"),
    "RR303": ("warning", "parameter declared but never used"),
    "RR304": ("warning", "protocol declared but never named by a rule or hazard"),
    "RR305": ("warning", "reference declared but never cited"),
    "RR401": ("warning", "duplicate rules: equivalent conditions in the same hazard"),
    "RR402": ("warning", "level unreachable: no achievable score lands in its band"),
    "RR403": ("warning", "top band unreachable: the hazard's maximum score is below it"),
    "RR404": ("warning", "protocol that nothing can recommend"),
}
"""Every lint code: its severity and a one-line summary (``docs/lint.md`` explains each)."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One lint finding, located where the defect was written.

    ``file``, ``line`` and ``column`` (1-based) are None when the ruleset was not loaded from
    YAML; ``path`` is the YAML path (``rules[3].when.all[1]``) either way.
    """

    code: str
    severity: Severity
    message: str
    rule_id: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str = ""

    @property
    def location(self) -> str:
        """``file:line:col``, or ``<ruleset>:path`` for a ruleset not loaded from YAML."""
        if self.file is None or self.line is None:
            where = self.file or "<ruleset>"
            return f"{where}:{self.path}" if self.path else where
        return f"{self.file}:{self.line}:{self.column or 1}"

    def __str__(self) -> str:
        return f"{self.location} {self.code} {self.severity} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The diagnostic as plain JSON-ready data."""
        return asdict(self)

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        """Order by file, line, column and code (then path and message, for ties)."""
        return (
            self.file or "",
            self.line or 0,
            self.column or 0,
            self.code,
            self.path,
            self.message,
        )


def lint(ruleset: Ruleset | str | PathLike[str]) -> list[Diagnostic]:
    """Check a ruleset for rules, findings, levels and protocols that are dead or unused.

    ``ruleset`` is a :class:`Ruleset` or anything :func:`riskrules.load_ruleset` accepts (a
    loading problem raises RulesetError). Diagnostics are sorted by file, line, column and code.
    """
    return _Linter(load_ruleset(ruleset)).run()


# --------------------------------------------------------------------------- value domains

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


def _intersect(a: Domain, b: Domain, integer: bool) -> Domain:
    if isinstance(a, frozenset):
        assert isinstance(b, frozenset)
        return a & b
    assert not isinstance(b, frozenset)
    return _intersect_spans(a, b, integer)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _declared(spec: Input) -> Domain:
    """Every value a present input may take."""
    if spec.type == "boolean":
        return frozenset({True, False})
    if spec.values is not None:
        return frozenset(spec.values)
    lo = -_INF if spec.min is None else spec.min
    hi = _INF if spec.max is None else spec.max
    return ((lo, not math.isinf(lo), hi, not math.isinf(hi)),)


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


def _fmt(value: float) -> str:
    """A number as a ruleset author wrote it: ``10`` rather than ``10.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _span(lo: float, lo_closed: bool, hi: float, hi_closed: bool) -> Span:
    return (lo, lo_closed and not math.isinf(lo), hi, hi_closed and not math.isinf(hi))


def _without(value: float) -> Spans:
    return (_span(-_INF, False, value, False), _span(value, False, _INF, False))


class _LeafDomains:
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
        declared = _declared(spec)
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
        if _is_number(operand):
            return operand, operand
        return None

    def _spans(self, op: str, operands: tuple[Any, ...]) -> tuple[Spans, Spans]:
        if op in ("in", "not_in"):
            members = sorted({v for v in operands if _is_number(v)})
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


# --------------------------------------------------------------------------- satisfiability

Truths: TypeAlias = frozenset[Truth]

_T: Truths = frozenset({Truth.TRUE})
_F: Truths = frozenset({Truth.FALSE})
_U: Truths = frozenset({Truth.UNKNOWN})
_TU: Truths = _T | _U
_FU: Truths = _F | _U
_TF: Truths = _T | _F
_ANY: Truths = frozenset(Truth)

_MAX_STEPS = 20_000
"""Search steps per question; past it the answer is "possible" (the analysis stays silent)."""
_MAX_COMBINATIONS = 64
"""``at_least`` branches tried before the node is treated as unconstrained."""


def _negate(truths: Truths) -> Truths:
    return frozenset(t.negate() for t in truths)


@dataclass(frozen=True, slots=True)
class _Commit:
    """A search step: the field is present (with a value in ``domain``) or absent."""

    field: str
    present: bool
    domain: Domain | None


@dataclass(frozen=True, slots=True)
class _Choice:
    """A search step: the goals of one of the alternatives must all hold."""

    alternatives: tuple[tuple[Goal, ...], ...]


Goal: TypeAlias = "tuple[Condition, Truths] | _Commit | _Choice"
"""A condition that must take a value in a set of truth values, or a pending step."""


class _Unsure(Exception):
    """The search ran out of budget."""


@dataclass(slots=True)
class _Store:
    """What one branch of the search has committed to so far."""

    present: dict[str, bool]
    values: dict[str, Domain]
    findings: dict[str, Truths]

    def copy(self) -> _Store:
        return _Store(dict(self.present), dict(self.values), dict(self.findings))


def _all_alternatives(children: Sequence[Condition], allowed: Truths) -> list[list[Goal]]:
    """Ways for ``all`` (the Kleene minimum) of ``children`` to take a value in ``allowed``."""
    if allowed == _TU:
        return [[(c, _TU) for c in children]]
    if allowed == _FU:
        return [[(c, _FU)] for c in children]
    alternatives: list[list[Goal]] = []
    if Truth.TRUE in allowed:
        alternatives.append([(c, _T) for c in children])
    if Truth.FALSE in allowed:
        alternatives.extend([(c, _F)] for c in children)
    if Truth.UNKNOWN in allowed:
        for i, child in enumerate(children):
            rest: list[Goal] = [(c, _TU) for j, c in enumerate(children) if j != i]
            alternatives.append([*rest, (child, _U)])
    return alternatives


def _at_least_alternatives(
    n: int, children: Sequence[Condition], allowed: Truths
) -> list[list[Goal]]:
    """Ways for ``at_least n`` of ``children`` to take a value in ``allowed``.

    Where the exact answer would be costly this over-approximates (more ways than there are),
    which can only make the analysis quieter, never wrong.
    """
    k = len(children)
    if allowed == _FU:  # fewer than n true: at least k - n + 1 not true
        parts = [(k - n + 1, _FU)]
    elif allowed in (_TU, _U):  # not false: at least n not false
        parts = [(n, _TU)]
    else:
        parts = []
        if Truth.TRUE in allowed:
            parts.append((n, _T))
        if Truth.FALSE in allowed:
            parts.append((k - n + 1, _F))
    alternatives: list[list[Goal]] = []
    for size, truths in parts:
        if math.comb(k, size) > _MAX_COMBINATIONS:
            return [[]]
        alternatives.extend(
            [(c, truths) for c in combo] for combo in itertools.combinations(children, size)
        )
    return alternatives


class _Solver:
    """Decides whether a condition can take one of a set of truth values.

    Depth-first search: the goals that leave no choice are applied first (narrowing each
    input's presence and values, and each finding's truth values), then the search branches on
    the first choice left. A branch fails as soon as an input must be both present and absent,
    its values run out, or a finding has no truth value left.
    """

    def __init__(self, ruleset: Ruleset, domains: _LeafDomains) -> None:
        self._inputs = ruleset.inputs
        self._domains = domains
        self._steps = 0

    def possible(self, cond: Condition, allowed: Truths, findings: Mapping[str, Truths]) -> bool:
        """Whether some assessment gives ``cond`` a value in ``allowed``, each finding taking a
        truth value in ``findings`` (any value when not listed)."""
        self._steps = 0
        try:
            return self._search([(cond, allowed)], _Store({}, {}, dict(findings)))
        except (_Unsure, RecursionError):
            return True

    def _search(self, goals: list[Goal], store: _Store) -> bool:
        pending = list(goals)
        store = store.copy()
        choices: list[_Choice] = []
        while pending:
            self._steps += 1
            if self._steps > _MAX_STEPS:
                raise _Unsure
            goal = pending.pop()
            if isinstance(goal, _Choice):
                choices.append(goal)
                continue
            if isinstance(goal, _Commit):
                if not self._commit(store, goal):
                    return False
                continue
            node, allowed = goal
            if not allowed:
                return False
            if allowed == _ANY:
                continue
            alternatives = self._expand(node, allowed, store)
            if not alternatives:
                return False
            if len(alternatives) == 1:
                pending.extend(alternatives[0])
            else:
                choices.append(_Choice(tuple(tuple(alt) for alt in alternatives)))
        if not choices:
            return True
        first, rest = choices[0], choices[1:]
        return any(self._search([*alt, *rest], store) for alt in first.alternatives)

    def _expand(self, node: Condition, allowed: Truths, store: _Store) -> list[list[Goal]]:
        """The alternatives for ``node`` to take a value in ``allowed``; [] when it cannot."""
        if isinstance(node, FieldLeaf):
            return [
                [_Commit(node.field, present, domain)]
                for present, domain in self._field_options(node, allowed)
            ]
        if isinstance(node, FindingLeaf):
            narrowed = store.findings.get(node.finding, _ANY) & allowed
            if not narrowed:
                return []
            store.findings[node.finding] = narrowed
            return [[]]
        if isinstance(node, Not):
            return [[(node.not_, _negate(allowed))]]
        if isinstance(node, All):
            return _all_alternatives(node.all, allowed)
        if isinstance(node, AnyOf):
            # any(cs) = not all(not c): take the dual's alternatives and negate them back
            return [
                [(goal[0], _negate(goal[1])) for goal in alt if isinstance(goal, tuple)]
                for alt in _all_alternatives(node.any, _negate(allowed))
            ]
        assert isinstance(node, AtLeast)
        return _at_least_alternatives(node.at_least.n, node.at_least.of, allowed)

    def _field_options(self, leaf: FieldLeaf, allowed: Truths) -> list[tuple[bool, Domain | None]]:
        """``(present, values)`` choices that give ``leaf`` a value in ``allowed``."""
        if leaf.op in ("present", "absent"):
            holds, fails = Truth.TRUE in allowed, Truth.FALSE in allowed
            when_present, when_absent = (holds, fails) if leaf.op == "present" else (fails, holds)
            return [(p, None) for p, ok in ((True, when_present), (False, when_absent)) if ok]
        options: list[tuple[bool, Domain | None]] = []
        if allowed >= _TF:
            options.append((True, None))
        elif Truth.TRUE in allowed or Truth.FALSE in allowed:
            holds_set, fails_set = self._domains.of(leaf)
            chosen = holds_set if Truth.TRUE in allowed else fails_set
            if chosen:
                options.append((True, chosen))
        if Truth.UNKNOWN in allowed:  # a value test on a missing input is unknown
            options.append((False, None))
        return options

    def _commit(self, store: _Store, step: _Commit) -> bool:
        if store.present.setdefault(step.field, step.present) != step.present:
            return False
        if step.domain is None:
            return True
        spec = self._inputs[step.field]
        current = store.values.get(step.field)
        if current is None:
            current = _declared(spec)
        narrowed = _intersect(current, step.domain, spec.type == "integer")
        store.values[step.field] = narrowed
        return bool(narrowed)


# --------------------------------------------------------------------------- canonical conditions


def _norm(value: Any) -> Any:
    if isinstance(value, ParamRef):
        return ("param", value.param)
    if isinstance(value, bool):
        return ("bool", value)
    if _is_number(value):
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


# --------------------------------------------------------------------------- checks


_SLACK = 1e-9
"""When a score cannot be computed exactly in floating point, scores within this of a band's
edges count as inside the band: a doubtful level counts as reachable."""


def _subset_sums(points: Iterable[float], limit: int = 4096) -> set[Fraction] | None:
    """Every total a subset of ``points`` can reach, exactly; None when there are too many."""
    sums: set[Fraction] = {Fraction(0)}
    for p in points:
        if p:
            sums |= {s + Fraction(p) for s in sums}
            if len(sums) > limit:
                return None
    return sums


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)


class _Linter:
    """One lint run over one ruleset; the checks append to ``found``."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.rs = ruleset
        self.found: list[Diagnostic] = []
        self.domains = _LeafDomains(ruleset)
        self.solver = _Solver(ruleset, self.domains)
        self.asserters: dict[str, list[int]] = {}
        for i, rule in enumerate(ruleset.rules):
            for finding in dict.fromkeys(rule.then.assert_):
                self.asserters.setdefault(finding, []).append(i)
        self.reads: list[list[tuple[str, bool, Loc]]] = [
            [
                (node.finding, positive, ("rules", i, "when", *path))
                for node, path, positive in walk(rule.when)
                if isinstance(node, FindingLeaf)
            ]
            for i, rule in enumerate(ruleset.rules)
        ]
        self.contradictory: set[int] = set()
        self.dead: set[int] = set()
        self.status: dict[str, Truths] = {}

    def emit(self, code: str, loc: Loc, message: str, rule_id: str | None = None) -> None:
        where = source_location(self.rs, loc)
        if where is None:
            file, line, column, path = None, None, None, format_path(loc)
        else:
            file, line, column, path = where
        self.found.append(
            Diagnostic(code, CHECKS[code][0], message, rule_id, file, line, column, path)
        )

    def run(self) -> list[Diagnostic]:
        self.check_cycles()
        self.check_rules()
        self.check_unused()
        self.check_duplicates()
        self.check_levels_and_protocols()
        return sorted(set(self.found), key=Diagnostic.sort_key)

    # -- dependency cycles

    def check_cycles(self) -> None:
        rules = self.rs.rules
        graph: nx.DiGraph[int] = nx.DiGraph()
        graph.add_nodes_from(range(len(rules)))
        for i, reads in enumerate(self.reads):
            for finding, _, _ in reads:
                for j in self.asserters.get(finding, ()):
                    graph.add_edge(j, i)
        components = sorted(sorted(c) for c in nx.strongly_connected_components(graph))
        for members in components:
            if len(members) == 1 and not graph.has_edge(members[0], members[0]):
                continue
            inside = set(members)
            ids = _quoted(rules[i].id for i in members)
            cyclic: list[tuple[int, str, bool, Loc]] = [
                (i, finding, positive, loc)
                for i in members
                for finding, positive, loc in self.reads[i]
                if inside.intersection(self.asserters.get(finding, ()))
            ]
            negative = [item for item in cyclic if not item[2]]
            seen: set[tuple[int, str]] = set()
            for i, finding, _, loc in negative:
                if (i, finding) in seen:
                    continue
                seen.add((i, finding))
                self.emit(
                    "RR201",
                    loc,
                    f"rule {rules[i].id!r} reads finding {finding!r} under `not`, but the finding "
                    f"depends on this rule's own result through the cycle of rules {ids}: the "
                    "ruleset cannot be stratified, so it cannot be scored; break the cycle",
                    rules[i].id,
                )
            if not negative and cyclic:
                i, _, _, loc = cyclic[0]
                findings = sorted({f for _, f, _, _ in cyclic})
                self.emit(
                    "RR202",
                    loc,
                    f"findings {_quoted(findings)} depend on one another in a cycle through rules "
                    f"{ids}: no rule in it fires from the cycle alone, and the cycle makes the "
                    "rules hard to follow; check that it is intended",
                    rules[i].id,
                )

    # -- rules that can never fire, constant tests, rules that always fire

    def check_rules(self) -> None:
        rules = self.rs.rules
        for i, rule in enumerate(rules):
            if not self.solver.possible(rule.when, _T, {}):
                self.contradictory.add(i)
        dead = set(self.contradictory)
        read = {finding for reads in self.reads for finding, _, _ in reads}
        while True:
            status = {
                f: (
                    _ANY
                    if any(j not in dead for j in self.asserters.get(f, ()))
                    else (_FU if f in self.asserters else _F)
                )
                for f in read | set(self.asserters)
            }
            newly = {
                i
                for i, rule in enumerate(rules)
                if i not in dead and not self.solver.possible(rule.when, _T, status)
            }
            if not newly:
                break
            dead |= newly
        self.dead, self.status = dead, status
        for i, rule in enumerate(rules):
            if i in self.contradictory:
                self.report_contradiction(i)
            elif i in dead:
                self.report_missing_findings(i)
            else:
                self.report_constant_findings(i)
                self.report_impossible_tests(i)
                if not self.solver.possible(rule.when, _FU, status):
                    self.emit(
                        "RR105",
                        ("rules", i, "when"),
                        f"rule {rule.id!r} fires on every assessment, even an empty one: its "
                        "condition is always true",
                        rule.id,
                    )

    def which(self, finding: str) -> str:
        """``finding 'x', which no rule asserts`` (or which only dead rules assert)."""
        asserters = [j for j in self.asserters.get(finding, ()) if j in self.dead]
        if not asserters:
            hint = did_you_mean(finding, sorted(self.asserters))
            return f"finding {finding!r}, which no rule asserts{hint}"
        ids = _quoted(self.rs.rules[j].id for j in asserters)
        return f"finding {finding!r}, which only rules that can never fire assert ({ids})"

    def impossible_tests(self, i: int) -> Iterator[tuple[FieldLeaf, bool, Loc]]:
        """Field tests of rule ``i`` that can never take the value the rule needs from them."""
        for node, path, positive in walk(self.rs.rules[i].when):
            if isinstance(node, FieldLeaf) and node.op not in ("present", "absent"):
                holds, fails = self.domains.of(node)
                if not (holds if positive else fails):
                    yield node, positive, ("rules", i, "when", *path, node.op)

    def explain_test(self, leaf: FieldLeaf, positive: bool) -> str:
        described = _describe(self.rs.inputs[leaf.field])
        if positive:
            return f"{leaf.field!r} is {described}, so {_show_leaf(leaf)} can never hold"
        return (
            f"{leaf.field!r} is {described}, so {_show_leaf(leaf)} always holds when it is "
            "assessed and the `not` around it can never hold"
        )

    def report_contradiction(self, i: int) -> None:
        rule = self.rs.rules[i]
        for leaf, positive, loc in self.impossible_tests(i):
            self.emit(
                "RR103",
                loc,
                f"rule {rule.id!r} can never fire: {self.explain_test(leaf, positive)}",
                rule.id,
            )
            return
        fields = sorted(
            {node.field for node, _, _ in walk(rule.when) if isinstance(node, FieldLeaf)}
        )
        self.emit(
            "RR103",
            ("rules", i, "when"),
            f"rule {rule.id!r} can never fire: its tests of {_quoted(fields)} contradict each "
            "other or the inputs' declared values",
            rule.id,
        )

    def report_missing_findings(self, i: int) -> None:
        rule = self.rs.rules[i]
        needed: dict[str, Loc] = {}
        for finding, positive, loc in self.reads[i]:
            if positive and Truth.TRUE not in self.status[finding]:
                needed.setdefault(finding, loc)
        if not needed:  # pragma: no cover - a rule dead by findings needs one of them
            needed[""] = ("rules", i, "when")
        reasons = "; and ".join(self.which(f) for f in needed if f)
        self.emit(
            "RR101",
            next(iter(needed.values())),
            f"rule {rule.id!r} can never fire: it needs {reasons}",
            rule.id,
        )

    def report_constant_findings(self, i: int) -> None:
        rule = self.rs.rules[i]
        seen: set[tuple[str, bool]] = set()
        for finding, positive, loc in self.reads[i]:
            status = self.status[finding]
            if Truth.TRUE in status or (finding, positive) in seen:
                continue
            seen.add((finding, positive))
            never_asserted = status == _F
            if positive:
                effect = "always false" if never_asserted else "never true"
                text = f"this test is {effect}"
            else:
                effect = "always true" if never_asserted else "never false"
                text = f"read under `not`, this test is {effect}"
            self.emit(
                "RR102",
                loc,
                f"rule {rule.id!r} reads {self.which(finding)}; {text}",
                rule.id,
            )

    def report_impossible_tests(self, i: int) -> None:
        rule = self.rs.rules[i]
        for leaf, positive, loc in self.impossible_tests(i):
            self.emit(
                "RR104",
                loc,
                f"in rule {rule.id!r}, {self.explain_test(leaf, positive)}",
                rule.id,
            )

    # -- declared but unused

    def check_unused(self) -> None:
        rs = self.rs
        read = {finding for reads in self.reads for finding, _, _ in reads}
        expected = {
            f
            for scenario in rs.tests
            for f in (*scenario.expect.findings, *scenario.expect.not_findings)
        }
        for prop in rs.properties:
            if prop.bounded is not None and prop.bounded.unless is not None:
                expected.update(f for f, _ in findings_read(prop.bounded.unless))
        for finding, asserters in sorted(self.asserters.items(), key=lambda item: item[1][0]):
            if finding in read or finding in expected:
                continue
            first = asserters[0]
            rule = rs.rules[first]
            self.emit(
                "RR301",
                ("rules", first, "then", "assert", rule.then.assert_.index(finding)),
                f"finding {finding!r} is asserted but never read by any rule nor checked by any "
                "scenario or property",
                rule.id,
            )
        fields = {
            node.field
            for rule in rs.rules
            for node, _, _ in walk(rule.when)
            if isinstance(node, FieldLeaf)
        }
        for name in rs.inputs:
            if name not in fields:
                self.emit(
                    "RR302", ("inputs", name), f"input {name!r} is declared but no rule reads it"
                )
        params = {p for rule in rs.rules for p in params_used(rule.when)}
        for name in rs.parameters:
            if name not in params:
                self.emit(
                    "RR303",
                    ("parameters", name),
                    f"parameter {name!r} is declared but no rule uses it",
                )
        named = {p for rule in rs.rules for p in rule.then.recommend} | {
            p for hazard in rs.hazards.values() for ps in hazard.recommend.values() for p in ps
        }
        for name in rs.protocols:
            if name not in named:
                self.emit(
                    "RR304",
                    ("protocols", name),
                    f"protocol {name!r} is declared but no rule or hazard recommends it",
                )
        cited = {
            item.source
            for section in (
                rs.rules,
                rs.inputs.values(),
                rs.parameters.values(),
                rs.protocols.values(),
            )
            for item in section
            if item.source is not None
        }
        for name in rs.references:
            if name not in cited:
                self.emit(
                    "RR305",
                    ("references", name),
                    f"reference {name!r} is declared but nothing cites it as its source",
                )

    # -- duplicates

    def check_duplicates(self) -> None:
        first: dict[tuple[str, Any], int] = {}
        for i, rule in enumerate(self.rs.rules):
            key = (rule.hazard, _canonical(rule.when))
            j = first.setdefault(key, i)
            if j != i:
                self.emit(
                    "RR401",
                    ("rules", i, "when"),
                    f"rule {rule.id!r} has the same condition as rule {self.rs.rules[j].id!r} in "
                    f"hazard {rule.hazard!r}: they always fire together; merge them or make the "
                    "conditions differ",
                    rule.id,
                )

    # -- levels and protocols

    def check_levels_and_protocols(self) -> None:
        rs = self.rs
        scale = rs.scale
        reachable: dict[str, set[int]] = {}
        for hid, hazard in rs.hazards.items():
            live = [r for i, r in enumerate(rs.rules) if r.hazard == hid and i not in self.dead]
            total = sum(r.then.points for r in live)
            cap = hazard.cap
            top = total if cap is None else min(total, cap)
            sums = _subset_sums(r.then.points for r in live)
            # Every partial sum in any firing order is itself a subset sum: when each one is a
            # float exactly, the engines' float scores are these exact values.
            exact = sums is not None and all(Fraction(float(s)) == s for s in sums)
            if sums is not None and cap is not None:
                sums = {min(s, Fraction(cap)) for s in sums}
            floors = {r.then.floor for r in live if r.then.floor is not None}
            bands = list(hazard.bands.items())
            slack = 0.0 if exact else _SLACK
            levels = {scale.index(f) for f in floors}
            notes = [f"capped at {_fmt(cap)}"] if cap is not None and cap < total else []
            if any(r.hazard == hid for i, r in enumerate(rs.rules) if i in self.dead):
                notes.append("not counting rules that can never fire")
            capped = f" ({'; '.join(notes)})" if notes else ""
            for k, (level, low) in enumerate(bands):
                high = bands[k + 1][1] if k + 1 < len(bands) else _INF
                by_points = (
                    low <= top + slack
                    if sums is None
                    else any(low - slack <= s < high + slack for s in sums)
                )
                if by_points or level in floors:
                    levels.add(scale.index(level))
                    continue
                loc = ("hazards", hid, "bands", level)
                floor_note = f"and no rule that can fire sets a floor of {level!r}"
                if k + 1 == len(bands):
                    self.emit(
                        "RR403",
                        loc,
                        f"hazard {hid!r} can never reach its top band {level!r} at {_fmt(low)}: "
                        f"its rules can score at most {_fmt(top)}{capped}, {floor_note}",
                    )
                elif low > top:
                    self.emit(
                        "RR402",
                        loc,
                        f"level {level!r} of hazard {hid!r} is unreachable: its band starts at "
                        f"{_fmt(low)} but the rules can score at most {_fmt(top)}{capped}, "
                        f"{floor_note}",
                    )
                else:
                    assert sums is not None
                    shown = sorted(sums)
                    listed = ", ".join(_fmt(float(s)) for s in shown[:12]) + (
                        ", ..." if len(shown) > 12 else ""
                    )
                    self.emit(
                        "RR402",
                        loc,
                        f"level {level!r} of hazard {hid!r} is unreachable: no combination of "
                        f"its rules' points scores from {_fmt(low)} to below {_fmt(high)} "
                        f"(possible scores: {listed}), {floor_note}",
                    )
            reachable[hid] = levels
        self.check_protocols(reachable)

    def check_protocols(self, reachable: Mapping[str, set[int]]) -> None:
        rs = self.rs
        scale = rs.scale
        for pid in rs.protocols:
            rules = [i for i, r in enumerate(rs.rules) if pid in r.then.recommend]
            entries = [
                (hid, level)
                for hid, hazard in rs.hazards.items()
                for level, protocols in hazard.recommend.items()
                if pid in protocols
            ]
            if not rules and not entries:
                continue  # RR304 already says so
            if any(i not in self.dead for i in rules):
                continue
            if any(any(k >= scale.index(level) for k in reachable[hid]) for hid, level in entries):
                continue
            reasons = []
            if rules:
                reasons.append(
                    "the rules that recommend it can never fire ("
                    + _quoted(rs.rules[i].id for i in rules)
                    + ")"
                )
            for hid, level in entries:
                reasons.append(f"hazard {hid!r} never reaches {level!r}")
            self.emit(
                "RR404",
                ("protocols", pid),
                f"protocol {pid!r} can never be recommended: " + "; ".join(reasons),
            )
