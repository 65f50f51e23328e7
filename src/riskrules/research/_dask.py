"""Scoring cohorts on a Dask cluster: map scoring over partitions, one compiled ruleset per worker.

Needs the ``dask`` extra (``pip install 'riskrules[dask]'``); ``import riskrules`` never imports
Dask, only the functions here do. Each worker process compiles a ruleset once, on the first
partition it scores, and keeps the Scorer in a module-level cache keyed by the ruleset
fingerprint, engine and parameters; later partitions reuse it. Data should be read on the
workers (:func:`read_cohort`, ``dask.dataframe.read_parquet``, ``dask.bag.read_text``) and results
come back as columnar pandas partitions: building a Dask collection from an in-memory list of
records ships and tokenises every record through the client, which costs far more than scoring.

An assessment that does not fit the ruleset raises its :class:`~riskrules.AssessmentError`
from the computation, which stops it (``on_error="raise"``, the default). With
``on_error="skip"`` (as ``riskrules batch --on-error skip``) nothing stops and nothing is lost:
the result gains an ``error`` column, empty for scored records; a bad record keeps its row, with
its id, the located error and every other column empty.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from riskrules.errors import AssessmentError, RiskRulesError
from riskrules.research._cohort import loads_line
from riskrules.research._formats import detect_format
from riskrules.research._rows import report_row, result_columns
from riskrules.ruleset import Input, Ruleset
from riskrules.scoring._scorer import Scorer, _load, bind_params

__all__ = ["compile_count", "read_cohort", "result_meta", "score_bag", "score_dataframe"]

_ENGINES = ("auto", "durable", "native")
_ON_ERROR = ("raise", "skip")
_LIST_COLUMNS = ("findings", "protocols", "fired")

_lock = threading.Lock()
_scorers: dict[tuple[str, str, tuple[tuple[str, Any], ...]], Scorer] = {}
_compiles = 0


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise RiskRulesError("riskrules.dask needs Dask: pip install 'riskrules[dask]'") from None


def compile_count() -> int:
    """How many rulesets this process has compiled for Dask partitions (one per ruleset,
    engine and parameters, however many partitions it scores)."""
    return _compiles


def _clear_cache() -> None:
    """Forget this process's compiled rulesets (for tests)."""
    global _compiles
    with _lock:
        for scorer in _scorers.values():
            scorer.close()
        _scorers.clear()
        _compiles = 0


def _worker_scorer(ruleset: Ruleset, engine: str, params: tuple[tuple[str, Any], ...]) -> Scorer:
    """This process's Scorer for ``ruleset``, compiled on first use (thread-safe)."""
    global _compiles
    key = (ruleset.fingerprint, engine, params)
    with _lock:
        scorer = _scorers.get(key)
        if scorer is None:
            scorer = Scorer(ruleset, engine=engine, params=dict(params))
            _scorers[key] = scorer
            _compiles += 1
    return scorer


def _prepare(
    ruleset: Any, engine: str, params: Mapping[str, Any] | None, on_error: str = "raise"
) -> tuple[Ruleset, tuple[tuple[str, Any], ...]]:
    """Load the ruleset and check engine, parameters and ``on_error`` on the client, before any
    task runs."""
    if engine not in _ENGINES:
        raise ValueError(f"engine must be one of {', '.join(_ENGINES)}, not {engine!r}")
    if on_error not in _ON_ERROR:
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    rs = _load(ruleset)
    bind_params(rs, params)
    return rs, tuple(sorted((params or {}).items()))


def _missing(value: Any) -> bool:
    """pandas' NA, NaT and friends (plain values are handled before this is asked)."""
    pd = importlib.import_module("pandas")
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar: validation reports it
        return False


def _plain(value: Any, spec: Input | None) -> Any:
    """A pandas cell as JSON would give it: ``None`` for NA/NaN, numpy scalars as Python
    scalars, integral floats of integer inputs as ints (integer columns with gaps are floats)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if not isinstance(value, float):
        if _missing(value):
            return None
        item = getattr(value, "item", None)
        if item is None:
            return value
        value = item()
        if not isinstance(value, float):
            return value
    if math.isnan(value):
        return None
    value = float(value)
    if spec is not None and spec.type == "integer" and value.is_integer():
        return int(value)
    return value


def _record_id(value: Any) -> str | None:
    value = _plain(value, None)
    if value is None or value == "":
        return None
    return str(value)


def _joined(row: dict[str, Any]) -> dict[str, Any]:
    for name in _LIST_COLUMNS:
        row[name] = ";".join(row[name])
    return row


def result_meta(ruleset: Any, *, on_error: str = "raise") -> Any:
    """An empty pandas DataFrame with the columns and dtypes of :func:`score_dataframe`'s result:
    the ``result_columns`` of the ruleset, lists joined with ``;``, text as pandas strings,
    scores as float64; with ``on_error="skip"`` flags may be empty (``boolean``) and an
    ``error`` column comes last."""
    pd = _import("pandas")
    rs = _load(ruleset)
    skip = on_error == "skip"
    dtypes: dict[str, str] = {}
    for name in [*result_columns(rs), *(["error"] if skip else [])]:
        if name == "complete" or name.endswith(".complete"):
            dtypes[name] = "boolean" if skip else "bool"
        elif name.endswith(".score"):
            dtypes[name] = "float64"
        else:
            dtypes[name] = "string"
    return pd.DataFrame({name: pd.Series([], dtype=kind) for name, kind in dtypes.items()})


def _frame(rows: list[dict[str, Any]], ruleset: Ruleset, on_error: str) -> Any:
    meta = result_meta(ruleset, on_error=on_error)
    pd = importlib.import_module("pandas")
    if not rows:
        return meta
    frame = pd.DataFrame(rows, columns=list(meta.columns))
    return frame.astype(dict(meta.dtypes))


def _row(
    scorer: Scorer, assessment: Mapping[str, Any], record_id: str | None, on_error: str
) -> dict[str, Any]:
    """The result row of one record; with ``on_error="skip"`` a bad record's row holds its id
    and error only."""
    if on_error == "raise":
        return report_row(scorer.score(assessment), record_id)
    try:
        row = report_row(scorer.score(assessment), record_id)
    except AssessmentError as exc:
        return _error_row(scorer.ruleset, record_id, exc)
    row["error"] = None
    return row


def _error_row(ruleset: Ruleset, record_id: str | None, error: AssessmentError) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(result_columns(ruleset))
    row.update({name: [] for name in _LIST_COLUMNS})
    row["id"] = record_id
    row["error"] = str(error)
    return row


def _score_partition(
    df: Any,
    ruleset: Ruleset,
    engine: str,
    params: tuple[tuple[str, Any], ...],
    id_column: str,
    on_error: str = "raise",
) -> Any:
    """Score one pandas partition of flat dotted columns into a pandas frame of result rows."""
    scorer = _worker_scorer(ruleset, engine, params)
    inputs = ruleset.inputs
    columns = [str(c) for c in df.columns]
    specs = [inputs.get(c) for c in columns]
    rows: list[dict[str, Any]] = []
    for values in df.itertuples(index=False, name=None):
        record_id: str | None = None
        assessment: dict[str, Any] = {}
        for name, spec, cell in zip(columns, specs, values, strict=True):
            if name == id_column:
                record_id = _record_id(cell)
                continue
            value = _plain(cell, spec)
            if value is not None:
                assessment[name] = value
        rows.append(_joined(_row(scorer, assessment, record_id, on_error)))
    return _frame(rows, ruleset, on_error)


def score_dataframe(
    ddf: Any,
    ruleset: Any,
    *,
    engine: str = "auto",
    params: Mapping[str, Any] | None = None,
    id_column: str = "id",
    on_error: str = "raise",
) -> Any:
    """Score every row of a Dask DataFrame of flat dotted input columns; return a Dask DataFrame
    of result rows (columns of :func:`riskrules.research.result_columns`, lists ``;``-joined).

    NA/NaN cells are missing inputs; the ``id_column`` (if present) becomes ``id``. Each worker
    process compiles the ruleset once. Nothing is computed until the result is. ``on_error``:
    ``"raise"`` stops at a bad record, ``"skip"`` keeps it as a row with an ``error``.
    """
    rs, key = _prepare(ruleset, engine, params, on_error)
    return ddf.map_partitions(
        _score_partition,
        rs,
        engine,
        key,
        id_column,
        on_error,
        meta=result_meta(rs, on_error=on_error),
        enforce_metadata=False,
    )


def _score_records(
    records: Iterable[Mapping[str, Any]],
    ruleset: Ruleset,
    engine: str,
    params: tuple[tuple[str, Any], ...],
    id_column: str,
    on_error: str = "raise",
) -> list[dict[str, Any]]:
    scorer = _worker_scorer(ruleset, engine, params)
    rows = []
    for record in records:
        if isinstance(record, AssessmentError):  # a line that could not be read
            rows.append(_error_row(ruleset, None, record))
            continue
        assessment = dict(record)
        record_id = _record_id(assessment.pop(id_column, None))
        rows.append(_row(scorer, assessment, record_id, on_error))
    return rows


def score_bag(
    bag: Any,
    ruleset: Any,
    *,
    engine: str = "auto",
    params: Mapping[str, Any] | None = None,
    id_column: str = "id",
    on_error: str = "raise",
) -> Any:
    """Score a Dask Bag of assessment dicts (nested or dotted keys) into a Bag of result rows
    (:func:`riskrules.research.report_row` dicts; ``findings``, ``protocols`` and ``fired`` stay
    lists). Each worker process compiles the ruleset once. With ``on_error="skip"`` every row
    has an ``error`` key (``None`` when scored)."""
    rs, key = _prepare(ruleset, engine, params, on_error)
    return bag.map_partitions(_score_records, rs, engine, key, id_column, on_error)


def _score_lines(
    lines: Iterable[str],
    ruleset: Ruleset,
    engine: str,
    params: tuple[tuple[str, Any], ...],
    id_column: str,
    on_error: str = "raise",
) -> Any:
    """Parse and score one partition of JSON Lines text into a pandas frame of result rows."""
    records: list[Any] = []
    for line in lines:
        if not line.strip():
            continue
        try:
            records.append(_parse_line(line))
        except AssessmentError as exc:
            if on_error == "raise":
                raise
            records.append(exc)
    rows = _score_records(records, ruleset, engine, params, id_column, on_error)
    return _frame([_joined(row) for row in rows], ruleset, on_error)


def _parse_line(line: str) -> dict[str, Any]:
    """One JSON Lines record, strictly (no repeated keys, no NaN), or an AssessmentError."""
    try:
        record = loads_line(line.lstrip("\ufeff").encode("utf-8"))
    except json.JSONDecodeError as exc:
        raise AssessmentError("", None, f"invalid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise AssessmentError("", None, f"invalid JSON: {reason}") from None
    if not isinstance(record, dict):
        raise AssessmentError("", None, "a record must be a JSON object of fields")
    return record


def read_cohort(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    ruleset: Any,
    *,
    format: str | None = None,
    engine: str = "auto",
    params: Mapping[str, Any] | None = None,
    id_column: str = "id",
    blocksize: str | int = "16MiB",
    on_error: str = "raise",
) -> Any:
    """Read cohort files on the workers and score them: a Dask DataFrame of result rows.

    ``paths`` are Parquet files or JSON Lines files (globs and fsspec URLs such as ``s3://``
    work; every worker must be able to open them). ``format`` is ``parquet`` or ``jsonl``
    (default: from the first path's extension). JSON Lines files are split into blocks of
    ``blocksize`` bytes, Parquet files into one partition per row group. ``on_error="skip"``
    keeps bad records (invalid lines too) as rows with an ``error`` instead of stopping.
    """
    items = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        raise ValueError("no cohort paths given")
    names = [os.fspath(p) for p in items]
    kind = detect_format(names[0], format)
    rs, key = _prepare(ruleset, engine, params, on_error)
    if kind == "parquet":
        dd = _import("dask.dataframe")
        frame = dd.read_parquet(names, split_row_groups=True)
        return score_dataframe(
            frame, rs, engine=engine, params=params, id_column=id_column, on_error=on_error
        )
    if kind != "jsonl":
        raise RiskRulesError(f"read_cohort reads parquet or jsonl cohorts, not {kind}")
    db = _import("dask.bag")
    dd = _import("dask.dataframe")
    lines = db.read_text(names, blocksize=blocksize)
    parts = lines.map_partitions(_score_lines, rs, engine, key, id_column, on_error).to_delayed()
    return dd.from_delayed(parts, meta=result_meta(rs, on_error=on_error), verify_meta=False)
