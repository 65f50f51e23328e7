"""Python source for a :class:`~riskrules.engines._base.Program`: one function per ruleset.

:func:`generate` writes the source of ``run(X)``, which takes the values of the inputs the rules
read (``X``, in the order of :func:`input_order`; ``None`` where an input is absent) and returns
``(fired, status, findings)`` with exactly the semantics of :mod:`riskrules.engines._base`
(``status`` and ``findings`` as ints 0 FALSE, 1 UNKNOWN, 2 TRUE, in ruleset and sorted finding
order), and of ``evaluate(facts)``, which reads ``X`` from validated facts and calls ``run``.
:mod:`riskrules.engines._compiled` compiles them; the native Scorer appends its own functions to
the same source (:mod:`riskrules.scoring._generated`).

The source is built only from the validated program: field and finding names, operands and rule ids
reach it through ``repr`` (or, for operands ``repr`` cannot round-trip, as constants bound in the
namespace), never as spliced text. Every input a rule reads is a local of ``run`` (``x<k>`` for
``X[k]``); a condition becomes one expression over three-valued ints (Kleene ``and`` stops at the
first FALSE and is otherwise the least value, ``or`` stops at the first TRUE and is otherwise the
greatest, ``not`` is ``2 - x``). A stratum where no rule reads a finding asserted in the same
stratum runs straight-line: each rule once, in firing order, its findings set as it fires and made
possible when it is indeterminate. Any other stratum runs its first round inline too and hands
later rounds and the possible pass to the shared loop
:func:`riskrules.engines._compiled.finish_stratum`, with each rule's condition also written as a
small function of its own.
"""

from __future__ import annotations

import graphlib
import math
from typing import Any

from riskrules.engines._base import Program
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
    fields_read,
    findings_read,
)

__all__ = ["Generated", "Writer", "generate", "input_order", "shown"]

_COMPARE = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class Generated:
    """Generated source and the constants its namespace must bind (``_k0``, ``_k1`` ...)."""

    __slots__ = ("constants", "source")

    def __init__(self, source: str, constants: dict[str, Any]) -> None:
        self.source = source
        self.constants = constants


def input_order(program: Program) -> tuple[str, ...]:
    """The inputs some rule reads, sorted: the order of ``X`` in the generated functions."""
    return tuple(sorted({name for rule in program.rules for name in fields_read(rule.when)}))


class Writer:
    """Collects lines, names the locals of inputs and binds non-literal constants.

    Writers of one source share ``constants`` (so ``_k<n>`` names are unique) and the input
    locals ``x<k>``, where ``k`` is the input's position in :func:`input_order`.
    """

    def __init__(self, program: Program, constants: dict[str, Any] | None = None) -> None:
        self.lines: list[str] = []
        self.order = input_order(program)
        self.position = {name: k for k, name in enumerate(self.order)}
        """Each input's position in ``X``."""
        self.fields: dict[str, str] = {name: f"x{k}" for name, k in self.position.items()}
        self.constants: dict[str, Any] = {} if constants is None else constants
        self.temps = 0
        self.fid = {name: k for k, name in enumerate(program.findings)}

    def temp(self) -> str:
        """A fresh local name for a connective's operand."""
        self.temps += 1
        return f"t{self.temps}"

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def field(self, name: str) -> str:
        return self.fields[name]

    def unpack(self, indent: int) -> None:
        """``x0, x1, ... = X``: every input a local."""
        if self.order:
            self.emit(indent, f"{', '.join(self.fields.values())}, = X")

    def literal(self, value: Any) -> str:
        """Source text for a condition operand: ``repr`` for plain literals, else a constant."""
        if isinstance(value, ParamRef):
            raise EngineError(f"parameter {value.param!r} left unresolved in a condition")
        if type(value) in (bool, int, str) or (type(value) is float and math.isfinite(value)):
            return repr(value)
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name


def _expr(w: Writer, cond: Condition) -> str:
    """A condition as a Python expression whose value is 0, 1 or 2."""
    if isinstance(cond, FieldLeaf):
        return _leaf(w, cond)
    if isinstance(cond, FindingLeaf):
        k = w.fid.get(cond.finding)
        return "0" if k is None else f"v[{k}]"
    if isinstance(cond, Not):
        return f"(2 - {_expr(w, cond.not_)})"
    if isinstance(cond, All | AnyOf):
        children = cond.all if isinstance(cond, All) else cond.any
        parts = [_expr(w, child) for child in children]
        if len(parts) == 1:
            return parts[0]
        names = [w.temp() for _ in parts]
        if isinstance(cond, All):
            # Kleene and: stops at the first FALSE (0), else the least of values in {1, 2}:
            # 2 when all are 2, else 1
            steps = [f"({name} := {part})" for name, part in zip(names, parts, strict=True)]
            least = " and ".join(f"{name} == 2" for name in names)
            return f"({' and '.join(steps)} and (({least}) + 1))"
        # Kleene or: stops at the first TRUE (2), else the greatest of values in {0, 1}
        steps = [
            f"2 if ({name} := {part}) == 2 else" for name, part in zip(names, parts, strict=True)
        ]
        return f"({' '.join(steps)} ({' or '.join(names)}))"
    if isinstance(cond, AtLeast):
        spec = cond.at_least
        parts = [_expr(w, child) for child in spec.of]
        return f"_at_least({spec.n!r}, ({', '.join(parts)},))"
    raise EngineError(f"not a condition: {type(cond).__name__}")


def _leaf(w: Writer, leaf: FieldLeaf) -> str:
    x = w.field(leaf.field)
    op = leaf.op
    if op == "present":
        return f"(0 if {x} is None else 2)"
    if op == "absent":
        return f"(2 if {x} is None else 0)"
    value = leaf.value
    if op in ("in", "not_in"):
        members = ", ".join(w.literal(v) for v in value)
        test = f"{x} {'in' if op == 'in' else 'not in'} ({members},)"
    elif op == "between":
        low, high = value
        test = f"{w.literal(low)} <= {x} <= {w.literal(high)}"
    elif op in _COMPARE:
        test = f"{x} {_COMPARE[op]} {w.literal(value)}"
    else:
        raise EngineError(f"unknown operator {op!r} in a test of {leaf.field!r}")
    return f"(1 if {x} is None else 2 if {test} else 0)"


def _same_stratum_readers(program: Program, members: tuple[int, ...], stratum: int) -> bool:
    return any(
        program.finding_stratum.get(name) == stratum
        for i in members
        for name, _ in findings_read(program.rules[i].when)
    )


def _straight_stratum(w: Writer, program: Program, stratum: int) -> None:
    """A stratum whose rules read no finding of their own stratum: each rule once, in order."""
    for i in program.strata[stratum]:
        rule = program.rules[i]
        w.emit(1, f"# rule {rule.id!r} (hazard {rule.hazard!r}, salience {rule.salience!r})")
        w.emit(1, f"t = {_expr(w, rule.when)}")
        w.emit(1, "if t:")
        w.emit(2, f"s[{i}] = t")
        w.emit(2, "if t == 2:")
        w.emit(3, f"fired.append({i})")
        for f in dict.fromkeys(rule.asserts):
            w.emit(3, f"v[{w.fid[f]}] = 2  # finding {f!r}")
        if rule.asserts:
            w.emit(2, "else:")
            for f in dict.fromkeys(rule.asserts):
                w.emit(3, f"if not v[{w.fid[f]}]:")
                w.emit(4, f"v[{w.fid[f]}] = 1  # finding {f!r} possible")


_UNROLL_BUDGET = 4096
"""Most rule checks the later rounds of a stratum may be written out as (rounds x readers)."""


def _looped_stratum(w: Writer, program: Program, stratum: int, helpers: list[str]) -> None:
    """A stratum with rules reading its own findings: round 0 inline, then the later rounds.

    Each rule the later rounds may evaluate is also written as a module-level function
    ``r<index>(X, v)``. When the rules' reading of each other's findings has no cycle, the later
    rounds (as many as the longest chain of such reads) and the possible pass are written out
    too (:func:`_unrolled_rounds`); otherwise they run in the shared loop
    :func:`~riskrules.engines._compiled.finish_stratum`, which ``T<stratum>`` describes.
    """
    members = program.strata[stratum]
    w.emit(1, "p = []")
    for i in members:
        rule = program.rules[i]
        w.emit(1, f"# rule {rule.id!r} (hazard {rule.hazard!r}, salience {rule.salience!r})")
        w.emit(1, f"t = {_expr(w, rule.when)}")
        w.emit(1, "if t:")
        w.emit(2, f"s[{i}] = t")
        _fire(w, 2, program, i)
    reads = {i: _same_stratum_reads(w, program, i, stratum) for i in members}
    order = _chain_order(program, members, reads, w)
    if order is not None:
        depth, topological = order
        readers = [i for i in members if reads[i]]
        if depth * len(readers) <= _UNROLL_BUDGET:
            for i in readers:
                _helper(w, program, i, helpers)
            _unrolled_rounds(w, program, depth, readers, reads, topological)
            return
    w.emit(1, f"finish_stratum(T{stratum}, X, v, s, fired, p)")
    table = []
    by_finding: dict[int, list[int]] = {}
    for k, i in enumerate(members):
        _helper(w, program, i, helpers)
        table.append(f"({i!r}, r{i}, {_found(w, program, i)!r})")
        for f in reads[i]:
            by_finding.setdefault(f, []).append(k)
    asserting = tuple((i, _found(w, program, i)) for i in members if program.rules[i].asserts)
    readers_of = {f: tuple(ks) for f, ks in sorted(by_finding.items())}
    helpers.append(
        f"T{stratum} = (({', '.join(table)},), {readers_of!r}, {asserting!r})  # stratum {stratum}"
    )
    helpers.append("")


def _fire(w: Writer, indent: int, program: Program, i: int) -> None:
    """When ``t`` is TRUE: rule ``i`` fires and its findings wait for the next round."""
    w.emit(indent, "if t == 2:")
    w.emit(indent + 1, f"fired.append({i})")
    found = _found(w, program, i)
    if found:
        w.emit(indent + 1, f"p += {found!r}")


def _found(w: Writer, program: Program, i: int) -> tuple[int, ...]:
    """The findings rule ``i`` asserts, as positions in ``v``."""
    return tuple(w.fid[f] for f in dict.fromkeys(program.rules[i].asserts))


def _same_stratum_reads(w: Writer, program: Program, i: int, stratum: int) -> tuple[int, ...]:
    """The findings of its own stratum that rule ``i`` reads, as positions in ``v``."""
    out: dict[int, None] = {}
    for finding, _ in findings_read(program.rules[i].when):
        if program.finding_stratum.get(finding) == stratum:
            out.setdefault(w.fid[finding], None)
    return tuple(out)


def _helper(w: Writer, program: Program, i: int, helpers: list[str]) -> None:
    """Rule ``i``'s condition as a function ``r<i>(X, v)``."""
    rule = program.rules[i]
    expr = _expr(w, rule.when)
    helpers.append(f"def r{i}(X, v):  # rule {rule.id!r}")
    names = dict.fromkeys(fields_read(rule.when))
    helpers.extend(f"    {w.field(name)} = X[{w.position[name]}]" for name in names)
    helpers.append(f"    return {expr}")


def _chain_order(
    program: Program,
    members: tuple[int, ...],
    reads: dict[int, tuple[int, ...]],
    w: Writer,
) -> tuple[int, list[int]] | None:
    """The longest chain of rules reading each other's findings within the stratum (in
    edges) and the rules in an order where every rule comes after those asserting what it
    reads; None when the reads form a cycle."""
    asserters: dict[int, list[int]] = {}
    for i in members:
        for f in _found(w, program, i):
            asserters.setdefault(f, []).append(i)
    graph = {i: {j for f in reads[i] for j in asserters.get(f, ()) if j != i} for i in members}
    if any(i in asserters.get(f, ()) for i in members for f in reads[i]):
        return None  # a rule reading its own finding
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError:
        return None
    length: dict[int, int] = {}
    for i in order:
        length[i] = max((length[j] + 1 for j in graph[i]), default=0)
    position = {i: k for k, i in enumerate(members)}
    by_position = sorted(members, key=lambda i: (length[i], position[i]))
    return max(length.values(), default=0), by_position


def _unrolled_rounds(
    w: Writer,
    program: Program,
    depth: int,
    readers: list[int],
    reads: dict[int, tuple[int, ...]],
    order: list[int],
) -> None:
    """Rounds 1 to ``depth`` and the possible pass of an acyclic stratum, written out.

    Round ``r`` first sets the findings asserted in round ``r - 1`` (``p``); every rule reading
    one of them that has not fired is evaluated again, in firing order, as
    :func:`~riskrules.engines._compiled.finish_stratum` does. No rule can be a candidate after
    ``depth`` rounds. The possible pass visits the rules so that each comes after those
    asserting what it reads: an unfired rule reading a possible finding is evaluated again,
    and an indeterminate rule makes its findings possible; one pass reaches the fixpoint.
    """
    for r in range(1, depth + 2):
        w.emit(1, "if p:")
        w.emit(2, "n = 0")
        w.emit(2, "for f in p:")
        w.emit(3, "if v[f] != 2:")
        w.emit(4, "v[f] = 2")
        w.emit(4, "n |= 1 << f")
        w.emit(2, "p = []")
        if r > depth:
            break
        w.emit(2, f"# round {r}")
        for i in readers:
            mask = sum(1 << f for f in reads[i])
            w.emit(2, f"if n & {mask} and s[{i}] != 2:  # rule {program.rules[i].id!r}")
            w.emit(3, f"t = s[{i}] = r{i}(X, v)")
            _fire(w, 3, program, i)
    w.emit(1, "# possible pass")
    for i in order:
        if reads[i]:
            possible = " or ".join(f"v[{f}] == 1" for f in reads[i])
            w.emit(1, f"if not s[{i}] and ({possible}):  # rule {program.rules[i].id!r}")
            w.emit(2, f"s[{i}] = r{i}(X, v)")
        found = _found(w, program, i)
        if found:
            w.emit(1, f"if s[{i}] == 1:  # rule {program.rules[i].id!r}")
            for f in found:
                w.emit(2, f"if not v[{f}]: v[{f}] = 1")


def generate(program: Program) -> Generated:
    """The source of ``run(X) -> (fired, status, findings)`` and ``evaluate(facts)``."""
    w = Writer(program)
    body = Writer(program, w.constants)
    helpers: list[str] = []
    for stratum, members in enumerate(program.strata):
        if not members:
            continue
        if _same_stratum_readers(program, members, stratum):
            body.emit(1, f"# stratum {stratum}: rules read findings asserted in this stratum")
            _looped_stratum(body, program, stratum, helpers)
        else:
            body.emit(1, f"# stratum {stratum}")
            _straight_stratum(body, program, stratum)
    w.emit(0, "def run(X):")
    w.unpack(1)
    w.emit(1, f"v = [0] * {len(program.findings)!r}")
    w.emit(1, f"s = [0] * {len(program.rules)!r}")
    w.emit(1, "fired = []")
    w.lines.extend(body.lines)
    w.emit(1, "return fired, s, v")
    w.emit(0, "")
    w.emit(0, "")
    w.emit(0, "def evaluate(facts):")
    w.emit(1, "get = facts.get")
    w.emit(1, f"return run(({''.join(f'get({name!r}), ' for name in w.order)}))")
    header = [
        "# generated by riskrules from a validated ruleset; do not edit",
        f"# inputs: {_inputs_comment(w.order)}",
        f"# findings: {_findings_comment(program.findings)}",
        "",
    ]
    return Generated("\n".join(header + helpers + w.lines) + "\n", dict(w.constants))


def _inputs_comment(order: tuple[str, ...]) -> str:
    return ", ".join(f"x{k}={name!r}" for k, name in enumerate(order)) or "none"


def _findings_comment(findings: tuple[str, ...]) -> str:
    return ", ".join(f"v[{k}]={name!r}" for k, name in enumerate(findings)) or "none"


def shown(generated: Generated) -> str:
    """The source as ``riskrules compile --show`` prints it: the code, then the bound constants
    as comment lines (sets in sorted order, so the text is the same on every run)."""
    constants = "".join(
        f"# {name} = {_stable_repr(value)}\n" for name, value in generated.constants.items()
    )
    return generated.source + ("\n# bound constants\n" + constants if constants else "")


def _stable_repr(value: Any) -> str:
    if isinstance(value, frozenset):
        return f"frozenset({{{', '.join(sorted(map(repr, value)))}}})"
    return repr(value)
