"""Leaving out the assessment fields a ruleset does not declare, before it scores them.

A cohort written for one ruleset holds fields another ruleset does not read; the scorer rejects
them (a misspelt field must never pass silently). To compare any two rulesets on one cohort,
``--unknown-fields ignore`` drops each record's undeclared fields for each ruleset before it is
scored, and counts them, so that the output says how much was left out. The scorer's own
validation is unchanged: what reaches it is checked as strictly as ever.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, TypeAlias

from riskrules.ruleset._spec import Ruleset

__all__ = ["UNKNOWN_FIELDS", "UnknownFields", "drop_undeclared"]

UnknownFields: TypeAlias = Literal["error", "ignore"]
UNKNOWN_FIELDS: Final = ("error", "ignore")
"""What to do with an assessment field the ruleset does not declare: refuse it, or drop it."""


def _prefixes(ruleset: Ruleset) -> frozenset[str]:
    """Every dotted prefix of a declared input (``a`` and ``a.b`` for ``a.b.c``)."""
    out: set[str] = set()
    for name in ruleset.inputs:
        parts = name.split(".")
        out.update(".".join(parts[:k]) for k in range(1, len(parts)))
    return frozenset(out)


def drop_undeclared(assessment: Mapping[str, Any], ruleset: Ruleset) -> tuple[dict[str, Any], int]:
    """``assessment`` without the fields ``ruleset`` does not declare, and how many were left
    out (a dropped object counts each value in it). Nested objects and dotted keys are both
    understood, as the scorer understands them.

    >>> from riskrules import load_ruleset
    >>> text = "ruleset: r\\nversion: '1'\\ntitle: R\\ninputs:\\n  a.b: {type: boolean}\\n"
    >>> rs = load_ruleset(text)
    >>> drop_undeclared({"a": {"b": True, "c": 1}, "d.e": 2, "a.b": None}, rs)
    ({'a': {'b': True}, 'a.b': None}, 2)
    """
    inputs, prefixes = ruleset.inputs, _prefixes(ruleset)

    def keep(mapping: Mapping[str, Any], at: str) -> tuple[dict[str, Any], int]:
        kept: dict[str, Any] = {}
        dropped = 0
        for key, value in mapping.items():
            name = f"{at}.{key}" if at else str(key)
            if name in inputs:
                kept[key] = value
            elif name in prefixes:  # an object of inputs; anything else the scorer refuses
                if isinstance(value, Mapping):
                    kept[key], n = keep(value, name)
                    dropped += n
                else:
                    kept[key] = value
            else:
                dropped += _count(value)
        return kept, dropped

    return keep(assessment, "")


def _count(value: Any) -> int:
    if isinstance(value, Mapping):
        return sum(_count(v) for v in value.values()) or 1
    return 1
