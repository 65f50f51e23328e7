"""The committed JSON Schema is what the models generate, and every ruleset file points at it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riskrules.cli import main
from riskrules.ruleset._dump import SCHEMA_COMMENT, ruleset_json_schema

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas" / "ruleset.schema.json"
REGENERATE = "riskrules schema ruleset --output schemas/ruleset.schema.json"


def test_the_committed_schema_is_up_to_date() -> None:
    assert COMMITTED.is_file(), (
        f"schemas/ruleset.schema.json is missing; create it with: {REGENERATE}"
    )
    committed = COMMITTED.read_text(encoding="utf-8")
    assert committed == ruleset_json_schema(), (
        f"schemas/ruleset.schema.json is stale; regenerate it with: {REGENERATE}"
    )


def test_the_schema_is_deterministic_sorted_json_with_a_final_newline() -> None:
    text = ruleset_json_schema()
    assert text == ruleset_json_schema()
    assert text.endswith("}\n")
    schema = json.loads(text)
    assert json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert {"ruleset", "include", "rules", "inputs", "hazards", "protocols", "tests"} <= set(
        schema["properties"]
    )
    # A condition is exactly one of the six kinds.
    assert len(schema["$defs"]["Rule"]["properties"]["when"]["oneOf"]) == 6


def test_the_cli_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "ruleset"]) == 0
    assert capsys.readouterr().out == ruleset_json_schema()


def test_the_cli_writes_and_checks_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "ruleset.schema.json"
    assert main(["schema", "ruleset", "--check", "--output", str(target)]) == 1
    assert f"{target} is missing; regenerate it with: riskrules schema ruleset --output " in (
        capsys.readouterr().err
    )
    assert main(["schema", "ruleset", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == ruleset_json_schema()
    assert main(["schema", "ruleset", "--check", "--output", str(target)]) == 0
    target.write_text("{}\n", encoding="utf-8")
    assert main(["schema", "ruleset", "--check", "--output", str(target)]) == 1
    assert f"{target} is stale; regenerate it with:" in capsys.readouterr().err


def test_the_cli_check_defaults_to_the_committed_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["schema", "ruleset", "--check"]) == 0


def test_the_cli_rejects_unknown_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "nope"]) == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
    assert main([]) == 2


def _ruleset_files() -> list[Path]:
    found: list[Path] = []
    for folder in ("rulesets", "examples", "tests/data"):
        found.extend(sorted((ROOT / folder).rglob("*.yaml")))
        found.extend(sorted((ROOT / folder).rglob("*.yml")))
    return found


def test_every_ruleset_file_names_the_schema_on_its_first_line() -> None:
    files = _ruleset_files()
    assert files, "no YAML files found"
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        name = path.relative_to(ROOT)
        assert first.startswith(SCHEMA_COMMENT), f"{name}: first line must be {SCHEMA_COMMENT}..."
        target = (path.parent / first[len(SCHEMA_COMMENT) :].strip()).resolve()
        assert target == COMMITTED, f"{name}: the schema comment points at {target}"
