"""File formats of cohorts and result files: JSON Lines, CSV and Parquet.

:func:`detect_format` names the format of a path (from its extension unless given);
:func:`import_parquet` imports pyarrow's Parquet module on first use (the ``parquet`` extra), so
that nothing imports pyarrow before a Parquet file is actually read or written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from riskrules.errors import RiskRulesError

__all__ = ["BATCH_ROWS", "FORMATS", "detect_format", "import_parquet"]

FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")
"""Cohort and result file formats."""

_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}

BATCH_ROWS = 4096
"""Parquet rows read or written per batch: memory stays bounded by this, not the file size."""


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


def import_parquet() -> Any:
    """``pyarrow.parquet``, or a RiskRulesError saying which extra to install."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise RiskRulesError("Parquet needs pyarrow: pip install 'riskrules[parquet]'") from None
    return pq
