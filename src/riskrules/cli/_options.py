"""Options and helpers that several subcommands share."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TypeAlias

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""The subparsers object each ``add_<command>`` function registers itself on."""
Handler = Callable[[argparse.Namespace], int]
"""A subcommand's handler: parsed arguments in, exit status out."""


def param(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` for ``--param``; VALUE is read as JSON so that numbers stay numbers."""
    import json

    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


ENGINE_CHOICES = ("auto", "native", "durable")


def add_engine(parser: argparse.ArgumentParser, *, default: str, help: str) -> None:
    """The ``--engine`` option shared by the scoring subcommands."""
    parser.add_argument("--engine", choices=ENGINE_CHOICES, default=default, help=help)


def add_params(parser: argparse.ArgumentParser, flag: str, *, help: str) -> None:
    """A repeatable ``NAME=VALUE`` parameter override option (``--param`` and variants)."""
    parser.add_argument(
        flag, action="append", type=param, default=[], metavar="NAME=VALUE", help=help
    )


def add_ruleset(parser: argparse.ArgumentParser) -> None:
    """The ``--ruleset`` option shared by the commands that score with one ruleset."""
    parser.add_argument(
        "--ruleset",
        default="default",
        metavar="PATH|NAME",
        help="ruleset file, directory or built-in name (default: default)",
    )


def add_unknown_fields(parser: argparse.ArgumentParser) -> None:
    """``--unknown-fields ignore|error``: what to do with fields the ruleset does not declare."""
    parser.add_argument(
        "--unknown-fields",
        choices=("error", "ignore"),
        default="error",
        help=(
            "a record field the ruleset does not declare: error (the default) stops with a "
            "located message; ignore leaves it out before scoring and counts it in the output"
        ),
    )


_COHORT_HELP = "cohort file (.jsonl, .csv, .parquet)"


def add_cohort(parser: argparse.ArgumentParser, *, positional: bool = False) -> None:
    """The cohort file a research command reads: ``--cohort COHORT``, or ``COHORT`` itself."""
    if positional:
        parser.add_argument("cohort", metavar="COHORT", help=_COHORT_HELP)
    else:
        parser.add_argument("--cohort", required=True, metavar="COHORT", help=_COHORT_HELP)


def add_id_column(
    parser: argparse.ArgumentParser,
    *,
    metavar: str | None = None,
    help: str = "the cohort's id column (default: id)",
) -> None:
    """``--id-column``: the cohort column that holds each record's id (default: id)."""
    parser.add_argument("--id-column", default="id", metavar=metavar, help=help)


FILE_FORMATS = ("jsonl", "csv", "parquet")


def add_file_format(parser: argparse.ArgumentParser, flag: str, *, help: str) -> None:
    """A record file's format option (``--format``, ``--cohort-format``); None when not given."""
    parser.add_argument(flag, choices=FILE_FORMATS, help=help)


def add_text_or_json(parser: argparse.ArgumentParser) -> None:
    """``--format text|json`` for a command that prints a result (default: text)."""
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )


def add_figures(parser: argparse.ArgumentParser) -> None:
    """``--figures DIR``: also write a result's PNG figures."""
    parser.add_argument(
        "--figures", metavar="DIR", help="also write PNG figures into DIR (needs matplotlib)"
    )
