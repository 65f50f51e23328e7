"""The results of :func:`compare` and :func:`sweep`: frozen pydantic models of counts.

:class:`Comparison` holds what changed from ruleset A to ruleset B on a cohort (per hazard and
overall an :class:`Agreement`, per rule a :class:`RuleRate`, per protocol a
:class:`ProtocolChange`, and the :class:`ChangedRecord` list); :class:`SweepResult` holds one
:class:`SweepPoint` level distribution per grid point. ``to_json()`` is deterministic; the text
summaries and PNG figures are drawn by ``_text`` and ``_figures`` (imported when first asked for,
as they import these models).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from riskrules._types import FrozenModel, StrictNumber
from riskrules.errors import RiskRulesError

__all__ = [
    "OVERALL",
    "Agreement",
    "ChangedRecord",
    "Comparison",
    "ComparisonSide",
    "ProtocolChange",
    "RuleRate",
    "SweepPoint",
    "SweepResult",
    "level_counts",
]


OVERALL = "overall"
"""The name under which the overall level appears next to the hazards."""


class ComparisonSide(FrozenModel):
    """One side of a comparison or sweep: the ruleset and its effective parameters."""

    ruleset: str
    version: str
    fingerprint: str
    params: dict[str, StrictNumber]


class Agreement(FrozenModel):
    """Agreement of A's and B's levels for one hazard (or ``overall``).

    ``matrix[i][j]`` counts records at ``levels[i]`` under A and ``levels[j]`` under B.
    ``agreement`` is the share of records on the diagonal (0..1); ``kappa`` Cohen's kappa and
    ``weighted_kappa`` the quadratic weighted kappa; ``raised``/``lowered`` count records whose
    level is higher/lower under B; ``incomplete_a``/``incomplete_b`` records where the hazard
    (or the report) was incomplete on that side.
    """

    name: str
    matrix: tuple[tuple[int, ...], ...]
    agreement: float
    kappa: float
    weighted_kappa: float
    raised: int
    lowered: int
    incomplete_a: int
    incomplete_b: int


class RuleRate(FrozenModel):
    """How often one rule fired under A and under B (``None`` where the ruleset lacks it)."""

    rule: str
    hazard: str
    fired_a: int | None
    fired_b: int | None
    rate_a: float | None
    rate_b: float | None
    difference: float | None
    """``rate_b - rate_a`` when both sides have the rule."""


class ProtocolChange(FrozenModel):
    """How many records had a protocol recommended under A and B, gained it and lost it."""

    protocol: str
    recommended_a: int
    recommended_b: int
    gained: int
    lost: int


class ChangedRecord(FrozenModel):
    """A record whose overall level differs between A and B."""

    index: int
    id: str
    a: str
    b: str


class Comparison(FrozenModel):
    """The result of :func:`compare`: what changed from ruleset A to ruleset B on a cohort.

    ``levels`` is the ordered level scale (both rulesets' levels merged); ``hazards`` lists the
    hazards present in both rulesets (A's order) and ``overall`` the overall level; ``rules``
    A's rules in order, then the rules only B has; ``recommendations`` every protocol recommended
    at least once on either side; ``changed`` the records whose overall level changed, in cohort
    order.
    """

    a: ComparisonSide
    b: ComparisonSide
    records: int
    levels: tuple[str, ...]
    overall: Agreement
    hazards: tuple[Agreement, ...]
    only_a: tuple[str, ...] = ()
    only_b: tuple[str, ...] = ()
    rules: tuple[RuleRate, ...]
    recommendations: tuple[ProtocolChange, ...]
    changed: tuple[ChangedRecord, ...]
    ignored_fields: dict[str, int] | None = None
    """With ``unknown_fields="ignore"``: the fields left out because a side does not declare
    them, counted over the cohort (``{"a": ..., "b": ...}``); None otherwise."""

    def to_json(self) -> str:
        """Deterministic JSON (indented, newline-terminated)."""
        unset = {"ignored_fields"} if self.ignored_fields is None else None
        return self.model_dump_json(indent=2, exclude=unset) + "\n"

    def agreement(self, name: str) -> Agreement:
        """The agreement of one hazard, or of ``overall``; KeyError when not compared."""
        for item in (self.overall, *self.hazards):
            if item.name == name:
                return item
        raise KeyError(name)

    def to_text(self, *, max_changed: int = 50) -> str:
        """A readable summary: agreement table, transition matrices, rule firing rates that
        differ, recommendation changes and (up to ``max_changed``) records whose level changed."""
        from riskrules.research._text import comparison_text

        return comparison_text(self, max_changed=max_changed)

    def figures(self, directory: str | PathLike[str]) -> list[Path]:
        """Write PNG figures into ``directory`` (created if needed) and return their paths:
        ``transitions-<name>.png`` per hazard and overall (heatmap of the transition matrix)
        and ``firing-rates.png`` (rate difference B - A per rule that changed).

        Needs matplotlib (the ``plots`` extra).
        """
        from riskrules.research._figures import comparison_figures

        return comparison_figures(self, Path(directory))


class SweepPoint(FrozenModel):
    """The level distribution at one grid point.

    ``params`` holds the swept parameters' values at this point; ``overall`` and ``hazards``
    map each level of the scale to the number of records at that level (an incomplete record
    counts at the level it reached; ``incomplete`` counts them per hazard and overall).
    """

    params: dict[str, StrictNumber]
    overall: dict[str, int]
    hazards: dict[str, dict[str, int]]
    incomplete: dict[str, int]


class SweepResult(FrozenModel):
    """The result of :func:`sweep`: one :class:`SweepPoint` per grid point.

    Points are in grid order: the first parameter's values outermost, in the order given.
    ``ruleset.params`` are the parameters' values apart from the swept ones. ``hazards`` are the
    hazards the swept parameters can change (in ruleset order); ``unaffected`` the others,
    left out of the points because no value of the parameters can change their levels.
    """

    ruleset: ComparisonSide
    parameters: tuple[str, ...]
    values: dict[str, tuple[StrictNumber, ...]]
    records: int
    levels: tuple[str, ...]
    hazards: tuple[str, ...]
    unaffected: tuple[str, ...] = ()
    points: tuple[SweepPoint, ...]
    ignored_fields: int | None = None
    """With ``unknown_fields="ignore"``: the fields left out of the cohort's records because the
    ruleset does not declare them; None otherwise."""

    def to_json(self) -> str:
        """Deterministic JSON (indented, newline-terminated)."""
        unset = {"ignored_fields"} if self.ignored_fields is None else None
        return self.model_dump_json(indent=2, exclude=unset) + "\n"

    def share_at_least(self, level: str, hazard: str = OVERALL) -> list[float]:
        """Per point, the share of records whose level (of ``hazard``, default overall) is at
        or above ``level``."""
        if level not in self.levels:
            raise RiskRulesError(f"unknown level {level!r}; the scale is {', '.join(self.levels)}")
        above = self.levels[self.levels.index(level) :]
        return [
            sum(level_counts(p, hazard)[lv] for lv in above) / self.records for p in self.points
        ]

    def to_text(self) -> str:
        """One table per hazard and overall: record counts per level at each grid point."""
        from riskrules.research._text import sweep_text

        return sweep_text(self)

    def figures(self, directory: str | PathLike[str], *, level: str | None = None) -> list[Path]:
        """Write PNG figures into ``directory`` and return their paths, one per hazard and
        overall (``sweep-<name>.png``): for a 1-D sweep stacked bars of the level shares at each
        value; for a 2-D sweep a heatmap of the share at or above ``level`` (default: the
        second level of the scale). Needs matplotlib (the ``plots`` extra)."""
        from riskrules.research._figures import sweep_figures

        return sweep_figures(self, Path(directory), level)


def level_counts(point: SweepPoint, hazard: str) -> dict[str, int]:
    """The records per level of ``hazard`` (or ``overall``) at one sweep point; KeyError for a
    hazard the sweep did not score."""
    if hazard == OVERALL:
        return point.overall
    if hazard not in point.hazards:
        raise KeyError(hazard)
    return point.hazards[hazard]
