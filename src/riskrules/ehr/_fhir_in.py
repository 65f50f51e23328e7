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

from riskrules.ehr._fhir_mappings import (
    LOINC,
    LOINC_CODE,
    AnswerSpec,
    ItemKey,
    ItemRule,
    QuestionnaireMapping,
    item_codes,
)
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
    """The mappings in force, indexed by canonical (``url|version``), by URL and by panel code."""

    def __init__(self, known: Mapping[str, QuestionnaireMapping]) -> None:
        self.known = known
        self.by_url: dict[str, list[QuestionnaireMapping]] = {}
        for m in known.values():
            if m.url is not None:
                self.by_url.setdefault(m.url, []).append(m)
        self.coded = [m for m in known.values() if m.panel_codes]


def match_mapping(
    index: MappingIndex, response: Mapping[str, Any], where: str
) -> QuestionnaireMapping | AssessmentError:
    """The mapping ``response`` fits, or the error saying why none does (not raised).

    A response names its questionnaire (``url|version`` or ``url``); one that names none is
    matched by the panel code of its items (a group item coded with the panel) or, failing
    that, by the codes of its answered items.
    """
    cited = response.get("questionnaire")
    field = f"{where}.questionnaire"
    if cited is None:
        return _match_by_codes(index, response, where)
    if not isinstance(cited, str) or not cited:
        return AssessmentError(field, None, "'questionnaire' must be a canonical URL")
    if cited in index.known:
        return index.known[cited]
    url, _, version = cited.partition("|")
    candidates = index.by_url.get(url, [])
    unversioned = [m for m in candidates if m.version is None]
    if (not version and len(candidates) == 1) or len(unversioned) == 1:
        return candidates[0] if not unversioned else unversioned[0]
    if candidates:
        versions = ", ".join(sorted(m.version or "(any)" for m in candidates))
        return AssessmentError(field, cited, f"unknown questionnaire version (known: {versions})")
    return AssessmentError(
        field, cited, "unknown questionnaire: no mapping (pass one with mappings=...)"
    )


def _match_by_codes(
    index: MappingIndex, response: Mapping[str, Any], where: str
) -> QuestionnaireMapping | AssessmentError:
    field = f"{where}.questionnaire"
    items = list(_walk(response.get("item"), where))
    codes = {c for item in items for c in item_codes(item)}
    for item in items:  # panel codes inside linkId paths such as /72109-2/68518-0
        codes.update(
            (LOINC, part) for part in str(item["linkId"]).split("/") if LOINC_CODE.match(part)
        )
    by_panel = [m for m in index.coded if m.has_panel_code(codes)]
    if len(by_panel) == 1:
        return by_panel[0]
    if len(by_panel) > 1:
        names = ", ".join(m.source for m in by_panel)
        return AssessmentError(field, None, f"no questionnaire, and its codes fit several: {names}")
    answered = [i for i in items if i.get("answer")]
    covering = [
        m
        for m in index.coded
        if answered
        and all(m.ignores(i) or m.rule_for(i) is not None for i in answered)
        and any(m.rule_for(i) is not None for i in answered)
    ]
    if covering:
        fewest = min(len(m.rules) for m in covering)
        best = [m for m in covering if len(m.rules) == fewest]
        if len(best) == 1:
            return best[0]
        names = ", ".join(m.source for m in best)
        return AssessmentError(field, None, f"no questionnaire, and its items fit several: {names}")
    return AssessmentError(
        field,
        None,
        "the response names no questionnaire and no mapping's panel or item codes fit it",
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


def _answer_value(rule: ItemRule, answer: Any, field: str) -> Any:
    """The instrument item value of one answer, through the item's answer table."""
    if not isinstance(answer, Mapping):
        raise AssessmentError(field, None, "an answer must be an object")
    kinds = [k for k in answer if k.startswith("value")]
    if len(kinds) != 1:
        raise AssessmentError(field, None, "an answer needs exactly one value[x]")
    kind, value = kinds[0], answer[kinds[0]]
    allowed = rule.answer.types()
    if kind not in allowed:
        raise AssessmentError(
            field, kind, f"wrong answer type: this item takes {', '.join(allowed)}"
        )
    if kind == "valueInteger":
        if type(value) is not int:
            raise AssessmentError(field, value, "valueInteger must be an integer")
        result: Any = value
    elif kind == "valueDecimal":
        if type(value) not in (int, float) or not float(value).is_integer():
            raise AssessmentError(field, value, "valueDecimal must be a whole number here")
        result = int(value)
    elif kind == "valueBoolean":
        if type(value) is not bool:
            raise AssessmentError(field, value, "valueBoolean must be true or false")
        result = value
    else:
        result = _coded_value(rule.answer, value, field)
    if rule.reverse:
        if type(result) is not bool:
            raise AssessmentError(field, result, "a reversed item takes a yes/no answer")
        result = not result
    return result


def _coded_value(spec: AnswerSpec, coding: Any, field: str) -> Any:
    codes = spec.codes or {}
    code = coding.get("code") if isinstance(coding, Mapping) else None
    system = coding.get("system") if isinstance(coding, Mapping) else None
    if not isinstance(code, str) or code not in codes:
        known = ", ".join(codes)
        source = f" from {spec.system}" if spec.system else ""
        raise AssessmentError(field, code, f"unknown answer code: expected one of {known}{source}")
    if spec.system is None or system == spec.system:
        return codes[code]
    if system is None:
        if spec.allow_missing_system:
            return codes[code]
        raise AssessmentError(
            field,
            code,
            f"system missing: the code is known but the coding names no system (expected "
            f"{spec.system}; a mapping may accept this with allow_missing_system)",
        )
    raise AssessmentError(
        field, code, f"system mismatch: the code is known from {spec.system}, not from {system}"
    )


def _read_items(
    mapping: QuestionnaireMapping, response: Mapping[str, Any], where: str
) -> tuple[dict[ItemKey, Any], dict[ItemKey, str]]:
    """Instrument item -> value for every answered item, and item -> where it was answered."""
    given: dict[ItemKey, Any] = {}
    fields: dict[ItemKey, str] = {}
    for item in _walk(response.get("item"), where):
        link = item["linkId"]
        field = f"{where}.item[{link}]"
        item_answers = item.get("answer")
        if not item_answers or mapping.ignores(item):
            continue
        rule = mapping.rule_for(item)
        if rule is None:
            if mapping.ignore_unmapped:
                continue
            raise AssessmentError(
                field,
                None,
                f"unknown linkId for {mapping.canonical} ({mapping.source}): map it, list it "
                "under 'ignore', or set 'ignore_unmapped'",
            )
        if not isinstance(item_answers, list) or len(item_answers) != 1:
            raise AssessmentError(field, None, "an item takes exactly one answer")
        if rule.key in given:
            raise AssessmentError(field, None, "two answers to one item")
        given[rule.key] = _answer_value(rule, item_answers[0], field)
        fields[rule.key] = field
    return given, fields


def score_response(
    mapping: QuestionnaireMapping, response: Mapping[str, Any], where: str, *, partial: bool
) -> Scores:
    """The contract fields one response yields, through its mapping's instrument scorer.

    A scorer's error (``<instrument>.item<n>``) is pointed back at the response's linkId.
    """
    given, fields = _read_items(mapping, response, where)
    try:
        scorer = INSTRUMENTS[mapping.instrument]
        if mapping.not_asked:
            return dict(scorer(given, partial=partial, not_asked=mapping.not_asked))
        return dict(scorer(given, partial=partial))
    except AssessmentError as exc:
        links = {rule.key: f"{where}.item[{rule.label}]" for rule in mapping.rules}
        raise _relocate(exc, links | fields) from None


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
