"""An equivalent GoRules ZEN decision (JDM graph) for some hazards of a ruleset.

The benchmark's own translator: one expression node evaluates, in dependency order, every rule
of the chosen hazards and every rule asserting a finding they read (``r<i>`` true/false,
findings ``f<k>``), then each hazard's points, cap, bands and floors to a level index
(``level_<hazard>``). ZEN's expression language has no unknown value (comparing null raises), so
the decision is two-valued and the benchmark feeds it complete assessments, where the two agree;
outputs are checked against ``Scorer.score`` before anything is timed.

Needs ``zen-engine`` (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import graphlib
import json
from typing import Any

from riskrules import Ruleset
from riskrules.ruleset._conditions import (
    All,
    AnyOf,
    AtLeast,
    Condition,
    FieldLeaf,
    FindingLeaf,
    Not,
    ParamRef,
)

__all__ = ["zen_decision_json"]

_OPS = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _lit(value: Any, params: dict[str, Any]) -> str:
    if isinstance(value, ParamRef):
        value = params[value.param]
    return json.dumps(value)


def _expr(c: Condition, fvar: dict[str, str], params: dict[str, Any]) -> str:
    if isinstance(c, FieldLeaf):
        x, op = c.field, c.op
        if op == "present":
            return f"({x} != null)"
        if op == "absent":
            return f"({x} == null)"
        if op in ("in", "not_in"):
            test = f"{x} in [{', '.join(_lit(v, params) for v in c.value)}]"
            return f"({test})" if op == "in" else f"(not ({test}))"
        if op == "between":
            lo, hi = (_lit(v, params) for v in c.value)
            return f"({x} >= {lo} and {x} <= {hi})"
        return f"({x} {_OPS[op]} {_lit(c.value, params)})"
    if isinstance(c, FindingLeaf):
        return f"$.{fvar[c.finding]}" if c.finding in fvar else "false"
    if isinstance(c, Not):
        return f"(not {_expr(c.not_, fvar, params)})"
    if isinstance(c, All | AnyOf):
        joiner = " and " if isinstance(c, All) else " or "
        children = c.all if isinstance(c, All) else c.any
        return "(" + joiner.join(_expr(x, fvar, params) for x in children) + ")"
    if isinstance(c, AtLeast):
        count = " + ".join(f"({_expr(x, fvar, params)} ? 1 : 0)" for x in c.at_least.of)
        return f"(({count}) >= {c.at_least.n})"
    raise TypeError(type(c).__name__)


def _findings(c: Condition) -> set[str]:
    if isinstance(c, FindingLeaf):
        return {c.finding}
    if isinstance(c, Not):
        return _findings(c.not_)
    if isinstance(c, All | AnyOf):
        return set().union(*(_findings(x) for x in (c.all if isinstance(c, All) else c.any)))
    if isinstance(c, AtLeast):
        return set().union(*(_findings(x) for x in c.at_least.of))
    return set()


def _needed(ruleset: Ruleset, hazards: list[str]) -> list[int]:
    """The rules of ``hazards`` and, transitively, those asserting what they read, in
    dependency order."""
    asserters: dict[str, list[int]] = {}
    for i, rule in enumerate(ruleset.rules):
        for f in rule.then.assert_:
            asserters.setdefault(f, []).append(i)
    deps = {
        i: {j for f in _findings(r.when) for j in asserters.get(f, ())}
        for i, r in enumerate(ruleset.rules)
    }
    todo = [i for i, r in enumerate(ruleset.rules) if r.hazard in hazards]
    keep: set[int] = set()
    while todo:
        i = todo.pop()
        if i not in keep:
            keep.add(i)
            todo.extend(deps[i])
    order = graphlib.TopologicalSorter({i: deps[i] & keep for i in keep}).static_order()
    return list(order)


def zen_decision_json(ruleset: Ruleset, hazards: list[str]) -> str:
    """A JDM graph: request -> one expression node -> response with ``level_<hazard>``."""
    params = {name: p.default for name, p in ruleset.parameters.items()}
    scale = ruleset.scale
    expressions: list[tuple[str, str]] = []
    fvar: dict[str, str] = {}
    order = _needed(ruleset, hazards)
    remaining: dict[str, int] = {}
    for i in order:
        for f in ruleset.rules[i].then.assert_:
            remaining[f] = remaining.get(f, 0) + 1
    for i in order:
        rule = ruleset.rules[i]
        expressions.append((f"r{i}", _expr(rule.when, fvar, params)))
        for f in dict.fromkeys(rule.then.assert_):
            remaining[f] -= 1
            if remaining[f] == 0:
                asserting = [j for j in order if f in ruleset.rules[j].then.assert_]
                fvar[f] = f"f{len(fvar)}"
                expressions.append((fvar[f], " or ".join(f"$.r{j}" for j in asserting)))
    for hid in hazards:
        hazard = ruleset.hazards[hid]
        mine = [i for i in order if ruleset.rules[i].hazard == hid]
        points = " + ".join(f"($.r{i} ? {ruleset.rules[i].then.points} : 0)" for i in mine) or "0"
        score = f"min([{points}, {hazard.cap}])" if hazard.cap is not None else f"({points})"
        expressions.append((f"score_{hid}", score))
        band = "0"
        for level, threshold in sorted(hazard.bands.items(), key=lambda b: b[1]):
            band = f"($.score_{hid} >= {threshold} ? {scale.index(level)} : {band})"
        floors = [
            f"($.r{i} ? {scale.index(ruleset.rules[i].then.floor)} : 0)"
            for i in mine
            if ruleset.rules[i].then.floor is not None
        ]
        expressions.append((f"level_{hid}", f"max([{', '.join([band, *floors])}])"))
    node = {
        "id": "rules",
        "type": "expressionNode",
        "name": "rules",
        "position": {"x": 200, "y": 0},
        "content": {
            "expressions": [
                {"id": f"e{k}", "key": key, "value": value}
                for k, (key, value) in enumerate(expressions)
            ]
        },
    }
    graph = {
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}},
            node,
            {"id": "response", "type": "outputNode", "name": "response",
             "position": {"x": 400, "y": 0}},
        ],
        "edges": [
            {"id": "a", "sourceId": "request", "targetId": "rules", "type": "edge"},
            {"id": "b", "sourceId": "rules", "targetId": "response", "type": "edge"},
        ],
    }  # fmt: skip
    return json.dumps(graph)
