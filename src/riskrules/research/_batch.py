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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeAlias

from riskrules.errors import AssessmentError, RecordError
from riskrules.report import RiskReport
from riskrules.research._cohort import Record, UnreadableRecord, count_records, iter_records
from riskrules.research._fields import UNKNOWN_FIELDS, UnknownFields, drop_undeclared
from riskrules.research._formats import detect_format
from riskrules.research._rows import RowWriter, report_writer, result_columns
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
        _close(results)


def _close(iterator: Iterator[Any]) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


@contextlib.contextmanager
def _closed_after(records: Iterator[Record]) -> Iterator[Iterator[Record]]:
    """``records``, closed (with the cohort file it reads) when the run ends, however it ends."""
    try:
        yield records
    finally:
        _close(records)


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


Write: TypeAlias = Callable[[RiskReport, str | None], None]
"""Writes the result row of a report and its record id."""
Reject: TypeAlias = Callable[[int, str | None, AssessmentError], None]
"""Deals with a bad record (its index and id): lists it in the errors file or stops the run."""


def _rejecter(errors_file: IO[str] | None, source: str) -> Reject:
    """A bad record stops the run with a located RecordError, or is listed in ``errors_file``."""

    def reject(index: int, record_id: str | None, error: AssessmentError) -> None:
        if errors_file is None:
            raise RecordError(source, index, record_id, error)
        errors_file.write(_error_entry(index, record_id, error))

    return reject


def _score_here(
    records: Iterable[Record],
    scorer: Any,
    drop: Ruleset | None,
    ignored: list[int],
    write: Write,
    reject: Reject,
    bar: Progress,
) -> tuple[int, int]:
    """Score ``records`` one after the other in this process; (scored, skipped).

    The loop calls ``scorer.score`` itself, as ``score_many`` does in one process, so that a
    record costs no more than reading it, scoring it and writing its row. With ``drop``, the
    fields that ruleset does not declare are left out first (counted in ``ignored[0]``).
    """
    score = scorer.score
    update = bar.update
    scored = skipped = 0
    for index, record_id, assessment in records:
        update()
        try:
            if drop is not None:
                assessment, dropped = drop_undeclared(assessment, drop)
                ignored[0] += dropped
            report = score(assessment)
        except AssessmentError as error:
            reject(index, record_id, error)
            skipped += 1
            continue
        write(report, record_id)
        scored += 1
    return scored, skipped


def _assessments(
    records: Iterable[Record],
    pending: deque[tuple[int, str | None]],
    drop: Ruleset | None,
    ignored: list[int],
) -> Iterator[dict[str, Any]]:
    """The records' assessments; each record's index and id wait in ``pending`` for its result.
    With ``drop``, the fields that ruleset does not declare are left out (counted in
    ``ignored[0]``); an unreadable record goes on as it is, to be refused where it is scored."""
    for record in records:
        pending.append((record.index, record.id))
        assessment = record.assessment
        if drop is None or isinstance(assessment, UnreadableRecord):
            yield assessment
        else:
            kept, dropped = drop_undeclared(assessment, drop)
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


def _score_in_workers(
    records: Iterable[Record],
    scorer: Any,
    workers: int,
    drop: Ruleset | None,
    ignored: list[int],
    write: Write,
    reject: Reject,
    bar: Progress,
) -> tuple[int, int]:
    """Score ``records`` with ``scorer.score_many`` in ``workers`` processes; (scored, skipped).
    Results come back in order: each is matched with the index and id of its record."""
    pending: deque[tuple[int, str | None]] = deque()
    assessments = _assessments(records, pending, drop, ignored)
    results = scorer.score_many(assessments, workers=workers, on_error="return")
    scored = skipped = 0
    for result in _closing(results):
        index, record_id = pending.popleft()
        bar.update()
        if isinstance(result, AssessmentError):
            reject(index, record_id, result)
            skipped += 1
            continue
        write(result, record_id)
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
    if workers == 1:
        # the checks score_many makes (a closed Scorer, its arguments) before anything is read
        scorer.score_many((), workers=workers, on_error="return")
    bar = _progress(cohort, kind_in, progress)
    records = iter_records(cohort, ruleset=ruleset, format=kind_in, id_column=id_column)
    drop = ruleset if unknown_fields == "ignore" else None
    ignored = [0]
    temp_out = _temporary(target)
    temp_errors = None if errors_target is None else _temporary(errors_target)
    try:
        with (
            _signals_as_exit(),
            _closed_after(records),
            contextlib.closing(bar),
            _open_errors(temp_errors) as errors_file,
            RowWriter(temp_out, result_columns(ruleset), kind_out) as writer,
        ):
            write = report_writer(writer, ruleset)
            reject = _rejecter(errors_file, source)
            if workers == 1:
                scored, skipped = _score_here(records, scorer, drop, ignored, write, reject, bar)
            else:
                scored, skipped = _score_in_workers(
                    records, scorer, workers, drop, ignored, write, reject, bar
                )
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
