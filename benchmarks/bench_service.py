"""CDS Hooks service load benchmark: signed hook calls against a real uvicorn on loopback.

Run from the repository root (needs the ``service`` extra)::

    .venv/bin/python benchmarks/bench_service.py                      # 2,000 requests, 8 clients
    .venv/bin/python benchmarks/bench_service.py --requests 500 --clients 4

Each request carries its own ES256-signed JWT (distinct ``jti``), so the whole path is measured:
token verification, replay cache, body cap, JSON parsing, scoring and card rendering. Tokens are
made before the clock starts. The run fails (exit 1) if any request is lost or not answered 200;
it prints p50 / p99 latency and requests per second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec

from riskrules.ehr._service import SERVICE_ID, ServiceConfig, create_app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ISSUER = "https://ehr.example.org"
NAMES = ("client_in_crisis", "heavy_trauma_caseload", "incomplete_assessment")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def run(total: int, clients: int, engine: str) -> dict[str, Any]:
    """Serve on a free loopback port, fire ``total`` calls from ``clients`` threads."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public["kid"] = "bench"
    holder: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await holder["app"](scope, receive, send)

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    config = ServiceConfig(audience=base, issuers={ISSUER: {"keys": [public]}})
    holder["app"] = create_app(engine=engine, config=config)

    bodies = [
        {
            "hook": "patient-view",
            "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": "1"},
            "prefetch": {"assessment": json.loads((EXAMPLES / f"{n}.json").read_text("utf-8"))},
        }
        for n in NAMES
    ]
    now = int(time.time())
    tokens = [
        jwt.encode(
            {"iss": ISSUER, "aud": base, "iat": now, "exp": now + 600, "jti": str(uuid.uuid4())},
            key,
            algorithm="ES256",
            headers={"kid": "bench"},
        )
        for _ in range(total)
    ]

    def work(worker: int) -> list[tuple[int, int, float]]:
        out = []
        with httpx.Client(timeout=30) as client:
            for i in range(worker, total, clients):
                start = time.perf_counter()
                reply = client.post(
                    f"{base}/cds-services/{SERVICE_ID}",
                    json=bodies[i % len(bodies)],
                    headers={"Authorization": f"Bearer {tokens[i]}"},
                )
                out.append((i, reply.status_code, time.perf_counter() - start))
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [item for chunk in pool.map(work, range(clients)) for item in chunk]
    elapsed = time.perf_counter() - started
    server.should_exit = True
    thread.join(timeout=10)

    latencies = [seconds * 1000 for _, _, seconds in results]
    return {
        "requests": total,
        "clients": clients,
        "answered": len(results),
        "ok": sum(1 for _, status, _ in results if status == 200),
        "complete": sorted(i for i, _, _ in results) == list(range(total)),
        "p50_ms": statistics.median(latencies),
        "p99_ms": _percentile(latencies, 0.99),
        "requests_per_s": total / elapsed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--engine", default="native", choices=("auto", "native", "durable"))
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    result = run(args.requests, args.clients, args.engine)
    sys.stdout.write(
        f"{result['requests']} requests, {result['clients']} clients ({args.engine} engine): "
        f"{result['ok']}/{result['answered']} OK, nothing lost: {result['complete']}\n"
        f"p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms  "
        f"{result['requests_per_s']:.0f} requests/s\n"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lost = not result["complete"] or result["ok"] != result["requests"]
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
