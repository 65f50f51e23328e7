"""Sweep a ruleset's parameters over a cohort (``riskrules sweep``).

:func:`sweep` scores a cohort at every point of a grid of one or two parameters and keeps the
level distribution per hazard and overall at each point (a :class:`SweepResult`); one Scorer is
compiled per point and the cohort is read once. :func:`parse_values` reads the values of one
swept parameter from the command line (``START:STOP:STEP`` or ``A,B,C``).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from riskrules._types import RulesetSource
from riskrules.errors import RiskRulesError
from riskrules.research._fields import UNKNOWN_FIELDS, UnknownFields, drop_undeclared
from riskrules.research._records import (
    Cohort,
    cohort_label,
    cohort_records,
    score_record,
)
from riskrules.research._results import OVERALL, ComparisonSide, SweepPoint, SweepResult
from riskrules.ruleset import Ruleset
from riskrules.ruleset._conditions import findings_read, params_used
from riskrules.scoring import Scorer
from riskrules.scoring._scorer import _load

__all__ = ["MAX_SWEEP_POINTS", "parse_values", "sweep"]

MAX_SWEEP_POINTS = 100
"""The most grid points one sweep compiles (one Scorer per point, all alive during the pass)."""


def _grid(grid: Mapping[str, Sequence[int | float]]) -> tuple[tuple[str, ...], list[list[Any]]]:
    if not isinstance(grid, Mapping) or not 1 <= len(grid) <= 2:
        raise RiskRulesError("a sweep grid maps one or two parameter names to lists of values")
    names = tuple(grid)
    values = []
    for name in names:
        column = grid[name]
        if isinstance(column, str | bytes) or not isinstance(column, Sequence) or not column:
            raise RiskRulesError(f"sweep parameter {name!r}: give a non-empty list of values")
        for value in column:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RiskRulesError(f"sweep parameter {name!r}: {value!r} is not a number")
            if not math.isfinite(value):
                raise RiskRulesError(f"sweep parameter {name!r}: {value!r} is not finite")
        if len(set(column)) != len(column):
            raise RiskRulesError(f"sweep parameter {name!r}: values repeat")
        values.append(list(column))
    size = math.prod(len(v) for v in values)
    if size > MAX_SWEEP_POINTS:
        raise RiskRulesError(
            f"the sweep grid has {size} points; at most {MAX_SWEEP_POINTS} are scored in one pass"
        )
    return names, values


def affected_hazards(rs: Ruleset, names: Sequence[str]) -> frozenset[str]:
    """The hazards whose level the parameters ``names`` can change: those of the rules whose
    conditions read them, and of the rules that read (positively or negatively) a finding
    asserted by such a rule, followed to a fixpoint."""
    wanted = set(names)
    rules = rs.rules
    changed = {r.id for r in rules if wanted & set(params_used(r.when))}
    readers: dict[str, list[str]] = {}
    for rule in rules:
        for finding, _ in findings_read(rule.when):
            readers.setdefault(finding, []).append(rule.id)
    by_id = {rule.id: rule for rule in rules}
    todo = list(changed)
    while todo:
        rule = by_id[todo.pop()]
        for finding in rule.then.assert_:
            for reader in readers.get(finding, ()):
                if reader not in changed:
                    changed.add(reader)
                    todo.append(reader)
    return frozenset(by_id[r].hazard for r in changed)


def sweep(
    ruleset: RulesetSource,
    cohort: Cohort,
    grid: Mapping[str, Sequence[int | float]],
    *,
    engine: str = "auto",
    params: Mapping[str, int | float] | None = None,
    id_column: str = "id",
    unknown_fields: UnknownFields = "error",
) -> SweepResult:
    """The level distribution of ``cohort`` at each point of a 1-D or 2-D parameter grid.

    ``grid`` maps one or two parameter names to their values (e.g. ``{"max_active_clients":
    [20, 25, 30]}``); ``params`` fixes other parameters. One Scorer is compiled per grid point
    (never per record), all before the cohort is read; the cohort is then read once and every
    record is scored at every point. That reads a file once and accepts one-shot iterables; it
    keeps one compiled ruleset per point alive, hence the cap of :data:`MAX_SWEEP_POINTS` points.
    With ``unknown_fields="ignore"`` the fields the ruleset does not declare are left out of each
    record before it is scored, and ``ignored_fields`` counts them.

    Hazards the swept parameters cannot affect (see :func:`affected_hazards`) are left out of
    the tables and listed in ``SweepResult.unaffected``.
    """
    if unknown_fields not in UNKNOWN_FIELDS:
        raise ValueError(f"unknown_fields is 'error' or 'ignore', not {unknown_fields!r}")
    names, values = _grid(grid)
    rs = _load(ruleset)
    overlap = sorted(set(names) & set(params or {}))
    if overlap:
        raise RiskRulesError(f"parameter {overlap[0]!r} is both swept and fixed")
    points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    levels = rs.scale
    reach = affected_hazards(rs, names)
    hazards = tuple(h for h in rs.hazards if h in reach)
    unaffected = tuple(h for h in rs.hazards if h not in reach)
    with contextlib.ExitStack() as stack:
        scorers = [
            stack.enter_context(Scorer(rs, engine=engine, params={**(params or {}), **point}))
            for point in points
        ]
        counts = [{h: dict.fromkeys(levels, 0) for h in (OVERALL, *hazards)} for _ in points]
        incomplete = [dict.fromkeys((OVERALL, *hazards), 0) for _ in points]
        records = 0
        ignored = 0
        where = cohort_label(cohort)
        for index, rid, assessment in cohort_records(cohort, rs, id_column):
            records += 1
            if unknown_fields == "ignore":
                assessment, dropped = drop_undeclared(assessment, rs)
                ignored += dropped
            for scorer, count, missing in zip(scorers, counts, incomplete, strict=True):
                report = score_record(scorer, where, index, rid, assessment)
                count[OVERALL][report.overall_level] += 1
                missing[OVERALL] += not report.complete
                for hid in hazards:
                    result = report.hazards[hid]
                    count[hid][result.level] += 1
                    missing[hid] += not result.complete
        if records == 0:
            raise RiskRulesError("the cohort has no records to sweep")
        base = {k: v for k, v in scorers[0].params.items() if k not in names}
    return SweepResult(
        ruleset=ComparisonSide(
            ruleset=rs.ruleset, version=rs.version, fingerprint=rs.fingerprint, params=base
        ),
        parameters=names,
        values={name: tuple(column) for name, column in zip(names, values, strict=True)},
        records=records,
        levels=levels,
        hazards=hazards,
        unaffected=unaffected,
        points=tuple(
            SweepPoint(
                params=point,
                overall=count[OVERALL],
                hazards={h: count[h] for h in hazards},
                incomplete=missing,
            )
            for point, count, missing in zip(points, counts, incomplete, strict=True)
        ),
        ignored_fields=ignored if unknown_fields == "ignore" else None,
    )


def parse_values(text: str) -> list[int | float]:
    """Sweep values from text: ``START:STOP:STEP`` (inclusive of STOP when reached),
    ``A,B,C`` or a single number. Integers stay integers; decimal steps are exact
    (``0.1:0.3:0.1`` gives 0.1, 0.2, 0.3). Raises ValueError with a short reason."""
    from decimal import Decimal, InvalidOperation

    def number(part: str) -> Decimal:
        try:
            value = Decimal(part.strip())
        except InvalidOperation:
            raise ValueError(f"{part.strip()!r} is not a number") from None
        if not value.is_finite():
            raise ValueError(f"{part.strip()!r} is not a finite number")
        return value

    def plain(value: Decimal) -> int | float:
        return (
            int(value)
            if value == value.to_integral_value() and "." not in str(value)
            else (float(value))
        )

    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"expected START:STOP:STEP, got {text!r}")
        start, stop, step = map(number, parts)
        if step <= 0:
            raise ValueError("STEP must be positive")
        if stop < start:
            raise ValueError("STOP must not be below START")
        if (stop - start) / step >= MAX_SWEEP_POINTS:
            raise ValueError(f"more than {MAX_SWEEP_POINTS} values")
        integral = all("." not in p and "e" not in p.lower() for p in parts)
        out: list[int | float] = []
        current = start
        while current <= stop:
            out.append(int(current) if integral else float(current))
            current += step
        return out
    values = [number(part) for part in text.split(",")]
    return [plain(v) for v in values]
