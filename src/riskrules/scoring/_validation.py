"""Assessment validation: an assessment as given (nested objects, dotted keys or both) to facts.

:class:`AssessmentValidator` checks an assessment against a ruleset's declared inputs and returns
the engine facts: each assessed input's dotted name with its validated value. Anything that does
not fit raises :class:`~riskrules.errors.AssessmentError` naming the field, the value and the
constraint; types are strict (see the class).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from riskrules.errors import AssessmentError
from riskrules.ruleset._spec import Input, Ruleset, did_you_mean

if TYPE_CHECKING:
    from riskrules._types import Number, Value

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_STRING",
    "MAX_VALUES",
    "AssessmentValidator",
    "check_assessment_shape",
]

MAX_BYTES = 4 * 1024 * 1024
"""Largest assessment document read from a file or a JSON Lines line, in bytes (4 MiB)."""

MAX_DEPTH = 32
"""Deepest nesting of objects and arrays an assessment may have (the top object is depth 1)."""

MAX_VALUES = 10_000
"""Most values (objects, arrays, scalars and keys) an assessment may hold."""

MAX_STRING = 10_000
"""Longest string (a value or a field name) an assessment may hold, in characters."""

_MAX_EXACT_INT = 2**53 - 1
"""Largest integer a JSON number (an IEEE double) represents exactly; engines must agree."""


def _kind(value: Any) -> str:
    """What a JSON reader would call this value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number" if math.isfinite(value) else f"{value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"


def _bounds(name: str, spec: Input, value: Number) -> None:
    if spec.min is not None and value < spec.min:
        raise AssessmentError(name, value, f"must be >= {spec.min}")
    if spec.max is not None and value > spec.max:
        raise AssessmentError(name, value, f"must be <= {spec.max}")


def _check_integer(name: str, spec: Input, value: Any) -> Value:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AssessmentError(name, value, f"must be an integer, not {_kind(value)}")
    if abs(value) > _MAX_EXACT_INT:
        raise AssessmentError(name, value, "must be an integer of magnitude below 2**53")
    _bounds(name, spec, value)
    if spec.values is not None and value not in spec.values:
        raise AssessmentError(name, value, f"must be one of {', '.join(map(str, spec.values))}")
    return int(value)


def _check_number(name: str, spec: Input, value: Any) -> Value:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AssessmentError(name, value, f"must be a number, not {_kind(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AssessmentError(name, value, "must be a finite number")
        result: Number = float(value)
    else:
        if abs(value) > _MAX_EXACT_INT:
            raise AssessmentError(name, value, "must be a number of magnitude below 2**53")
        result = int(value)
    _bounds(name, spec, result)
    return result


def _check_boolean(name: str, spec: Input, value: Any) -> Value:
    if not isinstance(value, bool):
        raise AssessmentError(name, value, f"must be true or false, not {_kind(value)}")
    return bool(value)


def _check_enum(name: str, spec: Input, value: Any) -> Value:
    allowed = spec.labels
    if not isinstance(value, str):
        raise AssessmentError(
            name, value, f"must be one of {', '.join(map(repr, allowed))}, not {_kind(value)}"
        )
    if value not in allowed:
        raise AssessmentError(
            name,
            value,
            f"must be one of {', '.join(map(repr, allowed))}{did_you_mean(value, allowed)}",
        )
    return str(value)


def check_assessment_shape(assessment: Any) -> None:
    """Refuse an assessment nested deeper than :data:`MAX_DEPTH`, holding more than
    :data:`MAX_VALUES` values or a string longer than :data:`MAX_STRING` characters, with an
    AssessmentError naming the field where the limit was passed (never a RecursionError or a
    memory blow-up later on). Iterative, so any depth is safe to check; a non-mapping passes
    (the validator reports it)."""
    if not isinstance(assessment, Mapping):
        return
    stack: list[tuple[str, Any, int]] = [("", assessment, 1)]
    count = 0
    while stack:
        where, node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise AssessmentError(where, None, f"nested deeper than {MAX_DEPTH} levels")
        pairs = node.items() if isinstance(node, Mapping) else enumerate(node)
        for key, value in pairs:
            count += 2
            if count > MAX_VALUES:
                raise AssessmentError("", None, f"holds more than {MAX_VALUES} values")
            if isinstance(key, str) and len(key) > MAX_STRING:
                raise AssessmentError(
                    where, None, f"a field name is longer than {MAX_STRING} characters"
                )
            name = f"{where}.{key}" if where else str(key)
            if isinstance(value, str):
                if len(value) > MAX_STRING:
                    raise AssessmentError(
                        name, None, f"a string longer than {MAX_STRING} characters"
                    )
            elif isinstance(value, Mapping | list | tuple):
                stack.append((name, value, depth + 1))


_CHECKS = {
    "integer": _check_integer,
    "number": _check_number,
    "boolean": _check_boolean,
    "enum": _check_enum,
}


def _checker(name: str, spec: Input) -> Callable[[Any], Value]:
    """One input's check: a fast test for the common valid value, else the full check above
    (which returns the same value or raises the located error)."""
    slow = _CHECKS[spec.type]
    low = -_MAX_EXACT_INT if spec.min is None else max(spec.min, -_MAX_EXACT_INT)
    high = _MAX_EXACT_INT if spec.max is None else min(spec.max, _MAX_EXACT_INT)
    isfinite = math.isfinite
    if spec.type == "integer":
        allowed = None if spec.values is None else frozenset(spec.values)

        def integer(value: Any) -> Value:
            valid = type(value) is int and low <= value <= high
            if valid and (allowed is None or value in allowed):
                return value  # type: ignore[no-any-return]
            return slow(name, spec, value)

        return integer
    if spec.type == "number":
        float_low = -math.inf if spec.min is None else spec.min
        float_high = math.inf if spec.max is None else spec.max

        def number(value: Any) -> Value:
            kind = type(value)
            if kind is int and low <= value <= high:
                return value  # type: ignore[no-any-return]
            if kind is float and float_low <= value <= float_high and isfinite(value):
                return value  # type: ignore[no-any-return]
            return slow(name, spec, value)

        return number
    if spec.type == "enum":
        labels = frozenset(spec.labels)

        def enum(value: Any) -> Value:
            if type(value) is str and value in labels:
                return value
            return slow(name, spec, value)

        return enum

    def other(value: Any) -> Value:
        if value is True or value is False:
            return value
        return slow(name, spec, value)

    return other


class AssessmentValidator:
    """Turns an assessment (nested objects, dotted keys or both) into engine facts.

    Facts map each assessed input's dotted name to its validated value; ``None`` (JSON null)
    means "not assessed" and leaves the field out (for a whole group too). Anything else that
    does not fit the ruleset's declared inputs raises AssessmentError naming the field, value and
    constraint. Types are strict: a boolean is never a number, a string never a number, an
    integer input takes no floats, numbers must be finite, and integers must lie within
    +/-(2**53 - 1) so that every engine compares them exactly.
    """

    def __init__(self, ruleset: Ruleset) -> None:
        self._ruleset_id = ruleset.ruleset
        self._inputs: dict[str, Input] = dict(ruleset.inputs)
        groups: set[str] = set()
        for name in self._inputs:
            parts = name.split(".")
            groups.update(".".join(parts[:i]) for i in range(1, len(parts)))
        self._groups = frozenset(groups)
        self._known = tuple(sorted(set(self._inputs) | groups))
        self._checks = {name: _checker(name, spec) for name, spec in self._inputs.items()}

    def __call__(self, assessment: Any) -> dict[str, Value]:
        check_assessment_shape(assessment)
        if not isinstance(assessment, Mapping):
            raise AssessmentError(
                "",
                assessment,
                f"an assessment must be an object of fields, not {_kind(assessment)}",
            )
        given: dict[str, Value | None] = {}
        self._collect(assessment, "", given)
        return {name: value for name, value in given.items() if value is not None}

    def _collect(
        self, mapping: Mapping[Any, Any], prefix: str, out: dict[str, Value | None]
    ) -> None:
        checks = self._checks
        groups = self._groups
        for key, value in mapping.items():
            if not isinstance(key, str):
                raise AssessmentError(prefix, key, "field names must be strings")
            name = f"{prefix}.{key}" if prefix else key
            check = checks.get(name)
            if check is not None and not (name in groups and isinstance(value, Mapping)):
                if name in out:
                    raise AssessmentError(
                        name, value, "given twice (as a dotted key and inside an object)"
                    )
                out[name] = None if value is None else check(value)
            elif name in groups:
                if value is None:
                    continue
                if not isinstance(value, Mapping):
                    raise AssessmentError(
                        name, value, f"must be an object of fields, not {_kind(value)}"
                    )
                self._collect(value, name, out)
            else:
                hint = did_you_mean(name, self._known)
                if not hint:
                    hint = f" (ruleset {self._ruleset_id!r} reads no such input)"
                raise AssessmentError(name, value, "unknown field" + hint)
