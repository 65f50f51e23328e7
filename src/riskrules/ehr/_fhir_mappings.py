"""Questionnaire mappings: which questionnaire, items and answers feed which instrument.

A mapping document (JSON, format in ``docs/fhir.md``) ties one questionnaire to one instrument
of :mod:`riskrules.instruments`: its items to the instrument's item numbers (or question names)
and its answers to item values. The shipped mappings live in ``riskrules/data/fhir_mappings``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any, TypeAlias

from riskrules.ehr._instruments import INSTRUMENTS
from riskrules.errors import RiskRulesError

__all__ = ["ItemKey", "QuestionnaireMapping", "load_mappings"]

ItemKey: TypeAlias = int | str
_ANSWER_TYPES = ("valueInteger", "valueBoolean", "valueCoding")


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
