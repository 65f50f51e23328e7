"""Provenance and ruleset graphs, and their exports (node-link JSON, GraphML, DOT, Mermaid)."""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import networkx as nx
import pydot
import pytest

from riskrules import (
    RiskReport,
    Scorer,
    ruleset_graph,
    to_dot,
    to_graphml,
    to_mermaid,
    to_node_link_json,
)
from riskrules.graph import explain_paths
from scoring_examples import HEAVY, demo_ruleset

KINDS = {"input", "finding", "rule", "hazard", "protocol"}
LABELS = {"reads", "asserts", "scores", "recommends"}
EXPORTS: list[Callable[[nx.DiGraph[str]], str]] = [
    to_node_link_json,
    to_graphml,
    to_dot,
    to_mermaid,
]


@pytest.fixture(scope="module")
def scorer() -> Iterator[Scorer]:
    with Scorer(demo_ruleset(), engine="native") as s:
        yield s


@pytest.fixture(scope="module")
def heavy(scorer: Scorer) -> RiskReport:
    return scorer.score(HEAVY)


def _kind_edges(g: nx.DiGraph[str]) -> set[tuple[str, str, str]]:
    return {(g.nodes[u]["kind"], g.nodes[v]["kind"], g.edges[u, v]["label"]) for u, v in g.edges}


ALLOWED = {
    ("input", "rule", "reads"),
    ("finding", "rule", "reads"),
    ("rule", "finding", "asserts"),
    ("rule", "hazard", "scores"),
    ("rule", "protocol", "recommends"),
    ("hazard", "protocol", "recommends"),
}


def test_provenance_nodes_are_typed_and_edges_labelled(heavy: RiskReport) -> None:
    g = heavy.graph
    assert isinstance(g, nx.DiGraph)
    for node in g.nodes:
        kind = g.nodes[node]["kind"]
        assert kind in KINDS
        assert node.startswith(f"{kind}:")
    assert _kind_edges(g) == ALLOWED


def test_provenance_attributes(heavy: RiskReport) -> None:
    nodes = heavy.graph.nodes
    assert nodes["input:clinician.proqol.burnout"]["value"] == 44
    assert nodes["input:client.sex"]["value"] == "female"
    assert nodes["rule:caseload.burnout_high"]["hazard"] == "caseload"
    assert nodes["rule:caseload.burnout_high"]["points"] == 4
    assert nodes["rule:crisis.high_risk"]["order"] == 1
    assert (nodes["hazard:caseload"]["level"], nodes["hazard:caseload"]["score"]) == ("high", 8)
    assert nodes["protocol:crisis_intervention"]["urgency"] == "immediate"
    assert nodes["protocol:crisis_intervention"]["rank"] == 1


def test_provenance_holds_only_fired_rules_and_their_causes(scorer: Scorer) -> None:
    report = scorer.score({"clinician": {"active_clients": 40}})
    g = report.graph
    assert sorted(g.nodes) == [
        "finding:caseload.over_capacity",
        "hazard:caseload",
        "input:clinician.active_clients",
        "protocol:peer_consultation",
        "protocol:self_care_plan",
        "rule:caseload.over_capacity",
    ]
    assert g.edges["hazard:caseload", "protocol:self_care_plan"] == {
        "label": "recommends",
        "level": "moderate",
    }


def test_empty_report_has_an_empty_graph(scorer: Scorer) -> None:
    g = scorer.score({}).graph
    assert g.number_of_nodes() == 0
    for export in EXPORTS:
        assert export(g) == export(g)


def test_every_recommendation_is_reachable_from_an_input(heavy: RiskReport) -> None:
    g = heavy.graph
    inputs = [n for n in g.nodes if g.nodes[n]["kind"] == "input"]
    for rec in heavy.recommendations:
        target = f"protocol:{rec.protocol}"
        assert any(nx.has_path(g, i, target) for i in inputs), rec.protocol
        for rule in rec.because:
            assert nx.has_path(g, f"rule:{rule}", target)


def test_explain_paths_run_forward_in_firing_order() -> None:
    # r2 reads f in an `any` but fires first (salience); r1 asserts f later; r3 reads f.
    data = {
        "ruleset": "order",
        "version": "1",
        "title": "Order",
        "inputs": {"x": {"type": "integer"}},
        "hazards": {"h": {"title": "H", "bands": {"low": 0, "high": 1}}},
        "rules": [
            {
                "id": "r1",
                "hazard": "h",
                "when": {"field": "x", "gt": 0},
                "then": {"assert": ["f"]},
                "because": "x positive",
            },
            {
                "id": "r2",
                "hazard": "h",
                "salience": 5,
                "when": {"any": [{"finding": "f"}, {"field": "x", "gt": 1}]},
                "then": {"points": 1, "recommend": ["p"]},
                "because": "x above one",
            },
        ],
        "protocols": {"p": {"title": "P", "urgency": "soon"}},
    }
    from riskrules import Ruleset

    with Scorer(Ruleset.model_validate(data), engine="native") as s:
        report = s.score({"x": 5})
    assert [f.rule for f in report.fired] == ["r2", "r1"]
    # f was asserted after r2 fired, so it is not one of r2's causes
    assert explain_paths(report.graph, "protocol:p") == (("input:x", "rule:r2", "protocol:p"),)


def test_ruleset_graph_has_every_rule_and_declared_node() -> None:
    rs = demo_ruleset()
    g = ruleset_graph(rs)
    assert {n for n in g if n.startswith("rule:")} == {f"rule:{r.id}" for r in rs.rules}
    assert {n for n in g if n.startswith("input:")} == {f"input:{i}" for i in rs.inputs}
    assert {n for n in g if n.startswith("protocol:")} == {f"protocol:{p}" for p in rs.protocols}
    assert _kind_edges(g) == ALLOWED
    assert g.edges["finding:cssrs.high_risk", "rule:substance.in_crisis"]["polarity"] == "positive"
    assert g.edges["hazard:caseload", "protocol:self_care_plan"]["level"] == "moderate"
    assert g.graph["fingerprint"] == rs.fingerprint
    assert nx.is_directed_acyclic_graph(g)


@pytest.mark.parametrize("export", EXPORTS, ids=lambda f: f.__name__)
def test_exports_are_deterministic(heavy: RiskReport, export: Callable[..., str]) -> None:
    g = heavy.graph
    shuffled: nx.DiGraph[str] = nx.DiGraph()
    shuffled.graph.update(reversed(list(g.graph.items())))
    shuffled.add_nodes_from(reversed(list(g.nodes(data=True))))
    shuffled.add_edges_from(reversed(list(g.edges(data=True))))
    assert export(g) == export(shuffled)
    assert export(g) == export(Scorer(demo_ruleset(), engine="native").score(HEAVY).graph)


def _assert_same_graph(a: nx.Graph[Any], b: nx.Graph[Any]) -> None:
    assert {n: a.nodes[n] for n in a.nodes} == {n: b.nodes[n] for n in b.nodes}
    assert {(u, v): a.edges[u, v] for u, v in a.edges} == {
        (u, v): b.edges[u, v] for u, v in b.edges
    }
    defaults = {"node_default", "edge_default"}  # read_graphml adds these
    assert a.graph == {k: v for k, v in b.graph.items() if k not in defaults}


def test_node_link_json_round_trip(heavy: RiskReport) -> None:
    data = json.loads(to_node_link_json(heavy.graph))
    back = nx.node_link_graph(data, directed=True, multigraph=False, edges="edges")
    _assert_same_graph(heavy.graph, back)


def test_graphml_round_trip_keeps_attribute_types(heavy: RiskReport) -> None:
    text = to_graphml(heavy.graph)
    back = nx.read_graphml(io.BytesIO(text.encode("utf-8")))
    _assert_same_graph(heavy.graph, back)


def test_ruleset_graph_graphml_round_trip() -> None:
    g = ruleset_graph(demo_ruleset())
    _assert_same_graph(g, nx.read_graphml(io.BytesIO(to_graphml(g).encode("utf-8"))))


def _dot_unquote(value: object) -> str:
    text = str(value)
    assert text.startswith('"'), text
    assert text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text[1:-1])


def _parse_dot(text: str) -> pydot.Dot:
    parsed = pydot.graph_from_dot_data(text)
    assert parsed is not None
    assert len(parsed) == 1
    return parsed[0]


def _dot_nodes(dot: pydot.Dot) -> list[pydot.Node]:
    return [n for n in dot.get_nodes() if n.get_name() not in ("graph", "node", "edge")]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_dot_parses_with_every_node_and_edge(heavy: RiskReport) -> None:
    g = heavy.graph
    dot = _parse_dot(to_dot(g))
    nodes = {_dot_unquote(n.get_name()) for n in _dot_nodes(dot)}
    assert nodes == set(g.nodes)
    edges = {
        (_dot_unquote(e.get_source()), _dot_unquote(e.get_destination()), e.get("label"))
        for e in dot.get_edges()
    }
    assert edges == {(u, v, f'"{g.edges[u, v]["label"]}"') for u, v in g.edges}


def test_mermaid_shape(heavy: RiskReport) -> None:
    text = to_mermaid(heavy.graph)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    node_line = re.compile(
        r'^  (n\d+)(\[/"[^"]*"/\]|\(\["[^"]*"\]\)|\["[^"]*"\]|\{\{"[^"]*"\}\}|\[\["[^"]*"\]\])$'
    )
    edge_line = re.compile(r"^  (n\d+) -->\|(reads|asserts|scores|recommends)\| (n\d+)$")
    class_line = re.compile(r"^  (classDef \w+ [\w:#,]+|class (n\d+,)*n\d+ \w+)$")
    ids, edges = set(), 0
    for line in lines[1:]:
        if m := node_line.match(line):
            ids.add(m.group(1))
        elif m := edge_line.match(line):
            assert m.group(1) in ids
            assert m.group(3) in ids
            edges += 1
        else:
            assert class_line.match(line), line
    assert len(ids) == heavy.graph.number_of_nodes()
    assert edges == heavy.graph.number_of_edges()


NASTY = [
    'input:quote"inside',
    "input:back\\slash",
    "input:new\nline",
    "rule:hash#35;and|pipe",
    "protocol:<b>markup</b>`tick`",
    "hazard:unicodé ✓",
    "finding:-- ; } {",
]


def _nasty_graph() -> nx.DiGraph[str]:
    g: nx.DiGraph[str] = nx.DiGraph(kind="test")
    for node in NASTY:
        g.add_node(node, kind=node.split(":")[0], value='a "quoted" \\ value')
    for u, v in itertools.pairwise(NASTY):
        g.add_edge(u, v, label="reads")
    return g


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_dot_escapes_awkward_ids() -> None:
    g = _nasty_graph()
    dot = _parse_dot(to_dot(g))
    nodes = {_dot_unquote(n.get_name()) for n in _dot_nodes(dot)}
    assert nodes == set(NASTY)
    assert len(dot.get_edges()) == len(NASTY) - 1


def test_mermaid_escapes_awkward_ids() -> None:
    text = to_mermaid(_nasty_graph())
    for line in text.splitlines()[1:]:
        if line.startswith("  n") and "-->" not in line:
            label = re.search(r'"(.*)"', line)
            assert label is not None, line
            assert not set(label.group(1)) & set('"<>`|\n'), line
    for escaped in ("#quot;", "#35;35;", "#lt;b#gt;", "#124;", "#96;"):
        assert escaped in text
    assert len(text.splitlines()) == 1 + len(NASTY) + len(NASTY) - 1 + 2 * 5


def test_graphml_round_trips_awkward_ids() -> None:
    g = _nasty_graph()
    back = nx.read_graphml(io.BytesIO(to_graphml(g).encode("utf-8")))
    # XML normalises a bare carriage return, but ids here use \n only
    _assert_same_graph(g, back)


def test_node_link_json_round_trips_awkward_ids() -> None:
    g = _nasty_graph()
    back = nx.node_link_graph(json.loads(to_node_link_json(g)), edges="edges")
    _assert_same_graph(g, back)
