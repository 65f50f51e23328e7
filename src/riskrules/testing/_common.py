"""Helpers the scenario runs, strategies and property checks share.

The engines scenarios run on, a ruleset given as a Ruleset or as anything the loader accepts,
locations as text for messages, the hypothesis install hint, and :func:`nest`, which turns
dotted field names into the nested assessment objects scoring and scenarios use.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

from riskrules._types import Loc, RulesetSource
from riskrules.errors import RiskRulesError
from riskrules.ruleset import _safeyaml as safeyaml
from riskrules.ruleset._loader import load_ruleset, source_location
from riskrules.ruleset._spec import Ruleset

__all__ = [
    "ENGINE_NAMES",
    "as_ruleset",
    "available_engines",
    "location_text",
    "nest",
    "require_hypothesis",
]

ENGINE_NAMES: tuple[str, ...] = ("native", "durable")
"""The engines scenarios run on, where available."""


def available_engines() -> tuple[str, ...]:
    """The engines that run here: native always, durable where durable-rules is installed
    (it builds on CPython 3.11 and 3.12 only)."""
    if importlib.util.find_spec("durable_rules_engine") is None:
        return ("native",)
    return ENGINE_NAMES


def require_hypothesis(what: str) -> None:
    """RiskRulesError with the install hint when hypothesis is missing."""
    if importlib.util.find_spec("hypothesis") is None:
        raise RiskRulesError(
            f"{what} needs hypothesis; install it with: pip install 'riskrules[testing]'"
        )


def as_ruleset(source: RulesetSource) -> Ruleset:
    """``source`` itself when it is a Ruleset, else the ruleset loaded from it."""
    return source if isinstance(source, Ruleset) else load_ruleset(source)


def location_text(ruleset: Ruleset, loc: Loc) -> str:
    """``file:line:column`` of ``loc`` in a loaded ruleset, else the path inside the ruleset."""
    found = source_location(ruleset, loc)
    if found is None:
        return safeyaml.format_path(loc)
    return f"{found.file}:{found.line}:{found.column}"


def nest(facts: Mapping[str, Any]) -> dict[str, Any]:
    """An assessment as nested objects from dotted field names (``{"a.b": 1}`` -> ``{"a":
    {"b": 1}}``); a name that clashes with a group stays a dotted key, which scoring accepts."""
    nested: dict[str, Any] = {}
    for name, value in facts.items():
        parts = name.split(".")
        node = nested
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                nested[name] = value
                break
            node = child
        else:
            if parts[-1] in node:
                nested[name] = value
            else:
                node[parts[-1]] = value
    return nested
