"""Parallel scoring tells the user, on a terminal, when the machine has too few cores."""

from __future__ import annotations

import io

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
