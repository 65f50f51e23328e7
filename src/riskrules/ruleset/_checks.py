"""What a ruleset is checked against: worked scenarios and properties that must always hold.

A :class:`Scenario` pairs an assessment with what the ruleset must make of it (an
:class:`Expect`); ``riskrules test`` runs them. A :class:`Property` (:class:`Monotone`,
:class:`Bounded` or :class:`NeverIndeterminate`) is a claim about every assessment;
``riskrules check`` searches for counterexamples. Neither changes what a ruleset scores.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, GetJsonSchemaHandler, StrictBool, StrictStr, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from riskrules._types import FrozenModel, StrictNumber
from riskrules.ruleset._conditions import Condition
from riskrules.ruleset._model import DottedName, Id, Text, did_you_mean

__all__ = [
    "PROPERTY_KINDS",
    "Bounded",
    "Expect",
    "Monotone",
    "NeverIndeterminate",
    "Property",
    "Scenario",
]


class Expect(FrozenModel):
    """What a scenario expects; every part is optional and only what is given is checked."""

    levels: dict[Id, StrictStr] = Field(default_factory=dict)
    at_most: dict[Id, StrictStr] = Field(default_factory=dict)
    """Hazard -> the highest level it may have (any level up to it passes)."""
    at_least: dict[Id, StrictStr] = Field(default_factory=dict)
    """Hazard -> the lowest level it may have (any level from it up passes)."""
    overall: StrictStr | None = None
    complete: dict[Id, StrictBool] = Field(default_factory=dict)
    fired: tuple[DottedName, ...] = ()
    not_fired: tuple[DottedName, ...] = ()
    indeterminate: tuple[DottedName, ...] = ()
    findings: tuple[DottedName, ...] = ()
    not_findings: tuple[DottedName, ...] = ()
    recommendations: tuple[Id, ...] = ()
    not_recommendations: tuple[Id, ...] = ()


class Scenario(FrozenModel):
    """A worked example: an assessment and what the ruleset must make of it."""

    name: Text
    description: StrictStr | None = None
    input: dict[str, Any]
    params: dict[Id, StrictNumber] = Field(default_factory=dict)
    expect: Expect


PROPERTY_KINDS: tuple[str, ...] = ("monotone", "bounded", "never_indeterminate_when_complete")
"""The kinds of property a ruleset may declare; each property is a mapping with one of them."""


class Monotone(FrozenModel):
    """Raising ``input`` (all else equal) never lowers ``hazard``'s level (``decreasing``: never
    raises it). Without ``hazard`` the property holds for every hazard. Booleans order false
    before true, enums in their declared order; both values are present (missing data is not a
    value)."""

    input: DottedName
    hazard: Id | None = None
    direction: Literal["increasing", "decreasing"] = "increasing"


class Bounded(FrozenModel):
    """``hazard``'s level never exceeds ``max`` unless the ``unless`` condition is true."""

    hazard: Id
    max: StrictStr
    unless: Condition | None = None


class NeverIndeterminate(FrozenModel):
    """When every input a hazard's rules read (directly or through the findings they read) is
    present, none of its rules is indeterminate. Without ``hazard``, for every hazard."""

    hazard: Id | None = None


class Property(FrozenModel):
    """A property the ruleset must have for every assessment; ``riskrules check`` searches for
    counterexamples. Exactly one of ``monotone``, ``bounded`` or
    ``never_indeterminate_when_complete``; the last may be written as a bare string."""

    monotone: Monotone | None = None
    bounded: Bounded | None = None
    never_indeterminate_when_complete: NeverIndeterminate | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        bare = "never_indeterminate_when_complete"
        if isinstance(data, str):
            if data == bare:
                return {bare: {}}
            raise ValueError(
                f"a property is a mapping with one of {', '.join(PROPERTY_KINDS)}, or the bare "
                f"name {bare}; got {data!r}{did_you_mean(data, PROPERTY_KINDS)}"
            )
        if isinstance(data, dict) and bare in data and data[bare] is None:
            return {**data, bare: {}}
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> Property:
        used = [kind for kind in PROPERTY_KINDS if getattr(self, kind) is not None]
        if len(used) != 1:
            got = ", ".join(used) if used else "none"
            raise ValueError(
                f"a property needs exactly one of {', '.join(PROPERTY_KINDS)}; got {got}"
            )
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        schema["minProperties"] = 1
        schema["maxProperties"] = 1
        return {"anyOf": [schema, {"const": "never_indeterminate_when_complete", "type": "string"}]}

    @property
    def kind(self) -> str:
        """Which kind of property this is (one of :data:`PROPERTY_KINDS`)."""
        return next(kind for kind in PROPERTY_KINDS if getattr(self, kind) is not None)

    @property
    def spec(self) -> Monotone | Bounded | NeverIndeterminate:
        """The property's arguments."""
        value: Monotone | Bounded | NeverIndeterminate = getattr(self, self.kind)
        return value
