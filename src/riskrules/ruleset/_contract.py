"""The JSON Schema of a ruleset's input contract: the assessments it accepts.

Each declared input is a property at its dotted path, nested as objects (``clinician.proqol.
burnout`` under ``clinician`` and ``proqol``), typed and bounded as declared; ``null`` stands for
a missing value, and no property is required (missing data makes a hazard incomplete, never an
error). Undeclared fields are refused, as the scorer refuses them.
"""

from __future__ import annotations

import json
from typing import Any

from riskrules.ruleset._spec import Input, Ruleset

__all__ = ["assessment_json_schema"]


def _input_schema(name: str, spec: Input) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.type == "enum":
        out["enum"] = [*(spec.values or ()), None]
    elif spec.type == "boolean":
        out["type"] = ["boolean", "null"]
    else:
        out["type"] = [spec.type, "null"]
        if spec.values is not None:
            out["enum"] = [*spec.values, None]
        if spec.min is not None:
            out["minimum"] = spec.min
        if spec.max is not None:
            out["maximum"] = spec.max
    words = [spec.description, f"unit: {spec.unit}" if spec.unit else None]
    described = "; ".join(w for w in words if w)
    out["description"] = described or name
    return out


def assessment_json_schema(ruleset: Ruleset) -> str:
    """The JSON Schema (draft 2020-12) of the assessments ``ruleset`` scores, as JSON text."""
    root: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
    for name in sorted(ruleset.inputs):
        node = root
        *parents, leaf = name.split(".")
        for part in parents:
            child = node["properties"].setdefault(
                part, {"type": "object", "properties": {}, "additionalProperties": False}
            )
            node = child
        node["properties"][leaf] = _input_schema(name, ruleset.inputs[name])
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Assessment for {ruleset.ruleset} {ruleset.version}",
        "description": (
            f"The inputs ruleset {ruleset.ruleset!r} reads ({ruleset.title}). Every field is "
            "optional; null or an absent field is missing data."
        ),
        **root,
    }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
