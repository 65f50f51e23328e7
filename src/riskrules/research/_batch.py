"""Batch scoring of a cohort file into a result file (``riskrules batch``).

:func:`score_file` streams a cohort through a Scorer (in one or several processes) and writes one
result row per record; the output appears only once complete (rows go to a temporary file that
is renamed at the end). Bad records stop the run with a located :class:`RecordError`, or are
listed in an errors file and skipped. :class:`Progress` draws the progress line on a terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from riskrules.errors import AssessmentError, RecordError
from riskrules.research._cohort import Record, count_records, iter_records
from riskrules.research._fields import UNKNOWN_FIELDS, UnknownFields, drop_undeclared
from riskrules.research._formats import detect_format
from riskrules.research._rows import RowWriter, report_row, result_columns
from riskrules.ruleset._spec import Ruleset

__all__ = ["BatchSummary", "Progress", "score_file"]


class Progress:
    """A one-line progress display (records, records/s, ETA when the total is known).

    It draws only when ``stream`` is a terminal, so piped or redirected output stays clean.
    """

    def __init__(
        self, total: int | None = None, stream: IO[str] | None = None, interval: float = 0.2
    ) -> None:
        self._stream = sys.stderr if stream is None else stream
        isatty = getattr(self._stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self.total = total
        self.count = 0
        self._start = time.monotonic()
        self._last = 0.0
        self._interval = interval

    def update(self, n: int = 1) -> None:
        """Count ``n`` more records and redraw at most every ``interval`` seconds."""
        self.count += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self._start, 1e-9)
        rate = self.count / elapsed
        text = f"{self.count}"
        if self.total:
            text += f"/{self.total} ({100 * self.count / self.total:.0f}%)"
        text += f" records, {rate:,.0f} records/s"
        if self.total and rate > 0:
            remaining = max(self.total - self.count, 0) / rate
            text += f", ETA {int(remaining) // 60}:{int(remaining) % 60:02d}"
        self._stream.write("\r" + text + "\x1b[K")
        self._stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw(time.monotonic())
            self._stream.write("\n")
            self._stream.flush()


class BatchSummary(NamedTuple):
    """What :func:`score_file` did: rows written, records skipped and where they are listed."""

    scored: int
    skipped: int
    errors_path: Path | None
    ignored_fields: int | None = None
    """Fields left out because the ruleset does not declare them (``unknown_fields="ignore"``)."""


def _closing(results: Iterator[Any]) -> Iterator[Any]:
    """Iterate and close ``results`` even when the caller stops early (worker processes end)."""
    try:
        yield from results
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _errors_target(
    target: Path, on_error: str, errors_path: str | os.PathLike[str] | None
) -> Path | None:
    """Where skipped records are listed: nowhere when failing, else ``errors_path`` or
    ``<out>.errors.jsonl``."""
    if on_error == "fail":
        return None
    if errors_path is not None:
        return Path(errors_path)
    return target.with_name(target.name + ".errors.jsonl")


def _open_errors(path: Path | None) -> contextlib.AbstractContextManager[IO[str] | None]:
    """The errors file opened for writing, or nothing when bad records fail the run."""
    if path is None:
        return contextlib.nullcontext(None)
    return path.open("w", encoding="utf-8")


def _progress(cohort: str | os.PathLike[str], kind: str, stream: IO[str] | None) -> Progress:
    """A progress line on ``stream``, with the total when the stream is a terminal."""
    bar = Progress(stream=stream)
    if bar.enabled:
        try:
            bar.total = count_records(cohort, format=kind)
        except Exception:  # the scoring pass reports a broken file properly
            bar.total = None
    return bar


def _assessments(
    records: Iterable[Record],
    pending: deque[tuple[int, str | None]],
    drop: Ruleset | None = None,
    ignored: list[int] | None = None,
) -> Iterator[dict[str, Any]]:
    """The records' assessments; each record's index and id wait in ``pending`` for its result.
    With ``drop``, the fields that ruleset does not declare are left out (counted in
    ``ignored[0]``)."""
    for record in records:
        pending.append((record.index, record.id))
        if drop is None:
            yield record.assessment
        else:
            kept, dropped = drop_undeclared(record.assessment, drop)
            if ignored is not None:
                ignored[0] += dropped
            yield kept


def _error_entry(index: int, record_id: str | None, error: AssessmentError) -> str:
    """One line of the errors file: where the skipped record is and why it was skipped."""
    entry = {
        "index": index,
        "id": record_id,
        "field": error.field,
        "constraint": error.constraint,
        "error": str(error),
    }
    return json.dumps(entry) + "\n"


def _write_results(
    results: Iterator[Any],
    pending: deque[tuple[int, str | None]],
    writer: RowWriter,
    errors_file: IO[str] | None,
    bar: Progress,
    source: str,
) -> tuple[int, int]:
    """Write each result as a row (or a bad record to ``errors_file``); (scored, skipped)."""
    scored = skipped = 0
    for result in _closing(results):
        index, record_id = pending.popleft()
        bar.update()
        if isinstance(result, AssessmentError):
            if errors_file is None:
                raise RecordError(source, index, record_id, result)
            skipped += 1
            errors_file.write(_error_entry(index, record_id, result))
            continue
        writer.write(report_row(result, record_id))
        scored += 1
    return scored, skipped


def score_file(
    cohort: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    scorer: Any,
    cohort_format: str | None = None,
    out_format: str | None = None,
    id_column: str = "id",
    workers: int = 1,
    on_error: str = "fail",
    errors_path: str | os.PathLike[str] | None = None,
    progress: IO[str] | None = None,
    unknown_fields: UnknownFields = "error",
) -> BatchSummary:
    """Score every record of ``cohort`` with ``scorer`` and write one row per record to ``out``.

    ``on_error="fail"`` stops at the first bad record with a :class:`RecordError` and leaves no
    output file (rows go to a temporary file that is renamed only at the end). ``"skip"`` writes
    each bad record's index, id and located error to ``errors_path`` (default
    ``<out>.errors.jsonl``) and carries on; when no record was skipped no errors file is
    written. A run that completes removes errors files of earlier runs beside ``out`` (the
    default one and ``errors_path``) unless it wrote them. SIGINT and SIGTERM stop the run and
    remove its temporary files. ``progress`` is the stream for the progress line
    (drawn only if it is a terminal). ``unknown_fields="ignore"`` leaves out of each record
    the fields the ruleset does not declare, before it is scored, and counts them.
    """
    if unknown_fields not in UNKNOWN_FIELDS:
        raise ValueError(f"unknown_fields is 'error' or 'ignore', not {unknown_fields!r}")
    if on_error not in ("skip", "fail"):
        raise ValueError(f"on_error must be 'skip' or 'fail', not {on_error!r}")
    source = os.fspath(cohort)
    kind_in = detect_format(cohort, cohort_format)
    target = Path(out)
    kind_out = detect_format(target, out_format)
    errors_target = _errors_target(target, on_error, errors_path)
    ruleset = scorer.ruleset
    bar = _progress(cohort, kind_in, progress)
    records = iter_records(cohort, ruleset=ruleset, format=kind_in, id_column=id_column)
    pending: deque[tuple[int, str | None]] = deque()
    ignored = [0]
    temp_out = _temporary(target)
    temp_errors = None if errors_target is None else _temporary(errors_target)
    try:
        with (
            _signals_as_exit(),
            contextlib.closing(bar),
            _open_errors(temp_errors) as errors_file,
            RowWriter(temp_out, result_columns(ruleset), kind_out) as writer,
        ):
            drop = ruleset if unknown_fields == "ignore" else None
            assessments = _assessments(records, pending, drop, ignored)
            results = scorer.score_many(assessments, workers=workers, on_error="return")
            scored, skipped = _write_results(results, pending, writer, errors_file, bar, source)
        os.replace(temp_out, target)
        if skipped and temp_errors is not None and errors_target is not None:
            os.replace(temp_errors, errors_target)
    except BaseException:
        for temp in (temp_out, temp_errors):
            if temp is not None:
                temp.unlink(missing_ok=True)
        raise
    if temp_errors is not None:
        temp_errors.unlink(missing_ok=True)
    written = errors_target if skipped else None
    _remove_stale(target, errors_target, written)
    return BatchSummary(
        scored, skipped, written, ignored[0] if unknown_fields == "ignore" else None
    )


def _remove_stale(target: Path, errors_target: Path | None, written: Path | None) -> None:
    """Remove errors files of earlier runs that would sit beside the new results unrelated to
    them: the default ``<out>.errors.jsonl`` and the chosen errors file, unless just written."""
    for stale in {target.with_name(target.name + ".errors.jsonl"), errors_target}:
        if stale is not None and stale != written:
            stale.unlink(missing_ok=True)


class _Terminated(SystemExit):
    """SIGTERM arrived: unwind like Ctrl-C so that temporary files are removed."""


@contextlib.contextmanager
def _signals_as_exit() -> Iterator[None]:
    """While a batch runs, SIGTERM raises (as SIGINT already does), so that the cleanup of the
    temporary files runs; the previous handler comes back afterwards. Only the main thread may
    set handlers: elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise _Terminated(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
