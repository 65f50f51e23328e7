"""Report JSON pinned byte for byte: every example and every default-ruleset scenario, on every
engine, must serialise exactly as stored in ``tests/data/golden`` (written by
``scripts/golden_reports.py``; regenerate them only for an intended change of report JSON)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from engines_here import ENGINES

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "golden_reports", ROOT / "scripts" / "golden_reports.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GOLDEN_REPORTS = _script()


def test_every_case_has_a_golden_file() -> None:
    names = [name for name, _, _ in GOLDEN_REPORTS.cases()]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(p.name for p in GOLDEN.glob("*.json"))
    assert any(n.startswith("example-") for n in names)
    assert any(n.startswith("scenario-") for n in names)


@pytest.mark.parametrize("engine", ENGINES)
def test_reports_match_golden_json(engine: str) -> None:
    for name, text in GOLDEN_REPORTS.reports(engine):
        expected = (GOLDEN / name).read_text(encoding="utf-8")
        assert text == expected, f"{engine}: report JSON of {name} differs from the golden file"
