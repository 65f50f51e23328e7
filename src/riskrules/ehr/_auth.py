"""Who may call the CDS Hooks service: JWT bearer tokens as CDS Hooks 2.0 specifies them.

Specification, "Trusting CDS Clients": every call carries ``Authorization: Bearer <JWT>``
signed with an asymmetric key of a trusted issuer; ``aud`` is the URL of the endpoint being
invoked (a string or an array of strings); ``exp``, ``iat`` and ``jti`` are required and the
``jti`` protects against replay. Checks here are strict: claims have their JSON types (no
numeric strings), lifetimes are capped, symmetric keys are refused at configuration time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jwt

from riskrules.ehr._replay import ReplayStore
from riskrules.errors import ConfigError, ServiceRequestError

__all__ = ["ALGORITHMS", "CLOCK_SKEW", "Authenticator", "check_jwks"]

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
"""Accepted JWT signature algorithms (asymmetric only; the specification forbids the rest)."""
CLOCK_SKEW = 30
"""Seconds of leeway for ``exp`` and ``iat``."""
_FAMILY = {"RSA": ("RS", "PS"), "EC": ("ES",)}
_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_MAX_JTI = 256


def check_jwks(jwks: Any, where: str) -> Mapping[str, Any]:
    """``jwks`` when it is a JWKS of usable asymmetric public keys, else :class:`ConfigError`."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise ConfigError(f"{where}: the JWKS must be an object with 'keys'")
    if not jwks["keys"]:
        raise ConfigError(f"{where}: the JWKS holds no usable key")
    for n, key in enumerate(jwks["keys"]):
        if not isinstance(key, Mapping):
            raise ConfigError(f"{where}: keys[{n}] must be an object")
        kty = key.get("kty")
        if kty not in _FAMILY:
            raise ConfigError(
                f"{where}: keys[{n}]: kty {kty!r} is not accepted (RSA or EC public keys only; "
                "symmetric 'oct' keys would let anyone holding them forge tokens)"
            )
        alg = key.get("alg")
        if alg is not None and alg not in ALGORITHMS:
            raise ConfigError(f"{where}: keys[{n}]: alg {alg!r} is not accepted")
        try:
            jwt.PyJWK(dict(key))
        except (jwt.PyJWTError, ValueError, TypeError):
            raise ConfigError(f"{where}: keys[{n}] is not a usable key") from None
    return jwks


def _compatible(key: Mapping[str, Any], alg: str) -> bool:
    """Whether a key without its own ``alg`` may verify ``alg`` (RSA: RS*/PS*; EC: by curve)."""
    kty = key.get("kty")
    if kty == "EC":
        return _CURVE.get(str(key.get("crv"))) == alg
    return any(alg.startswith(prefix) for prefix in _FAMILY.get(str(kty), ()))


def _strict_claims(claims: Any) -> None:
    """The JSON types the specification gives each claim; lenient forms are refused."""
    if not isinstance(claims, dict):
        raise ServiceRequestError(401, "malformed token")
    if not isinstance(claims.get("iss"), str):
        raise ServiceRequestError(401, "token claim 'iss' must be a string")
    aud = claims.get("aud")
    if not (
        isinstance(aud, str)
        or (isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud))
    ):
        raise ServiceRequestError(401, "token claim 'aud' must be a string or array of strings")
    for name in ("exp", "iat"):
        value = claims.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ServiceRequestError(401, f"token claim '{name}' must be a number (seconds)")
        if abs(value) > 2**53 or not math.isfinite(value):
            raise ServiceRequestError(401, f"token claim '{name}' must be a number (seconds)")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > _MAX_JTI:
        raise ServiceRequestError(401, f"token claim 'jti' must be a string of 1-{_MAX_JTI}")


class Authenticator:
    """Verifies bearer tokens against the configured issuers' public keys."""

    def __init__(
        self,
        issuers: Mapping[str, Mapping[str, Any]],
        *,
        max_lifetime: float,
        replay: ReplayStore,
    ) -> None:
        self.issuers = {iss: check_jwks(jwks, iss)["keys"] for iss, jwks in issuers.items()}
        self.max_lifetime = max_lifetime
        self.replay = replay
        self._keys: dict[tuple[str, int, str], jwt.PyJWK] = {}

    def _candidates(self, iss: str, kid: Any, alg: str) -> list[jwt.PyJWK]:
        found = []
        for n, key in enumerate(self.issuers[iss]):
            if kid is not None and key.get("kid") not in (None, kid):
                continue
            own = key.get("alg")
            if (own is not None and own != alg) or (own is None and not _compatible(key, alg)):
                continue
            cached = self._keys.get((iss, n, alg))
            if cached is None:
                cached = self._keys[(iss, n, alg)] = jwt.PyJWK(dict(key), algorithm=alg)
            found.append(cached)
        return found

    def verify(self, authorization: str, audiences: Sequence[str]) -> None:
        """Accept the ``Authorization`` header for a call whose endpoint URL is one of
        ``audiences``, or raise :class:`ServiceRequestError` (401, or 503 from the store)."""
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ServiceRequestError(401, "missing bearer token")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
            raise ServiceRequestError(401, "malformed token") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise ServiceRequestError(401, "token algorithm is not accepted")
        _strict_claims(unverified)
        iss = unverified["iss"]
        if iss not in self.issuers:
            raise ServiceRequestError(401, "token issuer is not trusted")
        claims = self._decode(token, iss, header.get("kid"), alg, audiences)
        now = time.time()
        lifetime = self.max_lifetime
        if claims["exp"] - claims["iat"] > lifetime or claims["exp"] - now > lifetime + CLOCK_SKEW:
            raise ServiceRequestError(401, f"token lifetime exceeds {lifetime:g} s")
        if not self.replay.claim(f"{iss}\x1f{claims['jti']}", claims["exp"] + CLOCK_SKEW):
            raise ServiceRequestError(401, "token id (jti) was already used")

    def _decode(
        self, token: str, iss: str, kid: Any, alg: str, audiences: Sequence[str]
    ) -> dict[str, Any]:
        for key in self._candidates(iss, kid, alg):
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key=key,
                    algorithms=[alg],
                    audience=list(audiences),
                    issuer=iss,
                    leeway=CLOCK_SKEW,
                    options={"require": ["exp", "iat", "jti", "aud", "iss"]},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError:
                raise ServiceRequestError(401, "token has expired") from None
            except jwt.InvalidAudienceError:
                raise ServiceRequestError(
                    401, "token audience is not the URL of this endpoint"
                ) from None
            except jwt.ImmatureSignatureError:
                raise ServiceRequestError(401, "token is issued in the future") from None
            except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
                raise ServiceRequestError(401, f"token rejected ({type(exc).__name__})") from None
            return claims
        raise ServiceRequestError(401, "token signature is invalid")
