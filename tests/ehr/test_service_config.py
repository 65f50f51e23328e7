"""The service's site configuration: the file, its JSON Schema, the documented example and the
``riskrules serve`` flags that override it."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest

from cds_client import Ehr, example, hook_call, serve
from riskrules import Scorer
from riskrules.cli import build_parser, main
from riskrules.cli._serve import overrides
from riskrules.service import (
    ConfigFile,
    ServiceConfig,
    config_json_schema,
    create_app,
    load_config,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "service-config.schema.json"
DOC = ROOT / "docs" / "cds-hooks.md"


def _documented_example() -> str:
    text = DOC.read_text(encoding="utf-8")
    part = text[text.index("### Configuration file") :]
    return part[part.index("```yaml\n") + 8 : part.index("\n```", part.index("```yaml"))]


def test_the_committed_schema_is_current() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == config_json_schema()
    assert main(["schema", "service-config", "--check", "--output", str(SCHEMA)]) == 0


def test_the_documented_example_loads(tmp_path: Path) -> None:
    (tmp_path / "ehr.jwks.json").write_text(json.dumps(Ehr().jwks()), encoding="utf-8")
    (tmp_path / "mappings").mkdir()
    shipped = ROOT / "src/riskrules/data/fhir_mappings/audit_c.json"
    (tmp_path / "mappings/local-audit-c.json").write_text(
        shipped.read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "card.key").write_bytes(b"0123456789abcdef0123")
    path = tmp_path / "service.yaml"
    path.write_text(_documented_example(), encoding="utf-8")
    config = load_config(path)
    assert config.audience == "https://cds.example.org"
    assert set(config.issuers) == {"https://ehr.example.org", "https://other-ehr.example.org"}
    assert config.audit_log == tmp_path / "feedback.jsonl"
    assert config.cors_origins == ("https://sandbox.cds-hooks.org",)
    assert config.hazards_for("patient-view") == "client-side"
    assert config.hazards_for("encounter-start") is None
    assert config.mappings == (tmp_path / "mappings/local-audit-c.json",)
    assert config.selection == {
        "on_unknown": "skip",
        "duplicates": "latest",
        "max_age": timedelta(days=365),
    }
    assert config.card_key == b"0123456789abcdef0123"
    create_app(config=config, scorer=Scorer("default", engine="native"))


def test_every_documented_default_is_the_runtime_default() -> None:
    file_defaults = ConfigFile()
    runtime = ServiceConfig()
    limits = file_defaults.limits
    assert runtime.max_body == limits.max_body_bytes == 1024 * 1024
    assert runtime.max_token_lifetime == limits.max_token_lifetime == 300
    assert runtime.header_timeout == limits.header_timeout == 10
    assert runtime.body_timeout == limits.body_timeout == 10
    assert runtime.keep_alive_timeout == limits.keep_alive_timeout == 5
    assert runtime.max_connections == limits.max_connections == 256
    assert runtime.scoring_threads == limits.scoring_threads == 4
    assert runtime.replay_max_entries == file_defaults.replay_store.max_entries
    assert dict(runtime.selection) == {
        "on_unknown": file_defaults.fhir.on_unknown,
        "duplicates": file_defaults.fhir.duplicates,
    }
    assert runtime.partial is file_defaults.fhir.partial is False
    assert runtime.cors_origins == ()
    assert file_defaults.cors_origins == []
    doc = DOC.read_text(encoding="utf-8")
    for name, default in [
        ("limits.max_body_bytes", "1048576"),
        ("limits.max_token_lifetime", "300"),
        ("limits.header_timeout", "10"),
        ("limits.body_timeout", "10"),
        ("limits.keep_alive_timeout", "5"),
        ("limits.max_connections", "256"),
        ("limits.scoring_threads", "4"),
        ("replay_store.max_entries", "200000"),
        ("fhir.on_unknown", "`skip`"),
        ("fhir.duplicates", "`latest`"),
        ("hazards.patient-view", "`client-side`"),
    ]:
        assert re.search(rf"\| `{re.escape(name)}` \| {re.escape(default)}", doc), name


def test_every_file_setting_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    schema = json.loads(config_json_schema())
    for name in schema["properties"]:
        assert f"`{name}" in doc, name
    for group in ("FhirSettings", "LimitSettings", "ReplaySettings"):
        prefix = {"FhirSettings": "fhir", "LimitSettings": "limits"}.get(group, "replay_store")
        for name in schema["$defs"][group]["properties"]:
            assert f"`{prefix}.{name}`" in doc, f"{prefix}.{name}"


def test_flags_override_the_file() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--audience",
            "https://cds.site.example.org",
            "--mapping",
            "a.json",
            "--mapping",
            "b.json",
            "--partial",
            "--on-unknown",
            "error",
            "--max-age-days",
            "30",
            "--hazards",
            "patient-view=crisis,substance_abuse",
            "--hazards",
            "encounter-start=all",
            "--cors-origin",
            "https://sandbox.cds-hooks.org",
            "--max-token-lifetime",
            "120",
            "--max-body-bytes",
            "4096",
            "--header-timeout",
            "3",
            "--body-timeout",
            "4",
            "--keep-alive-timeout",
            "2",
            "--max-connections",
            "64",
            "--scoring-threads",
            "2",
            "--replay-store",
            "replay.sqlite3",
        ]
    )
    base = ServiceConfig()
    config = dataclasses.replace(base, **overrides(args, dict(base.selection)))
    assert config.audience == "https://cds.site.example.org"
    assert config.mappings == (Path("a.json"), Path("b.json"))
    assert config.partial is True
    assert config.selection == {
        "on_unknown": "error",
        "duplicates": "latest",
        "max_age": timedelta(days=30),
    }
    assert config.hazards_for("patient-view") == ("crisis", "substance_abuse")
    assert config.hazards_for("encounter-start") is None
    assert config.cors_origins == ("https://sandbox.cds-hooks.org",)
    assert (config.max_token_lifetime, config.max_body) == (120, 4096)
    assert (config.header_timeout, config.body_timeout, config.keep_alive_timeout) == (3, 4, 2)
    assert (config.max_connections, config.scoring_threads) == (64, 2)
    assert config.replay_store == Path("replay.sqlite3")
    untouched = build_parser().parse_args(["serve"])
    assert overrides(untouched, dict(base.selection)) == {}


@pytest.mark.parametrize(
    "flag", ["--max-connections=0", "--header-timeout=-1", "--hazards=order-sign=crisis"]
)
def test_bad_flags_are_refused(flag: str) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", flag])


def test_a_shorter_token_lifetime_applies(tmp_path: Path) -> None:
    scorer = Scorer("default", engine="native")
    with serve(scorer, ServiceConfig(max_token_lifetime=60)) as run:
        now = int(time.time())
        aud = f"{run.base}/cds-services/riskrules-occupational-risk"
        body = hook_call(assessment=example("client_in_crisis"))
        assert run.call(body, token=run.ehr.token(aud, exp=now + 120)).status_code == 401
        assert run.call(body, token=run.ehr.token(aud, exp=now + 60)).status_code == 200
