"""``riskrules schema``: the JSON Schemas of rulesets, FHIR questionnaire mappings, the service
configuration, reports, and one ruleset's assessments (``schema assessment --ruleset R``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from riskrules.cli._options import Commands
from riskrules.ruleset import ruleset_json_schema


def _fhir_mapping_schema() -> str:
    from riskrules.ehr._fhir_mapping_spec import fhir_mapping_json_schema

    return fhir_mapping_json_schema()


def _service_config_schema() -> str:
    from riskrules.ehr._serviceconfig import config_json_schema

    return config_json_schema()


def _report_schema() -> str:
    import json

    from riskrules.report import RiskReport

    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **RiskReport.model_json_schema(mode="serialization"),
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _assessment_schema(ruleset: str) -> str:
    from riskrules.ruleset._contract import assessment_json_schema
    from riskrules.ruleset._loader import load_ruleset

    return assessment_json_schema(load_ruleset(ruleset))


SCHEMAS: dict[str, Callable[[], str]] = {
    "fhir-mapping": _fhir_mapping_schema,
    "report": _report_schema,
    "ruleset": ruleset_json_schema,
    "service-config": _service_config_schema,
}
"""Schema name -> function returning its JSON text."""
SCHEMA_FILE = "schemas/{name}.schema.json"
"""Where each schema is committed, relative to the repository root."""


def add_schema(commands: Commands) -> None:
    parser = commands.add_parser(
        "schema",
        help=(
            "print or write the JSON Schema of a ruleset, FHIR mapping, service configuration, "
            "report or assessment"
        ),
        description=(
            "Generate the JSON Schema that ruleset YAML files (ruleset), FHIR questionnaire "
            "mapping files (fhir-mapping) or the CDS Hooks service's configuration file "
            "(service-config) are written against, that report JSON follows (report), or that "
            "the assessments a ruleset scores follow (assessment, with --ruleset)."
        ),
    )
    parser.add_argument("name", choices=sorted([*SCHEMAS, "assessment"]), help="which schema")
    parser.add_argument(
        "--ruleset",
        metavar="RULESET",
        default="default",
        help="for assessment: the ruleset whose inputs it describes (default: default)",
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="write the schema to PATH instead of standard output",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=(
            "do not write; exit 1 if PATH (default: schemas/<name>.schema.json) differs from "
            "the generated schema"
        ),
    )
    parser.set_defaults(handler=_schema)


def _schema(args: argparse.Namespace) -> int:
    text = _assessment_schema(args.ruleset) if args.name == "assessment" else SCHEMAS[args.name]()
    target: str | None = args.output
    if target is None and args.check:
        target = SCHEMA_FILE.format(name=args.name)
    if args.check:
        assert target is not None
        try:
            current = Path(target).read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            state = "is missing" if current is None else "is stale"
            sys.stderr.write(
                f"{target} {state}; regenerate it with: "
                f"riskrules schema {args.name} --output {target}\n"
            )
            return 1
        return 0
    if target is None:
        sys.stdout.write(text)
        return 0
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return 0
