"""Parallel scoring: what :meth:`Scorer.score_many` runs for ``workers > 1``.

:func:`score_parallel` sends chunks of assessments to a pool of fresh (``spawn``) processes, each
holding one Scorer compiled once from the pickled Ruleset, parameters and engine name, and yields
the reports back in input order with at most two chunks per worker in flight, so memory stays
bounded however long the input.

The parent process reads the input and makes every report: a native Scorer's workers send the
generated code's results, which the parent assembles as its own Scorer would; other engines'
workers send the report's JSON, which the parent rebuilds. It needs a core of its own. When the
machine has too few cores for ``workers`` to pay off, a one-line notice goes to standard error if
that is a terminal (:func:`parallel_notice`). For an input of known length, chunks shrink so that
every worker gets work (:func:`chunk_size_for`); ``chunk_size`` is then the largest chunk.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from concurrent.futures import Future
from typing import Any

from riskrules.errors import AssessmentError, EngineError, RiskRulesError
from riskrules.report import RiskReport
from riskrules.ruleset import Ruleset

__all__ = ["available_cores", "chunk_size_for", "parallel_notice", "score_parallel"]

_worker_scorer: Any = None
"""The Scorer of this worker process (compiled once, by :func:`_start_worker`)."""
_worker_raw = False
"""Whether this worker sends the generated code's results instead of the report's JSON."""

_Result = tuple[Any, ...] | str | AssessmentError


def _start_worker(ruleset: Ruleset, params: dict[str, Any], engine: str, raw: bool) -> None:
    from riskrules.scoring import Scorer

    global _worker_scorer, _worker_raw
    _worker_scorer = Scorer(ruleset, engine=engine, params=params)
    _worker_raw = raw


def _score_chunk(chunk: list[Mapping[str, Any]], on_error: str) -> list[_Result]:
    """For each assessment what the parent makes the report from, or the AssessmentError: the
    generated code's results where the parent can assemble them (``assemble``), else the
    report as JSON text."""
    out: list[_Result] = []
    scorer = _worker_scorer
    raw = _worker_raw
    for assessment in chunk:
        try:
            out.append(
                scorer._run(assessment) if raw else scorer.score(assessment).model_dump_json()
            )
        except AssessmentError as exc:
            if on_error == "raise":
                raise
            out.append(exc)
    return out


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity where the platform tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        return os.cpu_count() or 1


def parallel_notice(workers: int, cores: int) -> str | None:
    """The one-line notice for ``workers`` processes on ``cores`` cores, or None when they can
    pay off. The parent process needs a core of its own (it reads the input and rebuilds every
    report), so at most ``cores - 1`` workers run at full speed; on fewer than three cores no
    number of workers beats ``workers=1``."""
    usable = cores - 1
    if usable < 2:
        return (
            f"riskrules: {workers} workers on {cores} CPU core(s): parallel scoring needs at "
            "least 3 cores to be faster than workers=1 here (see docs/scaling.md)"
        )
    if workers > usable:
        return (
            f"riskrules: {workers} workers on {cores} CPU cores: more than {usable} will not be "
            "faster here (see docs/scaling.md)"
        )
    return None


def _tell(notice: str | None) -> None:
    """Show ``notice`` on standard error when it is a terminal (never in logs or pipes)."""
    stream = sys.stderr
    isatty = getattr(stream, "isatty", None)
    if notice is not None and isatty is not None and isatty():
        stream.write(notice + "\n")
        stream.flush()


def chunk_size_for(count: int | None, workers: int, chunk_size: int) -> int:
    """The chunk size to send: ``chunk_size``, or smaller when the input's length is known and
    short, so that every worker gets about four chunks (at least 16 records each) instead of one
    worker scoring nearly everything while the others wait."""
    if count is None:
        return chunk_size
    return max(1, min(chunk_size, max(16, -(-count // (workers * 4)))))


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def score_parallel(
    ruleset: Ruleset,
    params: Mapping[str, Any],
    engine: str,
    assessments: Iterable[Mapping[str, Any]],
    *,
    workers: int,
    chunk_size: int,
    on_error: str,
    assemble: Callable[..., RiskReport] | None = None,
) -> Iterator[RiskReport | AssessmentError]:
    """Score in ``workers`` processes, in input order, with at most two chunks per worker in
    flight (what :meth:`Scorer.score_many` runs for ``workers > 1``).

    Each process compiles the ruleset once from the pickled Ruleset, parameters and engine
    name. Processes are started fresh (``spawn``), never forked from a process that may hold
    engine threads. Given ``assemble`` (the assembler of the calling native Scorer, compiled
    from the same ruleset and parameters), workers send the generated code's results and the
    parent assembles each report, which costs a fraction of rebuilding it from JSON.
    """
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    _tell(parallel_notice(workers, available_cores()))
    count = len(assessments) if isinstance(assessments, Sized) else None
    chunk_size = chunk_size_for(count, workers, chunk_size)

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(ruleset, dict(params), engine, assemble is not None),
    )
    pending: deque[Future[list[_Result]]] = deque()
    limit = 2 * workers
    try:
        for chunk in _chunks(assessments, chunk_size):
            pending.append(pool.submit(_score_chunk, chunk, on_error))
            while len(pending) >= limit:
                yield from _results(pending.popleft(), ruleset, engine, assemble)
        while pending:
            yield from _results(pending.popleft(), ruleset, engine, assemble)
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _results(
    future: Future[list[_Result]],
    ruleset: Ruleset,
    engine: str,
    assemble: Callable[..., RiskReport] | None,
) -> Iterator[RiskReport | AssessmentError]:
    try:
        items = future.result()
    except RiskRulesError:
        raise
    except Exception as exc:
        raise EngineError(f"a scoring process failed: {type(exc).__name__}: {exc}") from exc
    for item in items:
        if isinstance(item, AssessmentError):
            yield item
        elif isinstance(item, tuple):
            if assemble is None:  # workers send results only when given an assembler
                raise EngineError("a scoring process sent results no assembler was given for")
            yield assemble(*item)
        else:
            report = RiskReport.model_validate_json(item).model_copy(update={"engine": engine})
            yield report._attach(ruleset)
