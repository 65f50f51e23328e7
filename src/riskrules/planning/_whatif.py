"""What-if: rescore an assessment with some inputs changed and say what differs, and why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from riskrules._types import FrozenModel, StrictValue, Value
from riskrules.planning._context import context
from riskrules.report import RiskReport
from riskrules.scoring._scorer import Scorer

__all__ = ["Change", "Difference", "LevelChange", "WhatIf", "what_if"]


class Change(FrozenModel):
    """One input changed: its value before (``None``: not assessed) and after."""

    input: str
    before: StrictValue | None
    after: StrictValue | None


class LevelChange(FrozenModel):
    """A hazard whose level differs, with the hazard's rules that started and stopped firing."""

    hazard: str
    before: str
    after: str
    started: tuple[str, ...]
    stopped: tuple[str, ...]


class Difference(FrozenModel):
    """A finding or a recommended protocol gained or lost, with the fired rules behind it
    (after the change for a gain, before it for a loss)."""

    id: str
    rules: tuple[str, ...]


class WhatIf(FrozenModel):
    """What changing some inputs does to a report. ``report`` is the rescored report."""

    changes: tuple[Change, ...]
    overall_before: str
    overall_after: str
    levels: tuple[LevelChange, ...]
    started: tuple[str, ...]
    stopped: tuple[str, ...]
    findings_gained: tuple[Difference, ...]
    findings_lost: tuple[Difference, ...]
    recommendations_gained: tuple[Difference, ...]
    recommendations_lost: tuple[Difference, ...]
    report: RiskReport

    @property
    def changed(self) -> bool:
        """Whether any level, fired rule, finding or recommendation differs."""
        return bool(
            self.levels
            or self.started
            or self.stopped
            or self.recommendations_gained
            or self.recommendations_lost
        )

    def to_text(self) -> str:
        """A short summary (what ``riskrules score --set ... --format text`` prints)."""
        lines = [
            "What if: "
            + ", ".join(f"{c.input} {_show(c.before)} -> {_show(c.after)}" for c in self.changes)
        ]
        lines.append(f"Overall level: {self.overall_before} -> {self.overall_after}")
        for level in self.levels:
            lines.append(f"  {level.hazard}: {level.before} -> {level.after}")
        for label, items in (
            ("Rules that start firing", self.started),
            ("Rules that stop firing", self.stopped),
        ):
            if items:
                lines.append(f"{label}: {', '.join(items)}")
        for label, diffs in (
            ("Findings gained", self.findings_gained),
            ("Findings lost", self.findings_lost),
            ("Recommendations gained", self.recommendations_gained),
            ("Recommendations lost", self.recommendations_lost),
        ):
            if diffs:
                lines.append(f"{label}:")
                lines.extend(f"  {d.id} (rules: {', '.join(d.rules) or 'bands'})" for d in diffs)
        if not self.changed:
            lines.append("No level, rule, finding or recommendation changes.")
        lines += ["", self.report.disclaimer]
        return "\n".join(lines) + "\n"


def _show(value: Value | None) -> str:
    if value is None:
        return "(not assessed)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compare(before: RiskReport, after: RiskReport, changes: tuple[Change, ...]) -> WhatIf:
    """The difference between two reports of one ruleset."""
    fired_before = {f.rule: f for f in before.fired}
    fired_after = {f.rule: f for f in after.fired}
    started = tuple(r for r in fired_after if r not in fired_before)
    stopped = tuple(r for r in fired_before if r not in fired_after)
    levels = tuple(
        LevelChange(
            hazard=hid,
            before=result.level,
            after=after.hazards[hid].level,
            started=tuple(r for r in started if fired_after[r].hazard == hid),
            stopped=tuple(r for r in stopped if fired_before[r].hazard == hid),
        )
        for hid, result in before.hazards.items()
        if after.hazards[hid].level != result.level
    )
    ruleset = after._ruleset
    asserting: dict[str, list[str]] = {}
    if ruleset is not None:
        for rule in ruleset.rules:
            for finding in rule.then.assert_:
                asserting.setdefault(finding, []).append(rule.id)

    def finding_diff(names: tuple[str, ...], fired: Mapping[str, Any]) -> tuple[Difference, ...]:
        return tuple(
            Difference(id=name, rules=tuple(r for r in asserting.get(name, ()) if r in fired))
            for name in names
        )

    recs_before = {r.protocol: r for r in before.recommendations}
    recs_after = {r.protocol: r for r in after.recommendations}
    return WhatIf(
        changes=changes,
        overall_before=before.overall_level,
        overall_after=after.overall_level,
        levels=levels,
        started=started,
        stopped=stopped,
        findings_gained=finding_diff(
            tuple(f for f in after.findings if f not in before.findings), fired_after
        ),
        findings_lost=finding_diff(
            tuple(f for f in before.findings if f not in after.findings), fired_before
        ),
        recommendations_gained=tuple(
            Difference(id=p, rules=r.because) for p, r in recs_after.items() if p not in recs_before
        ),
        recommendations_lost=tuple(
            Difference(id=p, rules=r.because) for p, r in recs_before.items() if p not in recs_after
        ),
        report=after,
    )


def what_if(
    scorer: Scorer,
    assessment: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    report: RiskReport | None = None,
) -> WhatIf:
    """Rescore ``assessment`` with ``changes`` (dotted input name -> value; ``None`` makes an
    input not assessed) and return what differs: levels, the rules that start and stop firing,
    findings and recommendations gained and lost with the rules behind them.

    Pass ``report`` (the assessment's report from this Scorer) to score only once.
    Raises AssessmentError when the assessment or a changed value does not fit the ruleset.

    >>> from riskrules import Scorer
    >>> with Scorer("default", engine="native") as scorer:
    ...     diff = what_if(scorer, {"clinician": {"active_clients": 40}},
    ...                    {"clinician.active_clients": 30})
    >>> [(c.hazard, c.before, c.after, c.stopped) for c in diff.levels]
    [('caseload', 'moderate', 'low', ('caseload.over_capacity',))]
    """
    ctx = context(scorer)
    facts = ctx.facts(assessment)
    before = report if report is not None else ctx.score(facts)
    changed: dict[str, Any] = dict(facts)
    for name, value in changes.items():
        if value is None:
            changed.pop(name, None)
        else:
            changed[name] = value
    after = ctx.score(changed)
    records = tuple(
        Change(input=name, before=facts.get(name), after=changes[name]) for name in sorted(changes)
    )
    return compare(before, after, records)
