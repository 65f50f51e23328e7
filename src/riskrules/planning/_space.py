"""The search space of planning: which inputs matter to a hazard, and one value per region.

A leaf compares one input with constants (parameters bound to the Scorer's values), so every
input's domain splits into *regions* on which every leaf reading it has the same truth value;
two values in one region give the same report. Trying one value per region is therefore exact:
:func:`regions` lists, for an input, the thresholds that appear in the rules, their integer
neighbours, the midpoints between them and the declared bounds, keeps those within the declared
domain, and keeps one value per region (the one nearest a given value).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from riskrules._types import Value
from riskrules.ruleset._conditions import FieldLeaf, FindingLeaf, ParamRef, leaf_test, walk
from riskrules.ruleset._spec import Input, Ruleset

__all__ = ["Space", "distance"]

_UNBOUNDED_STEP = 1
"""How far past the outermost threshold an unbounded numeric input is tried."""


def _resolve(operand: Any, params: Mapping[str, Any]) -> Any:
    return params[operand.param] if isinstance(operand, ParamRef) else operand


class _Test:
    """One value test on a field (op and resolved operand); ``present``/``absent`` excluded:
    planning never removes an answer, so their truth only changes when a missing input is
    answered, which region search covers by answering it at all."""

    __slots__ = ("op", "operand", "test")

    def __init__(self, op: str, operand: Any) -> None:
        self.op = op
        self.operand = operand
        self.test = leaf_test(op, operand)

    def __call__(self, value: Any) -> bool:
        try:
            return self.test(value)
        except TypeError:
            return False


class Space:
    """The leaves of a ruleset grouped by input, with parameters bound to ``params``."""

    def __init__(self, ruleset: Ruleset, params: Mapping[str, Any]) -> None:
        self.ruleset = ruleset
        self.tests: dict[str, list[_Test]] = {}
        self.thresholds: dict[str, set[float]] = {}
        for rule in ruleset.rules:
            for node, _, _ in walk(rule.when):
                if not isinstance(node, FieldLeaf) or node.op in ("present", "absent"):
                    self.tests.setdefault(getattr(node, "field", ""), [])
                    continue
                value = node.value
                operand = (
                    tuple(_resolve(v, params) for v in value)
                    if isinstance(value, tuple)
                    else _resolve(value, params)
                )
                self.tests.setdefault(node.field, []).append(_Test(node.op, operand))
                for number in operand if isinstance(operand, tuple) else (operand,):
                    if isinstance(number, int | float) and not isinstance(number, bool):
                        self.thresholds.setdefault(node.field, set()).add(number)
        self.tests.pop("", None)

    def read(self) -> list[str]:
        """The inputs some rule reads, in the ruleset's input order."""
        return [name for name in self.ruleset.inputs if name in self.tests]

    def relevant(self, hazards: Iterable[str]) -> list[str]:
        """The inputs that can change the given hazards' levels: read by their rules or by the
        rules asserting the findings those rules read, transitively; in input order."""
        wanted = set(hazards)
        rules = [r for r in self.ruleset.rules if r.hazard in wanted]
        seen = {r.id for r in rules}
        asserted: dict[str, list[Any]] = {}
        for rule in self.ruleset.rules:
            for finding in rule.then.assert_:
                asserted.setdefault(finding, []).append(rule)
        fields: set[str] = set()
        queue = list(rules)
        while queue:
            rule = queue.pop()
            for node, _, _ in walk(rule.when):
                if isinstance(node, FieldLeaf):
                    fields.add(node.field)
                elif isinstance(node, FindingLeaf):
                    for source in asserted.get(node.finding, ()):
                        if source.id not in seen:
                            seen.add(source.id)
                            queue.append(source)
        return [name for name in self.ruleset.inputs if name in fields]

    def signature(self, name: str, value: Any) -> tuple[bool, ...]:
        """The truth of every value test on ``name`` at ``value``: its region."""
        return tuple(test(value) for test in self.tests.get(name, ()))

    def candidates(self, name: str) -> list[Value]:
        """Values within the declared domain that cover every region of ``name``."""
        spec = self.ruleset.inputs[name]
        if spec.type == "boolean":
            return [False, True]
        if spec.values is not None:
            return list(spec.values)
        points = _numeric_points(spec, sorted(self.thresholds.get(name, ())))
        return [p for p in points if _within(spec, p)]

    def regions(self, name: str, near: Value | None = None) -> list[Value]:
        """One value per region of ``name``; the nearest to ``near`` when given, in the order
        of the candidates."""
        best: dict[tuple[bool, ...], Value] = {}
        for value in self.candidates(name):
            key = self.signature(name, value)
            held = best.get(key)
            if held is None or (near is not None and _gap(value, near) < _gap(held, near)):
                best[key] = value
        return sorted(best.values(), key=_order)


def _order(value: Value) -> tuple[int, float, str]:
    if isinstance(value, bool):
        return (0, float(value), "")
    if isinstance(value, int | float):
        return (1, float(value), "")
    return (2, 0.0, value)


def _gap(value: Value, near: Value) -> float:
    if isinstance(value, bool) or isinstance(near, bool) or isinstance(value, str):
        return 0.0 if value == near else 1.0
    if isinstance(near, str):
        return 1.0
    return abs(float(value) - float(near))


def _within(spec: Input, value: Value) -> bool:
    assert isinstance(value, int | float)
    return (spec.min is None or value >= spec.min) and (spec.max is None or value <= spec.max)


def _numeric_points(spec: Input, thresholds: Sequence[float]) -> list[Value]:
    """The thresholds, their neighbours and midpoints, and the declared bounds."""
    points: set[float] = set()
    for t in thresholds:
        if spec.type == "integer":
            low, high = math.floor(t), math.ceil(t)
            points.update((low - 1, low, high, high + 1))
        else:
            points.update((t - _UNBOUNDED_STEP, t, t + _UNBOUNDED_STEP))
    for a, b in itertools.pairwise(thresholds):
        mid = (a + b) / 2
        points.add(math.floor(mid) if spec.type == "integer" else mid)
        if spec.type == "integer":
            points.add(math.ceil(mid))
    for bound in (spec.min, spec.max):
        if bound is not None:
            points.add(bound)
    if not points:
        points.add(spec.min if spec.min is not None else 0)
    out: list[Value] = []
    for p in sorted(points):
        if spec.type == "integer":
            out.append(int(p))
        else:
            out.append(int(p) if float(p).is_integer() else float(p))
    return out


def distance(spec: Input, before: Value | None, after: Value, thresholds: Iterable[float]) -> float:
    """How far a change moves an input: numeric ``|after - before|`` over the declared range
    (or, without both bounds, over the largest of the thresholds' magnitudes, the old value and
    1); any other change, or answering a missing input, counts 1."""
    if before is None or not spec.numeric or isinstance(before, bool | str):
        return 1.0
    assert isinstance(after, int | float)
    if spec.min is not None and spec.max is not None and spec.max > spec.min:
        span = float(spec.max - spec.min)
    else:
        span = max([1.0, abs(float(before)), *(abs(float(t)) for t in thresholds)])
    return round(abs(float(after) - float(before)) / span, 9)
