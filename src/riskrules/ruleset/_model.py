"""Common ground of the ruleset models: the frozen base model and the field types they share.

Every section model of a ruleset derives from :class:`SpecModel` (unknown keys are errors,
instances are immutable, aliases such as ``assert`` and ``$schema`` fill their fields). The type
aliases name the constraints the YAML keys carry; :func:`did_you_mean` is the hint that messages
about an unknown name end with.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Annotated, Final, TypeAlias

from pydantic import Field

from riskrules.ruleset._conditions import MAX_NAME_LENGTH, NAME_PATTERN

__all__ = [
    "HEADER_KEYS",
    "LIST_SECTIONS",
    "MAPPING_SECTIONS",
    "SECTION_ORDER",
    "DottedName",
    "Id",
    "Text",
    "check_finite",
    "did_you_mean",
]

Id: TypeAlias = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_NAME_LENGTH)]
"""A plain id: lower-case letters, digits and ``_``, starting with a letter."""
DottedName: TypeAlias = Annotated[str, Field(pattern=NAME_PATTERN, max_length=MAX_NAME_LENGTH)]
"""A rule id, input name or finding: ids joined by dots."""
Text: TypeAlias = Annotated[str, Field(min_length=1)]
"""Text that must not be empty."""

HEADER_KEYS: Final = ("ruleset", "version", "title", "description")
"""The keys that name and describe a ruleset, in canonical order."""
MAPPING_SECTIONS: Final = {
    "references": "reference",
    "parameters": "parameter",
    "inputs": "input",
    "hazards": "hazard",
    "protocols": "protocol",
}
"""Sections that map ids to entries, with the singular that messages use for an entry."""
LIST_SECTIONS: Final = ("rules", "tests", "properties")
"""Sections that are lists (rules keep their ids inside each entry)."""
SECTION_ORDER: Final = (
    *HEADER_KEYS,
    "levels",
    "references",
    "parameters",
    "inputs",
    "hazards",
    "rules",
    "protocols",
    "tests",
    "properties",
)
"""The canonical order of a ruleset's top-level keys: the order files are dumped in, and the
order every tool that walks a ruleset section by section follows."""


def check_finite(value: float | None, what: str) -> None:
    """Raise ValueError when ``value`` is an infinite or NaN float."""
    if value is not None and isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value}")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""
