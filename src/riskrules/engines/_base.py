"""The engine-neutral program every engine compiles, and the result every engine returns.

A :class:`Program` is a ruleset with its parameters bound and its rules stratified. The
semantics both engines implement exactly (and that the differential tests check):

* Facts are the present input values (dotted name -> value); absent inputs are missing data.
* Rules are grouped in strata: a rule reading a finding *negatively* sits in a higher stratum than
  every rule asserting that finding. Strata run in order.
* Within a stratum, the **definite pass** runs in rounds. Round ``r`` fires, in (salience
  descending, ruleset order) order, every not-yet-fired rule whose condition is TRUE given the
  findings asserted before round ``r`` (lower-stratum findings at their final value; same-stratum
  findings not yet asserted count as FALSE). Rounds repeat until one fires nothing. Each rule
  fires at most once (refraction).
* Then the **possible pass** computes the findings that are *possibly* true: starting from those
  made possible in lower strata, a not-fired rule of the stratum whose condition is TRUE or
  UNKNOWN (asserted findings TRUE, possible ones UNKNOWN, others FALSE) makes its findings
  possible, to a fixpoint. (A finding asserted by rules of several strata is thus possible when
  an indeterminate lower-stratum rule asserts it.)
* A finding's final value is TRUE if asserted, UNKNOWN if possible, FALSE otherwise; a rule's
  final status is TRUE if it fired, else its condition's value under the final findings
  (UNKNOWN = indeterminate, FALSE = did not fire).

The firing order reported is the order of the definite passes, stratum by stratum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from riskrules.errors import RulesetError
from riskrules.ruleset._conditions import Condition, Truth, findings_read, resolve_params
from riskrules.ruleset._spec import Input, Ruleset

__all__ = ["CompiledRule", "Engine", "Evaluation", "Program"]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with parameters resolved, as engines see it."""

    index: int
    id: str
    hazard: str
    when: Condition
    asserts: tuple[str, ...]
    salience: int
    stratum: int


@dataclass(frozen=True, slots=True)
class Program:
    """A ruleset bound to parameter values, stratified, ready for an engine to compile."""

    rules: tuple[CompiledRule, ...]
    strata: tuple[tuple[int, ...], ...]
    """Rule indices per stratum, each sorted by (salience descending, ruleset order)."""
    inputs: Mapping[str, Input]
    findings: tuple[str, ...]
    """Every finding some rule asserts, sorted."""
    finding_stratum: Mapping[str, int]

    @classmethod
    def build(cls, ruleset: Ruleset, params: Mapping[str, Any]) -> Program:
        """Bind ``params`` (complete: every parameter has a value) and stratify the rules.

        Raises RulesetError when a finding is read negatively inside its own dependency cycle.
        """
        strata_of = stratify(ruleset)
        rules = tuple(
            CompiledRule(
                index=i,
                id=rule.id,
                hazard=rule.hazard,
                when=resolve_params(rule.when, params),
                asserts=rule.then.assert_,
                salience=rule.salience,
                stratum=strata_of[i],
            )
            for i, rule in enumerate(ruleset.rules)
        )
        depth = max(strata_of, default=-1) + 1
        strata = tuple(
            tuple(
                r.index
                for r in sorted(
                    (r for r in rules if r.stratum == s), key=lambda r: (-r.salience, r.index)
                )
            )
            for s in range(depth)
        )
        finding_stratum: dict[str, int] = {}
        for r in rules:
            for f in r.asserts:
                finding_stratum[f] = max(finding_stratum.get(f, 0), r.stratum)
        return cls(
            rules=rules,
            strata=strata,
            inputs=dict(ruleset.inputs),
            findings=tuple(sorted(finding_stratum)),
            finding_stratum=finding_stratum,
        )


def stratify(ruleset: Ruleset) -> list[int]:
    """Stratum of each rule: the least assignment where a rule's stratum is >= the stratum of
    every finding it reads positively and > that of every finding it reads negatively, and a
    finding's stratum is the highest stratum of the rules asserting it."""
    asserters: dict[str, list[int]] = {}
    for i, rule in enumerate(ruleset.rules):
        for f in rule.then.assert_:
            asserters.setdefault(f, []).append(i)
    reads = [findings_read(rule.when) for rule in ruleset.rules]
    stratum = [0] * len(ruleset.rules)
    limit = len(ruleset.rules)
    changed = True
    while changed:
        changed = False
        for i, deps in enumerate(reads):
            for finding, positive in deps:
                for j in asserters.get(finding, ()):
                    need = stratum[j] + (0 if positive else 1)
                    if need > stratum[i]:
                        if need > limit:
                            raise RulesetError(
                                f"finding {finding!r} is read negatively inside its own dependency "
                                "cycle, so the ruleset cannot be stratified",
                                path=f"rules[{i}].when",
                                rule_id=ruleset.rules[i].id,
                            )
                        stratum[i] = need
                        changed = True
    return stratum


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What an engine returns for one assessment."""

    fired: tuple[int, ...]
    """Indices of the rules that fired, in firing order."""
    status: tuple[Truth, ...]
    """Final status of every rule, in ruleset order (TRUE = fired, UNKNOWN = indeterminate)."""


class Engine(Protocol):
    """A compiled program that scores validated facts. Engines are safe to share across threads."""

    name: ClassVar[str]

    def run(self, facts: Mapping[str, Any]) -> Evaluation:
        """Run one assessment's facts (dotted input name -> present value) to a fixpoint."""
        ...

    def close(self) -> None:
        """Release engine resources; the engine must not be used afterwards."""
        ...
