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
