"""Pydantic models of a ruleset: the YAML's shape and the invariants that make it usable.

``RulesetDocument`` is one YAML file as written (a manifest or a fragment); ``Ruleset`` is the
merged, validated, immutable whole that engines compile. Cross-reference invariants (every rule
names a declared hazard, every field test fits its input's type, ...) are checked when a
``Ruleset`` is built and raise :class:`InvariantError` carrying the location of the defect.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from riskrules.errors import InvariantError
from riskrules.ruleset._conditions import (
    NAME_PATTERN,
    All,
    AnyOf,
    AtLeast,
    Condition,
    FieldLeaf,
    FindingLeaf,
    Not,
    ParamRef,
    fields_read,
    findings_read,
    params_used,
    walk,
)

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
    "Parameter",
    "Property",
    "Protocol",
    "Reference",
    "Rule",
    "Ruleset",
    "RulesetDocument",
    "Scenario",
    "Then",
]

DEFAULT_LEVELS: tuple[str, ...] = ("low", "moderate", "high", "critical")
"""The ordered level scale used when a ruleset does not declare ``levels``."""

URGENCIES: tuple[str, ...] = ("routine", "soon", "urgent", "immediate")
"""Protocol urgency, least to most urgent; recommendations rank by it."""

Id: TypeAlias = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
DottedName: TypeAlias = Annotated[str, Field(pattern=NAME_PATTERN)]
Number: TypeAlias = StrictInt | StrictFloat
Text: TypeAlias = Annotated[str, Field(min_length=1)]
Loc: TypeAlias = tuple[str | int, ...]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _finite(value: float | None, what: str) -> None:
    if value is not None and isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value}")


class Reference(_Model):
    """A published source a rule, input or protocol cites."""

    citation: Text
    url: StrictStr | None = None
    note: StrictStr | None = None


class Parameter(_Model):
    """A named threshold that services and researchers vary without editing rules."""

    type: Literal["integer", "number"] = "number"
    default: Number
    min: Number | None = None
    max: Number | None = None
    unit: StrictStr | None = None
    description: Text
    source: Id | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        for name in ("default", "min", "max"):
            value = getattr(self, name)
            _finite(value, name)
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


class Input(_Model):
    """A field of the assessment that rules read: its type, bounds and provenance."""

    type: Literal["integer", "number", "boolean", "enum"]
    values: (
        Annotated[tuple[StrictStr, ...], Field(min_length=1)]
        | Annotated[tuple[StrictInt, ...], Field(min_length=1)]
        | None
    ) = None
    """An enum's declared values, or the only values an integer input may take (e.g. AUDIT
    items 9 and 10 score 0, 2 or 4)."""
    min: Number | None = None
    max: Number | None = None
    unit: StrictStr | None = None
    description: StrictStr | None = None
    source: Id | None = None

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
            _finite(value, name)
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


class Hazard(_Model):
    """A scored hazard: points of fired rules map to a level through ordered bands."""

    title: Text
    description: StrictStr | None = None
    bands: dict[str, Number]
    cap: Annotated[Number, Field(gt=0)] | None = None
    priority: StrictInt = 0
    recommend: dict[str, tuple[Id, ...]] = Field(default_factory=dict)


class Then(_Model):
    """What a fired rule does: add points, assert findings, recommend protocols, set a floor."""

    points: Annotated[Number, Field(ge=0)] = 0
    assert_: tuple[DottedName, ...] = Field(default=(), alias="assert")
    recommend: tuple[Id, ...] = ()
    floor: StrictStr | None = None

    @model_validator(mode="after")
    def _finite_points(self) -> Then:
        _finite(self.points, "points")
        return self


class Rule(_Model):
    """One rule: when its condition is true it fires once and applies ``then``."""

    id: DottedName
    hazard: Id
    when: Condition
    then: Then
    because: Text
    source: Id | None = None
    salience: StrictInt = 0


class Protocol(_Model):
    """A recommendable protocol: what to do, how urgently, on whose authority."""

    title: Text
    urgency: Literal["routine", "soon", "urgent", "immediate"]
    steps: tuple[Text, ...] = ()
    description: StrictStr | None = None
    source: Id | None = None


class Expect(_Model):
    """What a scenario expects; every part is optional and only what is given is checked."""

    levels: dict[Id, StrictStr] = Field(default_factory=dict)
    overall: StrictStr | None = None
    complete: dict[Id, StrictBool] = Field(default_factory=dict)
    fired: tuple[DottedName, ...] = ()
    not_fired: tuple[DottedName, ...] = ()
    indeterminate: tuple[DottedName, ...] = ()
    findings: tuple[DottedName, ...] = ()
    not_findings: tuple[DottedName, ...] = ()
    recommendations: tuple[Id, ...] = ()
    not_recommendations: tuple[Id, ...] = ()


class Scenario(_Model):
    """A worked example: an assessment and what the ruleset must make of it."""

    name: Text
    description: StrictStr | None = None
    input: dict[str, Any]
    params: dict[Id, Number] = Field(default_factory=dict)
    expect: Expect


PROPERTY_KINDS: tuple[str, ...] = ("monotone", "bounded", "never_indeterminate_when_complete")
"""The kinds of property a ruleset may declare; each property is a mapping with one of them."""


class Monotone(_Model):
    """Raising ``input`` (all else equal) never lowers ``hazard``'s level (``decreasing``: never
    raises it). Without ``hazard`` the property holds for every hazard. Booleans order false
    before true, enums in their declared order; both values are present (missing data is not a
    value)."""

    input: DottedName
    hazard: Id | None = None
    direction: Literal["increasing", "decreasing"] = "increasing"


class Bounded(_Model):
    """``hazard``'s level never exceeds ``max`` unless the ``unless`` condition is true."""

    hazard: Id
    max: StrictStr
    unless: Condition | None = None


class NeverIndeterminate(_Model):
    """When every input a hazard's rules read (directly or through the findings they read) is
    present, none of its rules is indeterminate. Without ``hazard``, for every hazard."""

    hazard: Id | None = None


class Property(_Model):
    """A property the ruleset must have for every assessment; ``riskrules check`` searches for
    counterexamples. Exactly one of ``monotone``, ``bounded`` or
    ``never_indeterminate_when_complete``; the last may be written as a bare string."""

    monotone: Monotone | None = None
    bounded: Bounded | None = None
    never_indeterminate_when_complete: NeverIndeterminate | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        bare = "never_indeterminate_when_complete"
        if isinstance(data, str):
            if data == bare:
                return {bare: {}}
            raise ValueError(
                f"a property is a mapping with one of {', '.join(PROPERTY_KINDS)}, or the bare "
                f"name {bare}; got {data!r}{did_you_mean(data, PROPERTY_KINDS)}"
            )
        if isinstance(data, dict) and bare in data and data[bare] is None:
            return {**data, bare: {}}
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> Property:
        used = [kind for kind in PROPERTY_KINDS if getattr(self, kind) is not None]
        if len(used) != 1:
            got = ", ".join(used) if used else "none"
            raise ValueError(
                f"a property needs exactly one of {', '.join(PROPERTY_KINDS)}; got {got}"
            )
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        schema["minProperties"] = 1
        schema["maxProperties"] = 1
        return {"anyOf": [schema, {"const": "never_indeterminate_when_complete", "type": "string"}]}

    @property
    def kind(self) -> str:
        """Which kind of property this is (one of :data:`PROPERTY_KINDS`)."""
        return next(kind for kind in PROPERTY_KINDS if getattr(self, kind) is not None)

    @property
    def spec(self) -> Monotone | Bounded | NeverIndeterminate:
        """The property's arguments."""
        value: Monotone | Bounded | NeverIndeterminate = getattr(self, self.kind)
        return value


class _Sections(_Model):
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


class Ruleset(_Sections):
    """A merged, validated, immutable ruleset, ready to compile.

    Build it with :func:`riskrules.load_ruleset`; ``fingerprint`` identifies its semantics.
    """

    ruleset: Id
    version: Text
    title: Text
    levels: Annotated[tuple[Id, ...], Field(min_length=2)] | None = DEFAULT_LEVELS

    @model_validator(mode="after")
    def _invariants(self) -> Ruleset:
        for loc, message in _problems(self):
            raise InvariantError(loc, message)
        return self

    @property
    def scale(self) -> tuple[str, ...]:
        """The ordered level scale, lowest first."""
        return self.levels or DEFAULT_LEVELS

    def canonical(self) -> dict[str, Any]:
        """The canonical JSON form: what the fingerprint hashes (scenarios and properties
        excluded: they check the ruleset, they do not change what it scores)."""
        data = self.model_dump(
            mode="json", by_alias=True, exclude={"tests", "properties"}, exclude_none=True
        )
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


# --------------------------------------------------------------------------- invariants


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    return f"unknown {kind} {name!r}{did_you_mean(name, known)}"


def _problems(rs: Ruleset) -> Iterator[tuple[Loc, str]]:
    scale = rs.scale
    if len(set(scale)) != len(scale):
        yield ("levels",), "levels must be unique"
    yield from _reference_problems(rs)
    yield from _hazard_problems(rs, scale)
    seen: dict[str, int] = {}
    for i, rule in enumerate(rs.rules):
        where: Loc = ("rules", i)
        if rule.id in seen:
            yield (*where, "id"), f"duplicate rule id {rule.id!r} (first at rules[{seen[rule.id]}])"
        seen.setdefault(rule.id, i)
        if rule.hazard not in rs.hazards:
            yield (*where, "hazard"), _unknown("hazard", rule.hazard, rs.hazards)
        if rule.source is not None and rule.source not in rs.references:
            yield (*where, "source"), _unknown("reference", rule.source, rs.references)
        for j, protocol in enumerate(rule.then.recommend):
            if protocol not in rs.protocols:
                yield (*where, "then", "recommend", j), _unknown("protocol", protocol, rs.protocols)
        if rule.then.floor is not None and rule.then.floor not in scale:
            yield (*where, "then", "floor"), _unknown("level", rule.then.floor, scale)
        for node, path, _ in walk(rule.when):
            yield from _leaf_problems(rs, node, (*where, "when", *path))
    yield from _scenario_problems(rs, scale)
    yield from _property_problems(rs, scale)


def _reference_problems(rs: Ruleset) -> Iterator[tuple[Loc, str]]:
    sections: tuple[tuple[str, dict[str, Any]], ...] = (
        ("parameters", rs.parameters),
        ("inputs", rs.inputs),
        ("protocols", rs.protocols),
    )
    for section, items in sections:
        for name, item in items.items():
            if item.source is not None and item.source not in rs.references:
                yield (section, name, "source"), _unknown("reference", item.source, rs.references)


def _hazard_problems(rs: Ruleset, scale: tuple[str, ...]) -> Iterator[tuple[Loc, str]]:
    for hid, hazard in rs.hazards.items():
        where: Loc = ("hazards", hid)
        if not hazard.bands:
            yield (*where, "bands"), "a hazard needs at least one band"
            continue
        previous: tuple[str, float] | None = None
        for level, threshold in hazard.bands.items():
            if level not in scale:
                yield (*where, "bands", level), _unknown("level", level, scale)
                return
            if isinstance(threshold, float) and not math.isfinite(threshold):
                yield (*where, "bands", level), "band thresholds must be finite"
            if previous is None:
                if threshold != 0:
                    yield (
                        (*where, "bands", level),
                        f"the lowest band must start at 0 so every score has a level, "
                        f"not at {threshold}",
                    )
            else:
                if scale.index(level) <= scale.index(previous[0]):
                    yield (
                        (*where, "bands", level),
                        f"bands must follow the level scale order ({', '.join(scale)}): "
                        f"{level!r} comes after {previous[0]!r}",
                    )
                if threshold <= previous[1]:
                    yield (
                        (*where, "bands", level),
                        f"band thresholds must be strictly increasing: {level} at {threshold} "
                        f"is not above {previous[0]} at {previous[1]}",
                    )
            previous = (level, threshold)
        for level, protocols in hazard.recommend.items():
            if level not in scale:
                yield (*where, "recommend", level), _unknown("level", level, scale)
            for j, protocol in enumerate(protocols):
                if protocol not in rs.protocols:
                    yield (
                        (*where, "recommend", level, j),
                        _unknown("protocol", protocol, rs.protocols),
                    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _leaf_problems(rs: Ruleset, node: Condition, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(node, FindingLeaf | All | AnyOf | Not | AtLeast):
        return
    assert isinstance(node, FieldLeaf)
    spec = rs.inputs.get(node.field)
    if spec is None:
        yield loc, _unknown("input", node.field, rs.inputs)
        return
    op = node.op
    at = (*loc, op)
    if op in ("present", "absent"):
        return
    operands = node.value if isinstance(node.value, tuple) else (node.value,)
    if spec.type == "boolean":
        if op not in ("eq", "ne"):
            yield at, f"operator {op!r} does not apply to boolean input {node.field!r}; use eq/ne"
            return
        for operand in operands:
            if not isinstance(operand, bool):
                yield (
                    at,
                    f"boolean input {node.field!r} compares with true or false, not {operand!r}",
                )
        return
    if spec.type == "enum":
        if op not in ("eq", "ne", "in", "not_in"):
            yield (
                at,
                f"operator {op!r} does not apply to enum input {node.field!r}; "
                "use eq, ne, in or not_in",
            )
            return
        assert spec.values is not None
        for operand in operands:
            if isinstance(operand, ParamRef):
                yield at, f"enum input {node.field!r} cannot be compared with a parameter"
            elif operand not in spec.values:
                yield (
                    at,
                    f"{operand!r} is not a declared value of {node.field!r} "
                    f"({', '.join(spec.labels)}){did_you_mean(str(operand), spec.labels)}",
                )
        return
    # numeric input
    resolved: list[float] = []
    for operand in operands:
        if isinstance(operand, ParamRef):
            param = rs.parameters.get(operand.param)
            if param is None:
                yield at, _unknown("parameter", operand.param, rs.parameters)
                continue
            value: Any = param.default
        elif _is_number(operand):
            value = operand
        else:
            yield at, f"numeric input {node.field!r} compares with numbers, not {operand!r}"
            continue
        if isinstance(operand, float) and not math.isfinite(operand):
            yield at, f"{operand!r} is not a finite number"
            continue
        if not isinstance(operand, ParamRef):
            if spec.min is not None and value < spec.min:
                yield at, f"{value!r} is below the declared minimum {spec.min} of {node.field!r}"
            if spec.max is not None and value > spec.max:
                yield at, f"{value!r} is above the declared maximum {spec.max} of {node.field!r}"
        resolved.append(value)
    if op == "between" and len(resolved) == 2 and resolved[0] > resolved[1]:
        yield at, f"between needs low <= high, got [{resolved[0]}, {resolved[1]}]"


def _scenario_problems(rs: Ruleset, scale: tuple[str, ...]) -> Iterator[tuple[Loc, str]]:
    rule_ids = [r.id for r in rs.rules]
    asserted = {f for r in rs.rules for f in r.then.assert_}
    for i, scenario in enumerate(rs.tests):
        where: Loc = ("tests", i)
        for name, value in scenario.params.items():
            param = rs.parameters.get(name)
            if param is None:
                yield (*where, "params", name), _unknown("parameter", name, rs.parameters)
                continue
            try:
                param.check_value(value)
            except ValueError as exc:
                yield (*where, "params", name), str(exc)
        expect = scenario.expect
        for hazard, level in expect.levels.items():
            if hazard not in rs.hazards:
                yield (*where, "expect", "levels", hazard), _unknown("hazard", hazard, rs.hazards)
            if level not in scale:
                yield (*where, "expect", "levels", hazard), _unknown("level", level, scale)
        for hazard in expect.complete:
            if hazard not in rs.hazards:
                yield (
                    (*where, "expect", "complete", hazard),
                    _unknown("hazard", hazard, rs.hazards),
                )
        if expect.overall is not None and expect.overall not in scale:
            yield (*where, "expect", "overall"), _unknown("level", expect.overall, scale)
        for key in ("fired", "not_fired", "indeterminate"):
            for j, rule_id in enumerate(getattr(expect, key)):
                if rule_id not in rule_ids:
                    yield (*where, "expect", key, j), _unknown("rule", rule_id, rule_ids)
        for key in ("findings", "not_findings"):
            for j, finding in enumerate(getattr(expect, key)):
                if finding not in asserted:
                    yield (
                        (*where, "expect", key, j),
                        _unknown("finding", finding, asserted) + " (no rule asserts it)",
                    )
        for key in ("recommendations", "not_recommendations"):
            for j, protocol in enumerate(getattr(expect, key)):
                if protocol not in rs.protocols:
                    yield (*where, "expect", key, j), _unknown("protocol", protocol, rs.protocols)


def _property_problems(rs: Ruleset, scale: tuple[str, ...]) -> Iterator[tuple[Loc, str]]:
    asserted = {f for r in rs.rules for f in r.then.assert_}
    for i, prop in enumerate(rs.properties):
        kind = prop.kind
        where: Loc = ("properties", i, kind)
        spec = prop.spec
        if isinstance(spec, Monotone) and spec.input not in rs.inputs:
            yield (*where, "input"), _unknown("input", spec.input, rs.inputs)
        if spec.hazard is not None and spec.hazard not in rs.hazards:
            yield (*where, "hazard"), _unknown("hazard", spec.hazard, rs.hazards)
        if not isinstance(spec, Bounded):
            continue
        if spec.max not in scale:
            yield (*where, "max"), _unknown("level", spec.max, scale)
        if spec.unless is None:
            continue
        for node, path, _ in walk(spec.unless):
            at: Loc = (*where, "unless", *path)
            if isinstance(node, FindingLeaf):
                if node.finding not in asserted:
                    yield (
                        (*at, "finding"),
                        _unknown("finding", node.finding, asserted) + " (no rule asserts it)",
                    )
            else:
                yield from _leaf_problems(rs, node, at)


def rule_reads(rule: Rule) -> tuple[tuple[str, ...], tuple[tuple[str, bool], ...], tuple[str, ...]]:
    """The fields, findings (with polarity) and parameters a rule reads."""
    return fields_read(rule.when), findings_read(rule.when), params_used(rule.when)
