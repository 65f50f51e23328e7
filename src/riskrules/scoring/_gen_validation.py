"""Generated validation: the usual assessments checked and unpacked in straight-line code.

:func:`write_nested` writes ``nested(a)``, which walks an assessment given as nested plain
dicts (or, through ``dotted(a)``, as dotted keys only, ``{"client.sex": "female"}``), checks
every field it holds against the ruleset's inputs and returns ``X``, the values
of the inputs the rules read in :func:`~riskrules.engines._codegen.input_order` (``None`` where
absent). It accepts only what the full validator
(:class:`~riskrules.scoring._validation.AssessmentValidator`) accepts with the same result: at
anything else (a dotted key, an unknown field, a value of the wrong type or out of bounds, a
mapping that is not a dict) it returns ``None`` and the caller runs the full validator, which
raises the located error or returns the facts. The checks are the validator's fast tests
written out per input, with the bounds as literals.

The nested form's size is bounded by the ruleset (only declared names, only scalar values), so
the assessment limits of :func:`~riskrules.scoring._validation.check_assessment_shape` hold
whenever ``nested`` accepts; :func:`fast_path_possible` says when the ruleset's own names and
labels keep within those limits, and no ``nested`` is written otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from riskrules.engines._codegen import Writer
from riskrules.ruleset._spec import Input, Ruleset
from riskrules.scoring._validation import MAX_DEPTH, MAX_STRING, MAX_VALUES

__all__ = ["fast_path_possible", "write_nested"]

_MAX_EXACT_INT = 2**53 - 1
_MAX_FLOAT = sys.float_info.max
"""``-max <= x <= max`` holds for exactly the finite floats (NaN compares false)."""


def _tree(ruleset: Ruleset) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The groups (dotted prefix -> {key: child group or input name}) and each input's group."""
    groups: dict[str, dict[str, str]] = {"": {}}
    parent: dict[str, str] = {}
    for name in sorted(ruleset.inputs):
        parts = name.split(".")
        for depth in range(1, len(parts)):
            group = ".".join(parts[:depth])
            up = ".".join(parts[: depth - 1])
            groups.setdefault(group, {})
            groups[up][parts[depth - 1]] = group
        parent[name] = ".".join(parts[:-1])
        groups[parent[name]][parts[-1]] = name
    return groups, parent


def fast_path_possible(ruleset: Ruleset) -> bool:
    """Whether every nested assessment ``nested`` could accept keeps within the assessment
    limits, and no name is both an input and a group (which only the full validator handles)."""
    groups, _ = _tree(ruleset)
    if any(name in groups for name in ruleset.inputs):
        return False
    names = [*ruleset.inputs, *groups]
    deepest = max((len(n.split(".")) for n in names), default=0)
    if 2 * len(names) > MAX_VALUES or deepest > MAX_DEPTH:
        return False
    longest = max((len(part) for n in names for part in n.split(".")), default=0)
    labels = [v for spec in ruleset.inputs.values() if spec.type == "enum" for v in spec.labels]
    return longest <= MAX_STRING and all(len(label) <= MAX_STRING for label in labels)


def _check(w: Writer, x: str, spec: Input) -> str:
    """An expression true when ``x`` is a value the validator accepts unchanged (or None)."""
    if spec.type == "boolean":
        return f"{x} is None or {x} is True or {x} is False"
    if spec.type == "enum":
        return f"{x} is None or (type({x}) is str and {x} in {w.literal(frozenset(spec.labels))})"
    low = -_MAX_EXACT_INT if spec.min is None else max(spec.min, -_MAX_EXACT_INT)
    high = _MAX_EXACT_INT if spec.max is None else min(spec.max, _MAX_EXACT_INT)
    integer = f"type({x}) is int and {w.literal(low)} <= {x} <= {w.literal(high)}"
    if spec.type == "integer":
        if spec.values is not None:
            integer += f" and {x} in {w.literal(frozenset(spec.values))}"
        return f"{x} is None or ({integer})"
    float_low = -_MAX_FLOAT if spec.min is None else spec.min
    float_high = _MAX_FLOAT if spec.max is None else spec.max
    real = f"type({x}) is float and {w.literal(float_low)} <= {x} <= {w.literal(float_high)}"
    return f"{x} is None or ({integer}) or ({real})"


def write_nested(w: Writer, ruleset: Ruleset) -> None:
    """Emit ``nested(a) -> X | None`` (see the module docstring)."""
    groups, parent = _tree(ruleset)
    local = {"": "a"}
    for k, group in enumerate(g for g in groups if g):
        local[group] = f"g{k}"
    w.emit(0, "def nested(a):")
    w.emit(1, "if type(a) is not dict:")
    w.emit(2, "return None")
    w.emit(1, f"if not a.keys() <= {_keys(w, groups[''])}:")
    w.emit(2, "return dotted(a)")
    for group, g in local.items():
        if not group:
            continue
        up = local[".".join(group.split(".")[:-1])]
        w.emit(1, f"{g} = {up}.get({group.split('.')[-1]!r})")
        w.emit(1, f"if {g} is None:")
        w.emit(2, f"{g} = _EMPTY")
        w.emit(1, f"elif type({g}) is not dict or not {g}.keys() <= {_keys(w, groups[group])}:")
        w.emit(2, "return None")
    _inputs(w, ruleset, lambda name: f"{local[parent[name]]}.get({name.split('.')[-1]!r})")
    _write_dotted(w, ruleset)


def _inputs(w: Writer, ruleset: Ruleset, fetch: Callable[[str], str]) -> None:
    """Fetch and check every input, then return ``X``."""
    unread = 0
    for name, spec in sorted(ruleset.inputs.items()):
        x = w.fields.get(name)
        if x is None:
            unread += 1
            x = f"u{unread}"
        w.emit(1, f"{x} = {fetch(name)}  # {name!r}")
        w.emit(1, f"if not ({_check(w, x, spec)}):")
        w.emit(2, "return None")
    w.emit(1, f"return ({''.join(f'{x}, ' for x in w.fields.values())})")


def _write_dotted(w: Writer, ruleset: Ruleset) -> None:
    """``dotted(a)``: the same for an assessment given as dotted keys only."""
    w.emit(0, "")
    w.emit(0, "")
    w.emit(0, "def dotted(a):")
    w.emit(1, f"if not a.keys() <= {_keys(w, dict.fromkeys(ruleset.inputs))}:")
    w.emit(2, "return None")
    _inputs(w, ruleset, lambda name: f"a.get({name!r})")


def _keys(w: Writer, members: dict[str, Any]) -> str:
    return w.literal(frozenset(members))
