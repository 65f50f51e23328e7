"""Synthetic cohorts: valid for the default ruleset, deterministic, correlated, with gaps."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from riskrules import Scorer, load_ruleset
from riskrules.cli import main
from riskrules.research._synth import ID_PREFIX, synthesize, write_synthetic

RULESET = load_ruleset("default")


@pytest.fixture(scope="module")
def scorer() -> Any:
    with Scorer(RULESET, engine="native") as s:
        yield s


def inputs(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "id"}


@pytest.mark.parametrize("seed", [0, 1, 17])
@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_every_record_scores_without_error(scorer: Any, seed: int, missing: float) -> None:
    for record in synthesize(300, seed, missing=missing):
        assert set(inputs(record)) <= set(RULESET.inputs)
        scorer.score(inputs(record))  # raises AssessmentError on any invalid value


def test_ids_label_the_records_as_synthetic() -> None:
    ids = [r["id"] for r in synthesize(3, 0)]
    assert ids == ["synthetic-000001", "synthetic-000002", "synthetic-000003"]
    assert all(i.startswith(ID_PREFIX) for i in ids)


def test_deterministic_for_a_seed() -> None:
    assert list(synthesize(50, 9)) == list(synthesize(50, 9))
    assert list(synthesize(50, 9)) != list(synthesize(50, 10))


def test_every_declared_input_is_generated() -> None:
    seen: set[str] = set()
    for record in synthesize(500, 2, missing=0.0):
        seen.update(inputs(record))
    assert seen == set(RULESET.inputs)


def test_instrument_consistency_and_skip_pattern() -> None:
    for record in synthesize(1500, 3, missing=0.2):
        c, total = record.get("client.audit_c.total"), record.get("client.audit.total")
        if c is not None and total is not None:
            assert c <= total
        if c is not None:
            assert c <= 12
        for item in ("client.audit.item9", "client.audit.item10"):
            assert record.get(item, 0) in (0, 2, 4)
        for q in ("q3", "q4", "q5"):
            if f"client.cssrs.{q}" in record:
                assert record["client.cssrs.q2"] is True
        if "client.cssrs.q6_past_3_months" in record:
            assert record["client.cssrs.q6_lifetime"] is True


def test_correlations() -> None:
    rows = list(synthesize(2000, 4, missing=0.0))
    caseloads = sorted(r["clinician.active_clients"] for r in rows)
    top = caseloads[3 * len(caseloads) // 4]
    bottom = caseloads[len(caseloads) // 4]

    def mean(field: str, keep: Any) -> float:
        return statistics.fmean(r[field] for r in rows if keep(r))

    assert mean("clinician.proqol.burnout", lambda r: r["clinician.active_clients"] >= top) > (
        mean("clinician.proqol.burnout", lambda r: r["clinician.active_clients"] <= bottom) + 2
    )
    assert mean("clinician.cbi.work", lambda r: r["clinician.active_clients"] >= top) > mean(
        "clinician.cbi.work", lambda r: r["clinician.active_clients"] <= bottom
    )
    share = [r["clinician.trauma_sessions_share"] for r in rows]
    sts = [r["clinician.proqol.secondary_traumatic_stress"] for r in rows]
    assert statistics.correlation(share, sts) > 0.3
    hours = [r["clinician.direct_hours_per_week"] for r in rows]
    clients = [r["clinician.active_clients"] for r in rows]
    assert statistics.correlation(clients, hours) > 0.5


def test_most_hazards_are_low(scorer: Any) -> None:
    levels = [scorer.score(inputs(r)).hazards for r in synthesize(400, 6, missing=0.0)]
    for hazard in RULESET.hazards:
        low = sum(h[hazard].level == "low" for h in levels)
        assert low > 0.6 * len(levels), hazard


@pytest.mark.parametrize("missing", [0.1, 0.4])
def test_missing_share(missing: float) -> None:
    rows = list(synthesize(400, 8, missing=missing))
    # follow-up C-SSRS questions are asked of few people: count the always-asked inputs
    asked = [
        n
        for n in RULESET.inputs
        if not n.startswith("client.cssrs.q")
        or n in ("client.cssrs.q1", "client.cssrs.q2", "client.cssrs.q6_lifetime")
    ]
    absent = sum(name not in r for r in rows for name in asked)
    share = absent / (len(rows) * len(asked))
    assert abs(share - missing) < 0.03


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="missing"):
        next(synthesize(1, 0, missing=1.5))
    with pytest.raises(ValueError, match="n must"):
        next(synthesize(-1, 0))


def test_files_in_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = list(synthesize(40, 11, missing=0.2))
    assert main(["synth", "--n", "40", "--seed", "11", "--missing", "0.2"]) == 0
    out = capsys.readouterr().out
    assert [json.loads(line) for line in out.splitlines()] == expected

    assert main(["synth", "--n", "40", "--seed", "11", "--out", str(tmp_path / "s.jsonl")]) == 0
    lines = (tmp_path / "s.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [r["id"] for r in expected]

    assert write_synthetic(tmp_path / "s.csv", 40, 11, missing=0.2) == 40
    header = (tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == ["id", *RULESET.inputs]

    assert write_synthetic(tmp_path / "s.parquet", 40, 11, missing=0.2) == 40
    parquet = pq.ParquetFile(tmp_path / "s.parquet")
    assert parquet.schema_arrow.metadata[b"riskrules.synthetic"] == b"true"
    rows = parquet.read().to_pylist()
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
