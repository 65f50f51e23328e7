"""The worked variant example of ``docs/research.md`` runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import riskrules
from riskrules.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "research.md"
SECTION = DOC.read_text("utf-8").split("## Variants", 1)[1].split("\n## ", 1)[0]


def _block(kind: str) -> str:
    blocks = re.findall(rf"```{kind}\n(.*?)```", SECTION, flags=re.DOTALL)
    assert len(blocks) == 1, f"expected one {kind} block in the variants section"
    return str(blocks[0])


@pytest.fixture
def variant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "stricter_caseload.yaml"
    path.write_text(_block("yaml"), "utf-8")
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text(
        "".join(f'{{"id": "r{n}", "clinician": {{"active_clients": {n}}}}}\n' for n in (20, 30)),
        "utf-8",
    )
    return path


def test_the_example_variant_passes_its_scenarios(
    variant: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["test", variant.name]) == 0
    err = capsys.readouterr().err
    assert "replaces parameter max_active_clients; disables rule caseload.long_hours" in err


def test_diff_prints_the_overrides_the_doc_shows(
    variant: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "default", variant.name]) == 1
    out = capsys.readouterr().out
    assert _block("text") in out
    assert "~ max_active_clients: default: 35 -> 28" in out
    assert "- caseload.long_hours: removed" in out


def test_the_python_lines_run(variant: Path) -> None:
    namespace: dict[str, object] = {"riskrules": riskrules}
    exec(_block("python"), namespace)
    result = namespace["result"]
    assert isinstance(result, riskrules.Comparison)
    assert [c.id for c in result.changed] == ["r30"]


def test_compare_on_the_command_line(variant: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "default", variant.name, "--cohort", "cohort.jsonl"]) == 0
    out = capsys.readouterr().out
    assert "B: stricter_caseload 1.0.0" in out
    assert "Records: 2;" in out


def test_diff_json_lists_the_overrides_of_a_variant(
    variant: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert main(["diff", "default", variant.name, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["overrides"]["a"] == []
    assert [(o["action"], o["kind"], o["name"]) for o in data["overrides"]["b"]] == [
        ("replaces", "parameter", "max_active_clients"),
        ("disables", "rule", "caseload.long_hours"),
    ]
    assert main(["diff", "default", "default", "--format", "json"]) == 0
    assert "overrides" not in json.loads(capsys.readouterr().out)
