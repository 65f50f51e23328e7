"""Declarations nothing uses (RR301-RR305).

A finding asserted that no rule reads and no scenario or property checks; an input no rule
reads; a parameter no rule uses; a protocol no rule or hazard recommends; a reference nothing
cites as its source.
"""

from __future__ import annotations

from riskrules.authoring._context import LintContext
from riskrules.ruleset._conditions import FieldLeaf, findings_read, params_used, walk

__all__ = ["check_unused"]


def check_unused(ctx: LintContext) -> None:
    """Report findings, inputs, parameters, protocols and references that nothing uses."""
    _unused_findings(ctx)
    _unused_declarations(ctx)


def _unused_findings(ctx: LintContext) -> None:
    rs = ctx.rs
    read = ctx.findings_read()
    expected = {
        f
        for scenario in rs.tests
        for f in (*scenario.expect.findings, *scenario.expect.not_findings)
    }
    for prop in rs.properties:
        if prop.bounded is not None and prop.bounded.unless is not None:
            expected.update(f for f, _ in findings_read(prop.bounded.unless))
    for finding, asserters in sorted(ctx.asserters.items(), key=lambda item: item[1][0]):
        if finding in read or finding in expected:
            continue
        first = asserters[0]
        rule = rs.rules[first]
        ctx.emit(
            "RR301",
            ("rules", first, "then", "assert", rule.then.assert_.index(finding)),
            f"finding {finding!r} is asserted but never read by any rule nor checked by any "
            "scenario or property",
            rule.id,
        )


def _unused_declarations(ctx: LintContext) -> None:
    rs = ctx.rs
    fields = {
        node.field
        for rule in rs.rules
        for node, _, _ in walk(rule.when)
        if isinstance(node, FieldLeaf)
    }
    for name in rs.inputs:
        if name not in fields:
            ctx.emit("RR302", ("inputs", name), f"input {name!r} is declared but no rule reads it")
    params = {p for rule in rs.rules for p in params_used(rule.when)}
    for name in rs.parameters:
        if name not in params:
            ctx.emit(
                "RR303",
                ("parameters", name),
                f"parameter {name!r} is declared but no rule uses it",
            )
    named = {p for rule in rs.rules for p in rule.then.recommend} | {
        p for hazard in rs.hazards.values() for ps in hazard.recommend.values() for p in ps
    }
    for name in rs.protocols:
        if name not in named:
            ctx.emit(
                "RR304",
                ("protocols", name),
                f"protocol {name!r} is declared but no rule or hazard recommends it",
            )
    cited = {
        item.source
        for section in (
            rs.rules,
            rs.inputs.values(),
            rs.parameters.values(),
            rs.protocols.values(),
        )
        for item in section
        if item.source is not None
    }
    for name in rs.references:
        if name not in cited:
            ctx.emit(
                "RR305",
                ("references", name),
                f"reference {name!r} is declared but nothing cites it as its source",
            )
