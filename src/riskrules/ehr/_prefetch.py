"""A hook call's ``prefetch`` -> the assessment to score, and what the data could not say.

CDS Hooks 2.0, "Prefetch Template": a key the client could not satisfy is left out; a key with
no data is ``null``; errors come as OperationOutcome; results may be paged. So:

- ``questionnaireResponses`` (a searchset Bundle or a list of QuestionnaireResponse) or
  ``assessment`` (an assessment object) must be present, else 412;
- ``null`` is "no data": nothing is scored from it, so every hazard that needs it is
  incomplete (never low);
- an OperationOutcome, or a Bundle with a ``next`` link (only its first page was sent), is
  scored from what did arrive, and every reported hazard is marked incomplete with the reason
  (:attr:`Prefetched.gaps`);
- every response must be about ``context.patientId`` (its ``subject``), else 422;
- which responses count is the site's selection policy (``on_unknown``, ``duplicates``,
  ``max_age``: :func:`riskrules.fhir.read_questionnaire_responses`); responses it leaves out
  leave their hazards incomplete.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from riskrules.errors import AssessmentError, ServiceRequestError

__all__ = ["PAGED", "UNAVAILABLE", "Prefetched", "prefetched"]

PAGED = "questionnaireResponses (pages after the first were not sent)"
"""The gap named when a prefetched Bundle has a ``next`` link."""
UNAVAILABLE = "questionnaireResponses (the EHR reported an error fetching them)"
"""The gap named when the EHR sent an OperationOutcome instead of the data."""
log = logging.getLogger("riskrules.service")
_MISSING = "required prefetch is missing (give 'questionnaireResponses' or 'assessment')"


@dataclass(frozen=True)
class Prefetched:
    """The assessment to score and the gaps that make every reported hazard incomplete."""

    assessment: Mapping[str, Any]
    gaps: tuple[str, ...] = ()


def _is_error_outcome(resource: Mapping[str, Any]) -> bool:
    issues = resource.get("issue")
    if not isinstance(issues, list):
        return True
    return any(
        not isinstance(i, Mapping) or i.get("severity") in ("error", "fatal") for i in issues
    )


def _responses(value: Any) -> tuple[list[Any], list[str]]:
    """The resources to convert and the gaps, from a Bundle, a list or one resource."""
    gaps: list[str] = []
    if isinstance(value, Mapping) and value.get("resourceType") == "OperationOutcome":
        return [], [UNAVAILABLE] if _is_error_outcome(value) else []
    if isinstance(value, Mapping) and value.get("resourceType") == "Bundle":
        links = value.get("link")
        if isinstance(links, list) and any(
            isinstance(link, Mapping) and link.get("relation") == "next" for link in links
        ):
            gaps.append(PAGED)
        entries = value.get("entry")
        if entries is not None and not isinstance(entries, list):
            raise ServiceRequestError(400, "prefetch Bundle 'entry' must be a list")
        items = [e.get("resource") if isinstance(e, Mapping) else None for e in entries or ()]
    elif isinstance(value, list):
        items = list(value)
    else:
        raise ServiceRequestError(400, "prefetch 'questionnaireResponses' must be a Bundle or list")
    kept = []
    for item in items:
        if isinstance(item, Mapping) and item.get("resourceType") == "OperationOutcome":
            if _is_error_outcome(item) and UNAVAILABLE not in gaps:
                gaps.append(UNAVAILABLE)
            continue
        kept.append(item)
    return kept, gaps


def _convert(
    responses: list[Any],
    *,
    patient_id: str,
    mappings: tuple[Mapping[str, Any], ...],
    partial: bool,
    selection: Mapping[str, Any],
) -> dict[str, Any]:
    """The assessment the selection policy makes of ``responses``, all about the patient."""
    from riskrules.ehr._fhir_select import read_questionnaire_responses

    try:
        result = read_questionnaire_responses(
            responses,
            mappings=list(mappings),
            partial=partial,
            subject=f"Patient/{patient_id}",
            **selection,
        )
    except AssessmentError as exc:
        if exc.field.endswith(".subject"):
            raise ServiceRequestError(
                422,
                "a prefetched QuestionnaireResponse is not about context.patientId "
                f"({exc.field}: {exc.constraint})",
            ) from None
        raise
    if result.skipped:
        log.info(
            "questionnaire responses left out by the selection policy: %d", len(result.skipped)
        )
    return dict(result.assessment)


def prefetched(
    prefetch: Any,
    *,
    patient_id: str,
    mappings: tuple[Mapping[str, Any], ...] = (),
    partial: bool = False,
    selection: Mapping[str, Any] | None = None,
) -> Prefetched:
    """Read a hook call's ``prefetch`` (see the module's rules); 4xx on bad shapes.

    AssessmentError from the FHIR conversion passes through (the caller answers 422).
    """
    if not isinstance(prefetch, Mapping):
        raise ServiceRequestError(412, _MISSING)
    if "assessment" in prefetch and prefetch["assessment"] is not None:
        value = prefetch["assessment"]
        if not isinstance(value, Mapping):
            raise ServiceRequestError(400, "prefetch 'assessment' must be a JSON object")
        return Prefetched(value)
    if "questionnaireResponses" not in prefetch:
        if "assessment" in prefetch:  # null: the client has no data
            return Prefetched({})
        raise ServiceRequestError(412, _MISSING)
    value = prefetch["questionnaireResponses"]
    if value is None:
        return Prefetched({})
    responses, gaps = _responses(value)
    if not responses:
        return Prefetched({}, tuple(gaps))
    assessment = _convert(
        responses,
        patient_id=patient_id,
        mappings=mappings,
        partial=partial,
        selection=selection or {},
    )
    return Prefetched(assessment, tuple(gaps))
