"""A small CDS Hooks client for the service tests: a real uvicorn on loopback, signed tokens.

The server runs :func:`riskrules.service.uvicorn_config` (the limits ``riskrules serve`` uses)
on a socket bound before the app is made, so the configured audience is the real base URL.
Tokens follow CDS Hooks 2.0, "Trusting CDS Clients": header ``alg``, ``kid``, ``typ: JWT``;
claims ``iss``, ``aud`` (the endpoint URL), ``exp``, ``iat``, ``jti``.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec

from riskrules import Scorer
from riskrules.service import SERVICE_ID, ServiceConfig, create_app, uvicorn_config

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ISSUER = "https://fhir-ehr.example.com/"
KID = "example-kid"
PATIENT = "1288992"
HOOK_PATH = f"/cds-services/{SERVICE_ID}"
FEEDBACK_PATH = f"{HOOK_PATH}/feedback"


class Ehr:
    """A CDS client: one signing key (EC P-384, ES384 as the spec's example) and its JWKS."""

    def __init__(self, iss: str = ISSUER, kid: str = KID) -> None:
        self.iss = iss
        self.kid = kid
        self.key = ec.generate_private_key(ec.SECP384R1())

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": self.kid, "alg": "ES384", "use": "sig"})
        return {"keys": [public]}

    def token(self, aud: Any, *, key: Any = None, alg: str = "ES384", **claims: Any) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.iss,
            "aud": aud,
            "exp": now + 240,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "tenant": "2ddd6c3a-8e9a-44c6-a305-52111ad302a2",
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        headers = {"kid": self.kid, "typ": "JWT"}
        # signed as raw JSON, so that claims of the wrong type can be tested too
        raw = json.dumps(payload).encode("utf-8")
        return jwt.api_jws.encode(raw, key or self.key, algorithm=alg, headers=headers)


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def hook_call(
    *,
    assessment: Any = None,
    prefetch: Any = None,
    patient: str = PATIENT,
    hook: str = "patient-view",
    instance: str | None = None,
) -> dict[str, Any]:
    """A hook call shaped as the specification's example request."""
    body: dict[str, Any] = {
        "hookInstance": instance or str(uuid.uuid4()),
        "fhirServer": "http://hooks.smarthealthit.org:9080",
        "hook": hook,
        "context": {"userId": "Practitioner/example", "patientId": patient},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    elif assessment is not None:
        body["prefetch"] = {"assessment": assessment}
    return body


@dataclasses.dataclass
class Running:
    """A running service: its base URL, the client that may call it, and its app state."""

    base: str
    ehr: Ehr
    app: Any

    def post(self, path: str, body: Any, *, aud: Any = None, token: str | None = None) -> Any:
        if token is None:
            token = self.ehr.token(aud if aud is not None else f"{self.base}{path}")
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.post(f"{self.base}{path}", json=body, headers=headers, timeout=20)

    def call(self, body: Any, **kwargs: Any) -> Any:
        return self.post(HOOK_PATH, body, **kwargs)

    def feedback(self, body: Any, **kwargs: Any) -> Any:
        return self.post(FEEDBACK_PATH, body, **kwargs)


@contextmanager
def serve(
    scorer: Scorer, config: ServiceConfig | None = None, *, ehr: Ehr | None = None
) -> Iterator[Running]:
    """Run the service on a free loopback port for the ``with`` block."""
    ehr = ehr or Ehr()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = config or ServiceConfig()
    if not config.insecure_dev:
        issuers = dict(config.issuers) or {ehr.iss: ehr.jwks()}
        config = dataclasses.replace(config, audience=base, issuers=issuers)
    app = create_app(config=config, scorer=scorer)
    server = uvicorn.Server(
        uvicorn_config(app, config, host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "server thread ended before starting"
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield Running(base, ehr, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
