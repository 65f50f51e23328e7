"""Dependency graphs: a ruleset's static graph, a report's provenance graph, and their exports.

Both graphs are ``networkx.DiGraph`` objects with typed nodes and labelled edges:

* nodes ``input:<name>``, ``finding:<name>``, ``rule:<id>``, ``hazard:<id>``, ``protocol:<id>``,
  each with a ``kind`` attribute (``input``, ``finding``, ``rule``, ``hazard``, ``protocol``);
* edges with a ``label``: ``reads`` (input -> rule, finding -> rule), ``asserts`` (rule ->
  finding), ``scores`` (rule -> hazard) and ``recommends`` (rule -> protocol, and hazard ->
  protocol for protocols a hazard recommends once it reaches a level).

The provenance graph of a report holds only the rules that fired, their causes and their effects;
input nodes carry the assessed ``value`` (``present`` is False for a field the rule read but that
was not assessed), rule nodes their ``hazard``, ``points`` and firing ``order``, hazard nodes their
``level`` and ``score``, protocol nodes their ``urgency`` and ``rank``.

Exports (:func:`to_node_link_json`, :func:`to_graphml`, :func:`to_dot`, :func:`to_mermaid`,
:func:`to_html`) are deterministic: nodes and edges are written in sorted order and every id is
quoted or escaped. :func:`to_html` is a single self-contained page (no network access) for
exploring a graph in a browser.

>>> from riskrules import Ruleset
>>> rs = Ruleset.model_validate({
...     "ruleset": "demo", "version": "1", "title": "Demo",
...     "inputs": {"x": {"type": "integer"}},
...     "hazards": {"h": {"title": "H", "bands": {"low": 0, "high": 1}}},
...     "rules": [{"id": "r", "hazard": "h", "when": {"field": "x", "gt": 1},
...                "then": {"points": 1}, "because": "x above 1"}],
... })
>>> sorted(ruleset_graph(rs).edges(data="label"))
[('input:x', 'rule:r', 'reads'), ('rule:r', 'hazard:h', 'scores')]
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any

import networkx as nx

from riskrules.ruleset._conditions import fields_read, findings_read

if TYPE_CHECKING:
    from riskrules.report import RiskReport
    from riskrules.ruleset._spec import Ruleset

__all__ = [
    "explain_paths",
    "node_text",
    "provenance_graph",
    "ruleset_graph",
    "to_dot",
    "to_graphml",
    "to_html",
    "to_mermaid",
    "to_node_link_json",
]


def _ruleset_attrs(ruleset: Ruleset, kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "ruleset": ruleset.ruleset,
        "version": ruleset.version,
        "fingerprint": ruleset.fingerprint,
    }


def ruleset_graph(ruleset: Ruleset) -> nx.DiGraph[str]:
    """The static graph of a whole ruleset: every declared input, rule, finding, hazard and
    protocol, and every edge a scoring could use.

    Finding ``reads`` edges carry ``polarity`` (``positive``, ``negative`` or ``both``); a
    hazard's ``recommends`` edge carries the lowest ``level`` at which the hazard recommends.
    """
    g: nx.DiGraph[str] = nx.DiGraph(**_ruleset_attrs(ruleset, "ruleset"))
    for name, spec in ruleset.inputs.items():
        g.add_node(f"input:{name}", kind="input", type=spec.type)
    for hid, hazard in ruleset.hazards.items():
        g.add_node(f"hazard:{hid}", kind="hazard", title=hazard.title, priority=hazard.priority)
    for pid, protocol in ruleset.protocols.items():
        g.add_node(
            f"protocol:{pid}", kind="protocol", title=protocol.title, urgency=protocol.urgency
        )
    for rule in ruleset.rules:
        node = f"rule:{rule.id}"
        attrs: dict[str, Any] = {
            "kind": "rule",
            "hazard": rule.hazard,
            "points": rule.then.points,
            "salience": rule.salience,
        }
        if rule.then.floor is not None:
            attrs["floor"] = rule.then.floor
        g.add_node(node, **attrs)
        for name in fields_read(rule.when):
            g.add_edge(f"input:{name}", node, label="reads")
        polarity: dict[str, set[bool]] = {}
        for finding, positive in findings_read(rule.when):
            polarity.setdefault(finding, set()).add(positive)
        for finding, signs in polarity.items():
            kind = "both" if len(signs) == 2 else ("positive" if True in signs else "negative")
            g.add_node(f"finding:{finding}", kind="finding")
            g.add_edge(f"finding:{finding}", node, label="reads", polarity=kind)
        for finding in rule.then.assert_:
            g.add_node(f"finding:{finding}", kind="finding")
            g.add_edge(node, f"finding:{finding}", label="asserts")
        g.add_edge(node, f"hazard:{rule.hazard}", label="scores")
        for pid in rule.then.recommend:
            g.add_edge(node, f"protocol:{pid}", label="recommends")
    scale = ruleset.scale
    for hid, hazard in ruleset.hazards.items():
        for level in sorted(hazard.recommend, key=scale.index, reverse=True):
            for pid in hazard.recommend[level]:
                # iterate highest level first so the lowest level is the one kept
                g.add_edge(f"hazard:{hid}", f"protocol:{pid}", label="recommends", level=level)
    return g


def provenance_graph(report: RiskReport, ruleset: Ruleset) -> nx.DiGraph[str]:
    """The provenance graph of one report: fired rules, the inputs and findings they read, the
    findings they asserted, the hazards they scored and the protocols recommended.

    ``ruleset`` must be the ruleset the report was scored with (``report.graph`` passes it).
    """
    g: nx.DiGraph[str] = nx.DiGraph(**_ruleset_attrs(ruleset, "provenance"))
    asserted = set(report.findings)
    rank = {rec.protocol: i for i, rec in enumerate(report.recommendations, 1)}

    def hazard_node(hid: str) -> str:
        node = f"hazard:{hid}"
        if node not in g:
            result = report.hazards[hid]
            g.add_node(
                node,
                kind="hazard",
                title=result.title,
                level=result.level,
                score=result.score,
                complete=result.complete,
            )
        return node

    def protocol_node(pid: str) -> str:
        node = f"protocol:{pid}"
        if node not in g:
            protocol = ruleset.protocols[pid]
            g.add_node(
                node,
                kind="protocol",
                title=protocol.title,
                urgency=protocol.urgency,
                rank=rank.get(pid, 0),
            )
        return node

    for order, firing in enumerate(report.fired, 1):
        rule = ruleset.rule(firing.rule)
        node = f"rule:{firing.rule}"
        attrs: dict[str, Any] = {
            "kind": "rule",
            "hazard": firing.hazard,
            "points": firing.points,
            "order": order,
        }
        if firing.floor is not None:
            attrs["floor"] = firing.floor
        g.add_node(node, **attrs)
        for name, value in firing.reads.items():
            inode = f"input:{name}"
            if value is None:
                g.add_node(inode, kind="input", present=False)
            else:
                g.add_node(inode, kind="input", present=True, value=value)
            g.add_edge(inode, node, label="reads")
        for finding in firing.findings_read:
            if finding in asserted:
                g.add_node(f"finding:{finding}", kind="finding")
                g.add_edge(f"finding:{finding}", node, label="reads")
        for finding in rule.then.assert_:
            g.add_node(f"finding:{finding}", kind="finding")
            g.add_edge(node, f"finding:{finding}", label="asserts")
        g.add_edge(node, hazard_node(firing.hazard), label="scores")
        for pid in rule.then.recommend:
            g.add_edge(node, protocol_node(pid), label="recommends")
    scale = ruleset.scale
    for hid, hazard in ruleset.hazards.items():
        reached = scale.index(report.hazards[hid].level)
        for level in sorted(hazard.recommend, key=scale.index):
            if scale.index(level) > reached:
                continue
            for pid in hazard.recommend[level]:
                source = hazard_node(hid)
                target = protocol_node(pid)
                if not g.has_edge(source, target):
                    g.add_edge(source, target, label="recommends", level=level)
    return g


# --------------------------------------------------------------------------- explanation


def explain_paths(graph: nx.DiGraph[str], target: str) -> tuple[tuple[str, ...], ...]:
    """Every causal path ending at ``target`` in a provenance graph, sorted.

    A path starts at a node with no causes (an input, or a rule that read no assessed input) and
    follows the edges forward. A finding counts as the cause of a rule only when it was asserted
    by a rule that fired earlier (``order`` attribute), so paths never run backwards in time.
    """
    if target not in graph:
        raise KeyError(target)
    nodes = graph.nodes
    memo: dict[tuple[str, float], list[tuple[str, ...]]] = {}

    def back(node: str, before: float) -> list[tuple[str, ...]]:
        key = (node, before)
        if key in memo:
            return memo[key]
        memo[key] = []  # guards against cycles; causal order makes them unreachable
        kind = nodes[node].get("kind")
        found: list[tuple[str, ...]] = []
        limit = float(nodes[node]["order"]) if kind == "rule" else before
        preds = sorted(graph.predecessors(node))
        if kind == "finding":
            preds = [p for p in preds if float(nodes[p].get("order", 0)) < before]
            if not preds:
                memo[key] = found
                return found
        for pred in preds:
            found.extend((*path, node) for path in back(pred, limit))
        if not preds or (not found and kind == "rule"):
            found.append((node,))
        memo[key] = found
        return found

    return tuple(sorted(set(back(target, float("inf")))))


def _json_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def node_text(graph: nx.DiGraph[str], node: str) -> str:
    """A one-line description of a node: ``input:x = 44``, ``rule:r (points 4)``, ..."""
    attrs = graph.nodes[node]
    kind = attrs.get("kind")
    if kind == "input":
        if "value" in attrs:
            return f"{node} = {_json_value(attrs['value'])}"
        if attrs.get("present") is False:
            return f"{node} (not assessed)"
        return node
    if kind == "rule":
        extra = f"points {_json_value(attrs.get('points', 0))}"
        if "floor" in attrs:
            extra += f", floor {attrs['floor']}"
        return f"{node} ({extra})"
    if kind == "hazard" and "level" in attrs:
        return f"{node} ({attrs['level']}, score {_json_value(attrs['score'])})"
    return node


# --------------------------------------------------------------------------- exports


def _sorted_copy(graph: nx.DiGraph[str]) -> nx.DiGraph[str]:
    """The same graph with nodes, edges and attributes inserted in sorted order."""
    out: nx.DiGraph[str] = nx.DiGraph()
    out.graph.update(sorted(graph.graph.items()))
    for node in sorted(graph.nodes):
        out.add_node(node, **dict(sorted(graph.nodes[node].items())))
    for u, v in sorted(graph.edges):
        out.add_edge(u, v, **dict(sorted(graph.edges[u, v].items())))
    return out


def to_node_link_json(graph: nx.DiGraph[str]) -> str:
    """Node-link JSON (``networkx.node_link_graph(data, edges="edges")`` reads it back)."""
    g = _sorted_copy(graph)
    data = {
        "directed": True,
        "multigraph": False,
        "graph": dict(g.graph),
        "nodes": [{"id": node, **attrs} for node, attrs in g.nodes(data=True)],
        "edges": [{"source": u, "target": v, **attrs} for u, v, attrs in g.edges(data=True)],
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


def to_graphml(graph: nx.DiGraph[str]) -> str:
    """GraphML text (``networkx.read_graphml`` reads it back with the attribute types)."""
    return "\n".join(nx.generate_graphml(_sorted_copy(graph))) + "\n"


_DOT_SHAPES = {
    "input": "parallelogram",
    "finding": "ellipse",
    "rule": "box",
    "hazard": "octagon",
    "protocol": "note",
}


_DOT_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOT_KEYWORDS = {"graph", "digraph", "subgraph", "node", "edge", "strict"}


def _dot_quote(value: Any) -> str:
    text = value if isinstance(value, str) else _json_value(value)
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{text}"'


def _dot_key(key: str) -> str:
    return key if _DOT_ID.fullmatch(key) and key.lower() not in _DOT_KEYWORDS else _dot_quote(key)


def _dot_attrs(attrs: Iterable[tuple[str, Any]]) -> str:
    return ", ".join(f"{_dot_key(k)}={_dot_quote(v)}" for k, v in sorted(attrs))


def to_dot(graph: nx.DiGraph[str]) -> str:
    """Graphviz DOT text; every id and attribute is a quoted, escaped string."""
    lines = ["digraph riskrules {"]
    graph_attrs = [("rankdir", "LR"), *graph.graph.items()]
    lines.append(f"  graph [{_dot_attrs(graph_attrs)}];")
    for node in sorted(graph.nodes):
        attrs = dict(graph.nodes[node])
        attrs.setdefault("label", node_text(graph, node))
        attrs.setdefault("shape", _DOT_SHAPES.get(str(attrs.get("kind")), "box"))
        lines.append(f"  {_dot_quote(node)} [{_dot_attrs(attrs.items())}];")
    for u, v in sorted(graph.edges):
        attrs = graph.edges[u, v]
        lines.append(f"  {_dot_quote(u)} -> {_dot_quote(v)} [{_dot_attrs(attrs.items())}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


_MERMAID_SHAPES = {
    "input": ('[/"', '"/]'),
    "finding": ('(["', '"])'),
    "rule": ('["', '"]'),
    "hazard": ('{{"', '"}}'),
    "protocol": ('[["', '"]]'),
}

_MERMAID_CLASSES = {
    "input": "fill:#eef6ff,stroke:#3b6ea5",
    "finding": "fill:#f3f0ff,stroke:#6a4fb3",
    "rule": "fill:#fff8e6,stroke:#b38600",
    "hazard": "fill:#ffeef0,stroke:#b3263b",
    "protocol": "fill:#eefbf0,stroke:#2f8f46",
}


def _mermaid_text(text: str) -> str:
    """Escape label text with Mermaid entity codes so quotes and markup cannot break out."""
    text = text.replace("#", "#35;")
    for char, code in (
        ('"', "#quot;"),
        ("<", "#lt;"),
        (">", "#gt;"),
        ("`", "#96;"),
        ("|", "#124;"),
    ):
        text = text.replace(char, code)
    return " ".join(text.split())


def to_mermaid(graph: nx.DiGraph[str]) -> str:
    """A Mermaid ``flowchart LR``; nodes get safe ids (``n1``, ``n2``, ...) in sorted order and
    their full ids as escaped, quoted labels."""
    ids = {node: f"n{i}" for i, node in enumerate(sorted(graph.nodes), 1)}
    lines = ["flowchart LR"]
    classes: dict[str, list[str]] = {}
    for node, nid in ids.items():
        kind = str(graph.nodes[node].get("kind", "rule"))
        left, right = _MERMAID_SHAPES.get(kind, _MERMAID_SHAPES["rule"])
        lines.append(f"  {nid}{left}{_mermaid_text(node_text(graph, node))}{right}")
        if kind in _MERMAID_CLASSES:
            classes.setdefault(kind, []).append(nid)
    for u, v in sorted(graph.edges):
        label = _mermaid_text(str(graph.edges[u, v].get("label", "")))
        arrow = f"-->|{label}|" if label else "-->"
        lines.append(f"  {ids[u]} {arrow} {ids[v]}")
    for kind in sorted(classes):
        lines.append(f"  classDef {kind} {_MERMAID_CLASSES[kind]}")
        lines.append(f"  class {','.join(classes[kind])} {kind}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- html

LAYER_KINDS: tuple[str, ...] = ("input", "rule", "finding", "hazard", "protocol")
"""Left-to-right columns of the HTML page; nodes of any other kind go in columns after these."""

_GROUP_GAP = 0.6
"""Extra rows between the rules of two hazards."""


def _spread(desired: list[float]) -> list[float]:
    """Positions as close as possible (least squares) to ``desired`` (sorted) that keep their
    order and lie at least 1 apart: isotonic regression of ``desired[i] - i``."""
    blocks: list[tuple[float, int]] = []  # (sum, count)
    for i, d in enumerate(desired):
        total, count = d - i, 1
        while blocks and blocks[-1][0] / blocks[-1][1] > total / count:
            prev_total, prev_count = blocks.pop()
            total, count = total + prev_total, count + prev_count
        blocks.append((total, count))
    out: list[float] = []
    for total, count in blocks:
        out.extend(total / count + len(out) for _ in range(count))
    return out


def html_layout(graph: nx.DiGraph[str]) -> dict[str, tuple[int, float]]:
    """A layered layout: node -> (column, row), columns by kind in :data:`LAYER_KINDS` order.

    Rules are stacked in blocks, one per hazard; every other column places each node near the
    mean row of its neighbours (barycentre) without overlaps. A few sweeps refine the order of
    the rules inside each block. Rows are fractional and the topmost node is at row 0.
    """
    kinds = sorted({str(k) for _, k in graph.nodes(data="kind", default="other")})
    columns = [*LAYER_KINDS, *(k for k in kinds if k not in LAYER_KINDS)]
    column = {n: columns.index(str(graph.nodes[n].get("kind", "other"))) for n in graph.nodes}
    members: dict[int, list[str]] = {}
    for node in sorted(graph.nodes):
        members.setdefault(column[node], []).append(node)
    neighbours = {n: sorted(set(graph.predecessors(n)) | set(graph.successors(n))) for n in graph}
    row: dict[str, float] = {}
    for nodes in members.values():
        row.update((n, float(i)) for i, n in enumerate(nodes))
    rule_column = LAYER_KINDS.index("rule")

    def barycentre(node: str) -> float | None:
        others = [row[m] for m in neighbours[node] if column[m] != column[node]]
        return sum(others) / len(others) if others else None

    def hazard_of(rule: str) -> str:
        hazard = graph.nodes[rule].get("hazard")
        return f"hazard:{hazard}" if hazard is not None else ""

    def place_rules() -> None:
        rules = members.get(rule_column, [])
        hazard_rank = {h: row.get(h, 0.0) for h in {hazard_of(r) for r in rules}}
        keyed = []
        for rule in rules:
            centre = barycentre(rule)
            keyed.append(
                (hazard_rank[hazard_of(rule)], hazard_of(rule), centre is None, centre or 0.0, rule)
            )
        keyed.sort()
        group, offset = None, 0.0
        for i, (_, hazard, *_, rule) in enumerate(keyed):
            if group is not None and hazard != group:
                offset += _GROUP_GAP
            group = hazard
            row[rule] = i + offset
        members[rule_column] = [k[-1] for k in keyed]

    def place(col: int) -> None:
        nodes = members[col]
        centres = {n: barycentre(n) for n in nodes}
        placed = sorted((c, n) for n, c in centres.items() if c is not None)
        loose = [n for n in nodes if centres[n] is None]
        spread = _spread([c for c, _ in placed])
        end = max(spread, default=-1.0)
        for (_, node), y in zip(placed, spread, strict=True):
            row[node] = y
        for i, node in enumerate(sorted(loose), 1):
            row[node] = end + i
        members[col] = [n for _, n in placed] + sorted(loose)

    others = [c for c in sorted(members) if c != rule_column]
    for _ in range(4):
        place_rules()
        for col in others:
            place(col)
    top = min(row.values(), default=0.0)
    return {n: (column[n], round(row[n] - top, 3)) for n in sorted(graph.nodes)}


def _node_label(graph: nx.DiGraph[str], node: str) -> str:
    """The text on a node's box: its id without the ``kind:`` prefix, plus an assessed value."""
    kind = graph.nodes[node].get("kind")
    label = node.removeprefix(f"{kind}:") if kind else node
    if kind == "input" and "value" in graph.nodes[node]:
        label += f" = {_json_value(graph.nodes[node]['value'])}"
    return label


def _script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` are escaped as
    ``\\u003c`` and so on, so no ``</script>`` or ``<!--`` can end or confuse the element."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    for char in ("<", ">", "&", "\u2028", "\u2029"):
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def html_payload(graph: nx.DiGraph[str], title: str) -> dict[str, Any]:
    """What :func:`to_html` embeds: the node-link graph, the layout and the node labels."""
    layout = html_layout(graph)
    kinds = sorted(
        {str(k) for _, k in graph.nodes(data="kind", default="other")},
        key=lambda k: (LAYER_KINDS.index(k) if k in LAYER_KINDS else len(LAYER_KINDS), k),
    )
    return {
        "title": title,
        "kinds": kinds,
        "graph": json.loads(to_node_link_json(graph)),
        "layout": {n: list(place) for n, place in layout.items()},
        "labels": {n: _node_label(graph, n) for n in sorted(graph.nodes)},
    }


def to_html(graph: nx.DiGraph[str], title: str | None = None) -> str:
    """A single self-contained HTML page that draws the graph and lets a reader explore it.

    Columns by kind (inputs, rules, findings, hazards, protocols), colours by kind and a
    legend; scroll to zoom, drag to pan, click or hover a node to highlight every path into
    and out of it, search by id or title. No network access: the script and styles are inline
    and the graph is embedded as node-link JSON in ``<script type="application/json"
    id="graph-data">`` (see :func:`html_payload`). ``title`` defaults to the graph's ruleset
    and version.
    """
    if title is None:
        attrs = graph.graph
        name = " ".join(str(attrs[k]) for k in ("ruleset", "version") if k in attrs)
        title = f"riskrules graph: {name}" if name else "riskrules graph"
    template = resources.files("riskrules").joinpath("data", "graph_viewer.html").read_text("utf-8")
    fills = {"@@TITLE@@": html.escape(title), "@@DATA@@": _script_json(html_payload(graph, title))}
    return re.sub("@@TITLE@@|@@DATA@@", lambda m: fills[m.group(0)], template)
