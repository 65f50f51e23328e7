"""Writing a ruleset back: canonical YAML that loads to an equal ruleset, and the JSON Schema.

:func:`dump_ruleset` writes the sections in the canonical order, leaves out keys equal to their
defaults and starts with the ``# yaml-language-server: $schema=...`` comment that lets editors
validate the file; :func:`ruleset_json_schema` is the schema that comment points to, generated
from :class:`~riskrules.ruleset._spec.RulesetDocument`.
"""

from __future__ import annotations

import json
from typing import Final

from riskrules.ruleset import _safeyaml as safeyaml
from riskrules.ruleset._model import SECTION_ORDER
from riskrules.ruleset._spec import Ruleset, RulesetDocument

__all__ = ["SCHEMA_COMMENT", "dump_ruleset", "ruleset_json_schema"]

SCHEMA_COMMENT: Final = "# yaml-language-server: $schema="
"""The first line of every ruleset file: editors validate against the JSON Schema it names."""
_DEFAULT_SCHEMA_REF: Final = "../schemas/ruleset.schema.json"


def dump_ruleset(ruleset: Ruleset, *, schema: str = _DEFAULT_SCHEMA_REF) -> str:
    """YAML text for ``ruleset`` that :func:`load_ruleset` reads back to an equal ruleset.

    The first line is the ``# yaml-language-server: $schema=...`` comment naming ``schema``.
    Keys equal to their defaults are left out.
    """
    data = ruleset.model_dump(mode="python", by_alias=True, exclude_defaults=True)
    ordered = {key: data[key] for key in SECTION_ORDER if key in data}
    return safeyaml.dump(ordered, header=f"{SCHEMA_COMMENT}{schema}\n")


def ruleset_json_schema() -> str:
    """The JSON Schema of a ruleset file, as committed in ``schemas/ruleset.schema.json``."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **RulesetDocument.model_json_schema(by_alias=True),
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
