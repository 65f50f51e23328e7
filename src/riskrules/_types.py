"""The type aliases and the frozen model base that several parts of riskrules share.

Plain aliases (``Number``, ``Value``) type Python code; the ``Strict`` ones are pydantic field
types that refuse booleans as numbers and numeric strings. :class:`FrozenModel` is the base of
every pydantic model the package defines: immutable, unknown keys refused, fields filled by
name or alias.
"""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING, TypeAlias

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt

if TYPE_CHECKING:
    from riskrules.ruleset import Ruleset

__all__ = [
    "FrozenModel",
    "Loc",
    "Number",
    "RulesetSource",
    "StrictNumber",
    "StrictValue",
    "Value",
]

Loc: TypeAlias = tuple[str | int, ...]
"""A path inside a ruleset or a YAML document, e.g. ``("rules", 3, "when")``."""
Number: TypeAlias = int | float
"""A number in Python code (a validated assessment value or a parameter)."""
Value: TypeAlias = bool | int | float | str
"""A validated assessment value."""
StrictNumber: TypeAlias = StrictInt | StrictFloat
"""A number field: booleans and numeric strings are refused."""
StrictValue: TypeAlias = StrictBool | StrictInt | StrictFloat | str
"""A value field: booleans are never numbers."""
RulesetSource: TypeAlias = "Ruleset | str | PathLike[str]"
"""What functions that take a ruleset accept: a Ruleset, a built-in name, a path or YAML text."""


class FrozenModel(BaseModel):
    """Base of every riskrules model: frozen, unknown keys forbidden, fields filled by alias."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
