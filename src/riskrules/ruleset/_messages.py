"""Pydantic validation errors translated into located, plain-language problems.

pydantic reports a failed ruleset as a list of errors with locations inside tagged unions and
messages written for programmers. :func:`translate` turns them into :class:`Problem` values: the
location in the data as the author wrote it (union tags dropped), whether the problem lies at the
value, the key or the enclosing mapping, and a message in the author's words (``expected true or
false, got 'yes' (only true and false are booleans)``, ``unknown key 'wehn' (did you mean
'when'?)``). Alternatives of a union are folded into one problem and echoes of another problem
are dropped. :func:`position` orders problems by where they were written.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Final, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from riskrules._types import Loc
from riskrules.ruleset._conditions import (
    NAME_PATTERN,
    OPERATORS,
    TAG_PREFIX,
    All,
    AnyOf,
    AtLeast,
    FieldLeaf,
    FindingLeaf,
    Not,
)
from riskrules.ruleset._model import did_you_mean
from riskrules.ruleset._safeyaml import Node, locate

__all__ = ["Problem", "position", "show", "translate"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation problem: where (``at`` the value, the key or the parent) and what."""

    loc: Loc
    message: str
    at: str


_CONDITION_CLASSES: Final[dict[str, type[BaseModel]]] = {
    "all": All,
    "any": AnyOf,
    "not": Not,
    "at_least": AtLeast,
    "field": FieldLeaf,
    "finding": FindingLeaf,
}
_CONDITION_KEYS: Final = tuple(_CONDITION_CLASSES)
_KIND_WORDS: Final = {
    "bool": "true or false",
    "int": "a number",
    "float": "a number",
    "str": "a string",
    "ParamRef": "{param: name}",
}
_PATTERN_WORDS: Final = {
    r"^[a-z][a-z0-9_]*$": "an id (lower-case letters, digits and _, starting with a letter)",
    NAME_PATTERN: (
        "a name (lower-case words of letters, digits and _ joined by dots, starting with a letter)"
    ),
}
_NOT_BOOLEANS: Final = frozenset({"yes", "no", "on", "off", "y", "n"})


def show(value: Any) -> str:
    """A value as a YAML author would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return repr(value)


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_at(root: type[BaseModel], raw_loc: Loc) -> type[BaseModel] | None:
    """The model class validating the mapping at ``raw_loc`` (a pydantic loc, tags included)."""
    tp: Any = root
    for part in raw_loc:
        tp = _unwrap(tp)
        if isinstance(part, str) and part.startswith(TAG_PREFIX):
            tp = _CONDITION_CLASSES.get(part[len(TAG_PREFIX) :])
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            tp = next(
                (f.annotation for n, f in tp.model_fields.items() if part in (n, f.alias)), None
            )
        elif get_origin(tp) is tuple:
            args = get_args(tp)
            if len(args) == 2 and args[1] is Ellipsis:
                tp = args[0]
            elif isinstance(part, int) and 0 <= part < len(args):
                tp = args[part]
            else:
                return None
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        elif get_origin(tp) in (Union, types.UnionType):
            tp = next(
                (a for a in get_args(tp) if getattr(_unwrap(a), "__name__", "") == part), None
            )
        else:
            return None
        if tp is None:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _keys_of(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _split(raw_loc: Loc, data: Any, missing: bool = False) -> tuple[Loc, int | None, list[str]]:
    """Drop union-member tags from a pydantic loc by walking the data it describes.

    ``missing`` says the last part is a key the data lacks. Returns the data loc, the length of
    the loc before the first union-member tag (None when there is none) and the tags dropped.
    """
    clean: list[str | int] = []
    union_at: int | None = None
    tags: list[str] = []
    current = data
    last = len(raw_loc) - 1
    for i, part in enumerate(raw_loc):
        if isinstance(part, str) and part.startswith(TAG_PREFIX):
            continue
        found, child = _step(current, part)
        if found:
            clean.append(part)
            current = child
        elif missing and i == last:
            clean.append(part)
        elif isinstance(part, str):
            if union_at is None:
                union_at = len(clean)
            tags.append(part)
        else:
            clean.append(part)
    return tuple(clean), union_at, tags


def _step(data: Any, part: str | int) -> tuple[bool, Any]:
    """``(True, data[part])`` if ``part`` is a key or index of ``data``, else ``(False, None)``."""
    if isinstance(data, dict) and part in data:
        return True, data[part]
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return True, data[part]
    return False, None


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        found, data = _step(data, part)
        if not found:
            return None
    return data


def translate(exc: ValidationError, data: Any, root: type[BaseModel]) -> list[Problem]:
    """Plain-language problems from a ValidationError; never empty."""
    errors = exc.errors()
    found = list(_each_problem(errors, data, root))
    if not found:  # pragma: no cover - every error kind above yields at least one problem
        loc, _, _ = _split(tuple(errors[0]["loc"]), data)
        found.append(Problem(loc, str(errors[0]["msg"]), "value"))
    return found


def _each_problem(errors: list[Any], data: Any, root: type[BaseModel]) -> Iterator[Problem]:
    """Problems in plain words, union alternatives folded into one, echoes dropped."""
    missing_near: dict[Loc, list[str]] = {}
    unknown_near: dict[Loc, list[str]] = {}
    for err in errors:
        loc, _, _ = _split(tuple(err["loc"]), data, err["type"] == "missing")
        if err["type"] == "missing":
            missing_near.setdefault(loc[:-1], []).append(str(loc[-1]))
        elif err["type"] == "extra_forbidden":
            unknown_near.setdefault(loc[:-1], []).append(str(loc[-1]))
    unions: dict[Loc, list[tuple[Loc, dict[str, Any], list[str]]]] = {}
    for err in errors:
        raw_loc = tuple(err["loc"])
        if raw_loc and raw_loc[-1] == "[key]":  # a mapping key that is not a valid name
            loc, _, _ = _split(raw_loc[:-1], data)
            message = _message(err["type"], err.get("ctx") or {}, err.get("input"), err["msg"])
            yield Problem(loc, message, "key")
            continue
        loc, union_at, tags = _split(raw_loc, data, err["type"] == "missing")
        if union_at is not None:
            unions.setdefault(loc[:union_at], []).append((loc, dict(err), tags))
            continue
        problem = _plain(err, raw_loc, loc, data, root, missing_near, unknown_near)
        if problem is not None:
            yield problem
    for prefix, alternatives in unions.items():
        value = _value_at(data, prefix)
        nested = [a for a in alternatives if a[2][0][:1].isupper()]
        if isinstance(value, dict) and nested:
            for loc, err, _ in nested:
                raw_loc = tuple(err["loc"])
                problem = _plain(err, raw_loc, loc, data, root, missing_near, unknown_near)
                if problem is not None:
                    yield problem
            continue
        kinds = list(dict.fromkeys(_KIND_WORDS.get(a[2][0], a[2][0]) for a in alternatives))
        wanted = ", ".join(kinds[:-1]) + " or " + kinds[-1] if len(kinds) > 1 else kinds[0]
        yield Problem(prefix, f"expected {wanted}, got {show(value)}", "value")


def _plain(
    err: dict[str, Any],
    raw_loc: Loc,
    loc: Loc,
    data: Any,
    root: type[BaseModel],
    missing_near: dict[Loc, list[str]],
    unknown_near: dict[Loc, list[str]],
) -> Problem | None:
    """One pydantic error in plain words; None when it only echoes another error."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        key = str(loc[-1])
        if unknown_near.get(loc[:-1]):
            return None  # a misspelt key is the likelier error; it is reported instead
        return Problem(loc[:-1], f"missing required key {key!r}", "parent")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        missing = missing_near.get(loc[:-1], [])
        hint = did_you_mean(key, missing) or did_you_mean(
            key, _keys_of(_model_at(root, raw_loc[:-1]))
        )
        if not hint and missing:
            hint = f" (expected {' and '.join(map(repr, missing))})"
        return Problem(loc, f"unknown key {key!r}{hint}", "key")
    if kind == "condition_kind":
        return _condition_problem(loc, value)
    if kind in ("too_short", "too_long"):
        minimum = ctx.get("min_length", 0)
        if kind == "too_short" and isinstance(value, list | dict) and len(value) >= minimum:
            return None  # items were given but failed; their own errors say why
        if loc and loc[-1] == "between":
            count = len(value) if isinstance(value, list) else 0
            return Problem(loc, f"between takes two values [low, high], got {count}", "value")
        if kind == "too_short":
            item = "item" if minimum == 1 else "items"
            return Problem(loc, f"needs at least {minimum} {item}", "value")
        return Problem(loc, f"takes at most {ctx.get('max_length')} items", "value")
    return Problem(loc, _message(kind, ctx, value, err.get("msg", "")), "value")


def _message(kind: str, ctx: dict[str, Any], value: Any, msg: str) -> str:
    got = show(value)
    if kind == "value_error":
        error = ctx.get("error")
        return str(error) if error is not None else msg.removeprefix("Value error, ")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected an integer, got {got}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        hint = ""
        if isinstance(value, str) and value.lower() in _NOT_BOOLEANS:
            hint = " (only true and false are booleans)"
        return f"expected true or false, got {got}{hint}"
    if kind == "string_type":
        hint = " (quote it to make it text)" if isinstance(value, int | float) else ""
        return f"expected a string, got {got}{hint}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"{got} is longer than the {ctx.get('max_length')} characters a name may have"
    if kind == "string_pattern_mismatch":
        wanted = _PATTERN_WORDS.get(str(ctx.get("pattern")), f"text matching {ctx.get('pattern')}")
        return f"{got} is not {wanted}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        if expected == "True":
            return f"expected true, got {got}"
        choices = re.findall(r"'([^']*)'", expected)
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        return f"expected {expected}, got {got}{hint}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {got}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {got}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, got {got}"
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}, got {got}"
    return msg[:1].lower() + msg[1:]


def _condition_problem(loc: Loc, value: Any) -> Problem:
    keys = ", ".join(_CONDITION_KEYS)
    if not isinstance(value, dict):
        return Problem(
            loc, f"expected a condition (a mapping with one of {keys}), got {show(value)}", "value"
        )
    tags = [k for k in value if k in _CONDITION_KEYS]
    if len(tags) > 1:
        return Problem(
            loc,
            f"a condition takes exactly one of {keys}; got {tags[0]!r} and {tags[1]!r}",
            "value",
        )
    known = (*_CONDITION_KEYS, *OPERATORS, "n", "of")
    for key in value:
        if key not in known:
            hint = did_you_mean(str(key), _CONDITION_KEYS) or did_you_mean(str(key), known)
            return Problem((*loc, key), f"unknown key {key!r}{hint}", "key")
    got = ", ".join(map(str, value)) or "an empty mapping"
    return Problem(loc, f"a condition needs one of {keys}; got {got}", "value")


def position(root: Node, problem: Problem) -> tuple[int, int]:
    """Line and column of ``problem`` in the file parsed into ``root`` (for ordering problems)."""
    node, reached, key_node = locate(root, problem.loc)
    if problem.at == "key" and key_node is not None and reached == problem.loc:
        node = key_node
    return node.line, node.column
