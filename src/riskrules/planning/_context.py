"""What planning keeps per Scorer: the assessment reader and the search space (built once)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any

from riskrules._types import Value
from riskrules.planning._space import Space
from riskrules.report import RiskReport
from riskrules.scoring._scorer import Scorer
from riskrules.scoring._validation import AssessmentValidator

__all__ = ["Context", "context"]


class Context:
    """A Scorer with its ruleset's space and level ranks."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self.ruleset = scorer.ruleset
        self.read_facts = AssessmentValidator(scorer.ruleset)
        self.space = Space(scorer.ruleset, scorer.params)
        self.rank = {level: i for i, level in enumerate(scorer.ruleset.scale)}

    def facts(self, assessment: Mapping[str, Any]) -> dict[str, Value]:
        """The assessment as validated facts (dotted names; missing inputs left out)."""
        return self.read_facts(assessment)

    def score(self, facts: Mapping[str, Value]) -> RiskReport:
        return self.scorer.score(facts)

    def level_rank(self, report: RiskReport, hazard: str) -> int:
        return self.rank[report.hazards[hazard].level]


_CACHE: weakref.WeakKeyDictionary[Scorer, Context] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def context(scorer: Scorer) -> Context:
    """The planning context of ``scorer``, built on first use and kept while it lives."""
    with _LOCK:
        found = _CACHE.get(scorer)
        if found is None:
            found = _CACHE[scorer] = Context(scorer)
        return found
