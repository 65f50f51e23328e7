"""FHIR R4 in and out: QuestionnaireResponses to an assessment, a report to a RiskAssessment.

EHRs hold questionnaire answers as ``QuestionnaireResponse`` resources and expect results as
``RiskAssessment`` (or ``Observation``) resources. This module converts both ways with plain
dicts, so it needs no FHIR library at run time. The formats, the shipped mappings and every
coding choice are described in ``docs/fhir.md``.

* :func:`assessment_from_questionnaire_responses`: responses (dicts, JSON text or a Bundle) ->
  the dotted assessment :class:`riskrules.Scorer` reads, through a mapping file per
  questionnaire that maps ``linkId`` s to instrument items (:mod:`riskrules.instruments`).
* :func:`risk_assessment`: a :class:`~riskrules.RiskReport` -> one ``RiskAssessment`` about a
  Patient or a Group, one prediction per hazard.
* :func:`observations`: a report -> one ``Observation`` per hazard, for hazards about a
  clinician (the Practitioner goes in ``focus``; FHIR forbids a Practitioner as the subject of
  a RiskAssessment).

All URLs of our own live under ``https://riskrules.example/fhir/`` (the ``.example`` domain is
reserved and never resolves): they name riskrules' mappings and codes, not official artefacts.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any, TypeAlias

from riskrules.ehr._instruments import INSTRUMENTS, assessment_from_items
from riskrules.errors import AssessmentError, FhirReferenceError, RiskRulesError
from riskrules.report import RiskReport

__all__ = [
    "BASE_URL",
    "HAZARD_SYSTEM",
    "LEVEL_SYSTEM",
    "RISK_PROBABILITY_CODES",
    "RISK_PROBABILITY_SYSTEM",
    "RULESET_EXTENSION",
    "RULESET_SYSTEM",
    "FhirReferenceError",
    "QuestionnaireMapping",
    "assessment_from_questionnaire_responses",
    "load_mappings",
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
_ACCEPTED_STATUS = frozenset({"completed", "amended"})
_ANSWER_TYPES = ("valueInteger", "valueBoolean", "valueCoding")
_DATETIME = re.compile(
    r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])"
    r"(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$"
)
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

Resource: TypeAlias = dict[str, Any]
ItemKey: TypeAlias = int | str


# --------------------------------------------------------------------------- mappings


class QuestionnaireMapping:
    """One questionnaire mapping: canonical URL and version, instrument, linkId -> item.

    Built from a mapping document (see ``docs/fhir.md``); invalid documents raise
    :class:`~riskrules.RiskRulesError` naming the source.
    """

    def __init__(self, document: Any, source: str = "<mapping>") -> None:
        def bad(why: str) -> RiskRulesError:
            return RiskRulesError(f"{source}: invalid FHIR mapping: {why}")

        if not isinstance(document, Mapping):
            raise bad("a JSON object was expected")
        instrument = document.get("instrument")
        if not isinstance(instrument, str) or instrument not in INSTRUMENTS:
            raise bad(f"'instrument' must be one of {', '.join(INSTRUMENTS)}")
        url, version = document.get("url"), document.get("version")
        if not isinstance(url, str) or not url or "|" in url:
            raise bad("'url' must be a canonical URL without '|version'")
        if not isinstance(version, str) or not version:
            raise bad("'version' must be a non-empty string")
        answer = document.get("answer")
        if not isinstance(answer, Mapping) or not answer or set(answer) - set(_ANSWER_TYPES):
            raise bad(f"'answer' must name some of {', '.join(_ANSWER_TYPES)}")
        coding = answer.get("valueCoding")
        codes: dict[tuple[str | None, str], Any] = {}
        if coding is not None:
            if not isinstance(coding, Mapping) or not isinstance(coding.get("codes"), Mapping):
                raise bad("'answer.valueCoding' needs 'codes' (code -> answer)")
            system = coding.get("system")
            if system is not None and not isinstance(system, str):
                raise bad("'answer.valueCoding.system' must be a string")
            codes = {(system, str(code)): value for code, value in coding["codes"].items()}
        items = document.get("items")
        if not isinstance(items, Mapping) or not items:
            raise bad("'items' must map linkId to item")
        keys = list(items.values())
        if len(set(keys)) != len(keys):
            raise bad("two linkIds map to the same item")
        for key in keys:
            if type(key) not in (int, str):
                raise bad(f"item {key!r} must be an item number or question name")
        self.instrument: str = instrument
        self.url: str = url
        self.version: str = version
        self.source = source
        self.value_integer = answer.get("valueInteger") is True
        self.value_boolean = answer.get("valueBoolean") is True
        self.codes = codes
        self.items: dict[str, ItemKey] = {str(k): v for k, v in items.items()}

    @property
    def canonical(self) -> str:
        """``url|version``, as a QuestionnaireResponse's ``questionnaire`` cites it."""
        return f"{self.url}|{self.version}"


@functools.cache
def _shipped() -> tuple[QuestionnaireMapping, ...]:
    """The mappings packaged under ``riskrules/fhir_mappings`` (read once)."""
    folder = importlib_resources.files("riskrules").joinpath("data", "fhir_mappings")
    result = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            result.append(QuestionnaireMapping(json.loads(entry.read_text("utf-8")), entry.name))
    return tuple(result)


def load_mappings(
    extra: Iterable[Mapping[str, Any] | str | Path] | None = None,
) -> dict[str, QuestionnaireMapping]:
    """The shipped mappings plus ``extra`` ones (documents or JSON file paths), by canonical.

    A later mapping with the same ``url|version`` replaces an earlier one, so an integrator's
    file can override a shipped mapping.
    """
    found = list(_shipped())
    for item in extra or ():
        if isinstance(item, (str, Path)):
            path = Path(item)
            try:
                document = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                raise RiskRulesError(f"{path}: cannot read FHIR mapping: {exc}") from None
            found.append(QuestionnaireMapping(document, str(path)))
        else:
            found.append(QuestionnaireMapping(item))
    return {m.canonical: m for m in found}


# --------------------------------------------------------------------------- FHIR in


def _parse(resource: Any, where: str) -> Any:
    if isinstance(resource, (str, bytes, bytearray)):
        try:
            return json.loads(resource)
        except ValueError as exc:
            raise AssessmentError(where, None, f"invalid JSON: {exc}") from None
    return resource


def _responses(resources_: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(location, resource) for every QuestionnaireResponse, Bundles unpacked."""
    parsed = _parse(resources_, "resources")
    if isinstance(parsed, Mapping):
        items: list[Any] = [parsed]
    elif isinstance(parsed, (list, tuple)):
        items = list(parsed)
    else:
        raise AssessmentError("resources", None, "a resource, a Bundle or a list was expected")
    for index, raw in enumerate(items):
        resource = _parse(raw, f"resources[{index}]")
        if not isinstance(resource, Mapping):
            raise AssessmentError(f"resources[{index}]", None, "a FHIR resource object expected")
        kind = resource.get("resourceType")
        if kind == "Bundle":
            entries = resource.get("entry") or []
            if not isinstance(entries, list):
                raise AssessmentError(f"resources[{index}].entry", None, "must be a list")
            for n, entry in enumerate(entries):
                inner = entry.get("resource") if isinstance(entry, Mapping) else None
                if isinstance(inner, Mapping) and inner.get("resourceType") == (
                    "QuestionnaireResponse"
                ):
                    yield _where(inner, f"Bundle.entry[{n}]"), inner
        elif kind == "QuestionnaireResponse":
            yield _where(resource, f"resources[{index}]"), resource
        else:
            raise AssessmentError(
                f"resources[{index}]",
                kind,
                "a QuestionnaireResponse or a Bundle of them was expected",
            )


def _where(resource: Mapping[str, Any], fallback: str) -> str:
    rid = resource.get("id")
    return f"QuestionnaireResponse/{rid}" if isinstance(rid, str) and rid else fallback


def _walk(items: Any, where: str) -> Iterator[Mapping[str, Any]]:
    """Every item of a response, depth first: groups and answers' nested items included."""
    if items is None:
        return
    if not isinstance(items, list):
        raise AssessmentError(f"{where}.item", None, "'item' must be a list")
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("linkId"), str):
            raise AssessmentError(f"{where}.item", None, "every item needs a string 'linkId'")
        yield item
        yield from _walk(item.get("item"), where)
        for answer in item.get("answer") or ():
            if isinstance(answer, Mapping):
                yield from _walk(answer.get("item"), where)


def _answer_value(mapping: QuestionnaireMapping, answer: Any, field: str) -> Any:
    if not isinstance(answer, Mapping):
        raise AssessmentError(field, None, "an answer must be an object")
    kinds = [k for k in answer if k.startswith("value")]
    if len(kinds) != 1:
        raise AssessmentError(field, None, "an answer needs exactly one value[x]")
    kind = kinds[0]
    value = answer[kind]
    allowed = [
        name
        for name, ok in (
            ("valueInteger", mapping.value_integer),
            ("valueBoolean", mapping.value_boolean),
            ("valueCoding", bool(mapping.codes)),
        )
        if ok
    ]
    if kind not in allowed:
        raise AssessmentError(
            field, kind, f"wrong answer type: {mapping.instrument} takes {', '.join(allowed)}"
        )
    if kind == "valueInteger":
        if type(value) is not int:
            raise AssessmentError(field, value, "valueInteger must be an integer")
        return value
    if kind == "valueBoolean":
        if type(value) is not bool:
            raise AssessmentError(field, value, "valueBoolean must be true or false")
        return value
    code = value.get("code") if isinstance(value, Mapping) else None
    system = value.get("system") if isinstance(value, Mapping) else None
    if system is not None and not isinstance(system, str):
        raise AssessmentError(field, None, "valueCoding.system must be a string (a URI)")
    for key_system in (system, None) if system is not None else (None,):
        if (key_system, str(code)) in mapping.codes:
            return mapping.codes[(key_system, str(code))]
    known = ", ".join(sorted({c for _, c in mapping.codes}))
    systems = sorted({s for s, _ in mapping.codes if s})
    raise AssessmentError(
        field,
        code,
        f"unknown answer code (system {system!r}): expected one of {known}"
        + (f" from {systems[0]}" if systems else ""),
    )


def assessment_from_questionnaire_responses(
    resources: Any,
    *,
    mappings: Iterable[Mapping[str, Any] | str | Path] | None = None,
    partial: bool = False,
) -> dict[str, int | float | bool]:
    """An assessment (dotted contract names -> scores) from FHIR R4 QuestionnaireResponses.

    ``resources`` is one resource or a list of them, each a dict or JSON text; a ``Bundle``'s
    QuestionnaireResponse entries are used (other entries are ignored). Each response's
    ``questionnaire`` (``url|version``, or a bare ``url`` when only one version is known) picks
    a mapping (the shipped ones plus ``mappings``); its answers become instrument items and
    :func:`riskrules.instruments.assessment_from_items` computes the totals. Responses must be
    ``completed`` or ``amended``; ``in-progress`` ones are accepted only with ``partial=True``,
    which also leaves out scores whose items are missing.

    Problems raise :class:`~riskrules.AssessmentError` whose ``field`` names the response
    (``QuestionnaireResponse/<id>`` or its position) and the ``linkId``.
    """
    known = load_mappings(mappings)
    by_url: dict[str, list[QuestionnaireMapping]] = {}
    for m in known.values():
        by_url.setdefault(m.url, []).append(m)
    answers: dict[str, dict[ItemKey, Any]] = {}
    link_of: dict[str, dict[ItemKey, str]] = {}
    origin: dict[str, str] = {}
    for where, response in _responses(resources):
        status = response.get("status")
        if status not in _ACCEPTED_STATUS and not (partial and status == "in-progress"):
            raise AssessmentError(
                f"{where}.status",
                status,
                "only completed or amended responses are scored"
                + ("" if partial else " (in-progress ones with partial=True)"),
            )
        mapping = _select(known, by_url, response.get("questionnaire"), where)
        if mapping.instrument in answers:
            raise AssessmentError(
                f"{where}.questionnaire",
                mapping.canonical,
                f"a second response for {mapping.instrument} "
                f"(the first is {origin[mapping.instrument]})",
            )
        origin[mapping.instrument] = where
        given: dict[ItemKey, Any] = {}
        for item in _walk(response.get("item"), where):
            link = item["linkId"]
            field = f"{where}.item[{link}]"
            item_answers = item.get("answer")
            if not item_answers:
                continue
            if link not in mapping.items:
                raise AssessmentError(
                    field, None, f"unknown linkId for {mapping.canonical} ({mapping.source})"
                )
            if not isinstance(item_answers, list) or len(item_answers) != 1:
                raise AssessmentError(field, None, "an item takes exactly one answer")
            key = mapping.items[link]
            if key in given:
                raise AssessmentError(field, None, "two answers to one item")
            given[key] = _answer_value(mapping, item_answers[0], field)
        answers[mapping.instrument] = given
        link_of[mapping.instrument] = {
            key: f"{where}.item[{lk}]" for lk, key in mapping.items.items()
        }
    try:
        return assessment_from_items(answers, partial=partial)
    except AssessmentError as exc:
        raise _relocate(exc, link_of) from None


def _select(
    known: Mapping[str, QuestionnaireMapping],
    by_url: Mapping[str, list[QuestionnaireMapping]],
    cited: Any,
    where: str,
) -> QuestionnaireMapping:
    field = f"{where}.questionnaire"
    if not isinstance(cited, str) or not cited:
        raise AssessmentError(field, cited, "the response names no questionnaire")
    if cited in known:
        return known[cited]
    url, _, version = cited.partition("|")
    candidates = by_url.get(url, [])
    if not version and len(candidates) == 1:
        return candidates[0]
    if candidates:
        versions = ", ".join(sorted(m.version for m in candidates))
        raise AssessmentError(field, cited, f"unknown questionnaire version (known: {versions})")
    raise AssessmentError(
        field, cited, "unknown questionnaire: no mapping (pass one with mappings=...)"
    )


def _relocate(
    exc: AssessmentError, link_of: Mapping[str, Mapping[ItemKey, str]]
) -> AssessmentError:
    """Point an instrument scorer's ``<instrument>.item<n>`` error at the response's linkId."""
    name, _, rest = exc.field.partition(".")
    links = link_of.get(name, {})
    key: ItemKey | None = None
    if rest.startswith("item") and rest[4:].isdigit():
        key = int(rest[4:])
    elif rest:
        key = rest
    if key is not None and key in links:
        return AssessmentError(links[key], exc.value, exc.constraint)
    return exc


# --------------------------------------------------------------------------- FHIR out


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
    text = level if complete else f"{level} so far; incomplete, could reach {possible}"
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
    when the report is complete, else ``preliminary``.
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
    resource["note"] = [{"text": report.disclaimer}]
    return resource


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
