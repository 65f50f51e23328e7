"""Feedback on the service's cards (CDS Hooks 2.0, "Feedback"): checked, then audited.

Each feedback item names a ``card`` uuid this service issued (checked from the uuid alone, see
:func:`riskrules.cdshooks.issued`), an ``outcome`` (``accepted`` with ``acceptedSuggestions``,
or ``overridden`` with an optional ``overrideReason``) and the required ``outcomeTimestamp``.
Override reasons may be the card's own or ones the CDS client added: any Coding is recorded
with its system. Recorded per item, and nothing else: the card uuid, the outcome, the reason's
system and code, the accepted suggestion ids, ``outcomeTimestamp`` and the server time. User
comments and anything else in the item are dropped, so no free text reaches the audit file.

Memory is bounded: entries go to the audit file (JSON Lines, appended) and only the last
:data:`RECENT` stay in memory.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from riskrules.ehr._cdshooks import issued
from riskrules.errors import ServiceRequestError

__all__ = ["MAX_ITEMS", "RECENT", "FeedbackRecorder"]

RECENT = 1000
"""Feedback entries kept in memory (the newest ones)."""
MAX_ITEMS = 100
"""Feedback items accepted in one request."""
_RFC3339 = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)
_CODE = re.compile(r"^[^\s]+( [^\s]+)*$")  # FHIR code
_URI = re.compile(r"^\S+$")
_MAX_TEXT = 256


def _bad(message: str) -> ServiceRequestError:
    return ServiceRequestError(400, message)


def _coding(value: Any) -> tuple[str | None, str | None]:
    """(system, code) of an override reason's ``reason`` Coding, types and sizes checked."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise _bad("'overrideReason.reason' must be a Coding object")
    system, code = value.get("system"), value.get("code")
    if system is not None and (
        not isinstance(system, str) or len(system) > _MAX_TEXT or not _URI.match(system)
    ):
        raise _bad("'overrideReason.reason.system' must be a URI string")
    if code is not None and (
        not isinstance(code, str) or len(code) > _MAX_TEXT or not _CODE.match(code)
    ):
        raise _bad("'overrideReason.reason.code' must be a code string")
    return system, code


class FeedbackRecorder:
    """Checks feedback requests and appends their entries to the audit file."""

    def __init__(self, key: bytes, audit_log: Path | None) -> None:
        self.key = key
        self.audit_log = audit_log
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self._lock = threading.Lock()

    def parse(self, data: Any) -> list[dict[str, Any]]:
        """The entries to record from a feedback request body, or a 4xx error."""
        if not isinstance(data, dict) or not isinstance(data.get("feedback"), list):
            raise _bad("feedback body must be an object with a 'feedback' list")
        items = data["feedback"]
        if not items or len(items) > MAX_ITEMS:
            raise _bad(f"'feedback' must hold 1 to {MAX_ITEMS} items")
        return [self._entry(item) for item in items]

    def _entry(self, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise _bad("each feedback item must be an object")
        card = item.get("card")
        if not isinstance(card, str):
            raise _bad("each feedback item needs a 'card' uuid")
        if not issued(card, self.key):
            raise ServiceRequestError(422, "'card' is not the uuid of a card this service issued")
        outcome = item.get("outcome")
        if outcome not in ("accepted", "overridden"):
            raise _bad("'outcome' must be accepted or overridden")
        stamp = item.get("outcomeTimestamp")
        if not isinstance(stamp, str) or not _RFC3339.match(stamp):
            raise _bad("'outcomeTimestamp' is required: an RFC 3339 date-time in UTC")
        entry: dict[str, Any] = {"card": card, "outcome": outcome, "outcomeTimestamp": stamp}
        if outcome == "accepted":
            entry["acceptedSuggestions"] = self._accepted(item.get("acceptedSuggestions"))
        elif item.get("acceptedSuggestions") is not None:
            raise _bad("'acceptedSuggestions' belongs to accepted outcomes only")
        reason = item.get("overrideReason")
        if reason is not None:
            if outcome != "overridden" or not isinstance(reason, dict):
                raise _bad("'overrideReason' must be an object, on overridden outcomes only")
            system, code = _coding(reason.get("reason"))
            if code is not None or system is not None:
                entry["overrideReason"] = {"system": system, "code": code}
        entry["recorded"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return entry

    def _accepted(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not value:
            raise _bad("'acceptedSuggestions' is required for accepted outcomes: [{id: uuid}]")
        ids = []
        for suggestion in value:
            sid = suggestion.get("id") if isinstance(suggestion, dict) else None
            if not isinstance(sid, str):
                raise _bad("each accepted suggestion needs an 'id' string")
            if not issued(sid, self.key):
                raise ServiceRequestError(
                    422, "an accepted suggestion id is not one this service issued"
                )
            ids.append(sid)
        return ids

    def record(self, entries: Sequence[dict[str, Any]]) -> int:
        """Append ``entries`` to the audit file and the in-memory tail; their number."""
        lines = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)
        with self._lock:
            if self.audit_log is not None:
                with self.audit_log.open("a", encoding="utf-8") as handle:
                    handle.write(lines)
            self.recent.extend(entries)
        return len(entries)
