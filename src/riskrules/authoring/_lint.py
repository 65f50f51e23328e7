"""Static analysis of a ruleset: mistakes that load fine but make rules, levels or protocols dead.

:func:`lint` returns :class:`Diagnostic` objects, each with a stable code (see :data:`CHECKS` and
``docs/lint.md``), a severity and the place in the YAML where the defect was written.

The analysis is sound in one direction: it claims that something can never happen (a rule never
fires, a level is never reached) only when that holds for every assessment that fits the declared
inputs and for every parameter value the parameters' bounds allow. When it cannot tell, it says
nothing. Conditions are checked by a small search over the Kleene semantics of
:mod:`riskrules.conditions`: each input is present or absent, a present value lies in its declared
domain (intervals for numbers, value sets for integers with ``values``, enums and booleans), and
a finding may take any truth value unless no rule that can fire asserts it.

The checks live in their own modules (``_check_rules``, ``_check_cycles``, ``_check_guards``,
``_check_effects``, ``_check_unused``, ``_check_duplicates``, ``_check_tables``,
``_check_levels``), built on the value domains (``_domains``) and the
satisfiability search (``_solver``); this module runs them in order over one
:class:`~riskrules.authoring._context.LintContext`.

>>> from riskrules import Ruleset
>>> rs = Ruleset.model_validate({
...     "ruleset": "demo", "version": "1", "title": "Demo",
...     "inputs": {"x": {"type": "integer", "min": 0, "max": 50}},
...     "hazards": {"h": {"title": "H", "bands": {"low": 0, "high": 1}}},
...     "rules": [{"id": "r", "hazard": "h", "when": {"field": "x", "gt": 50},
...                "then": {"points": 1}, "because": "x above 50"}],
... })
>>> [(d.code, d.severity, d.rule_id) for d in lint(rs)][:1]
[('RR103', 'error', 'r')]
"""

from __future__ import annotations

from os import PathLike

from riskrules.authoring._check_cycles import check_cycles
from riskrules.authoring._check_duplicates import check_duplicates
from riskrules.authoring._check_effects import check_effects
from riskrules.authoring._check_guards import check_guards
from riskrules.authoring._check_levels import check_levels_and_protocols
from riskrules.authoring._check_rules import check_rules
from riskrules.authoring._check_tables import check_tables
from riskrules.authoring._check_unused import check_unused
from riskrules.authoring._context import LintContext
from riskrules.authoring._diagnostics import Diagnostic
from riskrules.ruleset._loader import load_ruleset
from riskrules.ruleset._spec import Ruleset

__all__ = ["lint"]


def lint(ruleset: Ruleset | str | PathLike[str]) -> list[Diagnostic]:
    """Check a ruleset for rules, findings, levels and protocols that are dead or unused.

    ``ruleset`` is a :class:`Ruleset` or anything :func:`riskrules.load_ruleset` accepts (a
    loading problem raises RulesetError). Diagnostics are sorted by file, line, column and code.
    For a variant, declarations of the rulesets it builds on that end up unused (RR301-RR305)
    are not reported: the variant reuses part of a ruleset on purpose.
    """
    ctx = LintContext(load_ruleset(ruleset))
    check_cycles(ctx)
    check_rules(ctx)  # before the checks that need to know which rules are dead
    check_guards(ctx)
    check_effects(ctx)
    check_unused(ctx)
    check_duplicates(ctx)
    check_tables(ctx)
    check_levels_and_protocols(ctx)
    found = set(ctx.found)
    if ctx.rs.base_files:  # a variant: what it leaves unused in its base is not its concern
        found = {d for d in found if not (d.code.startswith("RR3") and d.file in ctx.rs.base_files)}
    return sorted(found, key=Diagnostic.sort_key)
