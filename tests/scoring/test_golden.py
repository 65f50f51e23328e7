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


def test_trusted_reports_are_valid_data() -> None:
    """Reports are built without validation; validating their JSON again changes nothing and
    serialising them warns about no unexpected types."""
    import warnings

    from riskrules import RiskReport

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, text in GOLDEN_REPORTS.reports("native"):
            again = RiskReport.model_validate_json(text)
            assert again.model_dump_json() == text, name


def test_reports_do_not_share_mutable_parts() -> None:
    from riskrules import Scorer

    assessment = {"clinician": {"active_clients": 40}}
    with Scorer("default", engine="native") as scorer:
        first, second = scorer.score(assessment), scorer.score(assessment)
    assert first.params is not second.params
    assert first.hazards is not second.hazards
    assert first.model_dump_json() == second.model_dump_json()


def test_varied_cohorts_skip_the_shape_cache_with_the_same_reports() -> None:
    from riskrules import Scorer
    from riskrules.research._synth import synthesize

    records = [{k: v for k, v in r.items() if k != "id"} for r in synthesize(1100, seed=5)]
    # the reference aggregation (closure and durable engines) caches report shapes
    with (
        Scorer("default", engine="closure") as varied,
        Scorer("default", engine="closure") as fresh,
    ):
        texts = [varied.score(r).model_dump_json() for r in records]
        aggregate = varied._aggregate
        assert aggregate._shape is not aggregate._cached_shape  # switched to direct builds
        for record, text in list(zip(records, texts, strict=True))[-50:]:
            assert fresh.score(record).model_dump_json() == text
            assert varied.score(record).model_dump_json() == text
