"""What ``riskrules batch`` leaves on disk: the results, an errors file only when records were
skipped, nothing stale from earlier runs, and no temporary file after SIGTERM or SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from riskrules.cli import main
from riskrules.research._synth import write_synthetic

SRC = Path(__file__).resolve().parents[2] / "src"


def batch(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(["batch", "--engine", "native", *argv])
    return status, capsys.readouterr().err


def good_cohort(tmp_path: Path) -> Path:
    path = tmp_path / "cohort.jsonl"
    path.write_text('{"id": "a", "clinician": {"active_clients": 3}}\n', encoding="utf-8")
    return path


def test_no_errors_file_when_nothing_was_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort = good_cohort(tmp_path)
    out = tmp_path / "r.jsonl"
    status, err = batch(capsys, str(cohort), "--out", str(out), "--on-error", "skip")
    assert status == 0
    assert "skipped" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.jsonl", "r.jsonl"]


def test_stale_errors_file_is_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cohort = good_cohort(tmp_path)
    out = tmp_path / "r.jsonl"
    stale = tmp_path / "r.jsonl.errors.jsonl"
    custom = tmp_path / "mine.jsonl"
    for argv in (["--on-error", "skip"], [], ["--on-error", "skip", "--errors", str(custom)]):
        stale.write_text('{"index": 0, "error": "from an earlier run"}\n', encoding="utf-8")
        custom.write_text('{"index": 0, "error": "from an earlier run"}\n', encoding="utf-8")
        status, _ = batch(capsys, str(cohort), "--out", str(out), *argv)
        assert status == 0
        assert not stale.exists(), argv
    assert not custom.exists()


def test_errors_file_of_this_run_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text('{"id": "a"}\nnot json\n', encoding="utf-8")
    out = tmp_path / "r.jsonl"
    status, err = batch(capsys, str(cohort), "--out", str(out), "--on-error", "skip")
    assert status == 0
    assert "skipped 1" in err
    errors = (tmp_path / "r.jsonl.errors.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["index"] for line in errors] == [1]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_leaves_no_temporary_file(tmp_path: Path, signum: int) -> None:
    cohort = tmp_path / "cohort.jsonl"
    write_synthetic(cohort, 20_000, 1, missing=0.2)
    lines = cohort.read_text(encoding="utf-8").splitlines()
    lines[3] = "not json"  # a skipped record: the errors file is being written too
    cohort.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    argv = [sys.executable, "-m", "riskrules", "batch", str(cohort), "--out", str(out)]
    process = subprocess.Popen(
        [*argv, "--engine", "native", "--on-error", "skip"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
        assert process.poll() is None, "the batch ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.2)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert b"Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.jsonl"]
