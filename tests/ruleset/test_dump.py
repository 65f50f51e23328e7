"""Dumping rulesets: the schema comment, round trips, and quoting that YAML 1.1 readers need."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from riskrules import dump_ruleset, load_ruleset

CASELOAD = Path(__file__).parents[1] / "data" / "caseload.yaml"
MINIMAL = "ruleset: demo\nversion: '1'\ntitle: Demo\n"


def test_dump_starts_with_the_schema_comment() -> None:
    ruleset = load_ruleset(CASELOAD)
    text = dump_ruleset(ruleset)
    assert text.startswith("# yaml-language-server: $schema=../schemas/ruleset.schema.json\n")
    other = dump_ruleset(ruleset, schema="https://example.org/ruleset.schema.json")
    assert other.splitlines()[0].endswith("$schema=https://example.org/ruleset.schema.json")


def test_dump_round_trips_the_fixture() -> None:
    ruleset = load_ruleset(CASELOAD)
    again = load_ruleset(dump_ruleset(ruleset))
    assert again == ruleset
    assert again.fingerprint == ruleset.fingerprint
    assert dump_ruleset(again) == dump_ruleset(ruleset)


def test_dumped_text_quotes_what_yaml_11_readers_would_misread() -> None:
    text = MINIMAL.replace("title: Demo", "title: 'yes'") + (
        "description: '2024-01-01'\n"
        "references:\n"
        "  a: {citation: 'on', note: '0x1F', url: '1_000'}\n"
        "  b: {citation: '12:30', note: 'null', url: '1.0'}\n"
    )
    ruleset = load_ruleset(text)
    dumped = dump_ruleset(ruleset)
    assert load_ruleset(dumped) == ruleset
    as_yaml_11: dict[str, Any] = yaml.safe_load(dumped)
    assert as_yaml_11["title"] == "yes"
    assert as_yaml_11["description"] == "2024-01-01"
    assert as_yaml_11["references"]["a"] == {"citation": "on", "note": "0x1F", "url": "1_000"}
    assert as_yaml_11["references"]["b"] == {"citation": "12:30", "note": "null", "url": "1.0"}
