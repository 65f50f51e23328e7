"""What a ruleset reads: assessment inputs, tunable parameters and the references they cite.

An :class:`Input` declares one field of the assessment (its type, bounds and allowed values); a
:class:`Parameter` is a named threshold that conditions refer to as ``{param: name}``; a
:class:`Reference` is a published source that inputs, parameters, rules and protocols cite.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from riskrules._types import FrozenModel, StrictNumber
from riskrules.ruleset._model import Id, Text, check_finite

__all__ = ["Input", "Parameter", "Reference"]


class Reference(FrozenModel):
    """A published source a rule, input or protocol cites."""

    citation: Text
    url: StrictStr | None = None
    note: StrictStr | None = None


class Parameter(FrozenModel):
    """A named threshold that services and researchers vary without editing rules."""

    type: Literal["integer", "number"] = "number"
    default: StrictNumber
    min: StrictNumber | None = None
    max: StrictNumber | None = None
    unit: StrictStr | None = None
    description: Text
    source: Id | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        for name in ("default", "min", "max"):
            value = getattr(self, name)
            check_finite(value, name)
            if self.type == "integer" and value is not None and not isinstance(value, int):
                raise ValueError(f"{name} of an integer parameter must be an integer, not {value}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        self.check_value(self.default, "default")
        return self

    def check_value(self, value: Any, what: str = "value") -> None:
        """Raise ValueError unless ``value`` fits this parameter's type and bounds."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{what} must be a number, not {value!r}")
        if self.type == "integer" and not isinstance(value, int):
            raise ValueError(f"{what} must be an integer, not {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{what} must be finite, not {value!r}")
        if self.min is not None and value < self.min:
            raise ValueError(f"{what} {value!r} is below the minimum {self.min}")
        if self.max is not None and value > self.max:
            raise ValueError(f"{what} {value!r} is above the maximum {self.max}")


class Input(FrozenModel):
    """A field of the assessment that rules read: its type, bounds and provenance."""

    type: Literal["integer", "number", "boolean", "enum"]
    values: (
        Annotated[tuple[StrictStr, ...], Field(min_length=1)]
        | Annotated[tuple[StrictInt, ...], Field(min_length=1)]
        | None
    ) = None
    """An enum's declared values, or the only values an integer input may take (e.g. AUDIT
    items 9 and 10 score 0, 2 or 4)."""
    min: StrictNumber | None = None
    max: StrictNumber | None = None
    unit: StrictStr | None = None
    description: StrictStr | None = None
    source: Id | None = None
    actionable: StrictBool = True
    """False for what a clinician cannot change (a client's history, a screening score): risk
    management planning (:mod:`riskrules.planning`) never proposes changing such an input."""

    @model_validator(mode="after")
    def _consistent(self) -> Input:
        if self.type == "enum":
            if not self.values:
                raise ValueError("an enum input must list its values")
            if not all(isinstance(v, str) for v in self.values):
                raise ValueError("enum values must be strings")
        elif self.type == "integer":
            if self.values is not None and not all(
                isinstance(v, int) and not isinstance(v, bool) for v in self.values
            ):
                raise ValueError("the values of an integer input must be integers")
        elif self.values is not None:
            raise ValueError(f"only enum and integer inputs take values, not a {self.type} input")
        if self.values is not None and len(set(self.values)) != len(self.values):
            raise ValueError("values must be unique")
        numeric = self.type in ("integer", "number")
        for name in ("min", "max"):
            value = getattr(self, name)
            if value is None:
                continue
            if not numeric:
                raise ValueError(f"{name} applies to numeric inputs, not a {self.type} input")
            check_finite(value, name)
            if self.type == "integer" and not isinstance(value, int):
                raise ValueError(f"{name} of an integer input must be an integer, not {value}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if self.type == "integer" and self.values is not None:
            for v in self.values:
                assert isinstance(v, int)
                if (self.min is not None and v < self.min) or (
                    self.max is not None and v > self.max
                ):
                    raise ValueError(f"value {v} lies outside min/max")
        return self

    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "number")

    @property
    def labels(self) -> tuple[str, ...]:
        """The declared values as strings (for messages and did-you-mean)."""
        return tuple(str(v) for v in self.values or ())
