"""Checking one instrument's item answers, and the raw sums most scales are made of.

Shared by the instrument scorers in :mod:`riskrules.ehr._instruments`: answers are validated
against each item's allowed values and located as ``<instrument>.item<n>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from riskrules.errors import AssessmentError

__all__ = ["Score", "Scores", "items_text", "numbered", "require", "scale_sums", "unanswered"]

Score: TypeAlias = int | float | bool
Scores: TypeAlias = dict[str, Score]


def _describe(allowed: frozenset[int]) -> str:
    values = sorted(allowed)
    if values == list(range(values[0], values[-1] + 1)):
        return f"an integer from {values[0]} to {values[-1]}"
    return "one of " + ", ".join(str(v) for v in values)


def numbered(
    instrument: str,
    answers: Any,
    allowed: Mapping[int, frozenset[int] | None],
) -> dict[int, Any]:
    """Validated answers of a numbered instrument; unanswered (``None``) items are dropped.

    ``allowed`` maps every item number to its allowed integer values, or to ``None`` for a
    yes/no item (answered with a bool).
    """
    if not isinstance(answers, Mapping):
        raise AssessmentError(
            instrument, answers, "a mapping of item number (int) to answer was expected"
        )
    count = len(allowed)
    result: dict[int, Any] = {}
    for key, value in answers.items():
        if type(key) is not int:
            raise AssessmentError(
                instrument,
                key,
                f"item keys are the integers 1 to {count} (e.g. 3, not '3' or 'item3')",
            )
        if key not in allowed:
            raise AssessmentError(
                f"{instrument}.item{key}", value, f"unknown item: items are numbered 1 to {count}"
            )
        if value is None:
            continue
        rule = allowed[key]
        field = f"{instrument}.item{key}"
        if rule is None:
            if type(value) is not bool:
                raise AssessmentError(field, value, "a yes/no answer (true or false) is expected")
        elif type(value) is not int or value not in rule:
            raise AssessmentError(field, value, f"the answer must be {_describe(rule)}")
        result[key] = value
    return dict(sorted(result.items()))


def unanswered(answered: Mapping[int, Any], items: tuple[int, ...]) -> list[int]:
    return [item for item in items if item not in answered]


def require(
    instrument: str, answered: Mapping[int, Any], items: tuple[int, ...], what: str
) -> None:
    """Raise for the first unanswered item of ``items``, which ``what`` needs."""
    missing = unanswered(answered, items)
    if missing:
        raise AssessmentError(
            f"{instrument}.item{missing[0]}",
            None,
            f"missing answer: {what} needs items {items_text(items)}"
            f" (unanswered: {items_text(tuple(missing))})",
        )


def items_text(items: tuple[int, ...]) -> str:
    return ", ".join(str(i) for i in items)


def scale_sums(
    instrument: str,
    answered: Mapping[int, int],
    scales: Mapping[str, tuple[int, ...]],
    *,
    partial: bool,
    reverse: frozenset[int] = frozenset(),
) -> Scores:
    """Raw sum of each scale (reverse items scored 6 - x); all of a scale's items required."""
    result: Scores = {}
    for field, items in scales.items():
        if unanswered(answered, items):
            if partial:
                continue
            require(instrument, answered, items, field)
        result[field] = sum(6 - answered[i] if i in reverse else answered[i] for i in items)
    return result
