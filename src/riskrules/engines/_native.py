"""The native engine: a pure-Python stratified fixpoint over conditions compiled to closures.

It implements exactly the semantics documented in :mod:`riskrules.engines._base` and runs on
every supported Python. Work is done once at compile time so that scoring is cheap:

* each condition becomes a tree of small closures over three-valued ints (0 FALSE, 1 UNKNOWN,
  2 TRUE) with parameters already bound: ``not`` pushed into the leaves, nested ``all``/``any``
  flattened, finding reads inlined into their connective, never-asserted findings folded to
  FALSE and children ordered cheapest first (:mod:`riskrules.engines._native_conditions`);
* rules are renumbered in firing order (stratum, salience descending, ruleset order), so a
  stratum is a contiguous range and candidates of a round sort as plain ints;
* a per-stratum index from finding to the rules of that stratum that read it means a later
  round (and the possible pass) only re-checks rules that read a finding that just changed.
  A rule that reads no same-stratum finding is therefore evaluated exactly once.

Every assessment gets its own small lists; the compiled engine holds no mutable state, so one
engine may serve many threads at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from riskrules.engines._base import Evaluation, Program
from riskrules.engines._native_conditions import Node, compile_condition
from riskrules.errors import EngineError
from riskrules.ruleset._conditions import Truth, findings_read

__all__ = ["NativeEngine", "compile"]

_TRUTHS = (Truth.FALSE, Truth.UNKNOWN, Truth.TRUE)


class NativeEngine:
    """A :class:`~riskrules.engines._base.Program` compiled to closures; see the module docstring.

    Build it with :func:`compile`; ``run(facts)`` returns an
    :class:`~riskrules.engines._base.Evaluation`. Safe to share across threads.
    """

    name: ClassVar[str] = "closure"

    __slots__ = (
        "_asserts",
        "_closed",
        "_conds",
        "_nfindings",
        "_order",
        "_rank",
        "_readers",
        "_strata",
    )

    def __init__(self, program: Program) -> None:
        order = tuple(i for stratum in program.strata for i in stratum)
        if sorted(order) != list(range(len(program.rules))):
            raise EngineError("program strata do not list every rule exactly once")
        fid = {name: k for k, name in enumerate(program.findings)}
        rank = [0] * len(order)
        for k, i in enumerate(order):
            rank[i] = k
        ranges: list[tuple[int, int, int]] = []
        start = 0
        for s, members in enumerate(program.strata):
            ranges.append((s, start, start + len(members)))
            start += len(members)
        readers: list[list[list[int]]] = [[[] for _ in fid] for _ in program.strata]
        conds: list[Node] = []
        asserts: list[tuple[int, ...]] = []
        for k, i in enumerate(order):
            rule = program.rules[i]
            conds.append(compile_condition(rule.when, fid))
            asserts.append(tuple(dict.fromkeys(fid[f] for f in rule.asserts)))
            for name, _positive in findings_read(rule.when):
                f = fid.get(name)
                if (
                    f is not None
                    and program.finding_stratum[name] == rule.stratum
                    and k not in readers[rule.stratum][f]
                ):
                    readers[rule.stratum][f].append(k)
        self._order = order
        self._rank = tuple(rank)
        self._conds = tuple(conds)
        self._asserts = tuple(asserts)
        self._readers = tuple(tuple(tuple(r) for r in per) for per in readers)
        self._strata = tuple(
            (
                self._readers[s],
                tuple((k, conds[k], order[k], asserts[k]) for k in range(lo, hi)),
                tuple((k, asserts[k]) for k in range(lo, hi) if asserts[k]),
            )
            for s, lo, hi in ranges
        )
        self._nfindings = len(fid)
        self._closed = False

    def run(self, facts: Mapping[str, Any]) -> Evaluation:
        """Run one assessment's facts to the fixpoint; see :mod:`riskrules.engines._base`."""
        if self._closed:
            raise EngineError("the native engine was closed and cannot score any more")
        try:
            return self._run(facts)
        except (TypeError, ValueError, AttributeError) as exc:
            raise EngineError(
                f"the native engine could not evaluate the facts ({type(exc).__name__}); "
                "facts must be validated input values"
            ) from None

    def _run(self, facts: Mapping[str, Any]) -> Evaluation:
        conds = self._conds
        asserts = self._asserts
        order = self._order
        vals = [0] * self._nfindings
        status = [0] * len(conds)
        fired: list[int] = []
        fire = fired.append
        for readers, first_round, asserting in self._strata:
            # Definite pass, round 0: every rule of the stratum, in firing order.
            pending: list[int] = []
            for k, cond, index, found in first_round:
                v = cond(facts, vals)
                if v:
                    status[k] = v
                    if v == 2:
                        fire(index)
                        pending += found
            # Later rounds: only rules reading a finding asserted by the previous round.
            while pending:
                candidates: set[int] = set()
                for f in pending:
                    if vals[f] != 2:
                        vals[f] = 2
                        for r in readers[f]:
                            if status[r] != 2:
                                candidates.add(r)
                if not candidates:
                    break
                pending = []
                for k in sorted(candidates):
                    v = conds[k](facts, vals)
                    status[k] = v
                    if v == 2:
                        fire(order[k])
                        pending += asserts[k]
            # Possible pass: indeterminate rules make their findings possible, to a fixpoint.
            work: list[int] = []
            for k, found in asserting:
                if status[k] == 1:
                    for f in found:
                        if not vals[f]:
                            vals[f] = 1
                            work.append(f)
            while work:
                for r in readers[work.pop()]:
                    if not status[r]:
                        v = conds[r](facts, vals)
                        if v:
                            status[r] = v
                            for g in asserts[r]:
                                if not vals[g]:
                                    vals[g] = 1
                                    work.append(g)
        truths = _TRUTHS
        return Evaluation(fired=tuple(fired), status=tuple([truths[status[k]] for k in self._rank]))

    def close(self) -> None:
        """Mark the engine closed; it holds no external resources."""
        self._closed = True


def compile(program: Program) -> NativeEngine:
    """Compile ``program`` for the native engine."""
    return NativeEngine(program)
