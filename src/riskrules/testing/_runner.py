"""The scenario runner, property checks and hypothesis strategies behind riskrules.testing."""

from __future__ import annotations

import importlib.util
import math
import random
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

from riskrules.errors import AssessmentError, EngineError, RiskRulesError
from riskrules.report import RiskReport
from riskrules.ruleset import _safeyaml as safeyaml
from riskrules.ruleset._conditions import (
    Condition,
    FieldLeaf,
    FindingLeaf,
    ParamRef,
    Truth,
    evaluate,
    fields_read,
    walk,
)
from riskrules.ruleset._loader import SourceLocation, load_ruleset, source_location
from riskrules.ruleset._spec import (
    Bounded,
    Expect,
    Input,
    Monotone,
    NeverIndeterminate,
    Property,
    Ruleset,
    Scenario,
)
from riskrules.scoring._scorer import Scorer, bind_params

if TYPE_CHECKING:
    from hypothesis.strategies import DrawFn, SearchStrategy

__all__ = [
    "ENGINE_NAMES",
    "Counterexample",
    "Mismatch",
    "PropertyOutcome",
    "PropertyResults",
    "ScenarioOutcome",
    "ScenarioResults",
    "ScenarioRunner",
    "assessments",
    "available_engines",
    "check_expect",
    "check_properties",
    "describe_property",
    "nest",
    "run_scenarios",
]

ENGINE_NAMES: tuple[str, ...] = ("native", "durable")
"""The engines scenarios run on, where available."""

RulesetSource: TypeAlias = "Ruleset | str | PathLike[str]"
Loc: TypeAlias = tuple[str | int, ...]


def available_engines() -> tuple[str, ...]:
    """The engines that run here: native always, durable where durable-rules is installed
    (it builds on CPython 3.11 and 3.12 only)."""
    if importlib.util.find_spec("durable_rules_engine") is None:
        return ("native",)
    return ENGINE_NAMES


def _require_hypothesis(what: str) -> None:
    """RiskRulesError with the install hint when hypothesis is missing."""
    if importlib.util.find_spec("hypothesis") is None:
        raise RiskRulesError(
            f"{what} needs hypothesis; install it with: pip install 'riskrules[testing]'"
        )


def _ruleset(source: RulesetSource) -> Ruleset:
    return source if isinstance(source, Ruleset) else load_ruleset(source)


def _where(ruleset: Ruleset, loc: Loc) -> str:
    """``file:line:column`` of ``loc`` in a loaded ruleset, else the path inside the ruleset."""
    found = source_location(ruleset, loc)
    if found is None:
        return safeyaml.format_path(loc)
    return f"{found.file}:{found.line}:{found.column}"


def nest(facts: Mapping[str, Any]) -> dict[str, Any]:
    """An assessment as nested objects from dotted field names (``{"a.b": 1}`` -> ``{"a":
    {"b": 1}}``); a name that clashes with a group stays a dotted key, which scoring accepts."""
    nested: dict[str, Any] = {}
    for name, value in facts.items():
        parts = name.split(".")
        node = nested
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                nested[name] = value
                break
            node = child
        else:
            if parts[-1] in node:
                nested[name] = value
            else:
                node[parts[-1]] = value
    return nested


# --------------------------------------------------------------------------- expectations


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


def _level_text(report: RiskReport, hazard: str) -> str:
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

    Levels, ``overall`` and ``complete`` must be equal; ``fired``, ``indeterminate``,
    ``findings`` and ``recommendations`` must be in the report (membership, not order), and the
    ``not_`` lists must not be. With the ``ruleset`` that scored the report, an unexpected
    finding names the rules that asserted it.
    """
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
                    f"{hazard}: {_level_text(report, hazard)}",
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

    fired = {f.rule for f in report.fired}
    missing = {i.rule: i.missing for i in report.indeterminate}

    def status(rule: str) -> str:
        if rule in fired:
            return f"{rule} fired"
        if rule in missing:
            lacking = ", ".join(missing[rule]) or "findings that are unknown"
            return f"{rule} is indeterminate (missing {lacking})"
        return f"{rule} did not fire (its condition is false)"

    for rule in expect.fired:
        if rule not in fired:
            found.append(Mismatch("fired", rule, f"{rule} fires", status(rule)))
    for rule in expect.not_fired:
        if rule in fired:
            found.append(Mismatch("not_fired", rule, f"{rule} does not fire", status(rule)))
    for rule in expect.indeterminate:
        if rule not in missing:
            found.append(Mismatch("indeterminate", rule, f"{rule} is indeterminate", status(rule)))
    asserted: dict[str, list[str]] = {}
    if ruleset is not None:
        asserts = {rule.id: rule.then.assert_ for rule in ruleset.rules}
        for firing in report.fired:
            for finding in asserts.get(firing.rule, ()):
                asserted.setdefault(finding, []).append(firing.rule)
    findings = set(report.findings)
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
    recommended = {r.protocol: r for r in report.recommendations}
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
    return tuple(found)


# --------------------------------------------------------------------------- scenario runs


@dataclass(frozen=True, slots=True)
class ScenarioOutcome:
    """One scenario scored on one engine: the mismatches found, or the input error."""

    ruleset: Ruleset
    index: int
    """Position of the scenario in ``ruleset.tests``."""
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

    @property
    def location(self) -> SourceLocation | None:
        """Where the scenario was written (None for a ruleset not loaded from YAML)."""
        return source_location(self.ruleset, ("tests", self.index))

    @property
    def where(self) -> str:
        return _where(self.ruleset, ("tests", self.index))

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
    lines.extend(f"  {hazard}: {_level_text(report, hazard)}" for hazard in report.hazards)
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
        self._ruleset = _ruleset(ruleset)
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
            where = _where(
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
class ScenarioResults:
    """Every scenario of a ruleset on every engine, and the rule coverage they reach."""

    ruleset: Ruleset
    engines: tuple[str, ...]
    outcomes: tuple[ScenarioOutcome, ...]

    @property
    def failures(self) -> tuple[ScenarioOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.passed)

    @property
    def passed(self) -> bool:
        return not self.failures

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
        head = f"{source}: " if source else ""
        parts.append(
            f"{head}ruleset {rs.ruleset} {rs.version}: {scenarios} "
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
            "ruleset": rs.ruleset,
            "version": rs.version,
            "fingerprint": rs.fingerprint,
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
    rs = _ruleset(ruleset)
    chosen = tuple(dict.fromkeys(engines)) if engines is not None else available_engines()
    if not chosen:
        raise EngineError("no engine to run the scenarios on")
    with ScenarioRunner(rs) as runner:
        outcomes = tuple(
            runner.run(index, engine) for index in range(len(rs.tests)) for engine in chosen
        )
    return ScenarioResults(rs, chosen, outcomes)


# --------------------------------------------------------------------------- strategies


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


class _Domains:
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
    _require_hypothesis("riskrules.testing.assessments")
    rs = _ruleset(ruleset)
    domains = _Domains(rs, bind_params(rs, params))
    return domains.facts(missing=missing).map(nest)


# --------------------------------------------------------------------------- properties


def _flow(value: Any) -> str:
    """Compact YAML flow text for a condition or value, as an author would write it."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _condition_text(condition: Condition) -> str:
    return _flow(condition.model_dump(by_alias=True, exclude_none=True))


def _claim(prop: Property) -> str:
    """What a property claims, in words (without its kind)."""
    spec = prop.spec
    if isinstance(spec, Monotone):
        verb = "lowers" if spec.direction == "increasing" else "raises"
        target = f"the level of {spec.hazard}" if spec.hazard else "the level of any hazard"
        return f"raising {spec.input} never {verb} {target}"
    if isinstance(spec, Bounded):
        text = f"{spec.hazard} never exceeds {spec.max}"
        if spec.unless is not None:
            text += f" unless {_condition_text(spec.unless)}"
        return text
    target = f"of {spec.hazard}" if spec.hazard else "of any hazard"
    return f"no rule {target} is indeterminate when every input its rules read is present"


def describe_property(prop: Property) -> str:
    """One line saying what a property claims, e.g. ``monotone: raising x never lowers ...``."""
    return f"{prop.kind}: {_claim(prop)}"


@dataclass(frozen=True, slots=True)
class Counterexample:
    """The smallest assessment found that breaks a property, and scenarios that pin it.

    ``scenarios`` are plain ``tests:`` entries; pasted into the ruleset they fail until the
    rules satisfy the property (a monotone property gives two: the baseline, which holds, and
    the raised input, which expects the baseline's level).
    """

    message: str
    scenarios: tuple[dict[str, Any], ...]

    def to_yaml(self) -> str:
        """The scenarios as a ``tests:`` section; paste the entries under an existing one."""
        body = safeyaml.dump(list(self.scenarios))
        return "tests:\n" + textwrap.indent(body, "  ")

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "scenarios": list(self.scenarios)}


@dataclass(frozen=True, slots=True)
class PropertyOutcome:
    """The search for counterexamples to one declared property."""

    ruleset: Ruleset
    index: int
    """Position of the property in ``ruleset.properties``."""
    counterexample: Counterexample | None = None
    error: str | None = None
    """Set when the search itself could not run (no valid examples could be generated)."""

    @property
    def prop(self) -> Property:
        """The declared property."""
        return self.ruleset.properties[self.index]

    @property
    def passed(self) -> bool:
        return self.counterexample is None and self.error is None

    @property
    def description(self) -> str:
        return describe_property(self.prop)

    @property
    def location(self) -> SourceLocation | None:
        return source_location(self.ruleset, ("properties", self.index))

    @property
    def where(self) -> str:
        return _where(self.ruleset, ("properties", self.index))

    def to_text(self) -> str:
        mark = "ok  " if self.passed else "FAIL"
        lines = [f"{mark} {self.where}: {self.description}"]
        if self.error is not None:
            lines.append(f"     {self.error}")
        if self.counterexample is not None:
            lines.extend(
                textwrap.wrap(
                    "counterexample: " + self.counterexample.message,
                    width=100,
                    initial_indent="     ",
                    subsequent_indent="       ",
                    break_on_hyphens=False,
                )
            )
            # the top file: its ruleset declares every input the scenarios may use
            top = source_location(self.ruleset, ())
            file = top.file if top else "the ruleset"
            lines.append(f"     to reproduce it, paste into {file}:")
            lines.append("")
            lines.append(self.counterexample.to_yaml().rstrip("\n"))
            lines.append("")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.prop.kind,
            "description": self.description,
            "location": self.where,
            "passed": self.passed,
            "error": self.error,
            "counterexample": (
                None if self.counterexample is None else self.counterexample.to_dict()
            ),
        }


@dataclass(frozen=True, slots=True)
class PropertyResults:
    """Every declared property of a ruleset, checked with the same seed and budget."""

    ruleset: Ruleset
    outcomes: tuple[PropertyOutcome, ...]
    seed: int
    max_examples: int
    engine: str

    @property
    def failures(self) -> tuple[PropertyOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.passed)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_text(self, source: str | None = None) -> str:
        rs = self.ruleset
        head = f"{source}: " if source else ""
        count = len(self.outcomes)
        lines = [
            f"{head}ruleset {rs.ruleset} {rs.version}: {count} "
            f"propert{'y' if count == 1 else 'ies'}, up to {self.max_examples} examples each "
            f"on {self.engine} (seed {self.seed})\n"
        ]
        lines.extend(o.to_text() for o in self.outcomes)
        failed = len(self.failures)
        lines.append(f"{count - failed} held, {failed} failed\n")
        return "".join(lines)

    def to_dict(self) -> dict[str, Any]:
        rs = self.ruleset
        return {
            "ruleset": rs.ruleset,
            "version": rs.version,
            "fingerprint": rs.fingerprint,
            "engine": self.engine,
            "seed": self.seed,
            "max_examples": self.max_examples,
            "passed": self.passed,
            "properties": [o.to_dict() for o in self.outcomes],
        }


class _Falsified(Exception):
    """Raised inside the search when an example breaks the property."""


def _search(
    strategy: SearchStrategy[Any],
    body: Callable[[Any], Counterexample | None],
    *,
    max_examples: int,
    seed: int,
) -> Counterexample | None:
    """Run hypothesis over ``strategy``; the counterexample of the shrunk failing example.

    Hypothesis replays the minimal failing example last, so the last counterexample recorded is
    the shrunk one. Nothing is printed and nothing is stored on disk.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as with_seed

    found: list[Counterexample] = []

    def attempt(example: Any) -> None:
        counterexample = body(example)
        if counterexample is not None:
            found.append(counterexample)
            raise _Falsified

    search = with_seed(seed)(
        settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=False,
            verbosity=Verbosity.quiet,
            print_blob=False,
            report_multiple_bugs=False,
            phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
            suppress_health_check=list(HealthCheck),
        )(given(strategy)(attempt))
    )
    try:
        search()
    except _Falsified:
        return found[-1]
    return None


def _rule_inputs(ruleset: Ruleset) -> list[set[str]]:
    """Per rule, the inputs it reads directly or through the findings it reads (transitively)."""
    asserters: dict[str, list[int]] = {}
    for i, rule in enumerate(ruleset.rules):
        for finding in rule.then.assert_:
            asserters.setdefault(finding, []).append(i)
    reads = [set(fields_read(rule.when)) for rule in ruleset.rules]
    depends = [_condition_asserters(rule.when, asserters) for rule in ruleset.rules]
    changed = True
    while changed:
        changed = False
        for i, deps in enumerate(depends):
            for j in deps:
                if not reads[j] <= reads[i]:
                    reads[i] |= reads[j]
                    changed = True
    return reads


def _condition_asserters(condition: Condition, asserters: Mapping[str, list[int]]) -> set[int]:
    """The rules asserting a finding that ``condition`` reads."""
    return {
        j
        for node, _, _ in walk(condition)
        if isinstance(node, FindingLeaf)
        for j in asserters.get(node.finding, ())
    }


def _hazard_inputs(ruleset: Ruleset) -> dict[str, frozenset[str]]:
    """Per hazard, the inputs its rules read directly or through the findings they read: the
    only inputs that can change its level."""
    reads = _rule_inputs(ruleset)
    result: dict[str, frozenset[str]] = {}
    for hazard in ruleset.hazards:
        needed: set[str] = set()
        for i, rule in enumerate(ruleset.rules):
            if rule.hazard == hazard:
                needed |= reads[i]
        result[hazard] = frozenset(needed)
    return result


class _PropertyChecker:
    """Strategies, bodies and counterexample scenarios for the properties of one ruleset."""

    def __init__(
        self,
        ruleset: Ruleset,
        scorer: Scorer,
        overrides: Mapping[str, float],
    ) -> None:
        self.ruleset = ruleset
        self.scorer = scorer
        self.scale = ruleset.scale
        self.overrides = dict(overrides)
        self.domains = _Domains(ruleset, scorer.params)
        self.asserts = {rule.id: rule.then.assert_ for rule in ruleset.rules}
        self.hazard_inputs = _hazard_inputs(ruleset)

    def condition_inputs(self, condition: Condition) -> set[str]:
        """The inputs a condition reads directly or through the findings it reads."""
        asserters: dict[str, list[int]] = {}
        for i, rule in enumerate(self.ruleset.rules):
            for finding in rule.then.assert_:
                asserters.setdefault(finding, []).append(i)
        reads = _rule_inputs(self.ruleset)
        found = set(fields_read(condition))
        for j in _condition_asserters(condition, asserters):
            found |= reads[j]
        return found

    def rank(self, level: str) -> int:
        return self.scale.index(level)

    def claim(self, index: int) -> str:
        prop = self.ruleset.properties[index]
        where = _where(self.ruleset, ("properties", index))
        return f"the {prop.kind} property at {where} ({_claim(prop)})"

    def worse(self, before: str, after: str, increasing: bool) -> bool:
        """Whether moving from ``before`` to ``after`` breaks monotonicity."""
        change = self.rank(after) - self.rank(before)
        return change < 0 if increasing else change > 0

    def scenario(
        self, name: str, description: str, facts: Mapping[str, Any], expect: dict[str, Any]
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"name": name, "description": description, "input": nest(facts)}
        if self.overrides:
            data["params"] = dict(self.overrides)
        data["expect"] = expect
        return data

    # -- monotone

    def monotone(self, index: int, spec: Monotone) -> tuple[SearchStrategy[Any], Any] | None:
        from hypothesis import strategies as st

        values, more = self.domains.domain(spec.input)
        if len(values) < 2 and not more:
            return None  # a single possible value: nothing can be raised
        if more:
            value = self.domains.values(spec.input)
            pairs = (
                st.tuples(value, value)
                .filter(lambda pair: pair[0] != pair[1])
                .map(lambda pair: (min(pair), max(pair)))
            )
        else:
            last = len(values) - 1
            pairs = (
                st.tuples(st.integers(0, last), st.integers(0, last))
                .filter(lambda pair: pair[0] != pair[1])
                .map(lambda pair: (values[min(pair)], values[max(pair)]))
            )
        claimed = (spec.hazard,) if spec.hazard else tuple(self.ruleset.hazards)
        # Only hazards whose rules read the input can change; only their inputs matter.
        hazards = tuple(h for h in claimed if spec.input in self.hazard_inputs[h])
        if not hazards:
            return None
        related = set().union(*(self.hazard_inputs[h] for h in hazards))
        base = self.domains.facts(only=related, exclude=(spec.input,))
        increasing = spec.direction == "increasing"

        def body(example: tuple[dict[str, Any], tuple[Any, Any]]) -> Counterexample | None:
            facts, (low, high) = example
            at_low = {**facts, spec.input: low}
            at_high = {**facts, spec.input: high}
            before = self.scorer.score(at_low)
            after = self.scorer.score(at_high)
            broken = [
                h
                for h in hazards
                if self.worse(before.hazards[h].level, after.hazards[h].level, increasing)
            ]
            if not broken:
                return None
            return self.monotone_counterexample(index, spec, at_low, at_high, before, after, broken)

        return st.tuples(base, pairs), body

    def monotone_counterexample(
        self,
        index: int,
        spec: Monotone,
        at_low: dict[str, Any],
        at_high: dict[str, Any],
        before: RiskReport,
        after: RiskReport,
        broken: list[str],
    ) -> Counterexample:
        low, high = _flow(at_low[spec.input]), _flow(at_high[spec.input])
        went = "drops" if spec.direction == "increasing" else "rises"
        changes = "; ".join(
            f"{h} {went} from {before.hazards[h].level} to {after.hazards[h].level}" for h in broken
        )
        message = f"raising {spec.input} from {low} to {high} (all else equal): {changes}"
        expected = {h: before.hazards[h].level for h in broken}
        verb = "lower" if spec.direction == "increasing" else "raise"
        claim = self.claim(index)
        baseline = self.scenario(
            f"{spec.input} at {low} before it is raised",
            f"Found by riskrules check, the baseline of a counterexample to {claim}.",
            at_low,
            {"levels": expected},
        )
        raised = self.scenario(
            f"raising {spec.input} from {low} to {high} does not {verb} {', '.join(broken)}",
            f"Found by riskrules check, a counterexample to {claim}. It expects the baseline "
            "level, as the property requires, and fails until the rules satisfy it.",
            at_high,
            {"levels": expected},
        )
        return Counterexample(message, (baseline, raised))

    # -- bounded

    def unless_truth(
        self, condition: Condition, facts: Mapping[str, Any], report: RiskReport
    ) -> Truth:
        asserted = set(report.findings)
        possible = {f for item in report.indeterminate for f in self.asserts.get(item.rule, ())}

        def finding(name: str) -> Truth:
            if name in asserted:
                return Truth.TRUE
            return Truth.UNKNOWN if name in possible else Truth.FALSE

        return evaluate(condition, facts, finding, self.scorer.params)

    def bounded(self, index: int, spec: Bounded) -> tuple[SearchStrategy[Any], Any]:
        top = self.rank(spec.max)

        def body(facts: dict[str, Any]) -> Counterexample | None:
            report = self.scorer.score(facts)
            level = report.hazards[spec.hazard].level
            if self.rank(level) <= top:
                return None
            if (
                spec.unless is not None
                and self.unless_truth(spec.unless, facts, report) is Truth.TRUE
            ):
                return None
            claim = self.claim(index)
            unless = (
                "" if spec.unless is None else f" and {_condition_text(spec.unless)} is not true"
            )
            message = f"{spec.hazard} is {level}{unless}; the property allows at most {spec.max}"
            expect: dict[str, Any] = {"levels": {spec.hazard: spec.max}}
            if isinstance(spec.unless, FindingLeaf):
                expect["not_findings"] = [spec.unless.finding]
            scenario = self.scenario(
                f"{spec.hazard} stays at or below {spec.max}",
                f"Found by riskrules check, a counterexample to {claim}. The hazard reached "
                f"{level}; it expects {spec.max}, the highest level the property allows here, and "
                "fails until the rules satisfy it.",
                facts,
                expect,
            )
            return Counterexample(message, (scenario,))

        related = set(self.hazard_inputs[spec.hazard])
        if spec.unless is not None:
            related |= self.condition_inputs(spec.unless)
        return self.domains.facts(only=related), body

    # -- never indeterminate when complete

    def completeness(self, index: int, spec: NeverIndeterminate) -> tuple[SearchStrategy[Any], Any]:
        from hypothesis import strategies as st

        needed = self.hazard_inputs
        hazards = [spec.hazard] if spec.hazard else list(self.ruleset.hazards)
        cases = st.sampled_from(hazards).flatmap(
            lambda h: st.tuples(st.just(h), self.domains.facts(only=needed[h], require=needed[h]))
        )

        def body(case: tuple[str, dict[str, Any]]) -> Counterexample | None:
            hazard, facts = case
            report = self.scorer.score(facts)
            if report.hazards[hazard].complete:
                return None
            open_rules = [i.rule for i in report.indeterminate if i.hazard == hazard]
            claim = self.claim(index)
            scenario = self.scenario(
                f"{hazard} is complete when every input its rules read is present",
                f"Found by riskrules check, a counterexample to {claim}. Every input is present, "
                f"yet {', '.join(open_rules)} stayed indeterminate.",
                facts,
                {"complete": {hazard: True}},
            )
            message = (
                f"every input of {hazard} is present, yet {', '.join(open_rules)} "
                f"{'is' if len(open_rules) == 1 else 'are'} indeterminate"
            )
            return Counterexample(message, (scenario,))

        return cases, body

    def plan(self, index: int) -> tuple[SearchStrategy[Any], Any] | None:
        spec = self.ruleset.properties[index].spec
        if isinstance(spec, Monotone):
            return self.monotone(index, spec)
        if isinstance(spec, Bounded):
            return self.bounded(index, spec)
        return self.completeness(index, spec)


def check_properties(
    ruleset: RulesetSource,
    *,
    max_examples: int = 100,
    seed: int | None = None,
    engine: str = "native",
    params: Mapping[str, float] | None = None,
) -> PropertyResults:
    """Search for counterexamples to every ``properties:`` entry of ``ruleset`` with hypothesis.

    Each property gets up to ``max_examples`` examples; a failure is shrunk to a small
    assessment and returned as a :class:`Counterexample` with ready-to-paste scenarios. ``seed``
    makes the search reproducible (a random one is chosen, and reported, when None). ``params``
    checks the properties under parameter overrides. Do not call it from inside a hypothesis
    test: hypothesis searches do not nest.
    """
    if max_examples < 1:
        raise ValueError(f"max_examples must be at least 1, not {max_examples}")
    _require_hypothesis("checking properties")
    rs = _ruleset(ruleset)
    chosen_seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    from hypothesis.errors import HypothesisException

    outcomes: list[PropertyOutcome] = []
    with Scorer(rs, engine=engine, params=params) as scorer:
        checker = _PropertyChecker(rs, scorer, params or {})
        for index in range(len(rs.properties)):
            plan = checker.plan(index)
            if plan is None:
                outcomes.append(PropertyOutcome(rs, index))
                continue
            strategy, body = plan
            try:
                found = _search(strategy, body, max_examples=max_examples, seed=chosen_seed)
            except HypothesisException as exc:
                outcomes.append(
                    PropertyOutcome(rs, index, error=f"the search could not run: {exc}")
                )
                continue
            outcomes.append(PropertyOutcome(rs, index, counterexample=found))
        engine_name = scorer.engine
    return PropertyResults(rs, tuple(outcomes), chosen_seed, max_examples, engine_name)
