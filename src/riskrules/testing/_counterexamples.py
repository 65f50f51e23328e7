"""How each kind of property is searched, and the counterexamples a failure becomes.

For one ruleset, :class:`PropertyChecker` plans the search for each declared property: a
hypothesis strategy of examples (restricted to the inputs that can matter) and a body that
scores an example and returns a :class:`Counterexample` when it breaks the property, with
scenarios ready to paste under ``tests:``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from riskrules.report import RiskReport
from riskrules.ruleset import _safeyaml as safeyaml
from riskrules.ruleset._conditions import Condition, FindingLeaf, Truth, evaluate, fields_read, walk
from riskrules.ruleset._spec import Bounded, Monotone, NeverIndeterminate, Ruleset
from riskrules.scoring._scorer import Scorer
from riskrules.testing._claims import condition_text, flow, property_claim
from riskrules.testing._common import location_text, nest
from riskrules.testing._strategies import InputDomains

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["Counterexample", "PropertyChecker"]


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


class PropertyChecker:
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
        self.domains = InputDomains(ruleset, scorer.params)
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
        where = location_text(self.ruleset, ("properties", index))
        return f"the {prop.kind} property at {where} ({property_claim(prop)})"

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
        low, high = flow(at_low[spec.input]), flow(at_high[spec.input])
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
        bound = "at_least" if spec.direction == "increasing" else "at_most"
        raised = self.scenario(
            f"raising {spec.input} from {low} to {high} does not {verb} {', '.join(broken)}",
            f"Found by riskrules check, a counterexample to {claim}. It expects at least the "
            "baseline level (at most, for a decreasing property), as the property requires, and "
            "fails until the rules satisfy it.",
            at_high,
            {bound: expected},
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
                "" if spec.unless is None else f" and {condition_text(spec.unless)} is not true"
            )
            message = f"{spec.hazard} is {level}{unless}; the property allows at most {spec.max}"
            expect: dict[str, Any] = {"at_most": {spec.hazard: spec.max}}
            if isinstance(spec.unless, FindingLeaf):
                expect["not_findings"] = [spec.unless.finding]
            scenario = self.scenario(
                f"{spec.hazard} stays at or below {spec.max}",
                f"Found by riskrules check, a counterexample to {claim}. The hazard reached "
                f"{level}; it expects at most {spec.max}, as the property allows here, and "
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
