"""Cohorts: stream assessment records from files, and reports out to flat result rows.

A cohort file holds one assessment per record: JSON Lines (``.jsonl``/``.ndjson``; each line an
object with nested or dotted keys), CSV (``.csv``; the header names dotted inputs) or Parquet
(``.parquet``; flat dotted columns or nested struct columns; needs the ``parquet`` extra).
:func:`iter_records` reads any of them lazily, in constant memory, and yields :class:`Record`
tuples; :func:`report_row` flattens a report into a row whose columns :func:`result_columns`
lists in a fixed order; :class:`RowWriter` writes rows as JSON Lines, CSV or Parquet.

A record that cannot be read at all (a line that is not JSON, a line that is not an object) does
not stop the stream: its assessment is an :class:`UnreadableRecord`, which raises a located
AssessmentError as soon as anything scores it, so ``--on-error skip`` records it like any other
bad record. Record values are the user's data: they appear in the errors a caller receives and
never in logs.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple, NoReturn, TextIO

from riskrules.errors import AssessmentError, EngineError, RecordError, RiskRulesError
from riskrules.report import RiskReport
from riskrules.ruleset._spec import Input, Ruleset

__all__ = [
    "FORMATS",
    "BatchSummary",
    "Progress",
    "Record",
    "RecordError",
    "RowWriter",
    "UnreadableRecord",
    "count_records",
    "detect_format",
    "iter_records",
    "report_row",
    "result_columns",
    "score_file",
    "score_parallel",
    "write_rows",
]

FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")
"""Cohort and result file formats."""

_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
_BATCH_ROWS = 4096
"""Parquet rows read or written per batch: memory stays bounded by this, not the file size."""


class Record(NamedTuple):
    """One cohort record: its 0-based position, its id (``None`` if it has none) and the
    assessment without the id column."""

    index: int  # type: ignore[assignment]  # shadows tuple.index on purpose
    id: str | None
    assessment: dict[str, Any]


class UnreadableRecord(dict[str, Any]):
    """The assessment of a record that could not be read (e.g. a line that is not JSON).

    It is an empty mapping that refuses to be scored: iterating over its fields raises the
    located :class:`AssessmentError` it carries, so a Scorer reports it like any bad record.
    """

    def __init__(self, error: AssessmentError) -> None:
        super().__init__()
        self.error = error

    def _refuse(self) -> NoReturn:
        raise self.error

    def items(self) -> NoReturn:
        self._refuse()

    def keys(self) -> NoReturn:
        self._refuse()

    def __iter__(self) -> NoReturn:
        self._refuse()

    def __reduce__(self) -> tuple[Any, ...]:
        return (UnreadableRecord, (self.error,))

    def __repr__(self) -> str:
        return f"UnreadableRecord({self.error})"


def detect_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """``format`` if given, else the format implied by the file extension."""
    if format is not None:
        if format not in FORMATS:
            raise RiskRulesError(
                f"unknown format {format!r} (expected one of {', '.join(FORMATS)})"
            )
        return format
    suffix = Path(path).suffix.lower()
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        raise RiskRulesError(
            f"{os.fspath(path)}: cannot tell the format from the extension {suffix or '(none)'!r}; "
            f"use .jsonl, .ndjson, .csv or .parquet, or name the format"
        ) from None


def _import_parquet() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise RiskRulesError("Parquet needs pyarrow: pip install 'riskrules[parquet]'") from None
    return pq


def _record_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


# --------------------------------------------------------------------------- readers


def strict_json_loads(text: str) -> Any:
    """``json.loads`` that rejects duplicate keys and NaN/Infinity (ValueError), so that an
    assessment never silently keeps the last of two values or a non-finite number."""
    return json.loads(text, object_pairs_hook=_json_object, parse_constant=_json_constant)


def _json_object(items: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in items:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def _json_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _read_jsonl(path: Path, id_column: str) -> Iterator[Record]:
    index = 0
    with path.open("rb") as stream:
        for lineno, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            where = f"line {lineno}"
            try:
                text = raw.decode("utf-8")
                obj = strict_json_loads(text)
            except UnicodeDecodeError as exc:
                error = AssessmentError("", None, f"{where}: not UTF-8 text ({exc.reason})")
                yield Record(index, None, UnreadableRecord(error))
            except json.JSONDecodeError as exc:
                shown = text.rstrip("\r\n")
                error = AssessmentError(
                    "", shown, f"{where}, column {exc.colno}: invalid JSON: {exc.msg}"
                )
                yield Record(index, None, UnreadableRecord(error))
            except (ValueError, RecursionError) as exc:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                error = AssessmentError("", None, f"{where}: invalid JSON: {reason}")
                yield Record(index, None, UnreadableRecord(error))
            else:
                if isinstance(obj, dict):
                    record_id = _record_id(obj.pop(id_column, None))
                    yield Record(index, record_id, obj)
                else:
                    error = AssessmentError(
                        "", obj, f"{where}: a record must be a JSON object of fields"
                    )
                    yield Record(index, None, UnreadableRecord(error))
            index += 1


_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})


def _convert_cell(spec: Input | None, cell: str) -> Any:
    """A CSV cell as the declared input type; the raw string when it does not convert, so that
    validation reports it as an AssessmentError naming the field."""
    if spec is None:
        return cell
    text = cell.strip()
    if spec.type == "integer":
        try:
            return int(text)
        except ValueError:
            return cell
    if spec.type == "number":
        try:
            return int(text)
        except ValueError:
            pass
        try:
            value = float(text)
        except ValueError:
            return cell
        return value if math.isfinite(value) else cell
    if spec.type == "boolean":
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        return cell
    return cell


def _read_csv(path: Path, ruleset: Ruleset, id_column: str) -> Iterator[Record]:
    inputs = ruleset.inputs
    with path.open("r", encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            return
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        specs = [inputs.get(name) for name in header]
        for index, row in enumerate(reader):
            record_id: str | None = None
            assessment: dict[str, Any] = {}
            where = f"line {reader.line_num}"
            if len(row) != len(header):
                error = AssessmentError(
                    "", None, f"{where}: {len(row)} cells for {len(header)} columns"
                )
                yield Record(index, None, UnreadableRecord(error))
                continue
            for name, spec, cell in zip(header, specs, row, strict=True):
                if name == id_column:
                    record_id = _record_id(cell)
                elif cell != "":
                    assessment[name] = _convert_cell(spec, cell)
            yield Record(index, record_id, assessment)


def _plain(value: Any, spec: Input | None) -> Any:
    """A Parquet value as JSON would give it: NaN is missing, integral floats of integer inputs
    are integers (columns with gaps are often stored as doubles)."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if spec is not None and spec.type == "integer" and value.is_integer():
            return int(value)
    return value


def _clean(mapping: Mapping[str, Any], inputs: Mapping[str, Input], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            out[key] = _clean(value, inputs, name)
        else:
            value = _plain(value, inputs.get(name))
            if value is not None:
                out[key] = value
    return out


def _read_parquet(path: Path, ruleset: Ruleset, id_column: str) -> Iterator[Record]:
    pq = _import_parquet()
    index = 0
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:
        raise RiskRulesError(f"{path}: not a readable Parquet file ({exc})") from None
    with parquet:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
            for row in batch.to_pylist():
                record_id = _record_id(row.pop(id_column, None))
                yield Record(index, record_id, _clean(row, ruleset.inputs, ""))
                index += 1


def iter_records(
    path: str | os.PathLike[str],
    *,
    ruleset: Ruleset,
    format: str | None = None,
    id_column: str = "id",
) -> Iterator[Record]:
    """Read a cohort file lazily, one :class:`Record` per assessment, in file order.

    ``format`` is ``jsonl``, ``csv`` or ``parquet`` (default: from the extension). The
    ``id_column`` is taken out of each assessment into ``Record.id``. CSV cells are converted by
    the ruleset's declared input types (an empty cell is missing; a cell that does not convert
    stays a string so that scoring reports it). Unreadable records carry an
    :class:`UnreadableRecord` assessment instead of stopping the stream.
    """
    kind = detect_format(path, format)
    source = Path(path)
    if kind == "jsonl":
        return _read_jsonl(source, id_column)
    if kind == "csv":
        return _located(source, _read_csv(source, ruleset, id_column))
    return _located(source, _read_parquet(source, ruleset, id_column))


def _located(source: Path, records: Iterator[Record]) -> Iterator[Record]:
    """Turn a reader's failure on a broken file (not one bad record) into a RiskRulesError."""
    try:
        yield from records
    except (RiskRulesError, OSError):
        raise
    except UnicodeDecodeError as exc:
        raise RiskRulesError(f"{source}: not UTF-8 text ({exc.reason})") from None
    except Exception as exc:
        raise RiskRulesError(f"{source}: cannot read the file: {exc}") from None


def count_records(path: str | os.PathLike[str], *, format: str | None = None) -> int:
    """How many records :func:`iter_records` will yield (a quick pass, for progress ETAs)."""
    kind = detect_format(path, format)
    source = Path(path)
    if kind == "parquet":
        pq = _import_parquet()
        with pq.ParquetFile(source) as parquet:
            return int(parquet.metadata.num_rows)
    if kind == "csv":
        with source.open("r", encoding="utf-8", newline="") as stream:
            return max(sum(1 for _ in csv.reader(stream)) - 1, 0)
    with source.open("rb") as stream:
        return sum(1 for line in stream if line.strip())


# --------------------------------------------------------------------------- rows


def result_columns(ruleset: Ruleset) -> list[str]:
    """The columns of :func:`report_row` for reports scored with ``ruleset``, in order."""
    columns = ["id", "ruleset_fingerprint", "overall_level", "complete"]
    for hazard in ruleset.hazards:
        columns += [f"{hazard}.level", f"{hazard}.score", f"{hazard}.complete"]
    return [*columns, "findings", "protocols", "fired"]


def report_row(report: RiskReport, record_id: str | None) -> dict[str, Any]:
    """A report as one flat result row (see :func:`result_columns` for the order).

    ``findings``, ``protocols`` (recommended, in rank order) and ``fired`` (rule ids, in firing
    order) are lists; CSV joins them with ``;``.
    """
    row: dict[str, Any] = {
        "id": record_id,
        "ruleset_fingerprint": report.ruleset.fingerprint,
        "overall_level": report.overall_level,
        "complete": report.complete,
    }
    for hid, hazard in report.hazards.items():
        row[f"{hid}.level"] = hazard.level
        row[f"{hid}.score"] = hazard.score
        row[f"{hid}.complete"] = hazard.complete
    row["findings"] = list(report.findings)
    row["protocols"] = [rec.protocol for rec in report.recommendations]
    row["fired"] = [firing.rule for firing in report.fired]
    return row


_LIST_COLUMNS = ("findings", "protocols", "fired")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


class RowWriter:
    """Writes result rows to a JSON Lines, CSV or Parquet file (Parquet in bounded batches).

    Use it as a context manager; rows must have the writer's ``columns``.
    """

    def __init__(self, path: str | os.PathLike[str], columns: list[str], format: str) -> None:
        self.path = Path(path)
        self.columns = list(columns)
        self.format = detect_format(path, format)
        self._text: TextIO | None = None
        self._csv: Any = None
        self._parquet: Any = None
        self._pending: list[dict[str, Any]] = []
        if self.format == "parquet":
            pq = _import_parquet()
            self._schema = self._arrow_schema()
            self._parquet = pq.ParquetWriter(self.path, self._schema)
        else:
            self._text = self.path.open("w", encoding="utf-8", newline="")
            if self.format == "csv":
                self._csv = csv.writer(self._text, lineterminator="\n")
                self._csv.writerow(self.columns)

    def _arrow_schema(self) -> Any:
        import pyarrow as pa

        fields = []
        for name in self.columns:
            if name in _LIST_COLUMNS:
                kind = pa.list_(pa.string())
            elif name == "complete" or name.endswith(".complete"):
                kind = pa.bool_()
            elif name.endswith(".score"):
                kind = pa.float64()
            else:
                kind = pa.string()
            fields.append(pa.field(name, kind))
        return pa.schema(fields)

    def write(self, row: Mapping[str, Any]) -> None:
        """Write one row."""
        if self.format == "jsonl":
            assert self._text is not None
            self._text.write(json.dumps({c: row[c] for c in self.columns}) + "\n")
        elif self.format == "csv":
            self._csv.writerow([_csv_cell(row[c]) for c in self.columns])
        else:
            self._pending.append(dict(row))
            if len(self._pending) >= _BATCH_ROWS:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        import pyarrow as pa

        table = pa.Table.from_pylist(self._pending, schema=self._schema)
        self._parquet.write_table(table)
        self._pending = []

    def close(self) -> None:
        """Flush and close the file."""
        if self._parquet is not None:
            self._flush()
            self._parquet.close()
            self._parquet = None
        if self._text is not None:
            self._text.close()
            self._text = None

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_rows(
    path: str | os.PathLike[str],
    rows: Iterable[Mapping[str, Any]],
    columns: list[str],
    format: str | None = None,
) -> int:
    """Write ``rows`` to ``path``; return how many were written."""
    count = 0
    with RowWriter(path, columns, detect_format(path, format)) as writer:
        for row in rows:
            writer.write(row)
            count += 1
    return count


# --------------------------------------------------------------------------- processes

_worker_scorer: Any = None
"""The Scorer of this worker process (compiled once, by :func:`_start_worker`)."""


def _start_worker(ruleset: Ruleset, params: dict[str, Any], engine: str) -> None:
    from riskrules.scoring._scorer import Scorer

    global _worker_scorer
    _worker_scorer = Scorer(ruleset, engine=engine, params=params)


def _score_chunk(chunk: list[Mapping[str, Any]], on_error: str) -> list[str | AssessmentError]:
    """Reports as JSON text (compact and cheap to send back), or the AssessmentError."""
    out: list[str | AssessmentError] = []
    for assessment in chunk:
        try:
            out.append(_worker_scorer.score(assessment).model_dump_json())
        except AssessmentError as exc:
            if on_error == "raise":
                raise
            out.append(exc)
    return out


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
) -> Iterator[RiskReport | AssessmentError]:
    """Score in ``workers`` processes, in input order, with at most two chunks per worker in
    flight (what :meth:`Scorer.score_many` runs for ``workers > 1``).

    Each process compiles the ruleset once from the pickled Ruleset, parameters and engine
    name. Processes are started fresh (``spawn``), never forked from a process that may hold
    engine threads.
    """
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(ruleset, dict(params), engine),
    )
    pending: deque[Future[list[str | AssessmentError]]] = deque()
    limit = 2 * workers
    try:
        for chunk in _chunks(assessments, chunk_size):
            pending.append(pool.submit(_score_chunk, chunk, on_error))
            while len(pending) >= limit:
                yield from _results(pending.popleft(), ruleset, engine)
        while pending:
            yield from _results(pending.popleft(), ruleset, engine)
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _results(
    future: Future[list[str | AssessmentError]], ruleset: Ruleset, engine: str
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
        else:
            report = RiskReport.model_validate_json(item).model_copy(update={"engine": engine})
            yield report._attach(ruleset)


# --------------------------------------------------------------------------- progress


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


# --------------------------------------------------------------------------- batch


class BatchSummary(NamedTuple):
    """What :func:`score_file` did: rows written, records skipped and where they are listed."""

    scored: int
    skipped: int
    errors_path: Path | None


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
) -> BatchSummary:
    """Score every record of ``cohort`` with ``scorer`` and write one row per record to ``out``.

    ``on_error="fail"`` stops at the first bad record with a :class:`RecordError` and leaves no
    output file (rows go to a temporary file that is renamed only at the end). ``"skip"`` writes
    each bad record's index, id and located error to ``errors_path`` (default
    ``<out>.errors.jsonl``) and carries on. ``progress`` is the stream for the progress line
    (drawn only if it is a terminal).
    """
    from collections import deque

    if on_error not in ("skip", "fail"):
        raise ValueError(f"on_error must be 'skip' or 'fail', not {on_error!r}")
    source = os.fspath(cohort)
    kind_in = detect_format(cohort, cohort_format)
    target = Path(out)
    kind_out = detect_format(target, out_format)
    errors_target = (
        None
        if on_error == "fail"
        else Path(errors_path)
        if errors_path is not None
        else target.with_name(target.name + ".errors.jsonl")
    )
    ruleset = scorer.ruleset
    bar = Progress(stream=progress)
    if bar.enabled:
        try:
            bar.total = count_records(cohort, format=kind_in)
        except Exception:  # the scoring pass reports a broken file properly
            bar.total = None
    pending: deque[tuple[int, str | None]] = deque()

    def assessments() -> Iterator[dict[str, Any]]:
        for record in iter_records(cohort, ruleset=ruleset, format=kind_in, id_column=id_column):
            pending.append((record.index, record.id))
            yield record.assessment

    temp_out = _temporary(target)
    temp_errors = None if errors_target is None else _temporary(errors_target)
    scored = skipped = 0
    try:
        errors_file = None if temp_errors is None else temp_errors.open("w", encoding="utf-8")
        try:
            with RowWriter(temp_out, result_columns(ruleset), kind_out) as writer:
                results = scorer.score_many(assessments(), workers=workers, on_error="return")
                for result in _closing(results):
                    index, record_id = pending.popleft()
                    bar.update()
                    if isinstance(result, AssessmentError):
                        if errors_file is None:
                            raise RecordError(source, index, record_id, result)
                        skipped += 1
                        entry = {
                            "index": index,
                            "id": record_id,
                            "field": result.field,
                            "constraint": result.constraint,
                            "error": str(result),
                        }
                        errors_file.write(json.dumps(entry) + "\n")
                        continue
                    writer.write(report_row(result, record_id))
                    scored += 1
        finally:
            if errors_file is not None:
                errors_file.close()
            bar.close()
        os.replace(temp_out, target)
        if temp_errors is not None and errors_target is not None:
            os.replace(temp_errors, errors_target)
    except BaseException:
        for temp in (temp_out, temp_errors):
            if temp is not None:
                temp.unlink(missing_ok=True)
        raise
    return BatchSummary(scored, skipped, errors_target)
