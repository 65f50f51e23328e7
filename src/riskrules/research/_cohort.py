"""Reading cohorts: stream assessment records from JSON Lines, CSV and Parquet files.

A cohort file holds one assessment per record: JSON Lines (``.jsonl``/``.ndjson``; each line an
object with nested or dotted keys), CSV (``.csv``; the header names dotted inputs) or Parquet
(``.parquet``; flat dotted columns or nested struct columns; needs the ``parquet`` extra).
:func:`iter_records` reads any of them lazily, in constant memory, and yields :class:`Record`
tuples; :func:`count_records` counts them quickly (for progress estimates).

A record that cannot be read at all (a line that is not JSON, a line that is not an object) does
not stop the stream: its assessment is an :class:`UnreadableRecord`, which raises a located
AssessmentError as soon as anything scores it, so ``--on-error skip`` records it like any other
bad record. Record values are the user's data: they appear in the errors a caller receives and
never in logs.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, NamedTuple, NoReturn

from riskrules.errors import AssessmentError, RiskRulesError
from riskrules.research._formats import BATCH_ROWS, detect_format, import_parquet
from riskrules.ruleset import Input, Ruleset
from riskrules.scoring._validation import MAX_BYTES

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the strict parser still works
    _orjson = None  # type: ignore[assignment]

__all__ = [
    "Record",
    "UnreadableRecord",
    "count_records",
    "iter_records",
    "loads_line",
    "strict_json_loads",
]


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


def _record_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


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


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_WIDE_INTEGER = b"0" * 19
"""Nineteen digits in a row (once every digit reads 0): an integer orjson may have read as a
float (it keeps 64 bits; -2**63 - 1 already has nineteen digits)."""


def _certain(raw: bytes, obj: Any) -> bool:
    """Whether orjson's reading of ``raw`` is certainly the strict parser's.

    Every key of the line is followed by its own colon. orjson keeps the last of repeated keys,
    so writing ``obj`` out again gives at least one colon fewer per repeated key, while every
    colon inside a kept string comes back as it was: as many colons as the line means no key was
    given twice. A colon written as an escape (``\\u003a``) would come back as a plain one, so a
    line holding one is not certain; neither is a line whose object orjson cannot write (nested
    too deeply). A line with only its top object (one ``{``, no ``[``) holding as many keys as
    colons needs no writing out. Integers of 19 digits or more may have become floats: not
    certain either.
    """
    if _WIDE_INTEGER in raw.translate(_DIGITS_AS_ZERO):
        return False
    colons = raw.count(b":")
    if isinstance(obj, dict) and len(obj) == colons and raw.count(b"{") == 1 and b"[" not in raw:
        return True
    if b"\\" in raw and (b"\\u003a" in raw or b"\\u003A" in raw):
        return False
    try:
        again = _orjson.dumps(obj)
    except _orjson.JSONEncodeError:
        return False
    return again.count(b":") == colons


def loads_line(raw: bytes) -> Any:
    """One JSON Lines line as :func:`strict_json_loads` reads it, faster.

    orjson parses first; its result is kept only when it is certainly what the strict parser
    gives (no key given twice, no integer beyond 64 bits: see ``_certain``). Anything else,
    including every error, goes through the strict parser, which decides and words the message.
    """
    if _orjson is not None:
        try:
            obj = _orjson.loads(raw)
        except _orjson.JSONDecodeError:
            pass
        else:
            if _certain(raw, obj):
                return obj
    return strict_json_loads(raw.decode("utf-8"))


def _skip_rest(stream: IO[bytes], line: bytes) -> None:
    """Read past the end of a line longer than MAX_BYTES without holding it in memory."""
    while line and not line.endswith(b"\n"):
        line = stream.readline(1 << 20)


def _read_jsonl(path: Path, id_column: str) -> Iterator[Record]:
    index = 0
    lineno = 0
    limit = MAX_BYTES + 1
    with path.open("rb") as stream:
        readline = stream.readline
        while True:
            raw = readline(limit)
            if not raw:
                return
            lineno += 1
            if len(raw) > MAX_BYTES and not raw.endswith(b"\n"):
                _skip_rest(stream, raw)
                error = AssessmentError("", None, f"line {lineno}: longer than {MAX_BYTES} bytes")
                yield Record(index, None, UnreadableRecord(error))
                index += 1
                continue
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if not raw or raw.isspace():
                continue
            yield _jsonl_record(index, raw, lineno, id_column)
            index += 1


def _jsonl_record(index: int, raw: bytes, lineno: int, id_column: str) -> Record:
    try:
        obj = loads_line(raw)
    except UnicodeDecodeError as exc:
        error = AssessmentError("", None, f"line {lineno}: not UTF-8 text ({exc.reason})")
        return Record(index, None, UnreadableRecord(error))
    except json.JSONDecodeError as exc:
        shown = raw.decode("utf-8", "replace").rstrip("\r\n")
        reason = f"line {lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
        return Record(index, None, UnreadableRecord(AssessmentError("", shown, reason)))
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        error = AssessmentError("", None, f"line {lineno}: invalid JSON: {reason}")
        return Record(index, None, UnreadableRecord(error))
    if isinstance(obj, dict):
        return Record(index, _record_id(obj.pop(id_column, None)), obj)
    error = AssessmentError("", obj, f"line {lineno}: a record must be a JSON object of fields")
    return Record(index, None, UnreadableRecord(error))


_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})


_JSON_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)", re.ASCII)
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)


def _convert_cell(spec: Input | None, cell: str) -> Any:
    """A CSV cell as the declared input type; the raw string when it does not convert, so that
    validation reports it as an AssessmentError naming the field.

    Numbers are read as strictly as JSON reads them: ASCII digits only, no spaces, underscores,
    leading ``+`` or leading zeros (``4_0``, `` 40`` and Arabic-Indic digits stay strings)."""
    if spec is None:
        return cell
    if spec.type == "integer":
        return int(cell) if _JSON_INTEGER.fullmatch(cell) else cell
    if spec.type == "number":
        if _JSON_INTEGER.fullmatch(cell):
            return int(cell)
        if not _JSON_NUMBER.fullmatch(cell):
            return cell
        value = float(cell)
        return value if math.isfinite(value) else cell
    if spec.type == "boolean":
        text = cell.strip()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        return cell
    return cell


def _csv_header(path: Path, reader: Any) -> list[str] | None:
    """The header row without a byte order mark; a RiskRulesError when a column is named
    twice (the reader would otherwise keep only the last one)."""
    header: list[str] | None = next(reader, None)
    if header is None:
        return None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    _no_duplicates(path, header)
    return header


def _no_duplicates(path: Path, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise RiskRulesError(
                f"{path}: column {name!r} appears more than once; each input needs one column"
            )
        seen.add(name)


def _read_csv(path: Path, ruleset: Ruleset, id_column: str) -> Iterator[Record]:
    with path.open("r", encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        header = _csv_header(path, reader)
        if header is None:
            return
        specs = [ruleset.inputs.get(name) for name in header]
        index = 0
        while True:
            where = f"line {reader.line_num + 1}"
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                reason = str(exc)
                if "field larger" in reason:
                    reason = f"a cell longer than {csv.field_size_limit()} characters"
                error = AssessmentError("", None, f"{where}: unreadable CSV row: {reason}")
                yield Record(index, None, UnreadableRecord(error))
                index += 1
                continue
            if not row:
                continue  # a blank line holds no record
            yield _csv_record(index, row, header, specs, f"line {reader.line_num}", id_column)
            index += 1


def _csv_record(
    index: int,
    row: list[str],
    header: list[str],
    specs: list[Input | None],
    where: str,
    id_column: str,
) -> Record:
    if len(row) != len(header):
        error = AssessmentError("", None, f"{where}: {len(row)} cells for {len(header)} columns")
        return Record(index, None, UnreadableRecord(error))
    record_id: str | None = None
    assessment: dict[str, Any] = {}
    for name, spec, cell in zip(header, specs, row, strict=True):
        if name == id_column:
            record_id = _record_id(cell)
        elif cell != "":
            assessment[name] = _convert_cell(spec, cell)
    return Record(index, record_id, assessment)


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
    pq = import_parquet()
    index = 0
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:
        raise RiskRulesError(f"{path}: not a readable Parquet file ({exc})") from None
    with parquet:
        _no_duplicate_fields(path, parquet.schema_arrow)
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            for row in batch.to_pylist():
                record_id = _record_id(row.pop(id_column, None))
                yield Record(index, record_id, _clean(row, ruleset.inputs, ""))
                index += 1


def _no_duplicate_fields(path: Path, schema: Any, prefix: str = "") -> None:
    """A RiskRulesError naming a column (or struct field) that appears twice in ``schema``."""
    names = [f"{prefix}{field.name}" for field in schema]
    _no_duplicates(path, names)
    for field in schema:
        if hasattr(field.type, "fields"):  # a struct column: its fields must be unique too
            _no_duplicate_fields(path, field.type.fields, f"{prefix}{field.name}.")


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
        pq = import_parquet()
        with pq.ParquetFile(source) as parquet:
            return int(parquet.metadata.num_rows)
    if kind == "csv":
        with source.open("r", encoding="utf-8", newline="") as stream:
            return max(sum(1 for line in stream if line.strip()) - 1, 0)
    with source.open("rb") as stream:
        return sum(1 for line in stream if line.strip())
