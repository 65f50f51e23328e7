"""Tests that guard nothing, tests that turn missing data into a firing, and parameters whose
range does not fit the input they are compared with (RR106, RR108, RR110).

A field test that holds for every value its input can take (given the declared type, bounds,
``values`` or enum, and every value the parameters' bounds allow) only checks that the input is
present (RR106). A ``present`` test read under ``not`` is true when the input is missing, so the
rule fires on missing data, the opposite of "missing is never low" (RR108). A parameter whose
default or allowed range reaches outside the range of the input it is compared with lets a site
set a threshold that never or always holds (RR110).
"""

from __future__ import annotations

import math

from riskrules.authoring._context import LintContext
from riskrules.ruleset._conditions import FieldLeaf, ParamRef, walk
from riskrules.ruleset._spec import Input, Parameter

__all__ = ["check_guards"]


def check_guards(ctx: LintContext) -> None:
    """Report RR106 and RR108 in the rules that can fire, and RR110 in every rule."""
    seen_params: set[tuple[str, str]] = set()
    for i, rule in enumerate(ctx.rs.rules):
        for node, path, positive in walk(rule.when):
            if not isinstance(node, FieldLeaf):
                continue
            loc = ("rules", i, "when", *path)
            if i not in ctx.dead:
                _always_holds(ctx, node, positive, (*loc, node.op), rule.id)
                if node.op == "present" and not positive:
                    ctx.emit(
                        "RR108",
                        loc,
                        f"in rule {rule.id!r}, `{node.field} is present` is read under `not`: "
                        f"the condition is true when {node.field!r} is missing, so the rule "
                        "fires on missing data; test the values that matter instead",
                        rule.id,
                    )
            for operand in node.value if isinstance(node.value, tuple) else (node.value,):
                if isinstance(operand, ParamRef) and (operand.param, node.field) not in seen_params:
                    seen_params.add((operand.param, node.field))
                    _param_fits(ctx, operand.param, node.field, (*loc, node.op), rule.id)


def _always_holds(
    ctx: LintContext, leaf: FieldLeaf, positive: bool, loc: tuple[str | int, ...], rule_id: str
) -> None:
    if leaf.op in ("present", "absent"):
        return
    holds, fails = ctx.domains.of(leaf)
    if positive and not fails and holds:
        what = "holds for every value"
    elif not positive and not holds and fails:
        what = "fails for every value, so the `not` around it holds for every value"
    else:
        return
    ctx.emit(
        "RR106",
        loc,
        f"in rule {rule_id!r}, the test of {leaf.field!r} {what} the input can take: it guards "
        f"nothing but the input's presence (write `present` if that is what is meant)",
        rule_id,
    )


def _bounds(lo: float | None, hi: float | None) -> str:
    low = "-inf" if lo is None else f"{lo:g}"
    high = "inf" if hi is None else f"{hi:g}"
    return f"[{low}, {high}]"


def _param_fits(
    ctx: LintContext, name: str, field: str, loc: tuple[str | int, ...], rule_id: str
) -> None:
    param: Parameter | None = ctx.rs.parameters.get(name)
    spec: Input | None = ctx.rs.inputs.get(field)
    if param is None or spec is None or not spec.numeric:
        return
    imin = -math.inf if spec.min is None else spec.min
    imax = math.inf if spec.max is None else spec.max
    pmin = -math.inf if param.min is None else param.min
    pmax = math.inf if param.max is None else param.max
    problems = []
    if not imin <= param.default <= imax:
        problems.append(f"its default {param.default:g}")
    if pmin < imin or pmax > imax:
        problems.append(f"its allowed range {_bounds(param.min, param.max)}")
    if not problems:
        return
    ctx.emit(
        "RR110",
        loc,
        f"parameter {name!r} is compared with {field!r}, whose values lie in "
        f"{_bounds(spec.min, spec.max)}, but {' and '.join(problems)} lie partly outside it: a "
        "site can set a threshold that never or always holds (bound the parameter by the input)",
        rule_id,
    )
