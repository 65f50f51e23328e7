"""Questionnaire mappings: which questionnaire, items and answers feed which instrument.

A mapping document (JSON, format in ``docs/fhir.md``, shape checked by
:class:`~riskrules.ehr._fhir_mapping_spec.MappingDocument`) ties one questionnaire to one
instrument of :mod:`riskrules.instruments`: its items, found by ``linkId`` or by code, to the
instrument's item numbers (or question names), and its answers to item values. The shipped
mappings live in ``riskrules/data/fhir_mappings``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any, TypeAlias

from pydantic import ValidationError

from riskrules.ehr._fhir_mapping_spec import (
    AnswerSpecDocument,
    CodingDocument,
    ItemDocument,
    MappingDocument,
)
from riskrules.errors import RiskRulesError

__all__ = [
    "AnswerSpec",
    "ItemKey",
    "ItemRule",
    "QuestionnaireMapping",
    "item_codes",
    "load_mappings",
]

ItemKey: TypeAlias = int | str
Code: TypeAlias = tuple[str | None, str]
"""(system, code); a ``None`` system matches any system."""

LOINC = "http://loinc.org"
LOINC_CODE = re.compile(r"^\d{1,7}-\d$")


@dataclass(frozen=True, slots=True)
class AnswerSpec:
    """The answer types one item accepts; ``codes`` maps an answer code to the item value."""

    integer: bool = False
    decimal: bool = False
    boolean: bool = False
    system: str | None = None
    allow_missing_system: bool = False
    codes: Mapping[str, int | bool] | None = None

    @classmethod
    def from_document(cls, doc: AnswerSpecDocument) -> AnswerSpec:
        coding = doc.value_coding
        return cls(
            integer=doc.value_integer,
            decimal=doc.value_decimal,
            boolean=doc.value_boolean,
            system=None if coding is None else coding.system,
            allow_missing_system=False if coding is None else coding.allow_missing_system,
            codes=None if coding is None else dict(coding.codes),
        )

    def types(self) -> list[str]:
        """The FHIR answer types accepted, in a fixed order."""
        kinds = (
            ("valueInteger", self.integer),
            ("valueDecimal", self.decimal),
            ("valueBoolean", self.boolean),
            ("valueCoding", self.codes is not None),
        )
        return [name for name, ok in kinds if ok]


@dataclass(frozen=True, slots=True)
class ItemRule:
    """How one questionnaire item answers one instrument item."""

    key: ItemKey
    answer: AnswerSpec
    link_id: str | None = None
    code: Code | None = None
    reverse: bool = False

    @property
    def label(self) -> str:
        """The linkId, or ``code <code>`` for an item matched by code only."""
        if self.link_id is not None:
            return self.link_id
        assert self.code is not None
        return f"code {self.code[1]}"


def item_codes(item: Mapping[str, Any]) -> Iterator[Code]:
    """The codes a response item carries: its ``code`` codings, and a LOINC code its linkId
    ends with (forms built from LOINC panels use code paths such as ``/72109-2/68518-0``)."""
    codings = item.get("code")
    if isinstance(codings, list):
        for coding in codings:
            if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
                system = coding.get("system")
                yield (system if isinstance(system, str) else None, coding["code"])
    link = item.get("linkId")
    if isinstance(link, str):
        last = link.rstrip("/").rsplit("/", 1)[-1]
        if LOINC_CODE.match(last):
            yield (LOINC, last)


def _code(doc: CodingDocument) -> Code:
    return (doc.system, doc.code)


def _codes_match(wanted: Code, given: Code) -> bool:
    return wanted[1] == given[1] and (wanted[0] is None or given[0] in (None, wanted[0]))


def _format_errors(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


class QuestionnaireMapping:
    """One questionnaire mapping: how a form's items and answers feed an instrument.

    Built from a mapping document (see ``docs/fhir.md``); an invalid document raises
    :class:`~riskrules.RiskRulesError` naming the source and the key at fault.
    """

    def __init__(self, document: Any, source: str = "<mapping>") -> None:
        def bad(why: str) -> RiskRulesError:
            return RiskRulesError(f"{source}: invalid FHIR mapping: {why}")

        if not isinstance(document, Mapping):
            raise bad("a JSON object was expected")
        try:
            doc = MappingDocument.model_validate(document)
        except ValidationError as exc:
            raise bad(_format_errors(exc)) from None
        self.document = doc
        self.instrument: str = doc.instrument
        self.title = doc.title
        self.url = doc.url
        self.version = doc.version
        self.source = source
        self.panel_codes: tuple[Code, ...] = tuple(_code(c) for c in doc.code)
        default = None if doc.answer is None else AnswerSpec.from_document(doc.answer)
        self.answer = default
        self.rules = self._rules(doc, default, bad)
        self.ignore: tuple[tuple[str | None, Code | None], ...] = tuple(
            (m.link_id, None if m.code is None else _code(m.code)) for m in doc.ignore
        )
        self.ignore_unmapped = doc.ignore_unmapped
        self.not_asked: tuple[str, ...] = tuple(doc.not_asked)
        self._by_link: dict[str, ItemRule] = {
            r.link_id: r for r in self.rules if r.link_id is not None
        }

    @staticmethod
    def _rules(doc: MappingDocument, default: AnswerSpec | None, bad: Any) -> tuple[ItemRule, ...]:
        entries: list[ItemDocument] = []
        if isinstance(doc.items, dict):
            for link, value in doc.items.items():
                if isinstance(value, ItemDocument):
                    if value.link_id not in (None, link):
                        raise bad(f"items.{link}: linkId {value.link_id!r} disagrees with its key")
                    entries.append(value.model_copy(update={"link_id": link}))
                else:
                    entries.append(ItemDocument(link_id=link, item=value))
        else:
            entries = list(doc.items)
        rules: list[ItemRule] = []
        for n, entry in enumerate(entries):
            where = f"items[{entry.link_id or n}]"
            if entry.link_id is None and entry.code is None:
                raise bad(f"{where}: give linkId or code")
            answer = default if entry.answer is None else AnswerSpec.from_document(entry.answer)
            if answer is None:
                raise bad(f"{where}: no 'answer' here and none for the whole mapping")
            if entry.reverse and not (answer.boolean or answer.codes):
                raise bad(f"{where}: 'reverse' is for yes/no items")
            code = None if entry.code is None else _code(entry.code)
            rules.append(ItemRule(entry.item, answer, entry.link_id, code, entry.reverse))
        keys = [r.key for r in rules]
        if len(set(keys)) != len(keys):
            raise bad("two items map to the same instrument item")
        return tuple(rules)

    @property
    def items(self) -> dict[str, ItemKey]:
        """linkId -> instrument item, for the items matched by linkId."""
        return {r.link_id: r.key for r in self.rules if r.link_id is not None}

    @property
    def codes(self) -> Mapping[str, int | bool]:
        """The mapping-wide answer codes (empty when answers are not codings)."""
        return {} if self.answer is None or self.answer.codes is None else self.answer.codes

    @property
    def canonical(self) -> str:
        """``url|version`` as a response cites it; ``url`` alone, or the panel code, if that is
        all the mapping has."""
        if self.url is not None:
            return self.url if self.version is None else f"{self.url}|{self.version}"
        system, code = self.panel_codes[0]
        return f"{system or ''}#{code}"

    def rule_for(self, item: Mapping[str, Any]) -> ItemRule | None:
        """The rule for a response item, by its linkId first, then by its codes."""
        link = item.get("linkId")
        rule = self._by_link.get(link) if isinstance(link, str) else None
        if rule is not None:
            return rule
        for given in item_codes(item):
            for candidate in self.rules:
                if candidate.code is not None and _codes_match(candidate.code, given):
                    return candidate
        return None

    def ignores(self, item: Mapping[str, Any]) -> bool:
        """True for an item the mapping lists under ``ignore``."""
        link = item.get("linkId")
        for ignored_link, ignored_code in self.ignore:
            if ignored_link is not None and ignored_link == link:
                return True
            if ignored_code is not None and any(
                _codes_match(ignored_code, given) for given in item_codes(item)
            ):
                return True
        return False

    def has_panel_code(self, codes: Iterable[Code]) -> bool:
        """True when one of ``codes`` is one of the mapping's panel codes."""
        return any(_codes_match(p, c) for p in self.panel_codes for c in codes)


@functools.cache
def _shipped() -> tuple[QuestionnaireMapping, ...]:
    """The mappings packaged under ``riskrules/data/fhir_mappings`` (read once)."""
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

    A later mapping with the same canonical (``url|version``, ``url``, or the panel code of a
    mapping without a URL) replaces an earlier one, so a site's file can override a shipped
    mapping.
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
