"""Counterfactuals: the smallest sets of input changes that bring a hazard down to a level.

The search is exact over the ruleset's own thresholds (:mod:`riskrules.planning._space`): for
``k = 1, 2, ... max_changes`` it tries every set of ``k`` changeable inputs and, for each, every
combination of regions other than the inputs' current ones, rescoring each candidate with the
Scorer; it stops at the first ``k`` with a solution. Changeable inputs are those that can reach
the hazard through its rules and the findings they read, are declared ``actionable``, are not
``fixed`` and are given a value (a missing input may be answered, an answer never removed).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from riskrules._types import FrozenModel, Value
from riskrules.planning._context import Context, context
from riskrules.planning._space import distance
from riskrules.planning._whatif import Change
from riskrules.report import RiskReport
from riskrules.scoring._scorer import Scorer

__all__ = ["Counterfactual", "Lowering", "lower"]


class Counterfactual(FrozenModel):
    """A set of input changes that brings a hazard to ``level`` (at or below the target).

    ``stopped``/``started``: the rules (of any hazard) that stop / start firing; ``protocols``:
    the protocols the stopped rules recommend, the ones that address what the changes remove.
    ``distance`` sums each change's normalised size (see docs/planning.md).
    """

    changes: tuple[Change, ...]
    level: str
    distance: float
    stopped: tuple[str, ...]
    started: tuple[str, ...]
    protocols: tuple[str, ...]


class Lowering(FrozenModel):
    """The answer of :func:`lower` for one hazard: where it stands, the target, the inputs
    searched, and the counterfactuals found (smallest first, then nearest)."""

    hazard: str
    level: str
    to: str
    searched: tuple[str, ...]
    max_changes: int
    counterfactuals: tuple[Counterfactual, ...]


def _levels(ctx: Context, hazard: str) -> list[int]:
    """The level ranks ``hazard`` can take: its level at score 0, the bands above it and the
    floors of its rules."""
    spec = ctx.ruleset.hazards[hazard]
    at_zero = max((ctx.rank[lv] for lv, t in spec.bands.items() if t <= 0), default=0)
    ranks = {at_zero}
    ranks.update(ctx.rank[lv] for lv, t in spec.bands.items() if t > 0)
    ranks.update(
        ctx.rank[rule.then.floor]
        for rule in ctx.ruleset.rules
        if rule.hazard == hazard and rule.then.floor is not None
    )
    return sorted(r for r in ranks if r >= at_zero)


def _target(ctx: Context, hazard: str, level: str, to: str | None) -> str:
    """``to``, or the next level below ``level`` that the hazard can take (``level`` itself
    when it is already the lowest)."""
    scale = ctx.ruleset.scale
    if to is not None:
        if to not in ctx.rank:
            raise ValueError(f"unknown level {to!r}; the scale is {', '.join(scale)}")
        return to
    below = [r for r in _levels(ctx, hazard) if r < ctx.rank[level]]
    return scale[below[-1]] if below else level


def _searched(
    ctx: Context, hazard: str, fixed: Iterable[str], facts: Mapping[str, Any]
) -> list[str]:
    frozen = set(fixed)
    unknown = sorted(frozen - set(ctx.ruleset.inputs))
    if unknown:
        raise ValueError(f"unknown input(s) in fixed: {', '.join(unknown)}")
    return [
        name
        for name in ctx.space.relevant([hazard])
        if ctx.ruleset.inputs[name].actionable and name not in frozen
    ]


def _options(
    ctx: Context, names: Sequence[str], facts: Mapping[str, Any]
) -> dict[str, list[Value]]:
    """Per input, one value for every region other than its current one."""
    options: dict[str, list[Value]] = {}
    for name in names:
        current = facts.get(name)
        here = None if current is None else ctx.space.signature(name, current)
        values = [
            v
            for v in ctx.space.regions(name, current)
            if here is None or ctx.space.signature(name, v) != here
        ]
        if values:
            options[name] = values
    return options


def _protocols(ctx: Context, stopped: Iterable[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for rule_id in stopped:
        for protocol in ctx.ruleset.rule(rule_id).then.recommend:
            found.setdefault(protocol, None)
    return tuple(found)


def _make(
    ctx: Context,
    facts: Mapping[str, Any],
    base: RiskReport,
    trial: RiskReport,
    hazard: str,
    assignment: Mapping[str, Value],
) -> Counterfactual:
    fired_before = [f.rule for f in base.fired]
    fired_after = {f.rule for f in trial.fired}
    stopped = tuple(r for r in fired_before if r not in fired_after)
    started = tuple(f.rule for f in trial.fired if f.rule not in set(fired_before))
    changes = tuple(
        Change(input=name, before=facts.get(name), after=value)
        for name, value in sorted(assignment.items())
    )
    size = sum(
        distance(
            ctx.ruleset.inputs[c.input],
            facts.get(c.input),
            assignment[c.input],
            ctx.space.thresholds.get(c.input, ()),
        )
        for c in changes
    )
    return Counterfactual(
        changes=changes,
        level=trial.hazards[hazard].level,
        distance=round(size, 9),
        stopped=stopped,
        started=started,
        protocols=_protocols(ctx, stopped),
    )


def lower(
    scorer: Scorer,
    assessment: Mapping[str, Any],
    hazard: str,
    to: str | None = None,
    *,
    fixed: Iterable[str] = (),
    max_changes: int = 2,
    report: RiskReport | None = None,
) -> Lowering:
    """The smallest sets of input changes that bring ``hazard`` to level ``to`` or below
    (default: the next level below its current one that the hazard can take; the current level
    when it is already the lowest, and then nothing is searched).

    Changes stay within the inputs' declared domains, never remove an answer, and never touch
    ``fixed`` inputs or inputs declared ``actionable: false``. Only sets of the smallest size
    that works (at most ``max_changes``) are returned, one per set of inputs (its nearest
    values), ranked by distance. An empty tuple means no such set exists within
    ``max_changes``. Raises ValueError for an unknown hazard, level or fixed input.

    >>> from riskrules import Scorer
    >>> with Scorer("default", engine="native") as scorer:
    ...     plan = lower(scorer, {"clinician": {"active_clients": 40}}, "caseload", "low")
    >>> [(c.input, c.before, c.after) for c in plan.counterfactuals[0].changes]
    [('clinician.active_clients', 40, 35)]
    """
    if isinstance(max_changes, bool) or not isinstance(max_changes, int) or max_changes < 1:
        raise ValueError(f"max_changes must be a positive integer, not {max_changes!r}")
    ctx = context(scorer)
    if hazard not in ctx.ruleset.hazards:
        raise ValueError(f"unknown hazard {hazard!r}")
    facts = ctx.facts(assessment)
    base = report if report is not None else ctx.score(facts)
    level = base.hazards[hazard].level
    goal = _target(ctx, hazard, level, to)
    searched = _searched(ctx, hazard, fixed, facts)
    found: list[Counterfactual] = []
    if ctx.rank[level] > ctx.rank[goal]:
        options = _options(ctx, searched, facts)
        for size in range(1, max_changes + 1):
            found = _search(ctx, facts, base, hazard, ctx.rank[goal], options, size)
            if found:
                break
    found.sort(key=lambda c: (len(c.changes), c.distance, tuple(x.input for x in c.changes)))
    return Lowering(
        hazard=hazard,
        level=level,
        to=goal,
        searched=tuple(searched),
        max_changes=max_changes,
        counterfactuals=tuple(found),
    )


def _search(
    ctx: Context,
    facts: Mapping[str, Any],
    base: RiskReport,
    hazard: str,
    goal: int,
    options: Mapping[str, list[Value]],
    size: int,
) -> list[Counterfactual]:
    """Every set of ``size`` inputs that reaches ``goal``, each with its nearest values."""
    found: list[Counterfactual] = []
    for names in itertools.combinations(options, size):
        best: Counterfactual | None = None
        for values in itertools.product(*(options[n] for n in names)):
            assignment = dict(zip(names, values, strict=True))
            trial = ctx.score({**facts, **assignment})
            if ctx.level_rank(trial, hazard) > goal:
                continue
            candidate = _make(ctx, facts, base, trial, hazard, assignment)
            if best is None or candidate.distance < best.distance:
                best = candidate
        if best is not None:
            found.append(best)
    return found
