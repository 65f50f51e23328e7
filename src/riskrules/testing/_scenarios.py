"""Scenario runs and rule coverage: :func:`run_scenarios` and :class:`ScenarioRunner`.

A runner scores each ``tests:`` scenario of a ruleset on an engine (a Scorer compiled once per
engine and parameter set) and checks the report against the scenario's expectations; the
results say which scenarios failed, with a readable diff, and which rules no scenario fires.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar

from riskrules._types import Loc, RulesetSource
from riskrules.errors import AssessmentError, EngineError
from riskrules.report import RiskReport
from riskrules.ruleset._spec import Ruleset, Scenario
from riskrules.scoring._scorer import Scorer
from riskrules.testing._common import (
    as_ruleset,
    available_engines,
    location_text,
)
from riskrules.testing._expect import Mismatch, check_expect, level_text
from riskrules.testing._outcomes import SectionOutcome, SectionResults

__all__ = ["ScenarioOutcome", "ScenarioResults", "ScenarioRunner", "run_scenarios"]


@dataclass(frozen=True, slots=True)
class ScenarioOutcome(SectionOutcome):
    """One scenario scored on one engine: the mismatches found, or the input error."""

    _section: ClassVar[str] = "tests"

    engine: str
    mismatches: tuple[Mismatch, ...] = ()
    error: str | None = None
    """The located message when the scenario's input or parameters do not fit the ruleset."""
    report: RiskReport | None = None

    @property
    def scenario(self) -> Scenario:
        """The scenario that ran."""
        return self.ruleset.tests[self.index]

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def passed(self) -> bool:
        return self.error is None and not self.mismatches

    def diff(self) -> str:
        """A readable account of the failure: each contradicted expectation as ``-`` expected /
        ``+`` actual, then what the report actually says (levels, fired rules, findings,
        recommendations). Empty when the scenario passed."""
        if self.passed:
            return ""
        lines = [f"{self.where}: scenario {self.name!r} failed on the {self.engine} engine"]
        if self.error is not None:
            lines.append(f"  {self.error}")
            return "\n".join(lines) + "\n"
        lines.append("  (- expected, + actual)")
        current = ""
        for mismatch in self.mismatches:
            if mismatch.check != current:
                current = mismatch.check
                lines.append(f"  {current}:")
            lines.append(f"    - {mismatch.expected}")
            lines.append(f"    + {mismatch.actual}")
        if self.report is not None:
            lines.append("  actual report:")
            lines.extend("    " + line for line in _summary(self.report))
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        report = self.report
        return {
            "scenario": self.name,
            "index": self.index,
            "engine": self.engine,
            "location": self.where,
            "passed": self.passed,
            "error": self.error,
            "mismatches": [m.to_dict() for m in self.mismatches],
            "actual": None if report is None else _actual(report),
        }


def _summary(report: RiskReport) -> list[str]:
    """The parts of a report a scenario can expect, one topic per line."""

    def listed(label: str, items: Iterable[str]) -> list[str]:
        text = f"{label}: {', '.join(items) or 'none'}"
        return textwrap.wrap(text, width=96, subsequent_indent="  ", break_on_hyphens=False)

    lines = [f"overall: {report.overall_level}", "levels:"]
    lines.extend(f"  {hazard}: {level_text(report, hazard)}" for hazard in report.hazards)
    lines += listed("fired", (f.rule for f in report.fired))
    if report.indeterminate:
        lines += listed("indeterminate", (i.rule for i in report.indeterminate))
    lines += listed("findings", report.findings)
    lines += listed("recommendations", (r.protocol for r in report.recommendations))
    return lines


def _actual(report: RiskReport) -> dict[str, Any]:
    return {
        "overall": report.overall_level,
        "levels": {hazard: result.level for hazard, result in report.hazards.items()},
        "complete": {hazard: result.complete for hazard, result in report.hazards.items()},
        "fired": [f.rule for f in report.fired],
        "indeterminate": [i.rule for i in report.indeterminate],
        "findings": list(report.findings),
        "recommendations": [r.protocol for r in report.recommendations],
    }


def _input_loc(assessment: Any, field: str) -> Loc:
    """The path to ``field`` inside a scenario's input (nested objects or dotted keys)."""
    loc: list[str | int] = []
    node = assessment
    rest = field
    while isinstance(node, Mapping) and rest:
        key = next(
            (k for k in node if isinstance(k, str) and (rest == k or rest.startswith(k + "."))),
            None,
        )
        if key is None:
            break
        loc.append(key)
        node = node[key]
        rest = rest[len(key) + 1 :]
    return tuple(loc)


class ScenarioRunner:
    """Runs one ruleset's scenarios, compiling a Scorer once per engine and parameter set.

    Close it (or use it as a context manager) to release the engines.
    """

    def __init__(self, ruleset: RulesetSource) -> None:
        self._ruleset = as_ruleset(ruleset)
        self._scorers: dict[tuple[str, tuple[tuple[str, float], ...]], Scorer] = {}

    @property
    def ruleset(self) -> Ruleset:
        return self._ruleset

    def _scorer(self, engine: str, params: Mapping[str, float]) -> Scorer:
        key = (engine, tuple(sorted(params.items())))
        scorer = self._scorers.get(key)
        if scorer is None:
            scorer = Scorer(self._ruleset, engine=engine, params=dict(params) or None)
            self._scorers[key] = scorer
        return scorer

    def run(self, index: int, engine: str) -> ScenarioOutcome:
        """Score scenario ``index`` of the ruleset on ``engine`` and check its expectations.

        An input that does not fit the ruleset is a failed outcome with a located message, not an
        exception. EngineError when the engine is not available.
        """
        ruleset = self._ruleset
        scenario = ruleset.tests[index]
        scorer = self._scorer(engine, scenario.params)
        try:
            report = scorer.score(scenario.input)
        except AssessmentError as exc:
            where = location_text(
                ruleset, ("tests", index, "input", *_input_loc(scenario.input, exc.field))
            )
            return ScenarioOutcome(
                ruleset, index, engine, error=f"{where}: invalid scenario input: {exc}"
            )
        return ScenarioOutcome(
            ruleset,
            index,
            engine,
            mismatches=check_expect(report, scenario.expect, ruleset),
            report=report,
        )

    def close(self) -> None:
        for scorer in self._scorers.values():
            scorer.close()
        self._scorers.clear()

    def __enter__(self) -> ScenarioRunner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class ScenarioResults(SectionResults[ScenarioOutcome]):
    """Every scenario of a ruleset on every engine, and the rule coverage they reach."""

    ruleset: Ruleset
    engines: tuple[str, ...]
    outcomes: tuple[ScenarioOutcome, ...]

    @property
    def covered(self) -> tuple[str, ...]:
        """Rules that fired in at least one scenario, in ruleset order."""
        fired = {f.rule for o in self.outcomes if o.report is not None for f in o.report.fired}
        return tuple(rule.id for rule in self.ruleset.rules if rule.id in fired)

    @property
    def uncovered(self) -> tuple[str, ...]:
        """Rules no scenario fires, in ruleset order."""
        covered = set(self.covered)
        return tuple(rule.id for rule in self.ruleset.rules if rule.id not in covered)

    @property
    def coverage(self) -> float:
        """Rule coverage in percent (100 for a ruleset without rules)."""
        total = len(self.ruleset.rules)
        return 100.0 if total == 0 else 100.0 * len(self.covered) / total

    def to_text(self, source: str | None = None) -> str:
        """The failures' diffs, then a summary line and the coverage."""
        rs = self.ruleset
        parts = [o.diff() for o in self.failures]
        scenarios = len(rs.tests)
        passed = len(self.outcomes) - len(self.failures)
        parts.append(
            f"{self._heading(source)}{scenarios} "
            f"scenario{'' if scenarios == 1 else 's'} on {', '.join(self.engines)}: "
            f"{passed} passed, {len(self.failures)} failed\n"
        )
        parts.append(
            f"rule coverage: {len(self.covered)} of {len(rs.rules)} rules fired in some scenario "
            f"({self.coverage:.1f}%)\n"
        )
        if self.uncovered:
            parts.append(
                textwrap.fill(
                    "never fired: " + ", ".join(self.uncovered),
                    width=100,
                    subsequent_indent="  ",
                    break_on_hyphens=False,
                )
                + "\n"
            )
        return "".join(parts)

    def to_dict(self) -> dict[str, Any]:
        rs = self.ruleset
        return {
            **self._identity(),
            "engines": list(self.engines),
            "scenarios": len(rs.tests),
            "passed": len(self.outcomes) - len(self.failures),
            "failed": len(self.failures),
            "coverage": {
                "percent": round(self.coverage, 2),
                "rules": len(rs.rules),
                "covered": len(self.covered),
                "uncovered": list(self.uncovered),
            },
            "failures": [o.to_dict() for o in self.failures],
        }


def run_scenarios(
    ruleset: RulesetSource, *, engines: Sequence[str] | None = None
) -> ScenarioResults:
    """Run every ``tests:`` scenario of ``ruleset`` on each engine (default: every available
    one) with the scenario's parameters, and measure rule coverage.

    ``ruleset`` is a Ruleset or anything :func:`~riskrules.load_ruleset` accepts. Failures are
    in the result (``.failures``, each with ``.diff()``); an unknown or unavailable engine
    raises EngineError.
    """
    rs = as_ruleset(ruleset)
    chosen = tuple(dict.fromkeys(engines)) if engines is not None else available_engines()
    if not chosen:
        raise EngineError("no engine to run the scenarios on")
    with ScenarioRunner(rs) as runner:
        outcomes = tuple(
            runner.run(index, engine) for index in range(len(rs.tests)) for engine in chosen
        )
    return ScenarioResults(rs, chosen, outcomes)
