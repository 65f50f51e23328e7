"""Tools for ruleset authors: the static linter and the semantic diff.

:func:`lint` checks a ruleset without scoring anything (dead rules, impossible conditions,
cycles, unused declarations, unreachable levels; codes in ``docs/lint.md``);
:func:`diff_rulesets` compares two rulesets by meaning. Scenario runs and property checks are in
:mod:`riskrules.testing`, at the conventional path for test helpers.
"""

from riskrules.authoring._diagnostics import CHECKS, Diagnostic, Severity
from riskrules.authoring._diff import (
    SECTIONS,
    Change,
    RulesetDiff,
    RulesetSide,
    diff_rulesets,
)
from riskrules.authoring._lint import lint

__all__ = [
    "CHECKS",
    "SECTIONS",
    "Change",
    "Diagnostic",
    "RulesetDiff",
    "RulesetSide",
    "Severity",
    "diff_rulesets",
    "lint",
]
