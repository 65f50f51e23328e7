"""QuestionnaireResponses in: find each response's mapping, read its answers, score it.

One response at a time: :func:`responses` unpacks what the caller passed (a resource, a list,
a Bundle, JSON text), :func:`match_mapping` picks the mapping a response fits and
:func:`score_response` turns its answers into instrument items and scores them with
:mod:`riskrules.instruments`. Which responses are used, and how several combine into one
assessment, is the selection policy's business (:mod:`riskrules.ehr._fhir_select`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from riskrules.ehr._fhir_mappings import ItemKey, QuestionnaireMapping
from riskrules.ehr._instruments import INSTRUMENTS, Scores
from riskrules.errors import AssessmentError

__all__ = ["MappingIndex", "match_mapping", "responses", "score_response"]


def _parse(resource: Any, where: str) -> Any:
    if isinstance(resource, (str, bytes, bytearray)):
        try:
            return json.loads(resource)
        except ValueError as exc:
            raise AssessmentError(where, None, f"invalid JSON: {exc}") from None
    return resource


def responses(resources_: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
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


class MappingIndex:
    """The mappings in force, indexed by canonical (``url|version``) and by URL."""

    def __init__(self, known: Mapping[str, QuestionnaireMapping]) -> None:
        self.known = known
        self.by_url: dict[str, list[QuestionnaireMapping]] = {}
        for m in known.values():
            self.by_url.setdefault(m.url, []).append(m)


def match_mapping(
    index: MappingIndex, response: Mapping[str, Any], where: str
) -> QuestionnaireMapping | AssessmentError:
    """The mapping ``response`` fits, or the error saying why none does (not raised)."""
    cited = response.get("questionnaire")
    field = f"{where}.questionnaire"
    if not isinstance(cited, str) or not cited:
        return AssessmentError(field, cited, "the response names no questionnaire")
    if cited in index.known:
        return index.known[cited]
    url, _, version = cited.partition("|")
    candidates = index.by_url.get(url, [])
    if not version and len(candidates) == 1:
        return candidates[0]
    if candidates:
        versions = ", ".join(sorted(m.version for m in candidates))
        return AssessmentError(field, cited, f"unknown questionnaire version (known: {versions})")
    return AssessmentError(
        field, cited, "unknown questionnaire: no mapping (pass one with mappings=...)"
    )


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


def _read_items(
    mapping: QuestionnaireMapping, response: Mapping[str, Any], where: str
) -> dict[ItemKey, Any]:
    """Instrument item -> value for every answered item of ``response``."""
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
    return given


def score_response(
    mapping: QuestionnaireMapping, response: Mapping[str, Any], where: str, *, partial: bool
) -> Scores:
    """The contract fields one response yields, through its mapping's instrument scorer.

    A scorer's error (``<instrument>.item<n>``) is pointed back at the response's linkId.
    """
    given = _read_items(mapping, response, where)
    try:
        return dict(INSTRUMENTS[mapping.instrument](given, partial=partial))
    except AssessmentError as exc:
        links = {key: f"{where}.item[{lk}]" for lk, key in mapping.items.items()}
        raise _relocate(exc, links) from None


def _relocate(exc: AssessmentError, links: Mapping[ItemKey, str]) -> AssessmentError:
    """Point an instrument scorer's ``<instrument>.item<n>`` error at the response's linkId."""
    _, _, rest = exc.field.partition(".")
    key: ItemKey | None = None
    if rest.startswith("item") and rest[4:].isdigit():
        key = int(rest[4:])
    elif rest:
        key = rest
    if key is not None and key in links:
        return AssessmentError(links[key], exc.value, exc.constraint)
    return exc
