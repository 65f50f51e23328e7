"""A scenario's expectations against a report: :func:`check_expect` and :class:`Mismatch`.

Each part of ``expect`` is checked on its own (levels, ``overall`` and ``complete``; the rules
that fired, did not fire or are indeterminate; findings; recommendations), and every
contradiction becomes one :class:`Mismatch` with short expected and actual texts.
"""

from __future__ import annotations

from dataclasses import dataclass

from riskrules.report import RiskReport
from riskrules.ruleset._spec import DEFAULT_LEVELS, Expect, Ruleset

__all__ = ["Mismatch", "check_expect", "level_text"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One expectation of a scenario that its report contradicts.

    ``check`` is the ``expect`` key (``levels``, ``fired``, ``not_recommendations``, ...),
    ``subject`` the hazard, rule, finding or protocol it is about (empty for ``overall``), and
    ``expected`` / ``actual`` are short texts for a person.
    """

    check: str
    subject: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.check}: expected {self.expected}; actual {self.actual}"

    def to_dict(self) -> dict[str, str]:
        return {
            "check": self.check,
            "subject": self.subject,
            "expected": self.expected,
            "actual": self.actual,
        }


def level_text(report: RiskReport, hazard: str) -> str:
    """A hazard's level with its score, and the level it could reach when incomplete."""
    result = report.hazards[hazard]
    text = f"{result.level} (score {_number(result.score)}"
    if not result.complete:
        text += f"; incomplete, could reach {result.possible_level}"
    return text + ")"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def check_expect(
    report: RiskReport, expect: Expect, ruleset: Ruleset | None = None
) -> tuple[Mismatch, ...]:
    """What in ``report`` contradicts ``expect``; empty when the scenario holds.

    Levels, ``overall`` and ``complete`` must be equal; ``at_most`` and ``at_least`` bound a
    hazard's level on the ruleset's scale (the default scale without ``ruleset``); ``fired``,
    ``indeterminate``, ``findings`` and ``recommendations`` must be in the report (membership,
    not order), and the
    ``not_`` lists must not be. With the ``ruleset`` that scored the report, an unexpected
    finding names the rules that asserted it.
    """
    scale = ruleset.scale if ruleset is not None else DEFAULT_LEVELS
    return (
        *_level_mismatches(report, expect),
        *_bound_mismatches(report, expect, scale),
        *_rule_mismatches(report, expect),
        *_finding_mismatches(report, expect, ruleset),
        *_recommendation_mismatches(report, expect),
    )


def _bound_mismatches(report: RiskReport, expect: Expect, scale: tuple[str, ...]) -> list[Mismatch]:
    """``at_most`` and ``at_least``: the hazard's level must lie on the right side of the bound."""
    found: list[Mismatch] = []
    rank = {level: i for i, level in enumerate(scale)}
    for key, bounds in (("at_most", expect.at_most), ("at_least", expect.at_least)):
        words = key.replace("_", " ")
        for hazard, level in bounds.items():
            result = report.hazards.get(hazard)
            if result is None:
                found.append(Mismatch(key, hazard, f"{hazard}: {words} {level}", "no such hazard"))
                continue
            have, bound = rank.get(result.level, -1), rank.get(level, -1)
            if (have > bound) if key == "at_most" else (have < bound):
                found.append(
                    Mismatch(
                        key,
                        hazard,
                        f"{hazard}: {words} {level}",
                        f"{hazard}: {level_text(report, hazard)}",
                    )
                )
    return found


def _level_mismatches(report: RiskReport, expect: Expect) -> list[Mismatch]:
    """``levels``, ``overall`` and ``complete``: each must equal the report's."""
    found: list[Mismatch] = []
    for hazard, level in expect.levels.items():
        if hazard not in report.hazards:
            found.append(Mismatch("levels", hazard, f"{hazard}: {level}", "no such hazard"))
        elif report.hazards[hazard].level != level:
            found.append(
                Mismatch(
                    "levels",
                    hazard,
                    f"{hazard}: {level}",
                    f"{hazard}: {level_text(report, hazard)}",
                )
            )
    if expect.overall is not None and report.overall_level != expect.overall:
        found.append(Mismatch("overall", "", expect.overall, report.overall_level))
    for hazard, complete in expect.complete.items():
        result = report.hazards.get(hazard)
        if result is None:
            found.append(Mismatch("complete", hazard, hazard, "no such hazard"))
        elif result.complete != complete:
            actual = (
                f"{hazard}: complete"
                if result.complete
                else f"{hazard}: incomplete (missing {', '.join(result.missing) or 'findings'})"
            )
            wanted = f"{hazard}: {'complete' if complete else 'incomplete'}"
            found.append(Mismatch("complete", hazard, wanted, actual))
    return found


def _rule_mismatches(report: RiskReport, expect: Expect) -> list[Mismatch]:
    """``fired``, ``not_fired`` and ``indeterminate``, each told with what the rule did."""
    fired = {f.rule for f in report.fired}
    missing = {i.rule: i.missing for i in report.indeterminate}

    def status(rule: str) -> str:
        if rule in fired:
            return f"{rule} fired"
        if rule in missing:
            lacking = ", ".join(missing[rule]) or "findings that are unknown"
            return f"{rule} is indeterminate (missing {lacking})"
        return f"{rule} did not fire (its condition is false)"

    found: list[Mismatch] = []
    for rule in expect.fired:
        if rule not in fired:
            found.append(Mismatch("fired", rule, f"{rule} fires", status(rule)))
    for rule in expect.not_fired:
        if rule in fired:
            found.append(Mismatch("not_fired", rule, f"{rule} does not fire", status(rule)))
    for rule in expect.indeterminate:
        if rule not in missing:
            found.append(Mismatch("indeterminate", rule, f"{rule} is indeterminate", status(rule)))
    return found


def _finding_mismatches(
    report: RiskReport, expect: Expect, ruleset: Ruleset | None
) -> list[Mismatch]:
    """``findings`` and ``not_findings``; an unexpected finding names the rules asserting it
    when the ruleset is known."""
    asserted: dict[str, list[str]] = {}
    if ruleset is not None:
        asserts = {rule.id: rule.then.assert_ for rule in ruleset.rules}
        for firing in report.fired:
            for finding in asserts.get(firing.rule, ()):
                asserted.setdefault(finding, []).append(firing.rule)
    findings = set(report.findings)
    found: list[Mismatch] = []
    for finding in expect.findings:
        if finding not in findings:
            found.append(
                Mismatch("findings", finding, f"{finding} asserted", f"{finding} not asserted")
            )
    for finding in expect.not_findings:
        if finding in findings:
            by = asserted.get(finding)
            actual = f"{finding} asserted" + (f" by {', '.join(by)}" if by else "")
            found.append(Mismatch("not_findings", finding, f"{finding} not asserted", actual))
    return found


def _recommendation_mismatches(report: RiskReport, expect: Expect) -> list[Mismatch]:
    """``recommendations`` and ``not_recommendations``; an unexpected one says why it was made."""
    recommended = {r.protocol: r for r in report.recommendations}
    found: list[Mismatch] = []
    for protocol in expect.recommendations:
        if protocol not in recommended:
            found.append(
                Mismatch(
                    "recommendations",
                    protocol,
                    f"{protocol} recommended",
                    f"{protocol} not recommended",
                )
            )
    for protocol in expect.not_recommendations:
        rec = recommended.get(protocol)
        if rec is not None:
            because = f" (because {', '.join(rec.because)})" if rec.because else ""
            found.append(
                Mismatch(
                    "not_recommendations",
                    protocol,
                    f"{protocol} not recommended",
                    f"{protocol} recommended{because}",
                )
            )
    return found
