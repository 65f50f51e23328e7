"""Scoring: validate an assessment, run the engine, aggregate points into levels, build a report.

:class:`Scorer` compiles a ruleset once (with bound parameters) for one engine and scores
assessments with it; :func:`score` is the one-call form with a small cache of scorers.
"""

from riskrules.scoring._scorer import (
    ENGINES,
    Scorer,
    score,
)

__all__ = [
    "ENGINES",
    "Scorer",
    "score",
]
