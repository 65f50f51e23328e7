"""Dependency cycles between rules through the findings they assert and read (RR201, RR202).

A rule depends on every rule asserting a finding it reads; the strongly connected components
of that graph are the cycles. A cycle read under ``not`` cannot be stratified (RR201), one read
only positively is legal but hard to follow (RR202).
"""

from __future__ import annotations

import networkx as nx

from riskrules._types import Loc
from riskrules.authoring._context import LintContext, quoted

__all__ = ["check_cycles"]


def check_cycles(ctx: LintContext) -> None:
    """Report each cycle between rules: RR201 where it is read under `not`, else RR202."""
    rules = ctx.rs.rules
    graph: nx.DiGraph[int] = nx.DiGraph()
    graph.add_nodes_from(range(len(rules)))
    for i, reads in enumerate(ctx.reads):
        for finding, _, _ in reads:
            for j in ctx.asserters.get(finding, ()):
                graph.add_edge(j, i)
    components = sorted(sorted(c) for c in nx.strongly_connected_components(graph))
    for members in components:
        if len(members) == 1 and not graph.has_edge(members[0], members[0]):
            continue
        inside = set(members)
        ids = quoted(rules[i].id for i in members)
        cyclic: list[tuple[int, str, bool, Loc]] = [
            (i, finding, positive, loc)
            for i in members
            for finding, positive, loc in ctx.reads[i]
            if inside.intersection(ctx.asserters.get(finding, ()))
        ]
        negative = [item for item in cyclic if not item[2]]
        seen: set[tuple[int, str]] = set()
        for i, finding, _, loc in negative:
            if (i, finding) in seen:
                continue
            seen.add((i, finding))
            ctx.emit(
                "RR201",
                loc,
                f"rule {rules[i].id!r} reads finding {finding!r} under `not`, but the finding "
                f"depends on this rule's own result through the cycle of rules {ids}: the "
                "ruleset cannot be stratified, so it cannot be scored; break the cycle",
                rules[i].id,
            )
        if not negative and cyclic:
            i, _, _, loc = cyclic[0]
            findings = sorted({f for _, f, _, _ in cyclic})
            ctx.emit(
                "RR202",
                loc,
                f"findings {quoted(findings)} depend on one another in a cycle through rules "
                f"{ids}: no rule in it fires from the cycle alone, and the cycle makes the "
                "rules hard to follow; check that it is intended",
                rules[i].id,
            )
