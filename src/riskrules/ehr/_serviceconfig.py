"""The CDS Hooks service's configuration: the runtime :class:`ServiceConfig` and its file.

A site writes a YAML (or JSON) file whose shape is the pydantic model :class:`ConfigFile`; its
JSON Schema is committed as ``schemas/service-config.schema.json`` (``riskrules schema
service-config``). :func:`load_config` reads the file into a :class:`ServiceConfig`; command-line
flags then override single settings (``dataclasses.replace``). docs/cds-hooks.md lists every
setting with its default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from riskrules.ehr._replay import DEFAULT_MAX_ENTRIES
from riskrules.errors import ConfigError

__all__ = [
    "CLIENT_SIDE",
    "HOOKS",
    "MAX_BODY",
    "ConfigFile",
    "ServiceConfig",
    "config_json_schema",
    "load_config",
]

HOOKS = ("patient-view", "encounter-start")
"""Hooks the service answers (and advertises)."""
MAX_BODY = 1024 * 1024
"""Default body size cap in bytes (1 MiB)."""
CLIENT_SIDE = "client-side"
"""The hazard selection that means: hazards whose rules read only ``client.*`` inputs."""

PositiveInt = Annotated[int, Field(strict=True, gt=0)]
Seconds = Annotated[float, Field(gt=0, le=3600)]


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the service needs, with the defaults docs/cds-hooks.md lists.

    ``issuers`` maps each trusted ``iss`` to its JWKS (``{"keys": [...]}``). ``audience`` is the
    service's base URL: a token's ``aud`` must be the URL of the endpoint it calls under it.
    ``hazards`` maps a hook to the hazard ids its cards report, or to :data:`CLIENT_SIDE`;
    hooks not named report every hazard, except ``patient-view``, which defaults to
    :data:`CLIENT_SIDE`. ``selection`` holds the FHIR selection policy (``on_unknown``,
    ``duplicates``, ``max_age``). ``replay_store`` is ``None`` (in memory) or a SQLite path
    shared by worker processes. ``card_key`` signs card uuids (random per process when unset).
    """

    audience: str = ""
    issuers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    insecure_dev: bool = False
    max_body: int = MAX_BODY
    audit_log: Path | None = None
    mappings: tuple[Path, ...] = ()
    partial: bool = False
    selection: Mapping[str, Any] = field(
        default_factory=lambda: {"on_unknown": "skip", "duplicates": "latest"}
    )
    hazards: Mapping[str, tuple[str, ...] | str] = field(default_factory=dict)
    cors_origins: tuple[str, ...] = ()
    max_token_lifetime: float = 300.0
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 256
    scoring_threads: int = 4
    replay_store: Path | None = None
    replay_max_entries: int = DEFAULT_MAX_ENTRIES
    card_key: bytes | None = None

    def hazards_for(self, hook: str) -> tuple[str, ...] | str | None:
        """The hazard selection of ``hook``: ids, :data:`CLIENT_SIDE`, or None (every one)."""
        choice = self.hazards.get(hook, CLIENT_SIDE if hook == "patient-view" else None)
        return None if choice == "all" else choice


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IssuerEntry(_Strict):
    """A trusted CDS client: its ``iss`` and its public keys (inline, or a file beside)."""

    iss: StrictStr = Field(min_length=1, description="The issuer (iss claim) the client uses.")
    jwks: dict[str, Any] | None = Field(default=None, description="The JWKS inline.")
    jwks_file: StrictStr | None = Field(
        default=None, description="A JWKS file, relative to the configuration file."
    )


class FhirSettings(_Strict):
    """How prefetched QuestionnaireResponses become an assessment."""

    mappings: list[StrictStr] = Field(
        default_factory=list, description="Site mapping files (JSON), relative to this file."
    )
    partial: StrictBool = Field(
        default=False, description="Score in-progress responses, leaving out incomplete totals."
    )
    on_unknown: Literal["error", "skip"] = Field(
        default="skip", description="Responses to questionnaires with no mapping."
    )
    duplicates: Literal["error", "latest"] = Field(
        default="latest", description="Several responses to one instrument."
    )
    max_age: timedelta | None = Field(
        default=None, description="Leave out older responses (ISO 8601 duration, e.g. P365D)."
    )


class LimitSettings(_Strict):
    """Time, size and concurrency limits."""

    max_body_bytes: PositiveInt = Field(default=MAX_BODY, description="Request body cap.")
    max_token_lifetime: Seconds = Field(
        default=300, description="Longest accepted exp - iat (and exp - now), in seconds."
    )
    header_timeout: Seconds = Field(
        default=10, description="Seconds to receive a request's head on a connection."
    )
    body_timeout: Seconds = Field(default=10, description="Seconds to receive a request body.")
    keep_alive_timeout: Seconds = Field(
        default=5, description="Seconds an idle keep-alive connection stays open."
    )
    max_connections: PositiveInt = Field(
        default=256, description="Open connections before requests are answered 503."
    )
    scoring_threads: Annotated[int, Field(strict=True, gt=0, le=256)] = Field(
        default=4, description="Threads that score and record feedback off the event loop."
    )


class ReplaySettings(_Strict):
    """Where token ids (jti) are remembered."""

    kind: Literal["local", "sqlite"] = Field(default="local")
    path: StrictStr | None = Field(default=None, description="The SQLite file (kind: sqlite).")
    max_entries: PositiveInt = Field(
        default=DEFAULT_MAX_ENTRIES, description="Bound of the in-memory store (kind: local)."
    )


class ConfigFile(_Strict):
    """The configuration file of ``riskrules serve`` (YAML or JSON)."""

    audience: StrictStr = Field(
        default="", description="The service's base URL, e.g. https://cds.example.org."
    )
    issuers: list[IssuerEntry] = Field(default_factory=list)
    audit_log: StrictStr | None = Field(
        default=None, description="Feedback audit file (JSON Lines), relative to this file."
    )
    max_body_bytes: PositiveInt | None = Field(
        default=None, description="Former place of limits.max_body_bytes."
    )
    cors_origins: list[StrictStr] = Field(
        default_factory=list, description="Origins allowed to call from a browser (CORS)."
    )
    hazards: dict[
        Literal["patient-view", "encounter-start"], list[StrictStr] | Literal["all", "client-side"]
    ] = Field(
        default_factory=dict,
        description="Hazards each hook reports (default: patient-view client-side, else all).",
    )
    fhir: FhirSettings = Field(default_factory=FhirSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    replay_store: ReplaySettings = Field(default_factory=ReplaySettings)
    card_key_file: StrictStr | None = Field(
        default=None, description="A file whose bytes sign card uuids (share it across workers)."
    )


def config_json_schema() -> str:
    """The JSON Schema of the configuration file (``schemas/service-config.schema.json``)."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **ConfigFile.model_json_schema(),
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _located(where: Path, exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    path = ".".join(str(part) for part in first["loc"]) or "<top>"
    return ConfigError(f"{where}: {path}: {first['msg']}")


def _jwks(where: Path, index: int, entry: IssuerEntry) -> Mapping[str, Any]:
    if (entry.jwks is None) == (entry.jwks_file is None):
        raise ConfigError(f"{where}: issuers[{index}] needs one of 'jwks' or 'jwks_file'")
    if entry.jwks is not None:
        return entry.jwks
    file = where.parent / str(entry.jwks_file)
    try:
        data: Mapping[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(f"{where}: issuers[{index}].jwks_file {file} is unreadable") from None
    return data


def _card_key(where: Path, name: str | None) -> bytes | None:
    if name is None:
        return None
    try:
        key = (where.parent / name).read_bytes()
    except OSError:
        raise ConfigError(f"{where}: card_key_file {name} is unreadable") from None
    if len(key) < 16:
        raise ConfigError(f"{where}: card_key_file {name} must hold at least 16 bytes")
    return key


def load_config(path: str | Path, *, insecure_dev: bool = False) -> ServiceConfig:
    """Read a JSON or YAML configuration file (format in docs/cds-hooks.md)."""
    from riskrules.ehr._auth import check_jwks

    where = Path(path)
    try:
        data = yaml.safe_load(where.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{where}: cannot read configuration ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the configuration must be a mapping")
    try:
        doc = ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise _located(where, exc) from None
    issuers: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(doc.issuers):
        issuers[entry.iss] = check_jwks(_jwks(where, i, entry), f"{where}: issuers[{i}]")
    limits, fhir = doc.limits, doc.fhir
    selection = {"on_unknown": fhir.on_unknown, "duplicates": fhir.duplicates}
    if fhir.max_age is not None:
        selection["max_age"] = fhir.max_age  # type: ignore[assignment]
    store = doc.replay_store
    if store.kind == "sqlite" and not store.path:
        raise ConfigError(f"{where}: replay_store.path is needed with kind: sqlite")
    return ServiceConfig(
        audience=doc.audience,
        issuers=issuers,
        insecure_dev=insecure_dev,
        max_body=doc.max_body_bytes or limits.max_body_bytes,
        audit_log=where.parent / doc.audit_log if doc.audit_log else None,
        mappings=tuple(where.parent / m for m in fhir.mappings),
        partial=fhir.partial,
        selection=selection,
        hazards={
            hook: value if isinstance(value, str) else tuple(value)
            for hook, value in doc.hazards.items()
        },
        cors_origins=tuple(doc.cors_origins),
        max_token_lifetime=limits.max_token_lifetime,
        header_timeout=limits.header_timeout,
        body_timeout=limits.body_timeout,
        keep_alive_timeout=limits.keep_alive_timeout,
        max_connections=limits.max_connections,
        scoring_threads=limits.scoring_threads,
        replay_store=where.parent / store.path if store.kind == "sqlite" and store.path else None,
        replay_max_entries=store.max_entries,
        card_key=_card_key(where, doc.card_key_file),
    )
