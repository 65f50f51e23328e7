"""Replay protection for the CDS Hooks service: each token id (``jti``) is accepted once.

A store remembers every claimed id until the token it came from can no longer be valid. The
service caps token lifetimes (``max_token_lifetime``), so that moment is never far off and a
store holds at most (requests per second) x (lifetime + clock skew) ids.

- :class:`LocalReplayStore` (the default): in memory, one process; O(1) per claim, bounded.
- :class:`SqliteReplayStore`: a SQLite file that several worker processes on one host share.

Any object with the :class:`ReplayStore` method works (docs/cds-hooks.md shows a Redis one).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Protocol, runtime_checkable

from riskrules.errors import ServiceRequestError

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "LocalReplayStore",
    "ReplayCache",
    "ReplayStore",
    "SqliteReplayStore",
]

DEFAULT_MAX_ENTRIES = 200_000
"""Default bound of the in-memory store (about 40 MiB at most)."""


@runtime_checkable
class ReplayStore(Protocol):
    """Where claimed token ids are kept until ``expires`` (seconds since the epoch)."""

    def claim(self, key: str, expires: float) -> bool:
        """Record ``key``; False when it is already held by an unexpired claim.

        May raise :class:`~riskrules.ServiceRequestError` (503) when the store is full.
        """
        ...


class LocalReplayStore:
    """In-memory store, thread-safe: O(1) amortised per claim, at most ``max_entries`` ids.

    Ids are kept in claim order; expired ones are dropped from the front as claims arrive. When
    every slot holds an unexpired id, a new claim is refused with a 503 rather than forgetting
    an id that could still be replayed.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries <= 0:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def claim(self, key: str, expires: float) -> bool:
        now = time.time()
        with self._lock:
            self._purge(now)
            held = self._seen.get(key)
            if held is not None and held > now:
                return False
            if held is None and len(self._seen) >= self.max_entries:
                raise ServiceRequestError(503, "replay cache is full; retry shortly")
            self._seen[key] = expires
            self._seen.move_to_end(key)
            return True

    def _purge(self, now: float) -> None:
        # Front entries are the oldest claims. Lifetimes are capped, so an expired front is
        # the common case; a long-lived front only delays the purge of the ids behind it.
        seen = self._seen
        while seen:
            key, expires = next(iter(seen.items()))
            if expires > now:
                return
            del seen[key]


ReplayCache = LocalReplayStore
"""The former name of :class:`LocalReplayStore`."""


class SqliteReplayStore:
    """A SQLite file shared by the service's worker processes on one host.

    Each claim is one transaction (``INSERT`` on a primary key), so two workers never both
    accept one id. Expired rows are deleted every ``purge_every`` claims.
    """

    def __init__(self, path: str | Path, *, purge_every: int = 1000) -> None:
        self.path = Path(path)
        self.purge_every = purge_every
        self._local = threading.local()
        self._count = 0
        self._count_lock = threading.Lock()
        with self._connection() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS jti (key TEXT PRIMARY KEY, expires REAL NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS jti_expires ON jti (expires)")

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def claim(self, key: str, expires: float) -> bool:
        now = time.time()
        db = self._connection()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM jti WHERE key = ? AND expires <= ?", (key, now))
            inserted = db.execute(
                "INSERT OR IGNORE INTO jti (key, expires) VALUES (?, ?)", (key, expires)
            ).rowcount
            db.execute("COMMIT")
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise ServiceRequestError(503, "replay store is unavailable; retry shortly") from None
        with self._count_lock:
            self._count += 1
            purge = self._count % self.purge_every == 0
        if purge:
            db.execute("DELETE FROM jti WHERE expires <= ?", (now,))
        return inserted == 1
