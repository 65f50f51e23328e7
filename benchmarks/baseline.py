"""A plain-function baseline: a ruleset written out as one straightforward Python function.

This is the benchmark's own generator and shares no code with the engine's (``riskrules.engines``):
it reads the validated ruleset model and writes ``score(assessment)`` that takes the *nested*
assessment as given (no validation), evaluates every rule once in dependency order with
three-valued ints (0 false, 1 unknown, 2 true), and returns what a caller needs most: the level
per hazard, the findings asserted and the recommended protocols in rank order. It supports
rulesets whose findings form no cycle (the default ruleset does), which lets it skip strata and
rounds: a rule is evaluated after every rule asserting a finding it reads.

It is what a careful programmer would write by hand for one fixed ruleset, and the yardstick for
how much the library's validation, engine and report cost on top.
"""

from __future__ import annotations

import graphlib
import json
from collections.abc import Callable
from pathlib import Path
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
from riskrules.ruleset._spec import URGENCIES

__all__ = ["baseline_source", "build_baseline", "plain_loop"]

_OPS = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _value(v: Any, params: dict[str, Any]) -> Any:
    return params[v.param] if isinstance(v, ParamRef) else v


def _cond(c: Condition, var: dict[str, str], fvar: dict[str, str], params: dict[str, Any]) -> str:
    if isinstance(c, FieldLeaf):
        x = var[c.field]
        op = c.op
        if op == "present":
            return f"(0 if {x} is None else 2)"
        if op == "absent":
            return f"(2 if {x} is None else 0)"
        if op in ("in", "not_in"):
            test = f"{x} {'in' if op == 'in' else 'not in'} {tuple(c.value)!r}"
        elif op == "between":
            lo, hi = (_value(v, params) for v in c.value)
            test = f"{lo!r} <= {x} <= {hi!r}"
        else:
            test = f"{x} {_OPS[op]} {_value(c.value, params)!r}"
        return f"(1 if {x} is None else (2 if {test} else 0))"
    if isinstance(c, FindingLeaf):
        return fvar.get(c.finding, "0")
    if isinstance(c, Not):
        return f"(2 - {_cond(c.not_, var, fvar, params)})"
    if isinstance(c, All):
        return "min(" + ", ".join(_cond(x, var, fvar, params) for x in c.all) + ", 2)"
    if isinstance(c, AnyOf):
        return "max(" + ", ".join(_cond(x, var, fvar, params) for x in c.any) + ", 0)"
    if isinstance(c, AtLeast):
        parts = ", ".join(_cond(x, var, fvar, params) for x in c.at_least.of)
        return f"_k_of_n({c.at_least.n}, ({parts},))"
    raise TypeError(type(c).__name__)


def _reads(c: Condition) -> set[str]:
    if isinstance(c, FindingLeaf):
        return {c.finding}
    if isinstance(c, Not):
        return _reads(c.not_)
    if isinstance(c, All | AnyOf):
        return set().union(*(_reads(x) for x in (c.all if isinstance(c, All) else c.any)))
    if isinstance(c, AtLeast):
        return set().union(*(_reads(x) for x in c.at_least.of))
    return set()


def baseline_source(ruleset: Ruleset, params: dict[str, Any] | None = None) -> str:
    """Python source of ``score(assessment) -> (levels, findings, recommendations)``."""
    values = {name: p.default for name, p in ruleset.parameters.items()} | (params or {})
    rules = ruleset.rules
    lines = ["def score(a):"]
    # Inputs: walk the nested assessment once per group.
    groups: dict[str, str] = {"": "a"}
    var: dict[str, str] = {}
    for name in ruleset.inputs:
        parts = name.split(".")
        for depth in range(1, len(parts)):
            group = ".".join(parts[:depth])
            if group not in groups:
                parent = groups[".".join(parts[: depth - 1])]
                groups[group] = f"g{len(groups)}"
                lines.append(f"    {groups[group]} = {parent}.get({parts[depth - 1]!r}) or {{}}")
        var[name] = f"i{len(var)}"
        lines.append(f"    {var[name]} = {groups['.'.join(parts[:-1])]}.get({parts[-1]!r})")
    asserters: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        for f in rule.then.assert_:
            asserters.setdefault(f, []).append(i)
    deps = {
        i: {j for f in _reads(r.when) for j in asserters.get(f, ())} for i, r in enumerate(rules)
    }
    order = list(graphlib.TopologicalSorter(deps).static_order())
    fvar: dict[str, str] = {}
    remaining = {f: len(ids) for f, ids in asserters.items()}
    for i in order:
        rule = rules[i]
        lines.append(f"    r{i} = {_cond(rule.when, var, fvar, values)}  # {rule.id}")
        for f in dict.fromkeys(rule.then.assert_):
            remaining[f] -= 1
            if remaining[f] == 0:
                fvar[f] = f"f{len(fvar)}"
                lines.append(f"    {fvar[f]} = max({', '.join(f'r{j}' for j in asserters[f])}, 0)")
    _scores(ruleset, lines)
    _recommendations(ruleset, fvar, lines)
    return "\n".join(lines) + "\n"


def _scores(ruleset: Ruleset, lines: list[str]) -> None:
    scale = ruleset.scale
    lines.append("    levels = {}")
    for h, (hid, hazard) in enumerate(ruleset.hazards.items()):
        mine = [i for i, r in enumerate(ruleset.rules) if r.hazard == hid]
        lines.append(f"    s = 0; fl = 0  # hazard {hid}")
        for i in mine:
            then = ruleset.rules[i].then
            effects = [f"s += {then.points!r}"] if then.points else []
            if then.floor is not None:
                effects.append(f"fl = max(fl, {scale.index(then.floor)})")
            if effects:
                lines.append(f"    if r{i} == 2: {'; '.join(effects)}")
        if hazard.cap is not None:
            lines.append(f"    s = min(s, {hazard.cap!r})")
        bands = sorted(((t, scale.index(level)) for level, t in hazard.bands.items()), reverse=True)
        lines.append("    lv = 0")
        for k, (threshold, index) in enumerate(bands):
            lines.append(f"    {'if' if k == 0 else 'elif'} s >= {threshold!r}: lv = {index}")
        lines.append(f"    L{h} = max(lv, fl)")
        lines.append(f"    levels[{hid!r}] = SCALE[L{h}]")


def _recommendations(ruleset: Ruleset, fvar: dict[str, str], lines: list[str]) -> None:
    hazards = list(ruleset.hazards)
    scale = ruleset.scale
    lines.append("    sup = {}; src = {}")
    for i, rule in enumerate(ruleset.rules):
        h = hazards.index(rule.hazard)
        for pid in rule.then.recommend:
            lines.append(
                f"    if r{i} == 2: sup.setdefault({pid!r}, set()).add({i}); "
                f"src.setdefault({pid!r}, set()).add({h})"
            )
    for h, (hid, hazard) in enumerate(ruleset.hazards.items()):
        mine = tuple(i for i, r in enumerate(ruleset.rules) if r.hazard == hid)
        for level, protocols in hazard.recommend.items():
            for pid in protocols:
                lines.append(
                    f"    if L{h} >= {scale.index(level)}: "
                    f"sup.setdefault({pid!r}, set()).update(i for i in {mine!r} if R[i] == 2); "
                    f"src.setdefault({pid!r}, set()).add({h})"
                )
    levels = ", ".join(f"L{h}" for h in range(len(hazards)))
    lines.append(f"    lv = ({levels},)")
    lines.append("    ranked = sorted(sup, key=lambda p: (-max(PRIO[h] for h in src[p]), "
                 "-URG[p], -max(lv[h] for h in src[p]), -len(sup[p]), p))")  # fmt: skip
    findings = ", ".join(f"({f!r}, {v})" for f, v in fvar.items())
    lines.append(f"    found = {{f for f, v in ({findings},) if v == 2}}")
    lines.append("    return levels, found, ranked")
    # ``R`` (rule values by index) is only needed by band recommendations; build it lazily.
    if any(hazard.recommend for hazard in ruleset.hazards.values()):
        rvals = ", ".join(f"r{i}" for i in range(len(ruleset.rules)))
        at = next(k for k, line in enumerate(lines) if line.startswith("    sup = {}"))
        lines.insert(at, f"    R = ({rvals},)")


def build_baseline(ruleset: Ruleset, params: dict[str, Any] | None = None) -> Any:
    """The compiled baseline function for ``ruleset``."""
    namespace: dict[str, Any] = {
        "SCALE": tuple(ruleset.scale),
        "PRIO": tuple(h.priority for h in ruleset.hazards.values()),
        "URG": {pid: URGENCIES.index(p.urgency) for pid, p in ruleset.protocols.items()},
        "_k_of_n": _k_of_n,
    }
    exec(compile(baseline_source(ruleset, params), "<baseline>", "exec"), namespace)
    return namespace["score"]


def _k_of_n(n: int, values: tuple[int, ...]) -> int:
    if values.count(2) >= n:
        return 2
    return 0 if len(values) - values.count(0) < n else 1


def plain_loop(cohort: Path, out: Path, baseline: Callable[[Any], Any]) -> None:
    """The cohort yardstick: read each JSON line, call ``baseline``, write one JSON row."""
    with cohort.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in src:
            record = json.loads(line)
            record_id = record.pop("id")
            levels, findings, protocols = baseline(record)
            row = {"id": record_id, **levels, "findings": sorted(findings)}
            dst.write(json.dumps({**row, "protocols": protocols}) + "\n")
