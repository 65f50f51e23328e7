"""The ruleset as a whole: one YAML file as written, and the merged, validated ``Ruleset``.

``RulesetDocument`` is one YAML file as written (a manifest or a fragment); ``Ruleset`` is the
merged, validated, immutable whole that engines compile. Cross-reference invariants (every rule
names a declared hazard, every field test fits its input's type, ...) are checked when a
``Ruleset`` is built (:mod:`riskrules.ruleset._invariants`) and raise :class:`InvariantError`
carrying the location of the defect.

The section models live in their own modules (``_inputs``, ``_rules``, ``_checks``); this module
re-exports them, so that ``riskrules.ruleset._spec`` names every part of a ruleset.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Annotated, Any

from pydantic import ConfigDict, Field, PrivateAttr, StrictStr, model_validator

from riskrules._types import FrozenModel
from riskrules.errors import InvariantError
from riskrules.ruleset._checks import (
    PROPERTY_KINDS,
    Bounded,
    Expect,
    Monotone,
    NeverIndeterminate,
    Property,
    Scenario,
)
from riskrules.ruleset._inputs import Input, Parameter, Reference
from riskrules.ruleset._invariants import problems
from riskrules.ruleset._model import DottedName, Id, Text, did_you_mean
from riskrules.ruleset._overrides import Override
from riskrules.ruleset._rules import DEFAULT_LEVELS, URGENCIES, Hazard, Protocol, Rule, Then

__all__ = [
    "DEFAULT_LEVELS",
    "PROPERTY_KINDS",
    "URGENCIES",
    "Bounded",
    "Expect",
    "Hazard",
    "Input",
    "InvariantError",
    "Monotone",
    "NeverIndeterminate",
    "Override",
    "Parameter",
    "Property",
    "Protocol",
    "Reference",
    "Rule",
    "Ruleset",
    "RulesetDocument",
    "Scenario",
    "Then",
    "did_you_mean",
]


class _Sections(FrozenModel):
    description: StrictStr | None = None
    levels: Annotated[tuple[Id, ...], Field(min_length=2)] | None = None
    references: dict[Id, Reference] = Field(default_factory=dict)
    parameters: dict[Id, Parameter] = Field(default_factory=dict)
    inputs: dict[DottedName, Input] = Field(default_factory=dict)
    hazards: dict[Id, Hazard] = Field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    protocols: dict[Id, Protocol] = Field(default_factory=dict)
    tests: tuple[Scenario, ...] = ()
    properties: tuple[Property, ...] = ()


class RulesetDocument(_Sections):
    """One YAML file as written: a whole ruleset, a fragment, or a manifest with ``include``.

    The JSON Schema in ``schemas/ruleset.schema.json`` is generated from this model.
    """

    model_config = ConfigDict(
        title="riskrules ruleset",
        json_schema_extra={"description": "A riskrules ruleset file (YAML)."},
    )

    schema_: StrictStr | None = Field(default=None, alias="$schema")
    ruleset: Id | None = None
    version: StrictStr | None = None
    title: StrictStr | None = None
    include: tuple[Text, ...] = ()
    extends: Text | None = None
    """A ruleset this file builds on: a built-in name such as ``default`` or a path. Its
    entries may be redefined here (a parameter, input, hazard, protocol or reference by key, a
    rule by id), and its rules disabled with ``disable``."""
    disable: tuple[DottedName, ...] = ()
    """Ids of rules of the extended or included rulesets to leave out."""


class Ruleset(_Sections):
    """A merged, validated, immutable ruleset, ready to compile.

    Build it with :func:`riskrules.load_ruleset`; ``fingerprint`` identifies its semantics.
    """

    ruleset: Id
    version: Text
    title: Text
    levels: Annotated[tuple[Id, ...], Field(min_length=2)] | None = DEFAULT_LEVELS
    _overrides: tuple[Override, ...] = PrivateAttr(default=())
    _base_files: frozenset[str] = PrivateAttr(default=frozenset())

    @property
    def overrides(self) -> tuple[Override, ...]:
        """What a variant changed in the rulesets it builds on: entries it redefined and
        rules it disabled, in file order (empty for a ruleset that is not a variant)."""
        return self._overrides

    @property
    def base_files(self) -> frozenset[str]:
        """The files (as messages name them) of the rulesets a variant builds on."""
        return self._base_files

    @model_validator(mode="after")
    def _invariants(self) -> Ruleset:
        for loc, message in problems(self):
            raise InvariantError(loc, message)
        return self

    @property
    def scale(self) -> tuple[str, ...]:
        """The ordered level scale, lowest first."""
        return self.levels or DEFAULT_LEVELS

    def canonical(self) -> dict[str, Any]:
        """The canonical JSON form: what the fingerprint hashes (scenarios, properties and the
        inputs' ``actionable`` marks excluded: they do not change what it scores)."""
        data = self.model_dump(
            mode="json", by_alias=True, exclude={"tests", "properties"}, exclude_none=True
        )
        for spec in data.get("inputs", {}).values():
            spec.pop("actionable", None)
        normalised: dict[str, Any] = _normalise(data)
        return normalised

    @cached_property
    def fingerprint(self) -> str:
        """sha256 of the canonical form: layout, comments and key order do not change it."""
        text = json.dumps(
            self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (KeyError if none)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def _normalise(value: Any) -> Any:
    """Integral floats become ints so that ``10`` and ``10.0`` hash alike."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value
