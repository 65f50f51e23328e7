"""A CDS Hooks service (ASGI, Starlette): EHR hook calls in, riskrules cards out.

Needs the ``service`` extra (``pip install riskrules[service]``). Endpoints:

- ``GET /cds-services``: discovery (one service, :data:`SERVICE_ID`, on ``patient-view``).
- ``POST /cds-services/{id}``: the hook call; the assessment comes from ``prefetch``
  (``assessment``: an assessment object, or ``questionnaireResponses``: a FHIR Bundle or list of
  QuestionnaireResponse resources when :mod:`riskrules.fhir` is available) -> ``{"cards": [...]}``.
- ``POST /cds-services/{id}/feedback``: accepted / overridden outcomes, appended to an audit
  JSON Lines file (card uuid, outcome, override reason code, time; nothing identifying).

Every request needs ``Authorization: Bearer <JWT>`` signed by a configured issuer, with
``aud`` equal to the service's base URL, ``exp``, ``iat`` and a ``jti`` not seen before (see
docs/cds-hooks.md for the configuration file). ``insecure_dev`` switches this off explicitly.
Logs name the service, the ruleset fingerprint, levels and status codes, never values.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from riskrules.ehr._cdshooks import OVERRIDE_REASONS, cards
from riskrules.errors import AssessmentError, ConfigError, RiskRulesError
from riskrules.scoring._scorer import Scorer

__all__ = [
    "SERVICE_ID",
    "ConfigError",
    "ReplayCache",
    "ServiceConfig",
    "create_app",
    "load_config",
]

log = logging.getLogger("riskrules.service")

SERVICE_ID = "riskrules-occupational-risk"
"""The id of the one CDS service."""
HOOKS = ("patient-view", "encounter-start")
"""Hooks the service answers."""
MAX_BODY = 1024 * 1024
"""Default body size cap in bytes (1 MiB)."""
ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
"""Accepted JWT signature algorithms (asymmetric only)."""
CLOCK_SKEW = 30
"""Seconds of leeway for ``exp`` and ``iat``."""


@dataclass(frozen=True)
class ServiceConfig:
    """How the service authenticates callers and where it records feedback.

    ``issuers`` maps each trusted ``iss`` to its JWKS (``{"keys": [...]}``). ``audience`` is the
    service's base URL (the ``aud`` every token must carry).
    """

    audience: str = ""
    issuers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    insecure_dev: bool = False
    max_body: int = MAX_BODY
    audit_log: Path | None = None


def load_config(path: str | Path, *, insecure_dev: bool = False) -> ServiceConfig:
    """Read a JSON or YAML configuration file (format in docs/cds-hooks.md)."""
    import yaml

    where = Path(path)
    try:
        data = yaml.safe_load(where.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{where}: cannot read configuration ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the configuration must be a mapping")
    issuers: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(data.get("issuers") or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("iss"), str):
            raise ConfigError(f"{where}: issuers[{i}] needs an 'iss' string")
        if "jwks" in entry:
            jwks = entry["jwks"]
        elif "jwks_file" in entry:
            file = where.parent / str(entry["jwks_file"])
            try:
                jwks = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise ConfigError(f"{where}: issuers[{i}].jwks_file {file} is unreadable") from None
        else:
            raise ConfigError(f"{where}: issuers[{i}] needs 'jwks' or 'jwks_file'")
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise ConfigError(f"{where}: issuers[{i}] JWKS must be an object with 'keys'")
        try:
            jwt.PyJWKSet.from_dict(jwks)
        except jwt.PyJWTError:
            raise ConfigError(f"{where}: issuers[{i}] JWKS holds no usable key") from None
        issuers[entry["iss"]] = jwks
    audience = data.get("audience", "")
    if not isinstance(audience, str):
        raise ConfigError(f"{where}: 'audience' must be a string (the service's base URL)")
    max_body = data.get("max_body_bytes", MAX_BODY)
    if not isinstance(max_body, int) or isinstance(max_body, bool) or max_body <= 0:
        raise ConfigError(f"{where}: 'max_body_bytes' must be a positive integer")
    audit = data.get("audit_log")
    return ServiceConfig(
        audience=audience,
        issuers=issuers,
        insecure_dev=insecure_dev,
        max_body=max_body,
        audit_log=where.parent / str(audit) if audit else None,
    )


class ReplayCache:
    """Seen ``jti`` values until their token expires (thread-safe, in memory)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, jti: str, expires: float) -> bool:
        """Record ``jti``; False when it was already used by an unexpired token."""
        now = time.time()
        with self._lock:
            if len(self._seen) > 1024:
                self._seen = {k: v for k, v in self._seen.items() if v + CLOCK_SKEW > now}
            seen = self._seen.get(jti)
            if seen is not None and seen + CLOCK_SKEW > now:
                return False
            self._seen[jti] = expires
            return True


class _Reject(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Service:
    """The state behind the app: one compiled Scorer, keys, replay cache and audit file."""

    def __init__(self, scorer: Scorer, config: ServiceConfig) -> None:
        self.scorer = scorer
        self.config = config
        self.replay = ReplayCache()
        self.keys = {
            iss: jwt.PyJWKSet.from_dict(dict(jwks)) for iss, jwks in config.issuers.items()
        }
        self.feedback: list[dict[str, Any]] = []
        self._audit_lock = threading.Lock()
        self.fingerprint = scorer.ruleset.fingerprint

    # ---------------------------------------------------------------- security

    def authenticate(self, request: Request) -> None:
        if self.config.insecure_dev:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Reject(401, "missing bearer token")
        token = token.strip()
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise _Reject(401, "malformed token") from None
        iss = unverified.get("iss")
        keyset = self.keys.get(iss) if isinstance(iss, str) else None
        if keyset is None:
            raise _Reject(401, "token issuer is not trusted")
        candidates = [k for k in keyset.keys if kid is None or k.key_id in (None, kid)]
        claims: dict[str, Any] | None = None
        reason = "token signature is invalid"
        for key in candidates:
            try:
                claims = jwt.decode(
                    token,
                    key=key,
                    algorithms=list(ALGORITHMS),
                    audience=self.config.audience,
                    issuer=iss,
                    leeway=CLOCK_SKEW,
                    options={"require": ["exp", "iat", "jti", "aud", "iss"]},
                )
                break
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError:
                raise _Reject(401, "token has expired") from None
            except jwt.InvalidAudienceError:
                raise _Reject(401, "token audience does not match this service") from None
            except jwt.PyJWTError as exc:
                reason = f"token rejected ({type(exc).__name__})"
                break
        if claims is None:
            raise _Reject(401, reason)
        if not self.replay.claim(f"{iss}\x1f{claims['jti']}", float(claims["exp"])):
            raise _Reject(401, "token id (jti) was already used")

    async def body(self, request: Request) -> Any:
        cap = self.config.max_body
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > cap):
            raise _Reject(413, f"request body exceeds {cap} bytes")
        chunks = bytearray()
        async for chunk in request.stream():
            chunks.extend(chunk)
            if len(chunks) > cap:
                raise _Reject(413, f"request body exceeds {cap} bytes")

        def constant(name: str) -> object:
            raise ValueError(name)

        try:
            return json.loads(bytes(chunks), parse_constant=constant)
        except (ValueError, RecursionError):
            raise _Reject(400, "request body is not valid JSON") from None

    # ---------------------------------------------------------------- hook

    def assessment(self, prefetch: Any) -> Any:
        if not isinstance(prefetch, dict):
            raise _Reject(
                412, "required prefetch is missing (give 'questionnaireResponses' or 'assessment')"
            )
        if prefetch.get("assessment") is not None:
            value = prefetch["assessment"]
            if not isinstance(value, dict):
                raise _Reject(400, "prefetch 'assessment' must be a JSON object")
            return value
        responses = prefetch.get("questionnaireResponses")
        if responses is not None:
            from riskrules.ehr._fhir_select import assessment_from_questionnaire_responses

            if not isinstance(responses, dict | list):
                raise _Reject(400, "prefetch 'questionnaireResponses' must be a Bundle or list")
            return assessment_from_questionnaire_responses(responses)
        raise _Reject(
            412, "required prefetch is missing (give 'questionnaireResponses' or 'assessment')"
        )

    def hook(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise _Reject(400, "request body must be a JSON object")
        if data.get("hook") not in HOOKS:
            raise _Reject(400, f"'hook' must be one of {', '.join(HOOKS)}")
        if not isinstance(data.get("hookInstance"), str) or not data["hookInstance"]:
            raise _Reject(400, "'hookInstance' must be a non-empty string")
        if not isinstance(data.get("context"), dict):
            raise _Reject(400, "'context' must be a JSON object")
        try:
            report = self.scorer.score(self.assessment(data.get("prefetch")))
        except AssessmentError as exc:
            # field and constraint only: the offending value is not echoed
            raise _Reject(
                422, f"assessment rejected: field {exc.field!r}: {exc.constraint}"
            ) from None
        except RiskRulesError:
            raise _Reject(422, "assessment rejected") from None
        result = cards(report)
        log.info(
            "service=%s ruleset=%s overall=%s cards=%d",
            SERVICE_ID,
            self.fingerprint[:12],
            report.overall_level,
            len(result),
        )
        return {"cards": result}

    def record_feedback(self, data: Any) -> int:
        codes = {code for code, _ in OVERRIDE_REASONS}
        if not isinstance(data, dict) or not isinstance(data.get("feedback"), list):
            raise _Reject(400, "feedback body must be an object with a 'feedback' list")
        entries: list[dict[str, Any]] = []
        for item in data["feedback"]:
            if not isinstance(item, dict) or not isinstance(item.get("card"), str):
                raise _Reject(400, "each feedback item needs a 'card' uuid")
            outcome = item.get("outcome")
            if outcome not in ("accepted", "overridden"):
                raise _Reject(400, "'outcome' must be accepted or overridden")
            entry: dict[str, Any] = {"card": item["card"], "outcome": outcome}
            if outcome == "overridden":
                reason = item.get("overrideReason") or {}
                code = reason.get("reason", {}).get("code") if isinstance(reason, dict) else None
                if code is not None and code not in codes:
                    raise _Reject(400, "unknown override reason code")
                entry["overrideReason"] = code
            entry["recorded"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            entries.append(entry)
        with self._audit_lock:
            self.feedback.extend(entries)
            if self.config.audit_log is not None:
                with self.config.audit_log.open("a", encoding="utf-8") as handle:
                    for entry in entries:
                        handle.write(json.dumps(entry, sort_keys=True) + "\n")
        return len(entries)


def _discovery() -> dict[str, Any]:
    return {
        "services": [
            {
                "id": SERVICE_ID,
                "hook": "patient-view",
                "title": "riskrules occupational risk",
                "description": (
                    "Explainable screening of occupational risks in mental-health practice: one "
                    "card per hazard at moderate or above, or incomplete. Decision support, "
                    "not a diagnosis."
                ),
                "prefetch": {
                    "questionnaireResponses": (
                        "QuestionnaireResponse?subject={{context.patientId}}&status=completed"
                    )
                },
                "usageRequirements": (
                    "Prefetch 'assessment' (an assessment object) or 'questionnaireResponses' "
                    "(a Bundle of QuestionnaireResponse resources)."
                ),
            }
        ]
    }


def create_app(
    *,
    ruleset: Any = "default",
    engine: str = "auto",
    config: ServiceConfig | None = None,
    scorer: Scorer | None = None,
) -> Starlette:
    """The ASGI app. One Scorer is compiled here and reused for every call."""
    config = config or ServiceConfig()
    if config.insecure_dev:
        log.warning("authentication is DISABLED (--insecure-dev): for local trials only")
    elif not config.issuers or not config.audience:
        raise ConfigError("configure at least one issuer and the audience, or use insecure_dev")
    service = _Service(scorer or Scorer(ruleset, engine=engine), config)

    def reply(request: Request, status: int, payload: Any) -> Response:
        log.info("service=%s status=%d", SERVICE_ID, status)
        return JSONResponse(payload, status_code=status)

    async def discovery(request: Request) -> Response:
        return JSONResponse(_discovery())

    async def call(request: Request) -> Response:
        try:
            service.authenticate(request)
            if request.path_params["service_id"] != SERVICE_ID:
                raise _Reject(404, "unknown CDS service")
            data = await service.body(request)
            return reply(request, 200, service.hook(data))
        except _Reject as exc:
            return reply(request, exc.status, {"error": exc.message})

    async def feedback(request: Request) -> Response:
        try:
            service.authenticate(request)
            if request.path_params["service_id"] != SERVICE_ID:
                raise _Reject(404, "unknown CDS service")
            data = await service.body(request)
            count = service.record_feedback(data)
            return reply(request, 200, {"recorded": count})
        except _Reject as exc:
            return reply(request, exc.status, {"error": exc.message})

    app = Starlette(
        routes=[
            Route("/cds-services", discovery, methods=["GET"]),
            Route("/cds-services/{service_id}", call, methods=["POST"]),
            Route("/cds-services/{service_id}/feedback", feedback, methods=["POST"]),
        ]
    )
    app.state.service = service
    return app
