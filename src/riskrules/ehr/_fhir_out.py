"""FHIR out: a report as one ``RiskAssessment``, or as one ``Observation`` per hazard.

* :func:`risk_assessment`: a :class:`~riskrules.RiskReport` -> one ``RiskAssessment`` about a
  Patient or a Group, one prediction per hazard.
* :func:`observations`: a report -> one ``Observation`` per hazard, for hazards about a
  clinician (the Practitioner goes in ``focus``; FHIR forbids a Practitioner as the subject of
  a RiskAssessment).

All URLs of our own live under ``https://riskrules.example/fhir/`` (the ``.example`` domain is
reserved and never resolves): they name riskrules' mappings and codes, not official artefacts.
The coding choices are described in ``docs/fhir.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from riskrules.errors import FhirReferenceError
from riskrules.report import RiskReport

__all__ = [
    "BASE_URL",
    "HAZARD_SYSTEM",
    "LEVEL_SYSTEM",
    "RISK_PROBABILITY_CODES",
    "RISK_PROBABILITY_SYSTEM",
    "RULESET_EXTENSION",
    "RULESET_SYSTEM",
    "observations",
    "risk_assessment",
]

BASE_URL = "https://riskrules.example/fhir"
"""Namespace of riskrules' own FHIR URLs (``.example`` is a reserved, never-resolving domain)."""
HAZARD_SYSTEM = f"{BASE_URL}/CodeSystem/hazard"
"""Code system of hazard ids (``prediction.outcome`` and ``Observation.code``)."""
LEVEL_SYSTEM = f"{BASE_URL}/CodeSystem/level"
"""Code system of the ruleset's own level names, kept beside the risk-probability code."""
RULESET_SYSTEM = f"{BASE_URL}/CodeSystem/ruleset"
"""Code system of ruleset ids (``method``)."""
RULESET_EXTENSION = f"{BASE_URL}/StructureDefinition/ruleset"
"""Complex extension carrying the ruleset ``id``, ``version`` and ``fingerprint``."""
RISK_PROBABILITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/risk-probability"
RISK_PROBABILITY_CODES: Mapping[str, str] = {
    "negligible": "Negligible likelihood",
    "low": "Low likelihood",
    "moderate": "Moderate likelihood",
    "high": "High likelihood",
    "certain": "Certain",
}
"""The risk-probability codes and their displays."""

_LEVEL_TO_RISK: Mapping[str, str] = {
    "negligible": "negligible",
    "low": "low",
    "moderate": "moderate",
    "high": "high",
    # "certain" claims the outcome will happen; a screening rule set never knows that, so its
    # top level is a high likelihood (the level name itself travels in a second coding).
    "critical": "high",
}
_OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_DATETIME = re.compile(
    r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])"
    r"(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$"
)
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _reference(value: Any, allowed: Sequence[str], role: str) -> dict[str, Any]:
    """A Reference dict whose type (from ``type`` or ``reference``) is one of ``allowed``."""
    if isinstance(value, str):
        ref: dict[str, Any] = {"reference": value}
    elif isinstance(value, Mapping):
        ref = dict(value)
    else:
        raise FhirReferenceError(f"{role}: a reference string or Reference dict is expected")
    kind = ref.get("type")
    target = ref.get("reference")
    if isinstance(target, str) and not target.startswith("#"):
        parts = target.rstrip("/").split("/")
        if len(parts) >= 4 and parts[-2] == "_history":
            parts = parts[:-2]
        from_ref = parts[-2] if len(parts) >= 2 else None
        if kind is not None and from_ref is not None and kind != from_ref:
            raise FhirReferenceError(f"{role}: type {kind!r} disagrees with {target!r}")
        kind = kind or from_ref
    if kind is None:
        raise FhirReferenceError(
            f"{role}: cannot tell the reference's type; use 'Type/id' or give 'type'"
        )
    if kind not in allowed:
        hint = ""
        if role == "subject" and kind in ("Practitioner", "PractitionerRole"):
            hint = (
                ": a RiskAssessment is about a Patient or a Group, never a clinician; send "
                "clinician-side hazards about a Group (e.g. the team) or as Observations with "
                "riskrules.fhir.observations(report, focus=...)"
            )
        raise FhirReferenceError(
            f"{role}: {kind} is not allowed (expected {' or '.join(allowed)}){hint}"
        )
    return ref


def _datetime(value: str | None, role: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not _DATETIME.match(value)):
        raise FhirReferenceError(f"{role}: {value!r} is not a FHIR dateTime")
    return value


def _check_id(value: str | None) -> str | None:
    if value is not None and (not isinstance(value, str) or not _ID.match(value)):
        raise FhirReferenceError(f"id: {value!r} is not a FHIR id ([A-Za-z0-9-.], 1-64)")
    return value


def _risk_code(level: str, risk_codes: Mapping[str, str] | None) -> str:
    table = dict(_LEVEL_TO_RISK)
    table.update(risk_codes or {})
    code = table.get(level)
    if code is None:
        raise FhirReferenceError(
            f"level {level!r} has no risk-probability code; pass risk_codes={{{level!r}: ...}}"
        )
    if code not in RISK_PROBABILITY_CODES:
        raise FhirReferenceError(f"{code!r} is not a risk-probability code")
    return code


def _risk_concept(
    level: str, possible: str, complete: bool, risk_codes: Mapping[str, str] | None
) -> dict[str, Any]:
    code = _risk_code(level, risk_codes)
    text = _risk_text(level, possible, complete)
    return {
        "coding": [
            {
                "system": RISK_PROBABILITY_SYSTEM,
                "code": code,
                "display": RISK_PROBABILITY_CODES[code],
            },
            {"system": LEVEL_SYSTEM, "code": level},
        ],
        "text": text,
    }


def _ruleset_parts(report: RiskReport) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    info = report.ruleset
    method = {
        "coding": [
            {"system": RULESET_SYSTEM, "code": info.id, "display": f"{info.id} {info.version}"}
        ],
        "text": f"riskrules ruleset {info.id} {info.version} (sha256 {info.fingerprint})",
    }
    extension = [
        {
            "url": RULESET_EXTENSION,
            "extension": [
                {"url": "id", "valueString": info.id},
                {"url": "version", "valueString": info.version},
                {"url": "fingerprint", "valueString": info.fingerprint},
            ],
        }
    ]
    return method, extension


def _hazard_ids(report: RiskReport, hazards: Iterable[str] | None) -> list[str]:
    if hazards is None:
        return list(report.hazards)
    chosen = set(hazards)
    unknown = sorted(chosen - set(report.hazards))
    if unknown:
        raise FhirReferenceError(
            f"hazards: unknown {', '.join(unknown)} (report has {', '.join(report.hazards)})"
        )
    return [h for h in report.hazards if h in chosen]


def _rationale(report: RiskReport, hid: str) -> str:
    hazard = report.hazards[hid]
    parts = [f.because.strip() for f in report.fired if f.hazard == hid]
    if not parts:
        parts.append("No rule of this hazard fired.")
    if not hazard.complete:
        parts.append(
            f"Incomplete: {hazard.level} so far, could reach {hazard.possible_level}; "
            f"missing: {', '.join(hazard.missing)}."
        )
    return " ".join(parts)


def _mitigation(report: RiskReport, hids: Sequence[str]) -> str | None:
    hazard_of = {f.rule: f.hazard for f in report.fired}
    lines: list[str] = []
    for rec in report.recommendations:
        if not any(hazard_of.get(rule) in hids for rule in rec.because) and len(hids) < len(
            report.hazards
        ):
            continue
        lines.append(f"{len(lines) + 1}. {rec.title} [{rec.urgency}] ({rec.protocol})")
    return "\n".join(lines) if lines else None


def risk_assessment(
    report: RiskReport,
    *,
    subject: str | Mapping[str, Any],
    basis: Sequence[str | Mapping[str, Any]] | None = None,
    occurrence: str | None = None,
    id: str | None = None,
    hazards: Iterable[str] | None = None,
    risk_codes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A FHIR R4 ``RiskAssessment`` (a JSON-ready dict) for ``report``.

    ``subject`` must reference a Patient or a Group (``"Patient/123"`` or a Reference dict);
    anything else raises :class:`FhirReferenceError`. ``basis`` references the source
    QuestionnaireResponses (or Observations). ``occurrence`` is a FHIR dateTime, never filled in
    with the current time. ``hazards`` limits the predictions (default: all, in report order);
    ``risk_codes`` maps further level names to risk-probability codes. ``status`` is ``final``
    when the report is complete, else ``preliminary``. When every hazard is included, the first
    note gives the report's overall level, and for an incomplete report the level it could
    still reach (``"Overall level: low so far; incomplete, could reach critical."``).
    """
    hids = _hazard_ids(report, hazards)
    method, extension = _ruleset_parts(report)
    resource: dict[str, Any] = {"resourceType": "RiskAssessment"}
    if _check_id(id) is not None:
        resource["id"] = id
    resource["extension"] = extension
    complete = all(report.hazards[h].complete for h in hids)
    resource["status"] = "final" if complete else "preliminary"
    resource["method"] = method
    resource["subject"] = _reference(subject, ("Patient", "Group"), "subject")
    if _datetime(occurrence, "occurrence") is not None:
        resource["occurrenceDateTime"] = occurrence
    if basis:
        resource["basis"] = [
            _reference(b, ("QuestionnaireResponse", "Observation"), "basis") for b in basis
        ]
    predictions = []
    for hid in hids:
        hazard = report.hazards[hid]
        predictions.append(
            {
                "outcome": {
                    "coding": [{"system": HAZARD_SYSTEM, "code": hid, "display": hazard.title}],
                    "text": hazard.title,
                },
                "qualitativeRisk": _risk_concept(
                    hazard.level, hazard.possible_level, hazard.complete, risk_codes
                ),
                "rationale": _rationale(report, hid),
            }
        )
    if predictions:
        resource["prediction"] = predictions
    mitigation = _mitigation(report, hids)
    if mitigation is not None:
        resource["mitigation"] = mitigation
    notes = [{"text": report.disclaimer}]
    if len(hids) == len(report.hazards):
        notes.insert(0, {"text": overall_text(report)})
    resource["note"] = notes
    return resource


def overall_text(report: RiskReport) -> str:
    """The report-level level in words: ``"Overall level: low so far; incomplete, could reach
    critical."`` for an incomplete report, ``"Overall level: high."`` for a complete one."""
    if not report.complete and report.possible_level == report.overall_level:
        return (
            f"Overall level: {report.overall_level}; incomplete, but no missing input could "
            "raise it."
        )
    text = _risk_text(report.overall_level, report.possible_level, report.complete)
    return f"Overall level: {text}."


def _risk_text(level: str, possible: str, complete: bool) -> str:
    return level if complete else f"{level} so far; incomplete, could reach {possible}"


def observations(
    report: RiskReport,
    *,
    focus: str | Mapping[str, Any],
    subject: str | Mapping[str, Any] | None = None,
    basis: Sequence[str | Mapping[str, Any]] | None = None,
    effective: str | None = None,
    id_prefix: str | None = None,
    hazards: Iterable[str] | None = None,
    risk_codes: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One FHIR R4 ``Observation`` per hazard, for hazards about a clinician.

    ``focus`` references whom the observation is about: a Practitioner, PractitionerRole or
    Group (R4 allows no Practitioner as ``Observation.subject``). The optional ``subject`` is a
    Patient or Group. ``basis`` becomes ``derivedFrom`` (QuestionnaireResponse or Observation);
    ``effective`` is ``effectiveDateTime``. The value is the hazard's level as a
    risk-probability code (as in :func:`risk_assessment`); the reasons and the disclaimer are
    notes. ``id_prefix`` gives ids ``<prefix>-<hazard>`` (underscores become hyphens).
    """
    hids = _hazard_ids(report, hazards)
    focus_ref = _reference(focus, ("Practitioner", "PractitionerRole", "Group"), "focus")
    subject_ref = None if subject is None else _reference(subject, ("Patient", "Group"), "subject")
    derived = [
        _reference(b, ("QuestionnaireResponse", "Observation"), "basis") for b in basis or ()
    ]
    _datetime(effective, "effective")
    _check_id(id_prefix)
    method, extension = _ruleset_parts(report)
    result = []
    for hid in hids:
        hazard = report.hazards[hid]
        obs: dict[str, Any] = {"resourceType": "Observation"}
        if id_prefix is not None:
            obs["id"] = _check_id(f"{id_prefix}-{hid.replace('_', '-')}"[:64])
        obs["extension"] = extension
        obs["status"] = "final" if hazard.complete else "preliminary"
        obs["category"] = [
            {"coding": [{"system": _OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
        ]
        obs["code"] = {
            "coding": [{"system": HAZARD_SYSTEM, "code": hid, "display": hazard.title}],
            "text": f"{hazard.title}: risk level",
        }
        if subject_ref is not None:
            obs["subject"] = subject_ref
        obs["focus"] = [focus_ref]
        if effective is not None:
            obs["effectiveDateTime"] = effective
        obs["valueCodeableConcept"] = _risk_concept(
            hazard.level, hazard.possible_level, hazard.complete, risk_codes
        )
        obs["note"] = [{"text": _rationale(report, hid)}, {"text": report.disclaimer}]
        obs["method"] = method
        if derived:
            obs["derivedFrom"] = derived
        result.append(obs)
    return result
