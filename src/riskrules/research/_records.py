"""The cohort that :func:`compare` and :func:`sweep` read: a file or an iterable, streamed.

:func:`cohort_records` yields ``(index, id, assessment)`` for each record of a cohort file (read
by :func:`iter_records`) or of an iterable of assessments or ``(id, assessment)`` pairs;
:func:`score_record` scores one of them and names the record when it does not fit.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from os import PathLike
from typing import TYPE_CHECKING, Any, TypeAlias

from riskrules.errors import AssessmentError, RiskRulesError
from riskrules.research._cohort import iter_records
from riskrules.ruleset import Ruleset

if TYPE_CHECKING:
    from riskrules.report import RiskReport
    from riskrules.scoring import Scorer

__all__ = [
    "Cohort",
    "CohortRecord",
    "cohort_label",
    "cohort_records",
    "score_record",
]

CohortRecord: TypeAlias = "Mapping[str, Any] | tuple[Any, Mapping[str, Any]]"
Cohort: TypeAlias = "str | PathLike[str] | Iterable[CohortRecord]"


def cohort_records(
    cohort: Cohort, ruleset: Ruleset, id_column: str
) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
    """(index, id, assessment) for each record of a cohort file or iterable, streaming.

    Files are read by :func:`riskrules.research.iter_records`. In an iterable, a record is an
    assessment (whose ``id_column`` key, if present, is its id and not an input) or an
    ``(id, assessment)`` pair; records without an id are named by their 0-based index.
    """
    if isinstance(cohort, str | PathLike):
        for record in iter_records(cohort, ruleset=ruleset, id_column=id_column):
            rid = str(record.index) if record.id is None else str(record.id)
            yield record.index, rid, record.assessment
        return
    if isinstance(cohort, Mapping):
        raise RiskRulesError(
            "a cohort is a file path or an iterable of assessments, not a single assessment"
        )
    for index, item in enumerate(cohort):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping):
            yield index, str(item[0]), item[1]
        elif isinstance(item, Mapping):
            if id_column in item:
                rest = {key: value for key, value in item.items() if key != id_column}
                yield index, str(item[id_column]), rest
            else:
                yield index, str(index), item
        else:
            raise RiskRulesError(
                f"cohort record {index}: expected an assessment object or an (id, assessment) "
                f"pair, not {type(item).__name__}"
            )


def cohort_label(cohort: Cohort) -> str:
    """How error messages name the cohort: its file, or nothing for an in-memory iterable."""
    return f"{os.fspath(cohort)}: " if isinstance(cohort, str | PathLike) else ""


def score_record(
    scorer: Scorer, where: str, index: int, rid: str, assessment: Mapping[str, Any]
) -> RiskReport:
    """``scorer.score(assessment)``; a record that does not fit raises a RiskRulesError naming
    it (``where`` names the cohort, see :func:`cohort_label`)."""
    try:
        return scorer.score(assessment)
    except AssessmentError as exc:
        raise RiskRulesError(f"{where}cohort record {index} (id {rid}): {exc}") from None
