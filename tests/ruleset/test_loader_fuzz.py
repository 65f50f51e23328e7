"""Fuzzing the loader: whatever the text, the only exception that leaves it is RulesetError.

Three sources of input: arbitrary text, arbitrary YAML documents built from the ruleset
vocabulary, and valid rulesets with a few keys or values deleted, replaced or duplicated.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from riskrules import Ruleset, RulesetError, load_ruleset

DATA = Path(__file__).parents[1] / "data"
BASE_TEXT = (DATA / "caseload.yaml").read_text(encoding="utf-8")
BASE: dict[str, Any] = yaml.safe_load(BASE_TEXT)

WORDS = [
    "ruleset", "version", "title", "include", "levels", "references", "parameters", "inputs",
    "hazards", "rules", "protocols", "tests", "id", "hazard", "when", "then", "because",
    "source", "salience", "points", "assert", "recommend", "floor", "all", "any", "not",
    "at_least", "n", "of", "field", "finding", "eq", "ne", "gt", "gte", "lt", "lte", "in",
    "not_in", "between", "present", "absent", "param", "type", "values", "min", "max", "bands",
    "cap", "priority", "default", "description", "urgency", "steps", "name", "input", "expect",
    "low", "high", "caseload", "integer", "number", "boolean", "enum", "$schema",
]  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from([*WORDS, "yes", "no", "on", "~", "2024-01-01", ".inf", "0x1F"])
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(WORDS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)


def _check(text: str) -> None:
    """Load ``text``; a rejection must be a well-formed RulesetError."""
    try:
        result = load_ruleset(text)
    except RulesetError as caught:
        err = caught
    else:
        assert isinstance(result, Ruleset)
        return
    assert err.message
    assert err.file == "<string>"
    assert isinstance(err.path, str)
    if err.line is not None:
        # YAML 1.1 also breaks lines at CR, NEL, LS and PS, not only at LF
        breaks = len(re.findall("\r\n|[\n\r\x85\u2028\u2029]", text))
        assert 1 <= err.line <= breaks + 2
    if err.column is not None:
        assert err.line is not None
        assert err.column >= 1
    assert str(err).startswith("<string>")


@settings(max_examples=300)
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    # A trailing newline makes every string YAML text rather than a path or a built-in name.
    _check(text + "\n")


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_decoded_leniently(data: bytes) -> None:
    _check(data.decode("utf-8", errors="replace") + "\n")


@settings(max_examples=300)
@given(DOCUMENTS, st.booleans())
def test_arbitrary_yaml_documents(document: Any, flow: bool) -> None:
    _check(yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True) + "\n")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_paths(item, (*prefix, i)))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def mutated_rulesets(draw: st.DrawFn) -> Any:
    data: Any = yaml.safe_load(BASE_TEXT)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        key = path[-1]
        action = draw(st.sampled_from(["delete", "replace", "rename", "copy"]))
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(DOCUMENTS)
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(WORDS) | st.text(max_size=6))] = parent.pop(key)
        elif action == "copy":
            other = _parent(data, (*draw(st.sampled_from(paths)), None))
            parent[key] = copy.deepcopy(other)
    return data


@settings(max_examples=200)
@given(mutated_rulesets())
def test_mutated_valid_rulesets(document: Any) -> None:
    _check(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


@settings(max_examples=300)
@given(st.data())
def test_text_edits_of_a_valid_ruleset(data: st.DataObject) -> None:
    lines = BASE_TEXT.splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        edit = data.draw(st.sampled_from(["delete", "duplicate", "insert", "swap", "indent"]))
        if edit == "delete" and len(lines) > 1:
            del lines[i]
        elif edit == "duplicate":
            lines.insert(i, lines[i])
        elif edit == "insert":
            line = lines[i]
            at = data.draw(st.integers(0, len(line)))
            extra = data.draw(
                st.sampled_from([":", "-", "&a ", "*a", "[", "}", "'", "#", "\t", "  "])
            )
            lines[i] = line[:at] + extra + line[at:]
        elif edit == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif edit == "indent":
            lines[i] = "  " + lines[i]
    _check("".join(lines))


def test_the_unmutated_base_loads() -> None:
    assert isinstance(load_ruleset(BASE_TEXT), Ruleset)
    assert BASE["ruleset"] == "caseload"
