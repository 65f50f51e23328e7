"""Rulesets: the validated model, the condition language and the YAML loader.

The first layer of riskrules (ruleset -> engines -> scoring -> report and graph). A ruleset is
loaded from YAML by :func:`load_ruleset` (files, includes, directories, text or a built-in name),
validated into an immutable :class:`Ruleset`, and written back canonically by
:func:`dump_ruleset`. Implementation modules:

* ``_safeyaml``: a LibYAML event parser that keeps every node's line and column and refuses
  duplicate keys, aliases and oversized documents;
* ``_conditions``: the condition tree (``all``, ``any``, ``not``, ``at_least``, comparisons) and
  its three-valued (Kleene) evaluation;
* ``_spec``: the pydantic models of a ruleset and their cross-reference invariants;
* ``_loader``: sources, includes, located errors and the JSON Schema of ruleset files.
"""

from riskrules.ruleset._conditions import (
    Condition,
    Truth,
    evaluate,
    fields_read,
    findings_read,
    params_used,
    walk,
)
from riskrules.ruleset._loader import (
    MAX_FILE_BYTES,
    SCHEMA_COMMENT,
    SourceLocation,
    dump_ruleset,
    load_ruleset,
    ruleset_json_schema,
    source_files,
    source_location,
)
from riskrules.ruleset._spec import (
    DEFAULT_LEVELS,
    PROPERTY_KINDS,
    URGENCIES,
    Bounded,
    Expect,
    Hazard,
    Input,
    Monotone,
    NeverIndeterminate,
    Parameter,
    Property,
    Protocol,
    Reference,
    Rule,
    Ruleset,
    Scenario,
    Then,
)

__all__ = [
    "DEFAULT_LEVELS",
    "MAX_FILE_BYTES",
    "PROPERTY_KINDS",
    "SCHEMA_COMMENT",
    "URGENCIES",
    "Bounded",
    "Condition",
    "Expect",
    "Hazard",
    "Input",
    "Monotone",
    "NeverIndeterminate",
    "Parameter",
    "Property",
    "Protocol",
    "Reference",
    "Rule",
    "Ruleset",
    "Scenario",
    "SourceLocation",
    "Then",
    "Truth",
    "dump_ruleset",
    "evaluate",
    "fields_read",
    "findings_read",
    "load_ruleset",
    "params_used",
    "ruleset_json_schema",
    "source_files",
    "source_location",
    "walk",
]
