"""The condition tree of a rule: its shape, the fields it reads, and Kleene evaluation.

A condition is ``all`` / ``any`` / ``not`` / ``at_least`` over leaves. A leaf tests an input
``field`` with exactly one operator, or asks whether a ``finding`` was asserted. Missing inputs
make a leaf *unknown* and the connectives follow Kleene's strong three-valued logic, so missing
data is never mistaken for "no risk".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from enum import IntEnum
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    model_validator,
)

from riskrules._types import FrozenModel

__all__ = [
    "COMPARISON_OPS",
    "NEGATED_OP",
    "OPERATORS",
    "All",
    "AnyOf",
    "AtLeast",
    "AtLeastSpec",
    "Condition",
    "FieldLeaf",
    "FindingLeaf",
    "Not",
    "ParamRef",
    "Scalar",
    "Truth",
    "evaluate",
    "fields_read",
    "findings_read",
    "params_used",
    "resolve_params",
    "walk",
]

NAME_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"
MAX_NAME_LENGTH = 200
"""The longest id or dotted name a ruleset may use (longer ones are a mistake or an attack)."""
"""Ids, dotted input names and finding names: lower-case words joined by dots."""

Scalar: TypeAlias = StrictBool | StrictInt | StrictFloat | StrictStr
"""A constant in a condition. Booleans are never numbers, numbers never strings."""


class Truth(IntEnum):
    """Kleene truth value: ``and`` is ``min``, ``or`` is ``max``, ``not`` is ``2 - x``."""

    FALSE = 0
    UNKNOWN = 1
    TRUE = 2

    def negate(self) -> Truth:
        return Truth(2 - self.value)


class _Node(FrozenModel):
    pass


class ParamRef(_Node):
    """A reference to a ruleset parameter, ``{param: name}``, resolved when a Scorer compiles."""

    param: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


Operand: TypeAlias = Scalar | ParamRef

COMPARISON_OPS = ("gt", "gte", "lt", "lte")
NEGATED_OP = {
    "eq": "ne",
    "ne": "eq",
    "gt": "lte",
    "lte": "gt",
    "gte": "lt",
    "lt": "gte",
    "in": "not_in",
    "not_in": "in",
    "present": "absent",
    "absent": "present",
}
"""``not {field: x, op: v}`` is ``{field: x, NEGATED_OP[op]: v}`` in Kleene logic too (both are
unknown when x is missing). ``between`` has no single-operator negation."""
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between", "present", "absent")


class FieldLeaf(_Node):
    """Test one input field with exactly one operator, e.g. ``{field: x, gte: 42}``."""

    field: Annotated[str, Field(pattern=NAME_PATTERN, max_length=MAX_NAME_LENGTH)]
    eq: Operand | None = None
    ne: Operand | None = None
    gt: Operand | None = None
    gte: Operand | None = None
    lt: Operand | None = None
    lte: Operand | None = None
    in_: Annotated[tuple[Scalar, ...], Field(min_length=1)] | None = Field(default=None, alias="in")
    not_in: Annotated[tuple[Scalar, ...], Field(min_length=1)] | None = None
    between: tuple[Operand, Operand] | None = None
    present: Literal[True] | None = None
    absent: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> FieldLeaf:
        used = [op for op in OPERATORS if getattr(self, _attr(op)) is not None]
        if len(used) != 1:
            got = ", ".join(used) if used else "none"
            raise ValueError(
                f"a field test needs exactly one operator ({', '.join(OPERATORS)}); got {got}"
            )
        return self

    @property
    def op(self) -> str:
        """The operator's name as written in YAML (``in``, not ``in_``)."""
        for op in OPERATORS:
            if getattr(self, _attr(op)) is not None:
                return op
        raise AssertionError("unreachable: validated to have one operator")

    @property
    def value(self) -> Any:
        """The operator's operand: a scalar, a ParamRef, a tuple (in, between) or True."""
        return getattr(self, _attr(self.op))


def _attr(op: str) -> str:
    return "in_" if op == "in" else op


class FindingLeaf(_Node):
    """True when a rule asserted the finding, ``{finding: name}``."""

    finding: Annotated[str, Field(pattern=NAME_PATTERN, max_length=MAX_NAME_LENGTH)]


class All(_Node):
    """True when every sub-condition is true."""

    all: Annotated[tuple[Condition, ...], Field(min_length=1)]


class AnyOf(_Node):
    """True when at least one sub-condition is true."""

    any: Annotated[tuple[Condition, ...], Field(min_length=1)]


class Not(_Node):
    """Negation; unknown stays unknown."""

    not_: Annotated[Condition, Field(alias="not")]


class AtLeastSpec(_Node):
    """``n`` of the conditions in ``of`` must hold (k-of-n clinical criteria)."""

    n: Annotated[StrictInt, Field(ge=1)]
    of: Annotated[tuple[Condition, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _n_fits(self) -> AtLeastSpec:
        if self.n > len(self.of):
            raise ValueError(f"at_least n={self.n} but only {len(self.of)} conditions listed")
        return self


class AtLeast(_Node):
    """``{at_least: {n: 2, of: [...]}}``."""

    at_least: AtLeastSpec


_TAGS = ("all", "any", "not", "at_least", "field", "finding")
TAG_PREFIX = "condition:"
"""Prefix of the union tags; validation error locations contain them and the loader drops them."""


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        found = [key for key in _TAGS if key in value]
        return TAG_PREFIX + found[0] if len(found) == 1 else None
    for cls, tag in (
        (All, "all"),
        (AnyOf, "any"),
        (Not, "not"),
        (AtLeast, "at_least"),
        (FieldLeaf, "field"),
        (FindingLeaf, "finding"),
    ):
        if isinstance(value, cls):
            return TAG_PREFIX + tag
    return None


Condition: TypeAlias = Annotated[
    Annotated[All, Tag("condition:all")]
    | Annotated[AnyOf, Tag("condition:any")]
    | Annotated[Not, Tag("condition:not")]
    | Annotated[AtLeast, Tag("condition:at_least")]
    | Annotated[FieldLeaf, Tag("condition:field")]
    | Annotated[FindingLeaf, Tag("condition:finding")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition_kind",
        custom_error_message=(
            "a condition is a mapping with exactly one of: all, any, not, at_least, field, finding"
        ),
    ),
]

for _model in (All, AnyOf, Not, AtLeastSpec):
    _model.model_rebuild()


def walk(cond: Condition) -> Iterator[tuple[Condition, tuple[str | int, ...], bool]]:
    """Yield ``(node, path, positive)`` for every node, depth first, in document order.

    ``path`` is relative to the condition (``("all", 1)``); ``positive`` is False under an odd
    number of ``not``. ``at_least`` counts as positive: more true children never hurt.
    """

    def rec(
        node: Condition, path: tuple[str | int, ...], positive: bool
    ) -> Iterator[tuple[Condition, tuple[str | int, ...], bool]]:
        yield node, path, positive
        if isinstance(node, All):
            for i, child in enumerate(node.all):
                yield from rec(child, (*path, "all", i), positive)
        elif isinstance(node, AnyOf):
            for i, child in enumerate(node.any):
                yield from rec(child, (*path, "any", i), positive)
        elif isinstance(node, Not):
            yield from rec(node.not_, (*path, "not"), not positive)
        elif isinstance(node, AtLeast):
            for i, child in enumerate(node.at_least.of):
                yield from rec(child, (*path, "at_least", "of", i), positive)

    return rec(cond, (), True)


def fields_read(cond: Condition) -> tuple[str, ...]:
    """The input fields a condition reads, first occurrence order, without repeats."""
    seen: dict[str, None] = {}
    for node, _, _ in walk(cond):
        if isinstance(node, FieldLeaf):
            seen.setdefault(node.field, None)
    return tuple(seen)


def findings_read(cond: Condition) -> tuple[tuple[str, bool], ...]:
    """``(finding, positive)`` pairs a condition reads; a finding read both ways appears twice."""
    seen: dict[tuple[str, bool], None] = {}
    for node, _, positive in walk(cond):
        if isinstance(node, FindingLeaf):
            seen.setdefault((node.finding, positive), None)
    return tuple(seen)


def _operands(leaf: FieldLeaf) -> tuple[Any, ...]:
    value = leaf.value
    if isinstance(value, tuple):
        return value
    return (value,)


def params_used(cond: Condition) -> tuple[str, ...]:
    """The parameters a condition refers to, first occurrence order."""
    seen: dict[str, None] = {}
    for node, _, _ in walk(cond):
        if isinstance(node, FieldLeaf):
            for operand in _operands(node):
                if isinstance(operand, ParamRef):
                    seen.setdefault(operand.param, None)
    return tuple(seen)


def resolve_params(cond: Condition, params: Mapping[str, Any]) -> Condition:
    """Return the condition with every ``{param: name}`` replaced by ``params[name]``."""
    if isinstance(cond, FieldLeaf):
        if not any(isinstance(o, ParamRef) for o in _operands(cond)):
            return cond
        value = cond.value

        def sub(operand: Any) -> Any:
            return params[operand.param] if isinstance(operand, ParamRef) else operand

        new = tuple(sub(v) for v in value) if isinstance(value, tuple) else sub(value)
        return cond.model_copy(update={_attr(cond.op): new})
    if isinstance(cond, All):
        return All(all=tuple(resolve_params(c, params) for c in cond.all))
    if isinstance(cond, AnyOf):
        return AnyOf(any=tuple(resolve_params(c, params) for c in cond.any))
    if isinstance(cond, Not):
        return Not(not_=resolve_params(cond.not_, params))
    if isinstance(cond, AtLeast):
        spec = cond.at_least
        return AtLeast(
            at_least=AtLeastSpec(n=spec.n, of=tuple(resolve_params(c, params) for c in spec.of))
        )
    return cond


def leaf_test(op: str, value: Any) -> Callable[[Any], bool]:
    """A predicate for a present field value under ``op`` with a resolved operand."""
    if op == "eq":
        return lambda x: bool(x == value)
    if op == "ne":
        return lambda x: bool(x != value)
    if op == "gt":
        return lambda x: bool(x > value)
    if op == "gte":
        return lambda x: bool(x >= value)
    if op == "lt":
        return lambda x: bool(x < value)
    if op == "lte":
        return lambda x: bool(x <= value)
    if op == "in":
        members = tuple(value)
        return lambda x: any(x == m for m in members)
    if op == "not_in":
        members = tuple(value)
        return lambda x: all(x != m for m in members)
    if op == "between":
        low, high = value
        return lambda x: bool(low <= x <= high)
    raise ValueError(f"no value test for operator {op!r}")


def evaluate(
    cond: Condition,
    facts: Mapping[str, Any],
    finding: Callable[[str], Truth],
    params: Mapping[str, Any] | None = None,
) -> Truth:
    """Evaluate a condition in Kleene logic.

    ``facts`` maps dotted input names to present values (absent keys are missing data);
    ``finding`` gives each finding's truth value. This interpreter is the reference the engines
    are tested against; engines compile conditions instead of walking them per assessment.
    """
    if isinstance(cond, FieldLeaf):
        op = cond.op
        present = cond.field in facts
        if op == "present":
            return Truth.TRUE if present else Truth.FALSE
        if op == "absent":
            return Truth.FALSE if present else Truth.TRUE
        if not present:
            return Truth.UNKNOWN
        resolved = resolve_params(cond, params or {}) if params else cond
        assert isinstance(resolved, FieldLeaf)
        return Truth.TRUE if leaf_test(op, resolved.value)(facts[cond.field]) else Truth.FALSE
    if isinstance(cond, FindingLeaf):
        return finding(cond.finding)
    if isinstance(cond, All):
        return Truth(min(evaluate(c, facts, finding, params) for c in cond.all))
    if isinstance(cond, AnyOf):
        return Truth(max(evaluate(c, facts, finding, params) for c in cond.any))
    if isinstance(cond, Not):
        return evaluate(cond.not_, facts, finding, params).negate()
    if isinstance(cond, AtLeast):
        values = [evaluate(c, facts, finding, params) for c in cond.at_least.of]
        return at_least_truth(cond.at_least.n, values)
    raise TypeError(f"not a condition: {cond!r}")


def at_least_truth(n: int, values: list[Truth]) -> Truth:
    """k-of-n in Kleene logic: true if n are surely true, false if n cannot be reached."""
    true = sum(1 for v in values if v is Truth.TRUE)
    possible = sum(1 for v in values if v is not Truth.FALSE)
    if true >= n:
        return Truth.TRUE
    if possible < n:
        return Truth.FALSE
    return Truth.UNKNOWN
