"""The systematic pass of ``riskrules check``: boundary cases first, then shrinking.

Random examples rarely line up every input a buggy rule needs. Before the random search, each
property is tried on cases built from the ruleset itself: for every rule of the hazards concerned,
a *witness* (values, taken from each input's marked values at and around every literal threshold
and parameter, that make the rule's condition true), alone and merged; and for ``monotone``,
every pair of consecutive marked values of the raised input on each witness. A violation at
marked values shows up on some consecutive pair, so a planted step down between two thresholds
cannot be missed. Whatever finds a counterexample, :func:`shrink` then drops every input whose
absence keeps the property broken, so the scenario names only the inputs that matter.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from riskrules.ruleset._conditions import (
    All,
    AnyOf,
    AtLeast,
    Condition,
    FieldLeaf,
    FindingLeaf,
    Not,
    ParamRef,
    leaf_test,
)
from riskrules.ruleset._spec import Bounded, Monotone
from riskrules.testing._counterexamples import Counterexample, PropertyChecker

__all__ = ["candidates", "shrink"]

_MAX_DEPTH = 6
"""How deep a witness follows findings to the rules that assert them."""


class _Witnesses:
    """Assignments of input values that make a condition true (or false)."""

    def __init__(self, checker: PropertyChecker) -> None:
        self.checker = checker
        self.asserters: dict[str, list[Condition]] = {}
        for rule in checker.ruleset.rules:
            for finding in rule.then.assert_:
                self.asserters.setdefault(finding, []).append(rule.when)

    def _operand(self, value: Any) -> Any:
        if isinstance(value, ParamRef):
            return self.checker.scorer.params[value.param]
        if isinstance(value, tuple):
            return tuple(self._operand(v) for v in value)
        return value

    def _leaf(self, leaf: FieldLeaf, want: bool) -> dict[str, Any] | None:
        values, _ = self.checker.domains.domain(leaf.field)
        if leaf.op == "present":
            return {leaf.field: values[-1]} if want and values else ({} if not want else None)
        if leaf.op == "absent":
            return {} if want else ({leaf.field: values[0]} if values else None)
        test = leaf_test(leaf.op, self._operand(leaf.value))
        for value in values:
            try:
                holds = test(value)
            except TypeError:
                continue
            if holds == want:
                return {leaf.field: value}
        return None

    def of(self, cond: Condition, want: bool = True, depth: int = 0) -> dict[str, Any] | None:
        """Facts making ``cond`` true (``want``) or false; None when none was found."""
        if isinstance(cond, FieldLeaf):
            return self._leaf(cond, want)
        if isinstance(cond, FindingLeaf):
            if not want:
                return {}
            if depth >= _MAX_DEPTH:
                return None
            for source in self.asserters.get(cond.finding, ()):
                found = self.of(source, True, depth + 1)
                if found is not None:
                    return found
            return None
        if isinstance(cond, Not):
            return self.of(cond.not_, not want, depth)
        if isinstance(cond, All | AnyOf | AtLeast):
            return self._group(cond, want, depth)
        return None

    def _group(self, cond: All | AnyOf | AtLeast, want: bool, depth: int) -> dict[str, Any] | None:
        if isinstance(cond, All):
            parts, need = cond.all, len(cond.all) if want else 1
        elif isinstance(cond, AnyOf):
            parts, need = cond.any, 1 if want else len(cond.any)
        else:
            parts = cond.at_least.of
            need = cond.at_least.n if want else len(parts) - cond.at_least.n + 1
        merged: dict[str, Any] = {}
        got = 0
        for part in parts:
            found = self.of(part, want, depth)
            if found is None or any(merged.get(k, v) != v for k, v in found.items()):
                continue
            merged.update(found)
            got += 1
            if got == need:
                return merged
        return None


def _bases(
    checker: PropertyChecker, hazards: tuple[str, ...], drop: str | None
) -> list[dict[str, Any]]:
    """Witnesses of the hazards' rules, each alone and all merged, without ``drop``; and {}."""
    witnesses = _Witnesses(checker)
    found: list[dict[str, Any]] = []
    merged: dict[str, Any] = {}
    for rule in checker.ruleset.rules:
        if rule.hazard not in hazards:
            continue
        facts = witnesses.of(rule.when)
        if facts is None:
            continue
        facts = {k: v for k, v in facts.items() if k != drop}
        found.append(facts)
        merged.update({k: v for k, v in facts.items() if k not in merged})
    unique: dict[str, dict[str, Any]] = {}
    for facts in [{}, *found, merged]:
        unique.setdefault(repr(sorted(facts.items(), key=lambda kv: kv[0])), facts)
    return list(unique.values())


def _monotone(checker: PropertyChecker, spec: Monotone) -> Iterator[Any]:
    values, _ = checker.domains.domain(spec.input)
    claimed = (spec.hazard,) if spec.hazard else tuple(checker.ruleset.hazards)
    hazards = tuple(h for h in claimed if spec.input in checker.hazard_inputs[h])
    ordered = sorted(values) if not isinstance(values[0], str) else list(values)
    pairs = list(itertools.pairwise(ordered))
    for base in _bases(checker, hazards, spec.input):
        for pair in pairs:
            yield base, pair


def _bounded(checker: PropertyChecker, spec: Bounded) -> Iterator[Any]:
    yield from _bases(checker, (spec.hazard,), None)


def candidates(checker: PropertyChecker, index: int) -> Iterator[Any]:
    """The boundary cases of property ``index``, in the shape its search body takes."""
    spec = checker.ruleset.properties[index].spec
    if isinstance(spec, Monotone):
        values, _ = checker.domains.domain(spec.input)
        if len(values) >= 2:
            yield from _monotone(checker, spec)
    elif isinstance(spec, Bounded):
        yield from _bounded(checker, spec)


def _facts_of(example: Any) -> tuple[Mapping[str, Any], Callable[[dict[str, Any]], Any]] | None:
    """The facts inside an example, and how to rebuild the example around other facts."""
    if isinstance(example, dict):
        return example, lambda facts: facts
    if isinstance(example, tuple) and len(example) == 2:
        first, second = example
        if isinstance(first, dict):
            return first, lambda facts: (facts, second)
        if isinstance(second, dict):
            return second, lambda facts: (first, facts)
    return None


def shrink(
    example: Any, body: Callable[[Any], Counterexample | None]
) -> tuple[Any, Counterexample | None]:
    """``example`` without every input whose absence keeps it a counterexample, and the
    counterexample of what is left."""
    parts = _facts_of(example)
    if parts is None:
        return example, body(example)
    facts, rebuild = parts
    kept = dict(facts)
    for name in sorted(facts):
        trial = {k: v for k, v in kept.items() if k != name}
        if body(rebuild(trial)) is not None:
            kept = trial
    final = rebuild(kept)
    return final, body(final)
