"""Result rows: a report flattened into one row, and writers of rows to JSON Lines, CSV, Parquet.

:func:`report_row` flattens a report into a row whose columns :func:`result_columns` lists in a
fixed order; :class:`RowWriter` writes rows as JSON Lines, CSV or Parquet (Parquet in bounded
batches) and :func:`write_rows` writes an iterable of rows in one call. :func:`report_writer`
writes reports' rows with a RowWriter, JSON Lines ones straight from the report.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from riskrules.report import RiskReport
from riskrules.research._formats import BATCH_ROWS, detect_format, import_parquet
from riskrules.research._row_json import ReportLines
from riskrules.ruleset import Ruleset

__all__ = ["RowWriter", "report_row", "report_writer", "result_columns", "write_rows"]


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
    row["fired"] = list(report._fired_rule_ids())
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
            pq = import_parquet()
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
            if len(self._pending) >= BATCH_ROWS:
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


def report_writer(writer: RowWriter, ruleset: Ruleset) -> Callable[[RiskReport, str | None], None]:
    """``write(report, record_id)``: ``writer.write(report_row(report, record_id))`` for reports
    scored with ``ruleset``. When ``writer`` writes JSON Lines rows of the ruleset's
    :func:`result_columns`, each line is written straight from the report (the same text,
    see :class:`~riskrules.research._row_json.ReportLines`)."""
    if writer.format == "jsonl" and writer.columns == result_columns(ruleset):
        assert writer._text is not None
        line = ReportLines(ruleset)
        write_text = writer._text.write

        def write_line(report: RiskReport, record_id: str | None) -> None:
            write_text(line(report, record_id))

        return write_line

    def write_row(report: RiskReport, record_id: str | None) -> None:
        writer.write(report_row(report, record_id))

    return write_row


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
