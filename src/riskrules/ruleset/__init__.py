"""Rulesets: the validated model, the condition language and the YAML loader.

The first layer of riskrules (ruleset -> engines -> scoring -> report and graph). A ruleset is
loaded from YAML by :func:`load_ruleset` (files, includes, directories, text or a built-in name),
validated into an immutable :class:`Ruleset`, and written back canonically by
:func:`dump_ruleset`. Implementation modules:

* ``_safeyaml``: a LibYAML event parser that keeps every node's line and column, refuses
  duplicate keys and tags outside the core schema, and caps aliases, nodes and depth;
* ``_conditions``: the condition tree (``all``, ``any``, ``not``, ``at_least``, comparisons) and
  its three-valued (Kleene) evaluation;
* the models: ``_model`` (the frozen base and shared field types), ``_inputs`` (inputs,
  parameters, references), ``_rules`` (hazards, rules, protocols), ``_checks`` (scenarios and
  properties), ``_spec`` (one file as written and the merged ``Ruleset``) and ``_invariants``
  (its cross-reference checks);
* the loader: ``_loader`` (:func:`load_ruleset`), ``_sources`` (files, built-ins, include
  paths), ``_includes`` (reading each file once, following includes), ``_merge`` (merging the
  files into one ruleset), ``_locations`` (located errors and source maps), ``_messages``
  (pydantic errors in plain words) and ``_dump`` (canonical YAML and the JSON Schema).
"""

from riskrules.ruleset._checks import (
    PROPERTY_KINDS,
    Bounded,
    Expect,
    Monotone,
    NeverIndeterminate,
    Property,
    Scenario,
)
from riskrules.ruleset._conditions import (
    Condition,
    Truth,
    evaluate,
    fields_read,
    findings_read,
    params_used,
    walk,
)
from riskrules.ruleset._dump import SCHEMA_COMMENT, dump_ruleset, ruleset_json_schema
from riskrules.ruleset._inputs import Input, Parameter, Reference
from riskrules.ruleset._loader import MAX_FILE_BYTES, load_ruleset
from riskrules.ruleset._locations import SourceLocation, source_files, source_location
from riskrules.ruleset._rules import DEFAULT_LEVELS, URGENCIES, Hazard, Protocol, Rule, Then
from riskrules.ruleset._spec import Ruleset

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
