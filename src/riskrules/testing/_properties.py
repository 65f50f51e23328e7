"""Property checks: :func:`check_properties` and the outcomes it returns.

Each declared property is first tried on boundary cases built from the ruleset's thresholds
and rules (:mod:`riskrules.testing._systematic`), then searched for counterexamples with
hypothesis, under one seed and budget for the whole ruleset; the failing example found is shrunk
to the inputs that matter and turned into scenarios (see
:mod:`riskrules.testing._counterexamples`). hypothesis is imported only when a check runs.
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from riskrules._types import RulesetSource
from riskrules.ruleset._loader import source_location
from riskrules.ruleset._spec import Property, Ruleset
from riskrules.scoring._scorer import Scorer
from riskrules.testing._claims import describe_property
from riskrules.testing._common import as_ruleset, require_hypothesis
from riskrules.testing._counterexamples import Counterexample, PropertyChecker
from riskrules.testing._outcomes import SectionOutcome, SectionResults
from riskrules.testing._systematic import candidates, shrink

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["PropertyOutcome", "PropertyResults", "check_properties"]


@dataclass(frozen=True, slots=True)
class PropertyOutcome(SectionOutcome):
    """The search for counterexamples to one declared property."""

    _section: ClassVar[str] = "properties"

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
class PropertyResults(SectionResults[PropertyOutcome]):
    """Every declared property of a ruleset, checked with the same seed and budget."""

    ruleset: Ruleset
    outcomes: tuple[PropertyOutcome, ...]
    seed: int
    max_examples: int
    engine: str

    def to_text(self, source: str | None = None) -> str:
        count = len(self.outcomes)
        lines = [
            f"{self._heading(source)}{count} "
            f"propert{'y' if count == 1 else 'ies'}, up to {self.max_examples} examples each "
            f"on {self.engine} (seed {self.seed})\n"
        ]
        lines.extend(o.to_text() for o in self.outcomes)
        failed = len(self.failures)
        lines.append(f"{count - failed} held, {failed} failed\n")
        return "".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._identity(),
            "engine": self.engine,
            "seed": self.seed,
            "max_examples": self.max_examples,
            "passed": self.passed,
            "properties": [o.to_dict() for o in self.outcomes],
        }


SYSTEMATIC_FACTOR = 10
"""Boundary cases tried per property before the random search, per example of the budget."""


def _systematic(
    checker: PropertyChecker, index: int, body: Callable[[Any], Counterexample | None], limit: int
) -> Counterexample | None:
    """The first boundary case that breaks the property, shrunk; None when all hold."""
    for tried, example in enumerate(candidates(checker, index)):
        if tried >= limit:
            break
        if body(example) is not None:
            return shrink(example, body)[1]
    return None


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
            found.append(shrink(example, body)[1] or counterexample)
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
    require_hypothesis("checking properties")
    rs = as_ruleset(ruleset)
    chosen_seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    from hypothesis.errors import HypothesisException

    outcomes: list[PropertyOutcome] = []
    with Scorer(rs, engine=engine, params=params) as scorer:
        checker = PropertyChecker(rs, scorer, params or {})
        for index in range(len(rs.properties)):
            plan = checker.plan(index)
            if plan is None:
                outcomes.append(PropertyOutcome(rs, index))
                continue
            strategy, body = plan
            found = _systematic(checker, index, body, max_examples * SYSTEMATIC_FACTOR)
            if found is None:
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
