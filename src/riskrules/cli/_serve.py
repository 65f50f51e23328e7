"""``riskrules serve``: the CDS Hooks service."""

from __future__ import annotations

import argparse
import sys

from riskrules.cli._options import Commands, add_engine


def add_serve(commands: Commands) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the CDS Hooks service (needs riskrules[service])",
        description=(
            "Serve CDS Hooks cards over HTTP (docs/cds-hooks.md). Requests must carry a JWT "
            "signed by an issuer listed in --config, unless --insecure-dev is given."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument(
        "--ruleset",
        default="default",
        metavar="PATH|NAME",
        help="ruleset file, directory or built-in name (default: default)",
    )
    add_engine(parser, default="auto", help="rule engine (default: auto)")
    parser.add_argument(
        "--config", metavar="FILE", help="JSON/YAML file: audience, issuers and their JWKS"
    )
    parser.add_argument(
        "--insecure-dev",
        action="store_true",
        help="accept requests without a token (local trials only; logs a warning)",
    )
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import logging

    try:
        import uvicorn

        from riskrules.ehr._service import ServiceConfig, create_app, load_config
    except ImportError:
        sys.stderr.write(
            "riskrules: serve needs the service extra: pip install riskrules[service]\n"
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.config:
        config = load_config(args.config, insecure_dev=args.insecure_dev)
    elif args.insecure_dev:
        config = ServiceConfig(insecure_dev=True)
    else:
        sys.stderr.write("riskrules: serve needs --config FILE (or --insecure-dev)\n")
        return 2
    app = create_app(ruleset=args.ruleset, engine=args.engine, config=config)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False)
    return 0
