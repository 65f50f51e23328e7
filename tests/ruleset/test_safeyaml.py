"""Safe YAML: YAML 1.2 core scalars, duplicate keys, depth caps, malformed text, pure Python."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from riskrules import RulesetError, load_ruleset
from riskrules.ruleset import _safeyaml as safeyaml
from riskrules.ruleset._locations import source_location

CASELOAD = Path(__file__).parents[1] / "data" / "caseload.yaml"
HEADER = "# yaml-language-server: $schema=../schemas/ruleset.schema.json\n"
MINIMAL = "ruleset: demo\nversion: '1'\ntitle: Demo\n"


def _scalar(text: str) -> Any:
    node = safeyaml.parse(f"v: {text}\n", file="<test>")
    assert node is not None
    return safeyaml.to_data(node)["v"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("yes", "yes"),
        ("No", "No"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("12", 12),
        ("-7", -7),
        ("+5", 5),
        ("017", 17),
        ("0x1F", "0x1F"),
        ("0o17", "0o17"),
        ("1_000", "1_000"),
        ("12:30", "12:30"),
        ("1.5", 1.5),
        ("-2e3", -2000.0),
        (".5", 0.5),
        ("1e-07", 1e-07),
        ("1.0e+16", 1e16),
        ("5.", 5.0),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        ("2024-01-01", "2024-01-01"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("null", None),
        ("~", None),
        ("", None),
        ("'true'", "true"),
        ('"12"', "12"),
        ("!!str 12", "12"),
        ("!!float 3", 3.0),
        ("! 12", "12"),
        ("<<", "<<"),
        ("=", "="),
    ],
)
def test_plain_scalars_follow_the_yaml_12_core_schema(text: str, value: Any) -> None:
    got = _scalar(text)
    assert got == value
    assert type(got) is type(value)


def test_nan_is_read_so_that_the_model_can_reject_it() -> None:
    assert math.isnan(_scalar(".nan"))
    assert math.isnan(_scalar(".NaN"))


def test_dates_stay_text_in_a_ruleset() -> None:
    ruleset = load_ruleset("ruleset: demo\nversion: 2024-01-01\ntitle: Demo\n")
    assert ruleset.version == "2024-01-01"


def test_duplicate_keys_are_found_at_any_depth() -> None:
    text = MINIMAL + "hazards:\n  h:\n    title: H\n    bands: {low: 0, low: 1}\n"
    with pytest.raises(RulesetError) as caught:
        load_ruleset(text)
    err = caught.value
    assert (err.message, err.line, err.column, err.path) == (
        "duplicate key 'low' (first defined at line 7)",
        7,
        21,
        "hazards.h.bands",
    )


def test_keys_that_are_not_identifiers_are_quoted_in_paths() -> None:
    text = MINIMAL + "inputs:\n  clinician.active_clients: {type: integer, min: x}\n"
    with pytest.raises(RulesetError) as caught:
        load_ruleset(text)
    assert caught.value.path == "inputs['clinician.active_clients'].min"
    assert caught.value.message == "expected a number, got 'x'"


def test_the_pure_python_parser_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    text = CASELOAD.read_text(encoding="utf-8")
    with_libyaml = load_ruleset(text)
    where = source_location(with_libyaml, ("rules", 1, "when", "all", 1, "gte"))
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    without = load_ruleset(text)
    assert without == with_libyaml
    assert source_location(without, ("rules", 1, "when", "all", 1, "gte")) == where
    for bad, message in [
        ("title: a\x01b\n", "invalid YAML: special characters are not allowed"),
        ("a: &x [1, *x]\n", "recursive alias '*x' (it refers to itself)"),
        ("a: 1\na: 2\n", "duplicate key 'a' (first defined at line 1)"),
        ("a: [\n", "invalid YAML: "),
    ]:
        with pytest.raises(RulesetError) as caught:
            load_ruleset(bad)
        assert caught.value.message.startswith(message)
        assert caught.value.line is not None


def test_nesting_deeper_than_the_cap_is_rejected() -> None:
    text = "description: " + "[" * 150 + "]" * 150 + "\n"
    with pytest.raises(RulesetError) as caught:
        load_ruleset(text)
    assert caught.value.message == "nesting deeper than 100 levels"
    assert (caught.value.line, caught.value.column) == (1, 14 + 99)


def test_aliases_cannot_smuggle_depth_past_the_cap() -> None:
    deep = "[" * 60 + "]" * 60
    text = f"a: &a {deep}\nb: {'[' * 42}*a{']' * 42}\n"
    with pytest.raises(RulesetError, match="nesting deeper than 100 levels"):
        load_ruleset(text)


def test_unicode_that_cannot_be_encoded_is_a_ruleset_error() -> None:
    with pytest.raises(RulesetError, match="not valid Unicode"):
        load_ruleset("ruleset: x\ntitle: \ud800\n")


def test_control_characters_are_located() -> None:
    with pytest.raises(RulesetError) as caught:
        load_ruleset("ruleset: x\ntitle: a\x01b\n")
    assert caught.value.message == "invalid YAML: control characters are not allowed"
    assert (caught.value.line, caught.value.column) == (2, 9)


def test_files_that_are_not_utf8_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(HEADER.encode() + "title: caf\xe9\n".encode("latin-1"))
    with pytest.raises(RulesetError) as caught:
        load_ruleset(path)
    assert caught.value.message == "the file is not UTF-8 text"
    assert caught.value.line == 2


def test_a_second_document_is_rejected() -> None:
    with pytest.raises(RulesetError) as caught:
        load_ruleset("ruleset: a\n---\nruleset: b\n")
    assert caught.value.message == "expected a single YAML document, found another one"
    assert caught.value.line == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the ruleset file is empty"),
        ("# only a comment\n", "the ruleset file is empty"),
        ("just words\nover two lines\n", "a ruleset file must be a mapping of sections, not "),
        ("description: *nothing\n", "undefined alias '*nothing'"),
        ("description: !!binary aGVsbG8=\n", "unsupported tag '!!binary'"),
        ("description: !custom x\n", "unsupported tag '!custom'"),
        ("levels: !!set {a, b}\n", "unsupported tag '!!set'"),
        ("? [a, b]\n: c\n", "mapping keys must be strings, not a list"),
        ("null: x\n", "mapping keys must be strings, not null"),
        ("true: x\n", "mapping keys must be strings, not boolean true"),
        ("x: !!int '12.5'\n", "'12.5' is not a decimal integer"),
    ],
)
def test_malformed_yaml_messages(text: str, message: str) -> None:
    with pytest.raises(RulesetError) as caught:
        load_ruleset(text)
    assert caught.value.message.startswith(message)
    assert caught.value.file == "<string>"
