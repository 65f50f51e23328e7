"""``riskrules serve``: the CDS Hooks service."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from riskrules.cli._options import Commands, add_engine, add_ruleset


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


def _hazards(text: str) -> tuple[str, tuple[str, ...] | str]:
    hook, sep, value = text.partition("=")
    if not sep or hook not in ("patient-view", "encounter-start") or not value:
        raise argparse.ArgumentTypeError(
            f"expected HOOK=IDS (patient-view or encounter-start), got {text!r}"
        )
    if value in ("all", "client-side"):
        return hook, value
    return hook, tuple(part.strip() for part in value.split(",") if part.strip())


_SITE_FLAGS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--audience", {"metavar": "URL", "help": "the service's base URL (tokens' aud prefix)"}),
    ("--mapping", {"action": "append", "metavar": "FILE", "help": "site FHIR mapping file"}),
    ("--partial", {"action": "store_true", "default": None, "help": "score in-progress responses"}),
    ("--on-unknown", {"choices": ("error", "skip"), "help": "unmapped questionnaires (skip)"}),
    ("--duplicates", {"choices": ("error", "latest"), "help": "several responses (latest)"}),
    ("--max-age-days", {"type": _positive(int), "metavar": "N", "help": "older responses out"}),
    (
        "--hazards",
        {
            "action": "append",
            "type": _hazards,
            "metavar": "HOOK=IDS",
            "help": "hazards a hook reports: ids, all or client-side",
        },
    ),
    ("--cors-origin", {"action": "append", "metavar": "ORIGIN", "help": "allowed browser origin"}),
    ("--max-token-lifetime", {"type": _positive(float), "metavar": "S", "help": "default 300"}),
    ("--max-body-bytes", {"type": _positive(int), "metavar": "N", "help": "default 1048576"}),
    ("--header-timeout", {"type": _positive(float), "metavar": "S", "help": "default 10"}),
    ("--body-timeout", {"type": _positive(float), "metavar": "S", "help": "default 10"}),
    ("--keep-alive-timeout", {"type": _positive(float), "metavar": "S", "help": "default 5"}),
    ("--max-connections", {"type": _positive(int), "metavar": "N", "help": "default 256"}),
    ("--scoring-threads", {"type": _positive(int), "metavar": "N", "help": "default 4"}),
    ("--replay-store", {"metavar": "FILE", "help": "SQLite file shared by worker processes"}),
)


def add_serve(commands: Commands) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the CDS Hooks service (needs riskrules[service])",
        description=(
            "Serve CDS Hooks cards over HTTP (docs/cds-hooks.md). Requests must carry a JWT "
            "signed by an issuer listed in --config, unless --insecure-dev is given. Flags "
            "override the settings of the configuration file."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    add_ruleset(parser)
    add_engine(parser, default="auto", help="rule engine (default: auto)")
    parser.add_argument(
        "--config", metavar="FILE", help="JSON/YAML file: audience, issuers and their JWKS"
    )
    parser.add_argument(
        "--insecure-dev",
        action="store_true",
        help="accept requests without a token (loopback host only; logs a warning)",
    )
    site = parser.add_argument_group("site settings (override --config)")
    for flag, options in _SITE_FLAGS:
        site.add_argument(flag, **options)
    parser.set_defaults(handler=_serve)


def overrides(args: argparse.Namespace, selection: dict[str, Any]) -> dict[str, Any]:
    """ServiceConfig fields that the command line sets (the file's values for the rest)."""
    found: dict[str, Any] = {}
    plain = {
        "audience": "audience",
        "partial": "partial",
        "max_token_lifetime": "max_token_lifetime",
        "max_body_bytes": "max_body",
        "header_timeout": "header_timeout",
        "body_timeout": "body_timeout",
        "keep_alive_timeout": "keep_alive_timeout",
        "max_connections": "max_connections",
        "scoring_threads": "scoring_threads",
    }
    for name, target in plain.items():
        if getattr(args, name) is not None:
            found[target] = getattr(args, name)
    if args.mapping:
        found["mappings"] = tuple(Path(m) for m in args.mapping)
    if args.cors_origin:
        found["cors_origins"] = tuple(args.cors_origin)
    if args.hazards:
        found["hazards"] = dict(args.hazards)
    if args.replay_store:
        found["replay_store"] = Path(args.replay_store)
    chosen = dict(selection)
    for name in ("on_unknown", "duplicates"):
        if getattr(args, name) is not None:
            chosen[name] = getattr(args, name)
    if args.max_age_days is not None:
        chosen["max_age"] = timedelta(days=args.max_age_days)
    if chosen != dict(selection):
        found["selection"] = chosen
    return found


def _serve(args: argparse.Namespace) -> int:
    import dataclasses
    import logging

    try:
        import uvicorn

        from riskrules.ehr._server import uvicorn_config
        from riskrules.ehr._service import create_app
        from riskrules.ehr._serviceconfig import ServiceConfig, load_config
    except ImportError:
        sys.stderr.write(
            "riskrules: serve needs the service extra: pip install riskrules[service]\n"
        )
        return 2
    from riskrules.errors import ConfigError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.config:
            config = load_config(args.config, insecure_dev=args.insecure_dev)
        elif args.insecure_dev:
            config = ServiceConfig(insecure_dev=True)
        else:
            sys.stderr.write("riskrules: serve needs --config FILE (or --insecure-dev)\n")
            return 2
        config = dataclasses.replace(config, **overrides(args, dict(config.selection)))
        app = create_app(ruleset=args.ruleset, engine=args.engine, config=config)
        server_config = uvicorn_config(app, config, host=args.host, port=args.port)
    except ConfigError as exc:
        sys.stderr.write(f"riskrules: {exc}\n")
        return 2
    uvicorn.Server(server_config).run()
    return 0
