"""Parallel scoring tells the user, on a terminal, when the machine has too few cores."""

from __future__ import annotations

import io
from typing import Any

import pytest

from riskrules import Scorer
from riskrules.scoring import _parallel
from riskrules.scoring._parallel import parallel_notice


@pytest.mark.parametrize(("workers", "cores"), [(2, 1), (2, 2), (4, 2), (3, 3), (8, 4)])
def test_notice_when_workers_cannot_pay(workers: int, cores: int) -> None:
    notice = parallel_notice(workers, cores)
    assert notice is not None
    assert "\n" not in notice
    assert "docs/scaling.md" in notice


@pytest.mark.parametrize(("workers", "cores"), [(2, 3), (3, 4), (7, 8)])
def test_no_notice_when_workers_fit(workers: int, cores: int) -> None:
    assert parallel_notice(workers, cores) is None


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_score_many_prints_the_notice_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parallel, "available_cores", lambda: 2)
    assessments = [{"clinician": {"active_clients": n}} for n in range(4)]
    with Scorer("default", engine="native") as scorer:
        terminal = Terminal()
        monkeypatch.setattr("sys.stderr", terminal)
        serial = [r.model_dump_json() for r in scorer.score_many(assessments)]
        parallel = [r.model_dump_json() for r in scorer.score_many(assessments, workers=2)]
        assert parallel == serial
        assert terminal.getvalue().count("\n") == 1
        assert "2 workers on 2 CPU core(s)" in terminal.getvalue()
        piped = io.StringIO()
        monkeypatch.setattr("sys.stderr", piped)
        list(scorer.score_many(assessments, workers=2))
        assert piped.getvalue() == ""


@pytest.mark.parametrize(
    ("count", "workers", "size", "expected"),
    [
        (None, 2, 256, 256),  # a stream of unknown length: the given size
        (100_000, 4, 256, 256),  # long input: the given size
        (300, 2, 256, 38),  # short input: about four chunks per worker
        (40, 2, 256, 16),  # never below 16 records a chunk
        (10, 4, 8, 8),  # never above the given size
    ],
)
def test_chunk_sizes_share_short_inputs(
    count: int | None, workers: int, size: int, expected: int
) -> None:
    assert _parallel.chunk_size_for(count, workers, size) == expected


def test_short_input_is_spread_over_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real = _parallel._chunks

    def recording(items: Any, size: int) -> Any:
        sizes.append(size)
        return real(items, size)

    monkeypatch.setattr(_parallel, "_chunks", recording)
    assessments = [{"clinician": {"active_clients": n % 60}} for n in range(300)]
    with Scorer("default", engine="native") as scorer:
        serial = [r.model_dump_json() for r in scorer.score_many(assessments)]
        parallel = [r.model_dump_json() for r in scorer.score_many(assessments, workers=2)]
    assert parallel == serial
    assert sizes == [38]


@pytest.mark.parametrize(("engine", "raw"), [("native", True), ("closure", False)])
def test_workers_send_results_the_parent_assembles(engine: str, raw: bool) -> None:
    """A native Scorer's workers send the generated code's results, which the parent's own
    assembler turns into the report a single process gives; other engines send JSON."""
    from riskrules import load_ruleset

    ruleset = load_ruleset("default")
    assessments: list[dict[str, Any]] = [
        {"clinician": {"active_clients": n, "proqol": {"burnout": n}}} for n in (10, 40, 45)
    ]
    with Scorer(ruleset, engine=engine) as parent:
        _parallel._start_worker(ruleset, parent.params, engine, raw)
        try:
            sent = _parallel._score_chunk(assessments, "return")
        finally:
            _parallel._worker_scorer.close()
        assemble = parent._fast[2] if parent._fast is not None else None
        for item, assessment in zip(sent, assessments, strict=True):
            assert isinstance(item, tuple) is raw
            report = assemble(*item) if isinstance(item, tuple) else None
            if report is not None:
                assert report.model_dump_json() == parent.score(assessment).model_dump_json()
                assert report.engine == "native"
