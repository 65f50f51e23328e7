"""The shape of a questionnaire mapping file, as a pydantic model and its JSON Schema.

:class:`MappingDocument` validates every mapping file (shipped or a site's own) and is the
source of ``schemas/fhir-mapping.schema.json`` (``riskrules schema fhir-mapping``). The meaning
of each key is in ``docs/fhir.md``.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

__all__ = [
    "AnswerSpecDocument",
    "CodingAnswersDocument",
    "CodingDocument",
    "ItemDocument",
    "MappingDocument",
    "fhir_mapping_json_schema",
]

Instrument = Literal[
    "audit", "audit_c", "cage_aid", "cbi", "cssrs_screener", "dast10", "proqol5", "stss"
]
ItemKeyDocument = StrictInt | StrictStr
CssrsQuestion = Literal["q1", "q2", "q3", "q4", "q5", "q6_lifetime", "q6_past_3_months"]
AnswerValue = StrictBool | StrictInt


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CodingDocument(_Strict):
    """A code, with its system when the mapping requires one (LOINC: ``http://loinc.org``)."""

    system: StrictStr | None = Field(default=None, min_length=1)
    code: StrictStr = Field(min_length=1)


class CodingAnswersDocument(_Strict):
    """``valueCoding`` answers: code -> item value, optionally bound to one code system."""

    system: StrictStr | None = Field(default=None, min_length=1)
    allow_missing_system: StrictBool = Field(
        default=False,
        description="accept an answer coding that has no system when its code is in 'codes'",
    )
    codes: dict[StrictStr, AnswerValue] = Field(min_length=1)


class AnswerSpecDocument(_Strict):
    """The answer types an item accepts and how each becomes the instrument's item value."""

    value_integer: StrictBool = Field(default=False, alias="valueInteger")
    value_decimal: StrictBool = Field(
        default=False,
        alias="valueDecimal",
        description="accept valueDecimal answers whose value is a whole number",
    )
    value_boolean: StrictBool = Field(default=False, alias="valueBoolean")
    value_coding: CodingAnswersDocument | None = Field(default=None, alias="valueCoding")

    @model_validator(mode="after")
    def _some_type(self) -> AnswerSpecDocument:
        if not (self.value_integer or self.value_decimal or self.value_boolean) and (
            self.value_coding is None
        ):
            raise ValueError(
                "name at least one of valueInteger, valueDecimal, valueBoolean, valueCoding"
            )
        return self


class ItemDocument(_Strict):
    """One questionnaire item, matched by ``linkId`` and/or ``code``, and the item it answers."""

    link_id: StrictStr | None = Field(default=None, alias="linkId", min_length=1)
    code: CodingDocument | None = None
    item: ItemKeyDocument = Field(
        description="the instrument's item number, or the C-SSRS question name (q1 ... q6_...)"
    )
    answer: AnswerSpecDocument | None = Field(
        default=None, description="this item's own answer table, replacing the mapping's"
    )
    reverse: StrictBool = Field(
        default=False,
        description="yes/no items only: the form asks the opposite question, so invert",
    )


class MatchDocument(_Strict):
    """An item to ignore, by ``linkId`` or by ``code``."""

    link_id: StrictStr | None = Field(default=None, alias="linkId", min_length=1)
    code: CodingDocument | None = None

    @model_validator(mode="after")
    def _one(self) -> MatchDocument:
        if (self.link_id is None) == (self.code is None):
            raise ValueError("give exactly one of linkId and code")
        return self


class MappingDocument(_Strict):
    """A riskrules questionnaire mapping: one questionnaire's items to one instrument's items.

    The JSON Schema in ``schemas/fhir-mapping.schema.json`` is generated from this model.
    """

    model_config = ConfigDict(
        title="riskrules FHIR questionnaire mapping",
        json_schema_extra={"description": "Maps a FHIR Questionnaire to a riskrules instrument."},
    )

    schema_: StrictStr | None = Field(default=None, alias="$schema")
    instrument: Instrument
    title: StrictStr | None = None
    source: StrictStr | None = Field(
        default=None, description="where the form's codes come from (a citation, not wording)"
    )
    url: StrictStr | None = Field(
        default=None,
        min_length=1,
        pattern=r"^[^|\s]+$",
        description="the Questionnaire's canonical URL, without '|version'",
    )
    version: StrictStr | None = Field(default=None, min_length=1)
    code: list[CodingDocument] = Field(
        default_factory=list,
        description="the form's panel codes: match responses that name no questionnaire",
    )
    answer: AnswerSpecDocument | None = None
    items: dict[StrictStr, ItemKeyDocument | ItemDocument] | list[ItemDocument] = Field(
        description="linkId -> item (or item object), or a list of item objects"
    )
    ignore: list[MatchDocument] = Field(
        default_factory=list, description="items whose answers are not read (totals, displays)"
    )
    ignore_unmapped: StrictBool = Field(
        default=False, description="skip answered items the mapping does not list (opt-in)"
    )
    not_asked: list[CssrsQuestion] = Field(
        default_factory=list,
        description="C-SSRS screener only: questions this short form never asks",
    )

    @model_validator(mode="after")
    def _findable(self) -> MappingDocument:
        if self.url is None and not self.code:
            raise ValueError("give 'url' or 'code', so that responses can find the mapping")
        if self.version is not None and self.url is None:
            raise ValueError("'version' needs 'url'")
        if not self.items:
            raise ValueError("'items' must not be empty")
        if self.not_asked and self.instrument != "cssrs_screener":
            raise ValueError("'not_asked' is for the C-SSRS screener only")
        return self


def fhir_mapping_json_schema() -> str:
    """The JSON Schema of a mapping file, as committed in ``schemas/fhir-mapping.schema.json``."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **MappingDocument.model_json_schema(by_alias=True),
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
