"""Properties and conditions in words, for messages and generated scenarios.

:func:`describe_property` says what a declared property claims; :func:`flow` writes a
condition or value as compact YAML flow text, the way an author would.
"""

from __future__ import annotations

from typing import Any

from riskrules.ruleset._conditions import Condition
from riskrules.ruleset._spec import Bounded, Monotone, Property

__all__ = ["condition_text", "describe_property", "flow", "property_claim"]


def flow(value: Any) -> str:
    """Compact YAML flow text for a condition or value, as an author would write it."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def condition_text(condition: Condition) -> str:
    """A condition as YAML flow text: ``{field: x, gte: 3}``."""
    return flow(condition.model_dump(by_alias=True, exclude_none=True))


def property_claim(prop: Property) -> str:
    """What a property claims, in words (without its kind)."""
    spec = prop.spec
    if isinstance(spec, Monotone):
        verb = "lowers" if spec.direction == "increasing" else "raises"
        target = f"the level of {spec.hazard}" if spec.hazard else "the level of any hazard"
        return f"raising {spec.input} never {verb} {target}"
    if isinstance(spec, Bounded):
        text = f"{spec.hazard} never exceeds {spec.max}"
        if spec.unless is not None:
            text += f" unless {condition_text(spec.unless)}"
        return text
    target = f"of {spec.hazard}" if spec.hazard else "of any hazard"
    return f"no rule {target} is indeterminate when every input its rules read is present"


def describe_property(prop: Property) -> str:
    """One line saying what a property claims, e.g. ``monotone: raising x never lowers ...``."""
    return f"{prop.kind}: {property_claim(prop)}"
