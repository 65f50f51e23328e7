"""Hypothesis strategies of valid assessments: :func:`assessments` and :class:`InputDomains`.

Values are drawn where rules can change their minds: numbers often exactly at, or next to, a
threshold some rule compares them with (parameters bound), anywhere in the declared range
otherwise; enums, booleans and integers with ``values`` take only their values. Any input may
be missing. hypothesis is imported only when a strategy is built.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from riskrules._types import RulesetSource
from riskrules.ruleset._conditions import Condition, FieldLeaf, ParamRef, walk
from riskrules.ruleset._spec import Input, Ruleset
from riskrules.scoring._scorer import bind_params
from riskrules.testing._common import as_ruleset, nest, require_hypothesis

if TYPE_CHECKING:
    from hypothesis.strategies import DrawFn, SearchStrategy

__all__ = ["InputDomains", "assessments"]


def _thresholds(ruleset: Ruleset, params: Mapping[str, Any]) -> dict[str, set[float]]:
    """Every number each input is compared with, parameters at their effective values."""
    found: dict[str, set[float]] = {}
    conditions: list[Condition] = [rule.when for rule in ruleset.rules]
    conditions += [
        p.bounded.unless for p in ruleset.properties if p.bounded and p.bounded.unless is not None
    ]
    for condition in conditions:
        for node, _, _ in walk(condition):
            if not isinstance(node, FieldLeaf) or node.op in ("present", "absent"):
                continue
            value = node.value
            for operand in value if isinstance(value, tuple) else (value,):
                if isinstance(operand, ParamRef):
                    operand = params[operand.param]
                if isinstance(operand, int | float) and not isinstance(operand, bool):
                    found.setdefault(node.field, set()).add(operand)
    return found


def _span(spec: Input, thresholds: set[float]) -> tuple[float, float]:
    """The range values are drawn from: the declared bounds, or around the thresholds."""
    marks = sorted(thresholds)
    low = spec.min
    high = spec.max
    if low is None:
        low = min([*marks, high if high is not None else 0]) - 10
    if high is None:
        high = max([*marks, low]) * 2 + 10
    return low, high


def _tidy(value: float) -> int | float:
    """Integral numbers as ints, others rounded off float noise."""
    rounded = round(float(value), 9)
    return int(rounded) if rounded.is_integer() else rounded


def _domain(spec: Input, thresholds: set[float]) -> tuple[list[Any], bool]:
    """The values a rule's behaviour can change at (each threshold and its neighbours, and the
    ends of the range), and whether other values exist between them."""
    if spec.type == "boolean":
        return [False, True], False
    if spec.values is not None:  # enum values, or the only values of an integer input
        return list(spec.values), False
    low, high = _span(spec, thresholds)
    near: set[float] = {low, high}
    if spec.type == "integer":
        for t in thresholds:
            near.update((math.floor(t) - 1, math.floor(t), math.ceil(t), math.ceil(t) + 1))
        values = sorted(int(v) for v in near if low <= v <= high)
        return values, high - low + 1 > len(values)
    step = 0.5 if high - low >= 10 else (high - low) / 100
    for t in thresholds:
        near.update((t - step, t, t + step))
    return sorted({_tidy(v) for v in near if low <= v <= high}), high > low


def _value_strategy(spec: Input, thresholds: set[float]) -> SearchStrategy[Any]:
    """A valid value for ``spec``, often at or next to a threshold some rule tests."""
    from hypothesis import strategies as st

    values, more = _domain(spec, thresholds)
    marked = st.sampled_from(values)
    if not more:
        return marked
    low, high = _span(spec, thresholds)
    if spec.type == "integer":
        return st.one_of(marked, st.integers(int(low), int(high)))

    def inside(value: float) -> int | float:
        return min(max(_tidy(value), low), high)

    grid = st.integers(0, 200).map(lambda k: inside(low + (high - low) * k / 200))
    anywhere = st.floats(float(low), float(high), allow_nan=False, allow_infinity=False)
    return st.one_of(marked, grid, anywhere.map(inside))


class InputDomains:
    """Value strategies for every input of one ruleset (parameters bound)."""

    def __init__(self, ruleset: Ruleset, params: Mapping[str, Any]) -> None:
        self.ruleset = ruleset
        self.thresholds = _thresholds(ruleset, params)
        self._values: dict[str, SearchStrategy[Any]] = {}

    def values(self, name: str) -> SearchStrategy[Any]:
        if name not in self._values:
            spec = self.ruleset.inputs[name]
            self._values[name] = _value_strategy(spec, self.thresholds.get(name, set()))
        return self._values[name]

    def domain(self, name: str) -> tuple[list[Any], bool]:
        return _domain(self.ruleset.inputs[name], self.thresholds.get(name, set()))

    def facts(
        self,
        *,
        missing: float | None = None,
        only: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
        require: Iterable[str] = (),
    ) -> SearchStrategy[dict[str, Any]]:
        """Dotted facts: each input (of ``only``, if given, and not in ``exclude``) absent or a
        valid value; ``require`` always present."""
        from hypothesis import strategies as st

        allowed = None if only is None else frozenset(only)
        skipped = frozenset(exclude)
        needed = frozenset(require)
        names = [
            name
            for name in self.ruleset.inputs
            if (allowed is None or name in allowed) and name not in skipped
        ]
        rates = (0.75, 0.5, 0.25, 0.0) if missing is None else (missing,)

        @st.composite
        def draw_facts(draw: DrawFn) -> dict[str, Any]:
            cut = round(draw(st.sampled_from(rates)) * 100)
            facts: dict[str, Any] = {}
            for name in names:
                if name in needed or draw(st.integers(0, 99)) >= cut:
                    facts[name] = draw(self.values(name))
            return facts

        return draw_facts()


def assessments(
    ruleset: RulesetSource,
    *,
    params: Mapping[str, float] | None = None,
    missing: float | None = None,
) -> SearchStrategy[dict[str, Any]]:
    """A hypothesis strategy of assessments valid for ``ruleset``, as nested objects.

    Every input may be missing (with probability ``missing``, or a varying rate when None), so
    incomplete assessments are common. Numbers are often exactly at, or next to, a threshold some
    rule compares them with (parameters at their defaults, or ``params``); integers with declared
    ``values`` and enums take only those values, booleans both. Examples shrink towards fewer
    inputs and threshold values.
    """
    if missing is not None and not 0.0 <= missing <= 1.0:
        raise ValueError(f"missing must be a probability between 0 and 1, not {missing!r}")
    require_hypothesis("riskrules.testing.assessments")
    rs = as_ruleset(ruleset)
    domains = InputDomains(rs, bind_params(rs, params))
    return domains.facts(missing=missing).map(nest)
