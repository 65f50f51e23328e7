"""Levels that no achievable score reaches, protocols nothing can recommend, floors outside the
bands and hazards without rules (RR402-RR406).

A hazard's possible scores are the subset sums of its live rules' points (capped), computed
exactly with fractions; a band that none of them lands in, and that no live rule's floor sets,
is unreachable. A protocol is dead when every rule recommending it is dead and no hazard
reaches a level that recommends it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from fractions import Fraction

from riskrules.authoring._context import LintContext, quoted
from riskrules.ruleset._spec import Hazard

__all__ = ["check_levels_and_protocols"]

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


def _fmt(value: float) -> str:
    """A number as a ruleset author wrote it: ``10`` rather than ``10.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_levels_and_protocols(ctx: LintContext) -> None:
    """Report hazards without rules, floors outside the bands, each hazard's unreachable
    levels, then the protocols nothing can recommend."""
    _check_hazards_and_floors(ctx)
    reachable = {hid: _check_levels(ctx, hid, hazard) for hid, hazard in ctx.rs.hazards.items()}
    _check_protocols(ctx, reachable)


def _check_hazards_and_floors(ctx: LintContext) -> None:
    """RR406: a hazard no rule scores; RR405: a floor at a level its hazard's bands omit."""
    rs = ctx.rs
    scored = {rule.hazard for rule in rs.rules}
    for hid in rs.hazards:
        if hid not in scored:
            ctx.emit(
                "RR406",
                ("hazards", hid),
                f"hazard {hid!r} has no rules: it stays at its lowest band on every assessment",
            )
    for i, rule in enumerate(rs.rules):
        floor = rule.then.floor
        hazard = rs.hazards.get(rule.hazard)
        if floor is None or hazard is None or floor in hazard.bands or floor == rs.scale[0]:
            continue
        ctx.emit(
            "RR405",
            ("rules", i, "then", "floor"),
            f"rule {rule.id!r} sets a floor at {floor!r}, a level the bands of hazard "
            f"{rule.hazard!r} do not define ({quoted(hazard.bands)}): the floor and the bands "
            "disagree on what the hazard's levels are",
            rule.id,
        )


def _check_levels(ctx: LintContext, hid: str, hazard: Hazard) -> set[int]:
    """Report the bands of hazard ``hid`` that no achievable score lands in; return the levels
    it can reach, as positions on the ruleset's scale."""
    rs = ctx.rs
    scale = rs.scale
    live = [r for i, r in enumerate(rs.rules) if r.hazard == hid and i not in ctx.dead]
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
    if any(r.hazard == hid for i, r in enumerate(rs.rules) if i in ctx.dead):
        notes.append("not counting rules that can never fire")
    capped = f" ({'; '.join(notes)})" if notes else ""
    for k, (level, low) in enumerate(bands):
        high = bands[k + 1][1] if k + 1 < len(bands) else math.inf
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
            ctx.emit(
                "RR403",
                loc,
                f"hazard {hid!r} can never reach its top band {level!r} at {_fmt(low)}: "
                f"its rules can score at most {_fmt(top)}{capped}, {floor_note}",
            )
        elif low > top:
            ctx.emit(
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
            ctx.emit(
                "RR402",
                loc,
                f"level {level!r} of hazard {hid!r} is unreachable: no combination of "
                f"its rules' points scores from {_fmt(low)} to below {_fmt(high)} "
                f"(possible scores: {listed}), {floor_note}",
            )
    return levels


def _check_protocols(ctx: LintContext, reachable: Mapping[str, set[int]]) -> None:
    rs = ctx.rs
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
        if any(i not in ctx.dead for i in rules):
            continue
        if any(any(k >= scale.index(level) for k in reachable[hid]) for hid, level in entries):
            continue
        reasons = []
        if rules:
            reasons.append(
                "the rules that recommend it can never fire ("
                + quoted(rs.rules[i].id for i in rules)
                + ")"
            )
        for hid, level in entries:
            reasons.append(f"hazard {hid!r} never reaches {level!r}")
        ctx.emit(
            "RR404",
            ("protocols", pid),
            f"protocol {pid!r} can never be recommended: " + "; ".join(reasons),
        )
