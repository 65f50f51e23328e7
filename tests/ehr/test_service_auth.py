"""Who may call: JWT bearer tokens as CDS Hooks 2.0, "Trusting CDS Clients", specifies them.

Every test drives a real uvicorn on loopback. ``aud`` is the URL of the endpoint invoked (a
string or an array of strings); signatures are asymmetric only; ``exp``, ``iat`` and ``jti``
are required with their JSON types; lifetimes are capped; a ``jti`` is accepted once.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from cds_client import FEEDBACK_PATH, HOOK_PATH, Ehr, Running, example, hook_call, serve
from riskrules import Scorer
from riskrules.service import ConfigError, ServiceConfig, create_app, load_config, uvicorn_config

# The specification's own example ("Trusting CDS Clients", Example): its JWK Set and the token
# it signs with the matching private key (iss https://fhir-ehr.example.com/, exp in 2015).
SPEC_JWKS = {
    "keys": [
        {
            "kty": "EC",
            "use": "sig",
            "crv": "P-384",
            "kid": "example-kid",
            "x": "46SDH7Znh821wblCBglA61sNE9ZrHYKKt3qRtRTmSXyOI_FIGBLWrWa0GPUkDCEk",
            "y": "XMcRuuoGW7CXjQdy-F5i3FeBE0x9hPLdeFdSoDd3ELmx404tLX0VRRcqzAsPhXcI",
            "alg": "ES384",
        }
    ]
}
SPEC_PRIVATE = {
    **SPEC_JWKS["keys"][0],
    "d": "SeFXUXda8UomZ8GFUl7HH_Oi15rIbfMcsWj9ecIsDR8kLbqsEz2CGNgwy_IcILxy",
}
SPEC_TOKEN = (
    "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6ImV4YW1wbGUta2lkIiwiamt1IjoiaHR0cHM6Ly9maGly"
    "LWVoci5leGFtcGxlLmNvbS9qd2tfdXJpIn0.eyJpc3MiOiJodHRwczovL2ZoaXItZWhyLmV4YW1wbGUuY29tLyIs"
    "ImF1ZCI6Imh0dHBzOi8vY2RzLmV4YW1wbGUub3JnL2Nkcy1zZXJ2aWNlcy9zb21lLXNlcnZpY2UiLCJleHAiOjE0"
    "MjI1Njg4NjAsImlhdCI6MTMxMTI4MDk3MCwianRpIjoiZWUyMmIwMjEtZTFiNy00NjExLWJhNWItOGVlYzZhMzNh"
    "YzFlIiwidGVuYW50IjoiMmRkZDZjM2EtOGU5YS00NGM2LWEzMDUtNTIxMTFhZDMwMmEyIn0.d1WfLjGRKlcWB94l"
    "9do4cM8REXeYJLL6SGUBO8VHZhfM8mwKYP70EMxJ67War4TQblEpaQrp11wx5p7oPFm2ETYgCicS84vXWEIYTdjo"
    "oZdooCSDf2L8-i4awdoUwiEb"
)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer("default", engine="native")


@pytest.fixture(scope="module")
def running(scorer: Scorer) -> Iterator[Running]:
    with serve(scorer) as run:
        yield run


def _body() -> dict[str, Any]:
    return hook_call(assessment=example("client_in_crisis"))


def test_aud_is_the_endpoint_url_as_a_string(running: Running) -> None:
    # "Trusting CDS Clients": aud is "https://cds.example.org/cds-services/some-service"
    reply = running.call(_body(), aud=f"{running.base}{HOOK_PATH}")
    assert reply.status_code == 200, reply.text


def test_aud_is_the_endpoint_url_in_an_array(running: Running) -> None:
    # "... or ["https://cds.example.org/cds-services/some-service"]"
    assert running.call(_body(), aud=[f"{running.base}{HOOK_PATH}"]).status_code == 200
    both = ["https://other.example.org/cds-services/x", f"{running.base}{HOOK_PATH}"]
    assert running.call(_body(), aud=both).status_code == 200


@pytest.mark.parametrize(
    "aud",
    ["{base}", "{base}/cds-services", "{base}/cds-services/other", "https://elsewhere.example.org"],
)
def test_aud_of_another_endpoint_is_401(running: Running, aud: str) -> None:
    reply = running.call(_body(), aud=aud.format(base=running.base))
    assert reply.status_code == 401
    assert "audience" in reply.json()["error"]


def test_feedback_accepts_its_own_url_and_the_service_url(running: Running) -> None:
    # one configuration accepts conformant tokens for the hook and for its feedback endpoint
    card = running.call(_body()).json()["cards"][0]["uuid"]
    item = {"card": card, "outcome": "overridden", "outcomeTimestamp": "2020-12-11T00:00:00Z"}
    for aud in (f"{running.base}{FEEDBACK_PATH}", [f"{running.base}{HOOK_PATH}"]):
        reply = running.feedback({"feedback": [item]}, aud=aud)
        assert reply.status_code == 200, reply.text
    reply = running.feedback({"feedback": [item]}, aud=f"{running.base}/cds-services")
    assert reply.status_code == 401


def test_the_specification_token_example(scorer: Scorer) -> None:
    # the spec's JWKS loads as a trusted issuer; its example token verifies, but it expired
    # in 2015, so it is refused for that reason (and its aud names another service)
    ehr = Ehr()
    config = ServiceConfig(issuers={"https://fhir-ehr.example.com/": SPEC_JWKS})
    with serve(scorer, config, ehr=ehr) as run:
        reply = run.call(_body(), token=SPEC_TOKEN)
        assert reply.status_code == 401
        assert "expired" in reply.json()["error"]
        # a fresh token in the same shape, signed with the spec's private key, is accepted
        key = jwt.PyJWK(SPEC_PRIVATE).key
        fresh = ehr.token(f"{run.base}{HOOK_PATH}", key=key)
        header = jwt.get_unverified_header(fresh)
        assert header == {"alg": "ES384", "typ": "JWT", "kid": "example-kid"}
        assert run.call(_body(), token=fresh).status_code == 200


def _signed(running: Running, key: Any, alg: str, **claims: Any) -> str:
    return running.ehr.token(f"{running.base}{HOOK_PATH}", key=key, alg=alg, **claims)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "missing bearer token"),
        ("garbage", "malformed"),
        ("signature", "signature"),
        ("expired", "expired"),
        ("no_exp", "exp"),
        ("issuer", "issuer"),
        ("hs256", "algorithm"),
        ("none", "algorithm"),
        ("future", "future"),
    ],
)
def test_bad_tokens_are_401(running: Running, case: str, message: str) -> None:
    aud = f"{running.base}{HOOK_PATH}"
    now = int(time.time())
    token = {
        "missing": "",
        "garbage": "not.a.jwt",
        "signature": Ehr().token(aud),
        "expired": running.ehr.token(aud, iat=now - 400, exp=now - 100),
        "no_exp": running.ehr.token(aud, exp=None),
        "issuer": Ehr(iss="https://rogue.example.org").token(aud),
        "hs256": running.ehr.token(aud, key="a shared secret of 32 bytes......", alg="HS256"),
        "none": jwt.encode({"iss": running.ehr.iss, "aud": aud}, None, algorithm="none"),
        "future": running.ehr.token(aud, iat=now + 200, exp=now + 300),
    }[case]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reply = httpx.post(aud, json=_body(), headers=headers, timeout=10)
    assert reply.status_code == 401
    assert message in reply.json()["error"]
    assert "cards" not in reply.json()


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": "{exp}"}, "'exp' must be a number"),
        ({"iat": True}, "'iat' must be a number"),
        ({"exp": 10**400}, "'exp' must be a number"),
        ({"jti": ""}, "'jti'"),
        ({"jti": 12}, "'jti'"),
        ({"jti": "x" * 300}, "'jti'"),
        ({"aud": 5}, "'aud'"),
        ({"aud": []}, "'aud'"),
        ({"iss": ["https://fhir-ehr.example.com/"]}, "'iss'"),
    ],
)
def test_claims_are_strict(running: Running, claims: dict[str, Any], message: str) -> None:
    exp = int(time.time()) + 200
    values = {k: (str(exp) if v == "{exp}" else v) for k, v in claims.items()}
    values.setdefault("aud", f"{running.base}{HOOK_PATH}")
    reply = running.call(_body(), token=running.ehr.token(**values))
    assert reply.status_code == 401
    assert message in reply.json()["error"]


def test_token_lifetime_is_capped(running: Running) -> None:
    # the default cap is 5 minutes (the specification's recommendation for short-lived tokens)
    aud = f"{running.base}{HOOK_PATH}"
    now = int(time.time())
    for iat, exp in ((now, now + 3600), (now - 10, now + 600)):
        reply = running.call(_body(), token=running.ehr.token(aud, iat=iat, exp=exp))
        assert reply.status_code == 401
        assert "lifetime exceeds 300 s" in reply.json()["error"]
    assert running.call(_body(), token=running.ehr.token(aud, exp=now + 300)).status_code == 200


def test_reused_jti_is_401(running: Running) -> None:
    token = running.ehr.token(f"{running.base}{HOOK_PATH}")
    assert running.call(_body(), token=token).status_code == 200
    again = running.call(_body(), token=token)
    assert again.status_code == 401
    assert "jti" in again.json()["error"]


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
def test_rsa_key_without_alg_verifies_every_rsa_algorithm(
    scorer: Scorer, rsa_key: rsa.RSAPrivateKey, alg: str
) -> None:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    public["kid"] = "rsa-1"
    ehr = Ehr(kid="rsa-1")
    with serve(scorer, ServiceConfig(issuers={ehr.iss: {"keys": [public]}}), ehr=ehr) as run:
        reply = run.call(_body(), token=_signed(run, rsa_key, alg))
        assert reply.status_code == 200, reply.text
        # an EC algorithm never verifies with an RSA key
        other = _signed(run, ehr.key, "ES384")
        assert run.call(_body(), token=other).status_code == 401


def test_a_key_with_alg_verifies_only_that_algorithm(
    scorer: Scorer, rsa_key: rsa.RSAPrivateKey
) -> None:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    public.update({"kid": "rsa-1", "alg": "RS384"})
    ehr = Ehr(kid="rsa-1")
    with serve(scorer, ServiceConfig(issuers={ehr.iss: {"keys": [public]}}), ehr=ehr) as run:
        assert run.call(_body(), token=_signed(run, rsa_key, "RS384")).status_code == 200
        assert run.call(_body(), token=_signed(run, rsa_key, "RS256")).status_code == 401


def test_symmetric_keys_are_refused(tmp_path: Path, scorer: Scorer) -> None:
    oct_key = {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", "kid": "s"}
    config = tmp_path / "service.yaml"
    config.write_text(
        json.dumps(
            {
                "audience": "https://cds.example.org",
                "issuers": [{"iss": "https://ehr.example.org", "jwks": {"keys": [oct_key]}}],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="oct"):
        load_config(config)
    with pytest.raises(ConfigError, match="oct"):
        create_app(
            config=ServiceConfig(
                audience="https://cds.example.org",
                issuers={"https://ehr.example.org": {"keys": [oct_key]}},
            ),
            scorer=scorer,
        )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "cds.example.org", "::"])
def test_insecure_dev_is_refused_off_loopback(scorer: Scorer, host: str) -> None:
    config = ServiceConfig(insecure_dev=True)
    app = create_app(config=config, scorer=scorer)
    with pytest.raises(ConfigError, match="loopback"):
        uvicorn_config(app, config, host=host, port=8000)
    uvicorn_config(app, config, host="127.0.0.1", port=8000)
    uvicorn_config(app, config, host="::1", port=8000)


def test_serve_refuses_insecure_dev_off_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    from riskrules.cli import main

    assert main(["serve", "--insecure-dev", "--host", "0.0.0.0", "--engine", "native"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_each_token_is_for_one_call(running: Running) -> None:
    # the jti is remembered per issuer: the same id from another issuer is another token
    jti = str(uuid.uuid4())
    aud = f"{running.base}{HOOK_PATH}"
    assert running.call(_body(), token=running.ehr.token(aud, jti=jti)).status_code == 200
    assert running.call(_body(), token=running.ehr.token(aud, jti=jti)).status_code == 401
