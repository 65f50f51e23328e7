"""Satisfiability of conditions under the Kleene semantics: can a condition take a truth value?

:class:`Solver` searches depth first over what each input may be (present with a value in its
domain, or absent) and what truth values each finding may take. The search is bounded: past its
budget it answers "possible", so the linter stays silent rather than claim something it could
not show. The truth-value sets ``T``, ``F``, ``U`` and their unions (``TU``, ``FU``, ``TF``,
``ANY``) are the questions the checks ask.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from riskrules.authoring._domains import Domain, LeafDomains, declared_domain, intersect
from riskrules.ruleset._conditions import (
    All,
    AnyOf,
    AtLeast,
    Condition,
    FieldLeaf,
    FindingLeaf,
    Not,
    Truth,
)
from riskrules.ruleset._spec import Ruleset

__all__ = ["ANY", "FU", "TF", "TU", "F", "Solver", "T", "Truths", "U"]

Truths: TypeAlias = frozenset[Truth]

T: Truths = frozenset({Truth.TRUE})
F: Truths = frozenset({Truth.FALSE})
U: Truths = frozenset({Truth.UNKNOWN})
TU: Truths = T | U
FU: Truths = F | U
TF: Truths = T | F
ANY: Truths = frozenset(Truth)

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
    if allowed == TU:
        return [[(c, TU) for c in children]]
    if allowed == FU:
        return [[(c, FU)] for c in children]
    alternatives: list[list[Goal]] = []
    if Truth.TRUE in allowed:
        alternatives.append([(c, T) for c in children])
    if Truth.FALSE in allowed:
        alternatives.extend([(c, F)] for c in children)
    if Truth.UNKNOWN in allowed:
        for i, child in enumerate(children):
            rest: list[Goal] = [(c, TU) for j, c in enumerate(children) if j != i]
            alternatives.append([*rest, (child, U)])
    return alternatives


def _at_least_alternatives(
    n: int, children: Sequence[Condition], allowed: Truths
) -> list[list[Goal]]:
    """Ways for ``at_least n`` of ``children`` to take a value in ``allowed``.

    Where the exact answer would be costly this over-approximates (more ways than there are),
    which can only make the analysis quieter, never wrong.
    """
    k = len(children)
    if allowed == FU:  # fewer than n true: at least k - n + 1 not true
        parts = [(k - n + 1, FU)]
    elif allowed in (TU, U):  # not false: at least n not false
        parts = [(n, TU)]
    else:
        parts = []
        if Truth.TRUE in allowed:
            parts.append((n, T))
        if Truth.FALSE in allowed:
            parts.append((k - n + 1, F))
    alternatives: list[list[Goal]] = []
    for size, truths in parts:
        if math.comb(k, size) > _MAX_COMBINATIONS:
            return [[]]
        alternatives.extend(
            [(c, truths) for c in combo] for combo in itertools.combinations(children, size)
        )
    return alternatives


class Solver:
    """Decides whether a condition can take one of a set of truth values.

    Depth-first search: the goals that leave no choice are applied first (narrowing each
    input's presence and values, and each finding's truth values), then the search branches on
    the first choice left. A branch fails as soon as an input must be both present and absent,
    its values run out, or a finding has no truth value left.
    """

    def __init__(self, ruleset: Ruleset, domains: LeafDomains) -> None:
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
            if allowed == ANY:
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
            narrowed = store.findings.get(node.finding, ANY) & allowed
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
        if allowed >= TF:
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
            current = declared_domain(spec)
        narrowed = intersect(current, step.domain, spec.type == "integer")
        store.values[step.field] = narrowed
        return bool(narrowed)
