"""Generated aggregation: hazard scores, levels and missing inputs in straight-line code.

:func:`write_aggregate` writes ``aggregate(X, s, v, fired)``, which takes the input values, the
rule statuses, the finding values and the firings of one run (see
:mod:`riskrules.engines._codegen`) and returns ``(hazards, recommendations, masks,
indeterminate, top, reach)`` with exactly the semantics of the reference
:class:`~riskrules.scoring._aggregation.Aggregator` (``top`` and ``reach`` are the highest level
and possible level over the hazards):

* ``hazards`` holds, per hazard in ruleset order, ``(score, level, possible, open, absent)``:
  the capped sum of the fired rules' points in ruleset order, the band level raised to the
  highest floor of a fired rule, the level the fired and indeterminate rules together would
  reach (never below ``level``), whether any rule of the hazard is indeterminate, and the
  absent inputs behind its indeterminate rules as a bit mask over ``X``;
* ``masks`` is ``None`` when no rule is indeterminate, else the list of each rule's missing
  inputs as a bit mask (0 for rules that are not indeterminate). A rule's missing inputs are
  the absent inputs its value tests read, plus, through every finding it reads that is UNKNOWN
  (``v[f] == 1``), the missing inputs of the indeterminate rules asserting that finding; in
  dependency order one pass settles them, and cycles of findings repeat it to a fixpoint;
* ``indeterminate`` lists the indeterminate rules in ruleset order;
* ``recommendations`` holds, per protocol that a fired rule or a reached band recommends, its
  rank key ``(-priority, -urgency, -level, -support, protocol id)`` (the highest priority and
  level among the hazards recommending it, its urgency's rank, how many fired rules support
  it) and the ids of those rules in firing order; ranked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from riskrules.engines._base import Program
from riskrules.engines._codegen import Writer
from riskrules.ruleset._spec import URGENCIES, Ruleset
from riskrules.scoring._facts import RuleFacts, dependency_order, integer_scores, rule_facts

if TYPE_CHECKING:
    from riskrules._types import Number

__all__ = ["write_aggregate"]


def _level(
    w: Writer, indent: int, out: str, score: str, bands: Sequence[tuple[int, Number]]
) -> None:
    w.emit(indent, f"{out} = 0")
    for k, (index, threshold) in enumerate(bands):
        if index or k:  # bands apply in order, the last one reached wins (as the reference)
            w.emit(indent, f"if {w.literal(threshold)} <= {score}:")
            w.emit(indent + 1, f"{out} = {index}")


def _hazard(w: Writer, ruleset: Ruleset, k: int, rules: tuple[RuleFacts, ...], exact: bool) -> None:
    """Score, level and possible level of hazard ``k`` (``h<k>``, ``l<k>``, ``q<k>``).

    Points add in ruleset order, so float sums match the reference to the last bit. When every
    point and the cap are integers, order does not matter and the possible score is the fired
    score plus the open rules' points, added only when some rule is open.
    """
    hid, hazard = list(ruleset.hazards.items())[k]
    scale = ruleset.scale
    bands = [(scale.index(level), t) for level, t in hazard.bands.items()]
    mine = [i for i, r in enumerate(rules) if r.hazard == hid]
    w.emit(1, f"# hazard {hid!r}")
    w.emit(1, "c = 0; f = 0; pc = 0; pf = 0; ho = 0")
    for i in mine:
        rule = rules[i]
        adds = not (type(rule.points) is int and rule.points == 0)
        fired = [f"c += {w.literal(rule.points)}"] if adds else []
        opened = ["ho = 1"]
        if adds:
            opened.append(f"pc += {w.literal(rule.points)}")
            if not exact:
                fired.append(f"pc += {w.literal(rule.points)}")
        if rule.floor is not None:
            fired += [f"if f < {rule.floor}: f = {rule.floor}"]
            fired += [f"if pf < {rule.floor}: pf = {rule.floor}"]
            opened += [f"if pf < {rule.floor}: pf = {rule.floor}"]
        if not _can_be_open(rule):
            opened = []
        if not fired and not opened:
            continue
        w.emit(1, f"t = s[{i}]  # rule {rule.id!r}")
        branches = [("t == 2", fired), ("t == 1", opened)]
        keyword = "if"
        for test, lines in branches:
            if lines:
                w.emit(1, f"{keyword} {test}:")
                for line in lines:
                    w.emit(2, line)
                keyword = "elif"
    w.emit(1, "if ho:")
    w.emit(2, "o = 1")
    if exact:
        w.emit(2, "pc += c")
    if hazard.cap is not None:
        w.emit(2, f"if pc > {w.literal(hazard.cap)}: pc = {w.literal(hazard.cap)}")
    _level(w, 2, "p", "pc", bands)
    w.emit(2, "if p < pf: p = pf")
    if hazard.cap is not None:
        w.emit(1, f"if c > {w.literal(hazard.cap)}: c = {w.literal(hazard.cap)}")
    _level(w, 1, "lv", "c", bands)
    w.emit(1, "if lv < f: lv = f")
    w.emit(1, "if not ho or p < lv:")
    w.emit(2, "p = lv")
    w.emit(1, f"l{k} = lv; q{k} = p")
    w.emit(1, f"h{k} = (c, lv, p, ho)")


def _can_be_open(rule: RuleFacts) -> bool:
    """Whether a rule can be indeterminate: only value tests and findings can be UNKNOWN."""
    return bool(rule.value_fields or rule.findings)


def _masks(w: Writer, rules: tuple[RuleFacts, ...], program: Program) -> None:
    """Each indeterminate rule's missing inputs, ``m[i]``, in dependency order."""
    bit = {name: 1 << k for k, name in enumerate(w.order)}
    asserters: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        for finding in rule.asserts:
            asserters.setdefault(finding, []).append(i)
    w.emit(1, f"m = [0] * {len(rules)}")
    rank, acyclic = dependency_order(rules, program)
    upstream: list[tuple[int, list[tuple[int, list[int]]]]] = []
    for i in sorted(range(len(rules)), key=rank.__getitem__):
        rule = rules[i]
        if not _can_be_open(rule):
            continue
        w.emit(1, f"if s[{i}] == 1:  # rule {rule.id!r}")
        w.emit(2, f"op.append({i})")
        if rule.value_fields:
            terms = [
                f"({bit[name]} if {w.field(name)} is None else 0)" for name in rule.value_fields
            ]
            _or_into(w, 2, f"m[{i}]", terms, fresh=True)
        ups = [(w.fid[f], asserters[f]) for f in rule.findings if f in asserters]
        if ups:
            upstream.append((i, ups))
            if acyclic:
                _propagate(w, 2, i, ups)
    if not acyclic and upstream:
        w.emit(1, "while True:")
        w.emit(2, "before = m[:]")
        for i, ups in upstream:
            w.emit(2, f"if s[{i}] == 1:")
            _propagate(w, 3, i, ups)
        w.emit(2, "if m == before:")
        w.emit(3, "break")


def _propagate(w: Writer, indent: int, i: int, ups: list[tuple[int, list[int]]]) -> None:
    for f, js in ups:
        w.emit(indent, f"if v[{f}] == 1:")
        _or_into(w, indent + 1, f"m[{i}]", [f"m[{j}]" for j in js], fresh=False)


_CHUNK = 32
"""Most terms in one ``|`` expression: Python compiles a long chain of binary operators
recursively, and thousands of them exceed its recursion limit."""


def _or_into(w: Writer, indent: int, target: str, terms: list[str], *, fresh: bool) -> None:
    """``target = t1 | t2 | ...`` (or ``|=`` when not ``fresh``), in chunks of :data:`_CHUNK`."""
    for k in range(0, len(terms), _CHUNK):
        op = "=" if fresh and k == 0 else "|="
        w.emit(indent, f"{target} {op} {' | '.join(terms[k : k + _CHUNK])}")


def _recommendations(w: Writer, ruleset: Ruleset, rules: tuple[RuleFacts, ...]) -> None:
    """``rc``: per recommended protocol ``(-priority, -urgency, -level, -support, id, rules)``:
    its rank key (see RiskReport) and the ids of the fired rules supporting it, in firing order.

    One pass over the firings gathers the protocols each fired rule recommends and, where its
    hazard reached a band that recommends some, those too (every fired rule of the hazard
    supports a band's protocols); then every reached band names its protocols even when no rule
    of its hazard fired. A protocol's priority and level are the highest among the hazards
    recommending it.
    """
    hazard_index = {hid: k for k, hid in enumerate(ruleset.hazards)}
    count = len(ruleset.hazards)
    levels = f"({''.join(f'l{k}, ' for k in range(count))})"
    w.constants["_ID"] = tuple(rule.id for rule in rules)
    w.constants["_HZ"] = tuple(hazard_index[rule.hazard] for rule in rules)
    w.constants["_RP"] = tuple(rule.recommend for rule in rules)
    w.constants["_PR"] = tuple(hazard.priority for hazard in ruleset.hazards.values())
    w.constants["_URG"] = {
        pid: URGENCIES.index(protocol.urgency) for pid, protocol in ruleset.protocols.items()
    }
    w.emit(1, "bp = None  # per hazard, the protocols its reached bands recommend")
    for k, hazard in enumerate(ruleset.hazards.values()):
        for name, protocols in hazard.recommend.items():
            w.emit(1, f"if l{k} >= {ruleset.scale.index(name)}:")
            w.emit(2, "if bp is None:")
            w.emit(3, f"bp = [()] * {count}")
            for pid in protocols:
                w.emit(2, f"if {pid!r} not in bp[{k}]: bp[{k}] += ({pid!r},)")
    w.emit(1, "rec = {}")
    w.emit(1, f"L = {levels}")
    w.emit(1, "for i in fired:")
    w.emit(2, "k = _HZ[i]; own = _RP[i]")
    w.emit(2, "for pid in (own if bp is None or not bp[k] else own + bp[k]):")
    w.emit(3, "e = rec.get(pid)")
    w.emit(3, "if e is None:")
    w.emit(4, "rec[pid] = [_PR[k], L[k], [_ID[i]]]")
    w.emit(3, "else:")
    w.emit(4, "if e[0] < _PR[k]: e[0] = _PR[k]")
    w.emit(4, "if e[1] < L[k]: e[1] = L[k]")
    w.emit(4, "if e[2][-1] is not _ID[i]: e[2].append(_ID[i])")
    if any(hazard.recommend for hazard in ruleset.hazards.values()):
        w.emit(1, "if bp is not None:")
    for k, hazard in enumerate(ruleset.hazards.values()):
        if not hazard.recommend:
            continue
        w.emit(2, f"for pid in bp[{k}]:")
        w.emit(3, "e = rec.get(pid)")
        w.emit(3, "if e is None:")
        w.emit(4, f"rec[pid] = [{hazard.priority}, l{k}, []]")
        w.emit(3, "else:")
        w.emit(4, f"if e[0] < {hazard.priority}: e[0] = {hazard.priority}")
        w.emit(4, f"if e[1] < l{k}: e[1] = l{k}")
    w.emit(1, "rc = [(-e[0], -_URG[pid], -e[1], -len(e[2]), pid, e[2]) for pid, e in rec.items()]")


def write_aggregate(w: Writer, ruleset: Ruleset, program: Program) -> None:
    """Emit ``aggregate(X, s, v, fired) -> (hazards, recommendations, masks, indeterminate, top,
    reach)`` (see the module docstring)."""
    rules = rule_facts(ruleset)
    count = len(ruleset.hazards)
    w.emit(0, "def aggregate(X, s, v, fired):")
    w.emit(1, "o = 0")
    integral = integer_scores(ruleset, rules)
    for k, hid in enumerate(ruleset.hazards):
        _hazard(w, ruleset, k, rules, integral[hid])
    _recommendations(w, ruleset, rules)
    w.emit(1, "rc.sort()")
    w.emit(1, "top = reach = 0")
    for k in range(count):
        w.emit(1, f"if l{k} > top: top = l{k}")
        w.emit(1, f"if q{k} > reach: reach = q{k}")
    w.emit(1, "if not o:")
    hazards = "".join(f"h{k} + (0,), " for k in range(count))
    w.emit(2, f"return ({hazards}), rc, None, (), top, reach")
    w.unpack(1)
    w.emit(1, "op = []")
    _masks(w, rules, program)
    for k, hid in enumerate(ruleset.hazards):
        mine = [i for i, r in enumerate(rules) if r.hazard == hid and _can_be_open(r)]
        _or_into(w, 1, "a", [f"m[{i}]" for i in mine] or ["0"], fresh=True)
        w.emit(1, f"h{k} += (a,)")
    w.emit(1, "op.sort()")
    w.emit(1, f"return ({''.join(f'h{k}, ' for k in range(count))}), rc, m, op, top, reach")
