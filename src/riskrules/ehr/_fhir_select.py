"""The selection policy: which of a patient's QuestionnaireResponses make the assessment.

A record holds more than the forms a ruleset reads: other questionnaires, earlier
administrations, drafts, forms about someone else by mistake. :func:`read_questionnaire_responses`
decides which responses are used and says why each of the others was left out, and which
response supplied each assessment field (for ``RiskAssessment.basis`` and for the audit).
:func:`assessment_from_questionnaire_responses` is the same with the plain assessment as its
result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from riskrules.ehr._fhir_in import MappingIndex, match_mapping, responses, score_response
from riskrules.ehr._fhir_mappings import QuestionnaireMapping, load_mappings
from riskrules.ehr._instruments import Score
from riskrules.errors import AssessmentError

__all__ = [
    "QuestionnaireResponsesResult",
    "SkippedResponse",
    "assessment_from_questionnaire_responses",
    "read_questionnaire_responses",
]

OnUnknown = Literal["skip", "error"]
Duplicates = Literal["latest", "error"]
MappingSource = Mapping[str, Any] | str | Path

_ACCEPTED_STATUS = frozenset({"completed", "amended"})


@dataclass(frozen=True, slots=True)
class SkippedResponse:
    """A response left out of the assessment: where it is, why, and its instrument if known.

    ``response`` is ``QuestionnaireResponse/<id>`` (or ``resources[<n>]`` / ``Bundle.entry[<n>]``
    when it has no id). ``reason`` is one line a person can act on; it never holds an answer
    or a patient identifier.
    """

    response: str
    reason: str
    instrument: str | None = None


@dataclass(frozen=True, slots=True)
class QuestionnaireResponsesResult:
    """The assessment made from QuestionnaireResponses, with its provenance.

    ``assessment``: dotted contract names -> scores, as :class:`riskrules.Scorer` reads them.
    ``sources``: each assessment field -> the response that supplied it.
    ``skipped``: the responses left out, each with the reason, in input order.
    ``used``: the responses that supplied at least one field, in input order.
    """

    assessment: dict[str, Score]
    sources: dict[str, str] = field(default_factory=dict)
    skipped: tuple[SkippedResponse, ...] = ()
    used: tuple[str, ...] = ()

    @property
    def basis(self) -> list[str]:
        """References of the responses used (those with an ``id``), for ``RiskAssessment.basis``."""
        return [ref for ref in self.used if ref.startswith("QuestionnaireResponse/")]


@dataclass(slots=True)
class _Candidate:
    where: str
    response: Mapping[str, Any]
    mapping: QuestionnaireMapping
    authored: datetime | None


def _fhir_datetime(value: Any, field_: str) -> datetime | None:
    """A FHIR ``dateTime`` (year, year-month, date or instant) as the start of that period."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise AssessmentError(field_, None, "must be a FHIR dateTime")
    text = value
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise AssessmentError(field_, value, "must be a FHIR dateTime") from None
    if parsed.tzinfo is None:
        if "T" in text:
            raise AssessmentError(field_, value, "a FHIR dateTime with a time needs a time zone")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _subject_key(reference: Any) -> str | None:
    """``Type/id`` of a Reference (absolute URLs and ``_history`` cut), or its identifier."""
    if isinstance(reference, str):
        reference = {"reference": reference}
    if not isinstance(reference, Mapping):
        return None
    target = reference.get("reference")
    if isinstance(target, str) and target:
        parts = target.rstrip("/").split("/")
        if len(parts) >= 4 and parts[-2] == "_history":
            parts = parts[:-2]
        return "/".join(parts[-2:])
    ident = reference.get("identifier")
    if isinstance(ident, Mapping) and isinstance(ident.get("value"), str):
        return f"identifier:{ident.get('system')}|{ident['value']}"
    return None


class _Subjects:
    """Checks that every response is about one subject (and the expected one, when given)."""

    def __init__(self, expected: str | None) -> None:
        self.expected = None if expected is None else _subject_key(expected)
        if expected is not None and self.expected is None:
            raise AssessmentError("subject", None, "must be a reference such as 'Patient/123'")
        self.first: tuple[str, str] | None = None

    def check(self, response: Mapping[str, Any], where: str) -> None:
        # Messages name responses, never the patient identifiers themselves.
        key = _subject_key(response.get("subject"))
        if key is None:
            if self.expected is not None:
                raise AssessmentError(
                    f"{where}.subject", None, "names no subject, so it cannot be checked"
                )
            return
        if self.expected is not None and key != self.expected:
            raise AssessmentError(f"{where}.subject", None, "is not the expected subject")
        if self.first is None:
            self.first = (key, where)
        elif self.first[0] != key:
            raise AssessmentError(
                f"{where}.subject",
                None,
                f"is about another subject than {self.first[1]}: responses about different "
                "subjects cannot make one assessment",
            )


def _choose_latest(group: list[_Candidate], skipped: list[SkippedResponse]) -> _Candidate:
    """The latest-authored candidate; ties or a missing ``authored`` name both responses."""
    for candidate in group:
        if candidate.authored is None:
            other = next(c for c in group if c is not candidate)
            raise AssessmentError(
                f"{candidate.where}.authored",
                None,
                f"no authored date, so it cannot be ordered against {other.where} "
                f"(both are {candidate.mapping.instrument})",
            )
    ordered = sorted(group, key=lambda c: c.authored or datetime.min.replace(tzinfo=UTC))
    latest, runner_up = ordered[-1], ordered[-2]
    if latest.authored == runner_up.authored:
        raise AssessmentError(
            f"{latest.where}.authored",
            None,
            f"authored at the same time as {runner_up.where} (both are "
            f"{latest.mapping.instrument}): cannot tell which is the latest",
        )
    for older in ordered[:-1]:
        skipped.append(
            SkippedResponse(
                older.where, f"superseded by the later {latest.where}", older.mapping.instrument
            )
        )
    return latest


def _pick(
    candidates: list[_Candidate], duplicates: Duplicates, skipped: list[SkippedResponse]
) -> list[_Candidate]:
    """One response per instrument, by the ``duplicates`` policy; input order kept."""
    groups: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        groups.setdefault(candidate.mapping.instrument, []).append(candidate)
    chosen: list[_Candidate] = []
    for instrument, group in groups.items():
        if len(group) == 1:
            chosen.append(group[0])
        elif duplicates == "error":
            raise AssessmentError(
                f"{group[1].where}.questionnaire",
                group[1].mapping.canonical,
                f"a second response for {instrument} (the first is {group[0].where})",
            )
        else:
            chosen.append(_choose_latest(group, skipped))
    return sorted(chosen, key=candidates.index)


def _merge(
    chosen: list[_Candidate], duplicates: Duplicates, *, partial: bool
) -> tuple[dict[str, Score], dict[str, str]]:
    """Score each chosen response and merge the fields; overlaps must agree or be ordered."""
    result: dict[str, Score] = {}
    sources: dict[str, str] = {}
    owner: dict[str, _Candidate] = {}
    for candidate in chosen:
        scores = score_response(
            candidate.mapping, candidate.response, candidate.where, partial=partial
        )
        for name, value in scores.items():
            first = owner.get(name)
            if first is not None and result[name] != value:
                newer = _newer(first, candidate) if duplicates == "latest" else None
                if newer is None:
                    raise AssessmentError(
                        name,
                        value,
                        f"{candidate.mapping.instrument} ({candidate.where}) gives {value!r} but "
                        f"{first.mapping.instrument} ({first.where}) gave {result[name]!r}",
                    )
                if newer is first:
                    continue
            if first is None or result[name] != value:
                result[name] = value
                sources[name] = candidate.where
                owner[name] = candidate
    return dict(sorted(result.items())), dict(sorted(sources.items()))


def _newer(a: _Candidate, b: _Candidate) -> _Candidate | None:
    """The later-authored of two responses, or ``None`` when they cannot be ordered."""
    if a.authored is None or b.authored is None or a.authored == b.authored:
        return None
    return a if a.authored > b.authored else b


def read_questionnaire_responses(
    resources: Any,
    *,
    mappings: Iterable[MappingSource] | None = None,
    partial: bool = False,
    on_unknown: OnUnknown = "error",
    duplicates: Duplicates = "error",
    max_age: timedelta | None = None,
    subject: str | None = None,
    now: datetime | None = None,
) -> QuestionnaireResponsesResult:
    """Select and score QuestionnaireResponses: the assessment with its provenance.

    Returns a :class:`QuestionnaireResponsesResult`: ``.assessment``, ``.sources`` (field ->
    response) and ``.skipped`` (responses left out and why). The selection policy:

    * ``status``: only ``completed`` and ``amended`` responses are used (``in-progress`` too
      with ``partial=True``); the others are skipped and listed.
    * ``on_unknown``: a response no mapping fits is an error (``"error"``, the default) or is
      skipped and listed (``"skip"``: the record's other questionnaires, a PHQ-9 say).
    * ``duplicates``: several responses for one instrument are an error (``"error"``, the
      default) or the latest by ``authored`` is used and the others listed (``"latest"``); a tie
      or a missing ``authored`` among them is an error naming both responses. With ``"latest"``
      a field two instruments yield (AUDIT and AUDIT-C both give the AUDIT-C total) comes from
      the later response when they disagree.
    * ``max_age``: responses authored longer ago than this before ``now`` (default: the current
      time), or with no ``authored`` date, are skipped and listed, so the hazards they would
      inform are incomplete rather than stale.
    * ``subject``: every response must name this subject (``"Patient/123"``; absolute URLs
      match by their last two parts). Without it, responses naming different subjects are still
      an error naming both.

    Other problems raise :class:`~riskrules.AssessmentError` as
    :func:`assessment_from_questionnaire_responses` describes.
    """
    if on_unknown not in ("skip", "error"):
        raise AssessmentError("on_unknown", on_unknown, "must be 'skip' or 'error'")
    if duplicates not in ("latest", "error"):
        raise AssessmentError("duplicates", duplicates, "must be 'latest' or 'error'")
    when = now if now is not None else datetime.now(UTC)
    if when.tzinfo is None:
        raise AssessmentError("now", None, "must be a timezone-aware datetime")
    index = MappingIndex(load_mappings(mappings))
    subjects = _Subjects(subject)
    skipped: list[SkippedResponse] = []
    candidates: list[_Candidate] = []
    found = list(responses(resources))
    for where, response in found:
        subjects.check(response, where)
        candidate = _admit(index, response, where, skipped, on_unknown, partial)
        if candidate is None:
            continue
        if max_age is not None:
            if candidate.authored is None:
                reason = "no authored date, so its age against max_age is unknown"
            elif when - candidate.authored > max_age:
                reason = f"older than max_age ({max_age.days} days)"
            else:
                reason = ""
            if reason:
                skipped.append(SkippedResponse(where, reason, candidate.mapping.instrument))
                continue
        candidates.append(candidate)
    chosen = _pick(candidates, duplicates, skipped)
    assessment, sources = _merge(chosen, duplicates, partial=partial)
    order = {where: n for n, (where, _) in reversed(list(enumerate(found)))}
    skipped.sort(key=lambda s: order[s.response])
    supplied = set(sources.values())
    used = tuple(c.where for c in chosen if c.where in supplied)
    return QuestionnaireResponsesResult(assessment, sources, tuple(skipped), used)


def _admit(
    index: MappingIndex,
    response: Mapping[str, Any],
    where: str,
    skipped: list[SkippedResponse],
    on_unknown: OnUnknown,
    partial: bool,
) -> _Candidate | None:
    """The response as a candidate, or ``None`` (listed in ``skipped``) for its status or form."""
    status = response.get("status")
    mapping = match_mapping(index, response, where)
    instrument = mapping.instrument if isinstance(mapping, QuestionnaireMapping) else None
    if status not in _ACCEPTED_STATUS and not (partial and status == "in-progress"):
        hint = " (in-progress ones with partial=True)" if status == "in-progress" else ""
        skipped.append(
            SkippedResponse(
                where,
                f"status {status!r}: only completed or amended responses are scored{hint}",
                instrument,
            )
        )
        return None
    if isinstance(mapping, AssessmentError):
        if on_unknown == "error":
            raise mapping
        skipped.append(SkippedResponse(where, f"no mapping: {mapping.constraint}"))
        return None
    authored = _fhir_datetime(response.get("authored"), f"{where}.authored")
    return _Candidate(where, response, mapping, authored)


def assessment_from_questionnaire_responses(
    resources: Any,
    *,
    mappings: Iterable[MappingSource] | None = None,
    partial: bool = False,
    on_unknown: OnUnknown = "error",
    duplicates: Duplicates = "error",
    max_age: timedelta | None = None,
    subject: str | None = None,
    now: datetime | None = None,
) -> dict[str, Score]:
    """An assessment (dotted contract names -> scores) from FHIR R4 QuestionnaireResponses.

    Returns the plain assessment dict; :func:`read_questionnaire_responses` takes the same
    arguments and returns it with its provenance (which response supplied each field, which
    were skipped and why). Prefer that one when responses may be skipped.

    ``resources`` is one resource or a list of them, each a dict or JSON text; a ``Bundle``'s
    QuestionnaireResponse entries are used (other entries are ignored). Each response picks a
    mapping (the shipped ones plus ``mappings``) by its ``questionnaire`` (``url|version``, or a
    bare ``url`` when only one version is known); its answers become instrument items and
    :mod:`riskrules.instruments` computes the totals. ``partial=True`` also accepts
    ``in-progress`` responses and leaves out scores whose items are missing. The selection
    policy (``on_unknown``, ``duplicates``, ``max_age``, ``subject``, status filtering) is
    described in :func:`read_questionnaire_responses`.

    Problems raise :class:`~riskrules.AssessmentError` whose ``field`` names the response
    (``QuestionnaireResponse/<id>`` or its position) and the ``linkId``.
    """
    return read_questionnaire_responses(
        resources,
        mappings=mappings,
        partial=partial,
        on_unknown=on_unknown,
        duplicates=duplicates,
        max_age=max_age,
        subject=subject,
        now=now,
    ).assessment
