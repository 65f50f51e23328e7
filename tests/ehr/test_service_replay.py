"""Replay protection: each ``jti`` once (CDS Hooks 2.0, "Trusting CDS Clients": the jti
"protect[s] against replay attacks"), in a bounded store, shared between worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cds_client import HOOK_PATH, Ehr, example, hook_call, serve
from riskrules import Scorer, ServiceRequestError
from riskrules.service import LocalReplayStore, ReplayStore, ServiceConfig, SqliteReplayStore

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer("default", engine="native")


def test_local_store_accepts_each_id_once_until_it_expires() -> None:
    store = LocalReplayStore()
    assert isinstance(store, ReplayStore)
    now = time.time()
    assert store.claim("a", now + 60)
    assert not store.claim("a", now + 60)
    assert store.claim("b", now - 1)  # already expired: it may come again
    assert store.claim("b", now + 60)


def test_local_store_drops_expired_ids_as_claims_arrive() -> None:
    store = LocalReplayStore(max_entries=10)
    past = time.time() - 1
    for n in range(10_000):
        assert store.claim(f"id-{n}", past)
        assert len(store) == 1  # every earlier id had expired and was dropped from the front


def test_local_store_is_bounded_and_refuses_rather_than_forgets() -> None:
    store = LocalReplayStore(max_entries=3)
    later = time.time() + 60
    for key in "abc":
        assert store.claim(key, later)
    with pytest.raises(ServiceRequestError) as caught:
        store.claim("d", later)
    assert caught.value.status == 503
    assert not store.claim("a", later)  # a held id is still refused, not evicted
    assert len(store) == 3


def test_a_full_store_answers_503_over_http(scorer: Scorer) -> None:
    with serve(scorer, ServiceConfig(replay_max_entries=2)) as run:
        body = hook_call(assessment=example("client_in_crisis"))
        assert [run.call(body).status_code for _ in range(3)] == [200, 200, 503]
        assert "replay" in run.call(body).json()["error"]


_CLAIMS = """
import sys, time
from riskrules.service import SqliteReplayStore
store = SqliteReplayStore(sys.argv[1])
later = time.time() + 60
print(sum(store.claim(f"id-{n}", later) for n in range(300)))
"""


def test_sqlite_store_is_shared_by_processes(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite3"
    SqliteReplayStore(path)  # create the table before the race
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _CLAIMS, str(path)], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    counts = [int(worker.communicate(timeout=120)[0]) for worker in workers]
    assert sum(counts) == 300  # every id accepted exactly once across both processes
    store = SqliteReplayStore(path)
    assert not store.claim("id-7", time.time() + 60)
    assert store.claim("id-new", time.time() + 60)


def test_sqlite_store_forgets_expired_ids(tmp_path: Path) -> None:
    store = SqliteReplayStore(tmp_path / "replay.sqlite3", purge_every=2)
    assert store.claim("a", time.time() - 1)
    assert store.claim("a", time.time() + 60)
    assert not store.claim("a", time.time() + 60)


def test_two_servers_sharing_a_store_refuse_a_token_used_at_the_other(
    scorer: Scorer, tmp_path: Path
) -> None:
    ehr = Ehr()
    config = ServiceConfig(replay_store=tmp_path / "replay.sqlite3")
    with serve(scorer, config, ehr=ehr) as one, serve(scorer, config, ehr=ehr) as two:
        body = hook_call(assessment=example("client_in_crisis"))
        token = ehr.token([f"{one.base}{HOOK_PATH}", f"{two.base}{HOOK_PATH}"])
        assert one.call(body, token=token).status_code == 200
        again = two.call(body, token=token)
        assert again.status_code == 401
        assert "jti" in again.json()["error"]
