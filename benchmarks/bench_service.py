"""CDS Hooks service load benchmark: signed hook calls against ``riskrules serve`` on loopback.

Run from the repository root (needs the ``service`` extra)::

    .venv/bin/python benchmarks/bench_service.py            # 20,000 requests, 64 clients
    .venv/bin/python benchmarks/bench_service.py --mixed    # and 10% bad + half-open
    .venv/bin/python benchmarks/bench_service.py --requests 2000 --clients 8

The server is ``riskrules serve`` in its own process (the configuration a site would write, with
the default limits), so client and server do not share an interpreter. Each request carries its
own ES256-signed JWT (``aud`` the endpoint URL, a distinct ``jti``), so the whole path is
measured: token verification, the replay store, body cap, JSON parsing, scoring in the thread
pool and card rendering. Tokens are made before the clock starts; they live 15 minutes (the
server is started with ``--max-token-lifetime 900``) so that a slow run cannot outlive them.

Reported: nothing lost (every request answered, good ones 200), p50 / p99 latency of the good
requests, overall requests per second, and the rate of the first and the last thousand
completions (flat when the replay store and everything else stay O(1) per request).

``--mixed`` runs a second pass in which every tenth request is bad (a bad signature, a replayed
``jti``, a wrong audience, malformed JSON, no prefetch, responses about another patient; each
must get its 4xx) while ``--half-open`` connections (default 100) connect and send nothing or
half a request head, reconnecting whenever the server drops them. The good requests' figures
are reported beside the clean run's. The run fails (exit 1) if anything is lost or mis-answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ISSUER = "https://ehr.example.org"
SERVICE = "/cds-services/riskrules-occupational-risk"
NAMES = ("client_in_crisis", "heavy_trauma_caseload", "incomplete_assessment")
BAD_KINDS = ("signature", "replay", "audience", "json", "prefetch", "patient")
EXPECTED = {"signature": 401, "replay": 401, "audience": 401, "json": 400, "prefetch": 412}
EXPECTED["patient"] = 422


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """``riskrules serve`` in a child process, with a key the benchmark signs with."""

    engine: str
    folder: Path
    key: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": "bench", "alg": "ES256"})
        (self.folder / "ehr.jwks.json").write_text(json.dumps({"keys": [public]}), "utf-8")
        config = self.folder / "service.yaml"
        config.write_text(
            f"audience: {self.base}\nissuers:\n  - iss: {ISSUER}\n    jwks_file: ehr.jwks.json\n"
            "hazards: {patient-view: all}\n",
            "utf-8",
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        command = [sys.executable, "-m", "riskrules", "serve", "--config", str(config)]
        command += ["--port", str(self.port), "--engine", self.engine]
        command += ["--max-token-lifetime", "900"]
        log = (self.folder / "server.log").open("wb")
        self.process = subprocess.Popen(command, stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/cds-services", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not start; see {self.folder / 'server.log'}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def token(self, *, aud: str | None = None, key: Any = None, jti: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": aud or f"{self.base}{SERVICE}",
            "iat": now,
            "exp": now + 900,
            "jti": jti or str(uuid.uuid4()),
        }
        headers = {"kid": "bench", "typ": "JWT"}
        return jwt.encode(claims, key or self.key, algorithm="ES256", headers=headers)


def _body(name: str, patient: str = "1288992") -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/1", "patientId": patient},
        "prefetch": {"assessment": json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))},
    }


def _bad_request(server: Server, kind: str, replayable: str) -> tuple[bytes, str]:
    """(body, token) of a request that must get ``EXPECTED[kind]``."""
    body = _body(NAMES[0])
    token = server.token()
    if kind == "signature":
        token = server.token(key=ec.generate_private_key(ec.SECP256R1()))
    elif kind == "replay":
        token = replayable
    elif kind == "audience":
        token = server.token(aud=f"{server.base}/cds-services")
    elif kind == "json":
        return b'{"hook": "patient-view", "context": ', token
    elif kind == "prefetch":
        del body["prefetch"]
    elif kind == "patient":
        qr = {
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "subject": {"reference": "Patient/someone-else"},
            "questionnaire": "https://riskrules.example/fhir/Questionnaire/audit_c|1.0.0",
        }
        body["prefetch"] = {"questionnaireResponses": [qr]}
    return json.dumps(body).encode(), token


def plan(server: Server, total: int, bad_share: int) -> list[tuple[str, bytes, str]]:
    """(kind, body, token) for every request; kind "good" or a bad kind."""
    bodies = [json.dumps(_body(name)).encode() for name in NAMES]
    requests: list[tuple[str, bytes, str]] = []
    for i in range(total):
        if bad_share and i % bad_share == bad_share - 1:
            kind = BAD_KINDS[(i // bad_share) % len(BAD_KINDS)]
            body, token = _bad_request(server, kind, requests[i - 1][2])
            requests.append((kind, body, token))
        else:
            requests.append(("good", bodies[i % len(bodies)], server.token()))
    return requests


async def _half_open(server: Server, count: int, stop: asyncio.Event, dropped: list[int]) -> None:
    """Keep ``count`` connections open that send nothing or half a head; reopen dropped ones."""

    async def one(n: int) -> None:
        while not stop.is_set():
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            if n % 2:
                writer.write(b"POST " + SERVICE.encode() + b" HTTP/1.1\r\nHost: x\r\n")
                await writer.drain()
            read = asyncio.ensure_future(reader.read(1))
            waiting = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({read, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if read in done:
                dropped[0] += 1
            for task in (read, waiting):
                task.cancel()
            writer.close()

    await asyncio.gather(*(one(n) for n in range(count)))


async def _fire(
    server: Server, requests: list[tuple[str, bytes, str]], clients: int
) -> list[tuple[int, int, float, float]]:
    """(index, status, start, end) for every request, ``clients`` at a time."""
    results: list[tuple[int, int, float, float]] = []
    queue = iter(range(len(requests)))
    url = f"{server.base}{SERVICE}"

    async def client() -> None:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=1)) as http:
            for i in queue:
                _, body, token = requests[i]
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                start = time.perf_counter()
                try:
                    reply = await http.post(url, content=body, headers=headers)
                    status = reply.status_code
                except httpx.HTTPError:
                    status = 0
                results.append((i, status, start, time.perf_counter()))

    await asyncio.gather(*(client() for _ in range(clients)))
    return results


async def _run(
    server: Server, requests: list[tuple[str, bytes, str]], clients: int, half_open: int
) -> tuple[list[tuple[int, int, float, float]], float, int]:
    stop = asyncio.Event()
    dropped = [0]
    noise = asyncio.ensure_future(_half_open(server, half_open, stop, dropped))
    await asyncio.sleep(0.5 if half_open else 0)
    started = time.perf_counter()
    results = await _fire(server, requests, clients)
    elapsed = time.perf_counter() - started
    stop.set()
    await noise
    return results, elapsed, dropped[0]


def _rate(ends: list[float]) -> float:
    return (len(ends) - 1) / (ends[-1] - ends[0]) if len(ends) > 1 else 0.0


def summarise(
    requests: list[tuple[str, bytes, str]],
    results: list[tuple[int, int, float, float]],
    elapsed: float,
) -> dict[str, Any]:
    total = len(requests)
    good = [r for r in results if requests[r[0]][0] == "good"]
    bad = [r for r in results if requests[r[0]][0] != "good"]
    latencies = [(end - start) * 1000 for _, _, start, end in good]
    ends = sorted(end for _, _, _, end in results)
    return {
        "requests": total,
        "answered": len(results),
        "complete": sorted(i for i, _, _, _ in results) == list(range(total)),
        "good": len(good),
        "good_ok": sum(1 for _, status, _, _ in good if status == 200),
        "bad": len(bad),
        "bad_as_expected": sum(1 for i, s, _, _ in bad if s == EXPECTED[requests[i][0]]),
        "p50_ms": statistics.median(latencies),
        "p99_ms": _percentile(latencies, 0.99),
        "requests_per_s": total / elapsed,
        "first_1000_per_s": _rate(ends[:1000]),
        "last_1000_per_s": _rate(ends[-1000:]),
    }


def run(
    total: int, clients: int, engine: str, *, bad_share: int = 0, half_open: int = 0
) -> dict[str, Any]:
    """Start a server, fire ``total`` requests from ``clients`` clients, stop, summarise."""
    with tempfile.TemporaryDirectory() as folder:
        server = Server(engine, Path(folder))
        server.start()
        try:
            requests = plan(server, total, bad_share)
            results, elapsed, dropped = asyncio.run(_run(server, requests, clients, half_open))
        finally:
            server.stop()
    summary = summarise(requests, results, elapsed)
    summary.update({"clients": clients, "half_open": half_open, "half_open_dropped": dropped})
    return summary


def _report(title: str, result: dict[str, Any]) -> str:
    return (
        f"{title}: {result['requests']} requests, {result['clients']} clients; "
        f"answered {result['answered']}, nothing lost: {result['complete']}\n"
        f"  good {result['good_ok']}/{result['good']} answered 200; "
        f"bad {result['bad_as_expected']}/{result['bad']} answered their 4xx; "
        f"half-open connections {result['half_open']} (dropped by the server "
        f"{result['half_open_dropped']} times)\n"
        f"  good requests: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms; "
        f"{result['requests_per_s']:.0f} requests/s overall; first 1000 "
        f"{result['first_1000_per_s']:.0f}/s, last 1000 {result['last_1000_per_s']:.0f}/s\n"
    )


def _failed(result: dict[str, Any]) -> bool:
    return (
        not result["complete"]
        or result["good_ok"] != result["good"]
        or result["bad_as_expected"] != result["bad"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--engine", default="native", choices=("auto", "native", "durable"))
    parser.add_argument("--mixed", action="store_true", help="also run with bad + half-open")
    parser.add_argument("--half-open", type=int, default=100, metavar="N")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    results = {"clean": run(args.requests, args.clients, args.engine)}
    sys.stdout.write(_report("clean", results["clean"]))
    if args.mixed:
        results["mixed"] = run(
            args.requests, args.clients, args.engine, bad_share=10, half_open=args.half_open
        )
        sys.stdout.write(_report("10% bad + half-open", results["mixed"]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if any(_failed(r) for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
