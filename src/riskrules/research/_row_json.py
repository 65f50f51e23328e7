"""The JSON Lines result row of a report, written straight from the report.

:class:`ReportLines` gives, for a report and its record id, exactly the line that
``json.dumps`` writes for :func:`~riskrules.research.report_row` in the order of
:func:`~riskrules.research.result_columns` (``", "`` and ``": "`` between items, non-ASCII
characters escaped), without building the row dict first and without ``json.dumps`` walking
it: the column names are written once per ruleset, and each value goes through the encoder
``json.dumps`` itself uses for its type (the ASCII string escaper, ``repr`` of ints and finite
floats, ``true``/``false``/``null``). A value of any other type is handed to ``json.dumps``, so
the line never differs from what it writes. The names a ruleset has (rule ids, findings,
protocols) are written once, when the ruleset's ReportLines is made.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from json import dumps
from json.encoder import encode_basestring_ascii
from operator import attrgetter
from typing import Any

from riskrules.report import RiskReport
from riskrules.ruleset import Ruleset

__all__ = ["ReportLines"]

_string = encode_basestring_ascii
_int_repr = int.__repr__
_float_repr = float.__repr__
_isfinite = math.isfinite
_protocol = attrgetter("protocol")


def _text(value: Any) -> str:
    """``json.dumps(value)``, for a value that is almost always a string."""
    return _string(value) if type(value) is str else dumps(value)


def _number(value: Any) -> str:
    """``json.dumps(value)``, for a value that is almost always an int or a finite float."""
    kind = type(value)
    if kind is int:
        return _int_repr(value)
    if kind is float and _isfinite(value):
        return _float_repr(value)
    return dumps(value)


def _flag(value: Any) -> str:
    """``json.dumps(value)``, for a value that is almost always a bool."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return dumps(value)


def _names(items: tuple[Any, ...], get: Callable[[Any], Any] | None = None) -> str:
    """``json.dumps([get(item) for item in items])`` (``items`` themselves without ``get``),
    for names that are almost always strings."""
    values: Iterable[Any] = items if get is None else map(get, items)
    try:
        return "[" + ", ".join(map(_string, values)) + "]"
    except TypeError:  # a value that is not a string: json.dumps writes the list
        return dumps(list(items) if get is None else [get(item) for item in items])


def _vocabulary(ruleset: Ruleset) -> dict[str, str]:
    """The names a report of ``ruleset`` lists (rule ids, findings, protocols), each with its
    JSON text."""
    names: set[str] = set(ruleset.protocols)
    for rule in ruleset.rules:
        names.add(rule.id)
        names.update(rule.then.assert_)
        names.update(rule.then.recommend)
    return {name: _string(name) for name in sorted(names)}


class ReportLines:
    """The JSON Lines result row of a report scored with ``ruleset``, newline included.

    ``lines(report, record_id)`` equals ``json.dumps({c: row[c] for c in
    result_columns(ruleset)}) + "\\n"`` with ``row = report_row(report, record_id)``.
    """

    def __init__(self, ruleset: Ruleset) -> None:
        self._known = _vocabulary(ruleset).__getitem__
        self._hazards = tuple(
            (
                hid,
                f", {_string(f'{hid}.level')}: ",
                f", {_string(f'{hid}.score')}: ",
                f", {_string(f'{hid}.complete')}: ",
            )
            for hid in ruleset.hazards
        )

    def __call__(self, report: RiskReport, record_id: str | None) -> str:
        hazards = report.hazards
        parts = [
            '{"id": ',
            _text(record_id),
            ', "ruleset_fingerprint": ',
            _text(report.ruleset.fingerprint),
            ', "overall_level": ',
            _text(report.overall_level),
            ', "complete": ',
            _flag(report.complete),
        ]
        for hid, level, score, complete in self._hazards:
            hazard = hazards[hid]
            parts += (
                level,
                _text(hazard.level),
                score,
                _number(hazard.score),
                complete,
                _flag(hazard.complete),
            )
        parts += (
            ', "findings": ',
            self._list(report.findings),
            ', "protocols": ',
            self._list(report.recommendations, _protocol),
            ', "fired": ',
            self._list(report._fired_rule_ids()),
            "}\n",
        )
        return "".join(parts)

    def _list(self, items: tuple[Any, ...], get: Callable[[Any], Any] | None = None) -> str:
        """:func:`_names`, with the ruleset's names looked up ready written."""
        values: Iterable[Any] = items if get is None else map(get, items)
        try:
            return "[" + ", ".join(map(self._known, values)) + "]"
        except (KeyError, TypeError):  # a name the ruleset does not have, or not a string
            return _names(items, get)
