"""``riskrules graph`` in every format, and the self-contained HTML page (checked structurally;
``scripts/render_graph.sh`` checks that it draws in headless Chromium)."""

from __future__ import annotations

import io
import itertools
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import networkx as nx
import pydot
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskrules import (
    Ruleset,
    load_ruleset,
    ruleset_graph,
    score,
    to_dot,
    to_graphml,
    to_html,
    to_mermaid,
    to_node_link_json,
)
from riskrules.cli import main
from riskrules.graph import LAYER_KINDS, _spread, html_layout, html_payload

FORMATS = ("mermaid", "dot", "graphml", "json", "html")


@pytest.fixture(scope="module")
def default_graph() -> nx.DiGraph[str]:
    return ruleset_graph(load_ruleset("default"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["graph", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def _edges(g: nx.DiGraph[str]) -> set[tuple[str, str, str]]:
    return {(u, v, str(label)) for u, v, label in g.edges(data="label")}


class _Page(HTMLParser):
    """The parts of an HTML page the tests look at: elements, attributes and script texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.title = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "title"):
            self._in = tag
            if tag == "script":
                self.scripts.append((dict(attrs), ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        elif self._in == "title":
            self.title += data


def parse_page(text: str) -> tuple[_Page, dict[str, Any]]:
    page = _Page()
    page.feed(text)
    page.close()
    (data,) = [s for a, s in page.scripts if a.get("type") == "application/json"]
    payload: dict[str, Any] = json.loads(data)
    return page, payload


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_prints_the_default_graph(
    fmt: str, default_graph: nx.DiGraph[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "default", "--format", fmt)
    assert (status, err) == (0, "")
    nodes, edges = set(default_graph.nodes), _edges(default_graph)
    if fmt == "mermaid":
        assert out == to_mermaid(default_graph)
        assert out.startswith("flowchart LR\n")
        assert len(re.findall(r"^  n\d+[\[({]", out, flags=re.M)) == len(nodes)
        assert len(re.findall(r"^  n\d+ -->", out, flags=re.M)) == len(edges)
    elif fmt == "dot":
        assert out == to_dot(default_graph)
        (dot,) = pydot.graph_from_dot_data(out)
        names = {n.get_name().strip('"') for n in dot.get_nodes()} - {"graph", "node", "edge"}
        assert names == nodes
        assert len(dot.get_edges()) == len(edges)
    elif fmt == "graphml":
        assert out == to_graphml(default_graph)
        back = nx.read_graphml(io.BytesIO(out.encode("utf-8")))
        assert set(back.nodes) == nodes
        assert _edges(back) == edges
    elif fmt == "json":
        assert out == to_node_link_json(default_graph) + "\n"
        back = nx.node_link_graph(json.loads(out), edges="edges")
        assert set(back.nodes) == nodes
        assert _edges(back) == edges
    else:
        _, payload = parse_page(out)
        assert out == to_html(default_graph, title=load_ruleset("default").title)
        assert {n["id"] for n in payload["graph"]["nodes"]} == nodes
        assert {(e["source"], e["target"], e["label"]) for e in payload["graph"]["edges"]} == edges


def test_the_default_format_is_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "default")
    assert status == 0
    assert out.startswith("flowchart LR\n")


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_writes_the_file_and_nothing_to_stdout(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / f"graph.{fmt}"
    status, out, err = run(capsys, "default", "--format", fmt, "--output", str(target))
    assert (status, out, err) == (0, "", "")
    status, printed, _ = run(capsys, "default", "--format", fmt)
    assert status == 0
    assert target.read_text(encoding="utf-8") == printed


def test_a_ruleset_file_and_a_custom_title(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "tiny.yaml"
    source.write_text(TINY_YAML, encoding="utf-8")
    status, out, _ = run(capsys, str(source), "--format", "html", "--title", "Tiny <graph> & co")
    assert status == 0
    page, payload = parse_page(out)
    assert page.title == "Tiny <graph> & co"
    assert payload["title"] == "Tiny <graph> & co"
    assert "<title>Tiny &lt;graph&gt; &amp; co</title>" in out
    assert {n["id"] for n in payload["graph"]["nodes"]} == {
        "input:x",
        "rule:r",
        "finding:f",
        "hazard:h",
        "protocol:p",
    }


TINY_YAML = """\
ruleset: tiny
version: "1"
title: Tiny
inputs: {x: {type: integer}}
hazards: {h: {title: H, bands: {low: 0, high: 1}}}
protocols: {p: {title: P, urgency: soon}}
rules:
  - {id: r, hazard: h, when: {field: x, gt: 1}, then: {points: 1, assert: [f], recommend: [p]},
     because: x above 1}
"""


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["missing.yaml"], "missing.yaml"),
        (["default", "--format", "svg"], "invalid choice"),
        ([], "the following arguments are required"),
    ],
)
def test_usage_and_load_errors_exit_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert needle in err


def test_a_broken_ruleset_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "broken.yaml"
    source.write_text(TINY_YAML.replace("gt: 1", "gt: one"), encoding="utf-8")
    status, out, err = run(capsys, str(source), "--format", "html")
    assert (status, out) == (2, "")
    assert err.startswith(f"riskrules: {source}:8:")
    assert "rules[0].when.gt" in err


def test_an_unwritable_output_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "default", "--output", str(tmp_path / "no" / "such" / "dir.mmd"))
    assert status == 2
    assert "riskrules:" in err


def test_the_page_is_self_contained(default_graph: nx.DiGraph[str]) -> None:
    text = to_html(default_graph, title="Default")
    page, _ = parse_page(text)
    assert text.startswith("<!DOCTYPE html>")
    assert text.count("<html") == 1
    assert text.rstrip().endswith("</html>")
    # nothing is loaded from anywhere: no src at all, no link elements, no remote href
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag
        assert tag not in ("link", "iframe", "object", "embed", "img", "base"), tag
        href = attrs.get("href") or ""
        assert not re.match(r"\s*(https?:)?//", href), (tag, href)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, flags=re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", text, flags=re.I)
    assert "@import" not in text
    for call in ("fetch(", "XMLHttpRequest", "WebSocket", "import(", "EventSource"):
        assert call not in text
    # one inline script that draws, one JSON payload
    kinds = sorted(str(a.get("type")) for a, _ in page.scripts)
    assert kinds == ["None", "application/json"]
    assert all(not s.strip().startswith("<") for _, s in page.scripts)


def test_the_payload_is_the_graph(default_graph: nx.DiGraph[str]) -> None:
    _, payload = parse_page(to_html(default_graph))
    assert payload["graph"] == json.loads(to_node_link_json(default_graph))
    back = nx.node_link_graph(payload["graph"], edges="edges")
    assert set(back.nodes) == set(default_graph.nodes)
    assert _edges(back) == _edges(default_graph)
    for node in default_graph.nodes:
        assert back.nodes[node] == default_graph.nodes[node]
    assert payload["kinds"] == list(LAYER_KINDS)
    assert set(payload["layout"]) == set(default_graph.nodes)
    assert payload["labels"]["input:clinician.active_clients"] == "clinician.active_clients"
    assert payload["title"] == "riskrules graph: default 1.0.0"


def _hostile_graph() -> nx.DiGraph[str]:
    g: nx.DiGraph[str] = nx.DiGraph(ruleset="x</script>", version="<!--1")
    g.add_node("input:</script><script>alert(1)</script>", kind="input")
    g.add_node("rule:r", kind="rule", hazard="h", title="</SCRIPT >& <!-- \u2028 ]]>")
    g.add_node("hazard:h", kind="hazard", title='"quoted" </style>')
    g.add_node("odd:thing", kind="</script>")
    g.add_edge("input:</script><script>alert(1)</script>", "rule:r", label="reads")
    g.add_edge("rule:r", "hazard:h", label="scores")
    g.add_edge("rule:r", "odd:thing", label="</script>")
    return g


def test_script_end_tags_in_ids_and_titles_are_escaped() -> None:
    g = _hostile_graph()
    text = to_html(g, title="</script><b>bold</b>")
    page, payload = parse_page(text)
    # only the page's own two script elements end
    assert len(re.findall(r"</script", text, flags=re.I)) == 2
    assert "<!--" not in text.split('id="graph-data">', 1)[1].split("</script>", 1)[0]
    assert page.title == "</script><b>bold</b>"
    assert payload["title"] == "</script><b>bold</b>"
    assert payload["graph"] == json.loads(to_node_link_json(g))
    assert not any(tag == "b" for tag, _ in page.tags)
    assert payload["kinds"] == ["input", "rule", "hazard", "</script>"]


def test_the_page_is_deterministic(default_graph: nx.DiGraph[str]) -> None:
    assert to_html(default_graph) == to_html(ruleset_graph(load_ruleset("default")))


def test_a_provenance_graph_works_too() -> None:
    report = score({"clinician": {"active_clients": 40, "proqol": {"burnout": 43}}})
    _, payload = parse_page(to_html(report.graph))
    assert payload["graph"] == json.loads(to_node_link_json(report.graph))
    assert payload["labels"]["input:clinician.active_clients"] == "clinician.active_clients = 40"


def test_layout_columns_follow_the_kinds(default_graph: nx.DiGraph[str]) -> None:
    layout = html_layout(default_graph)
    for node, (column, _) in layout.items():
        assert LAYER_KINDS[column] == default_graph.nodes[node]["kind"]
    assert min(row for _, row in layout.values()) == 0


def test_layout_rows_never_overlap_within_a_column(default_graph: nx.DiGraph[str]) -> None:
    layout = html_layout(default_graph)
    by_column: dict[int, list[float]] = {}
    for column, row in layout.values():
        by_column.setdefault(column, []).append(row)
    for rows in by_column.values():
        rows.sort()
        assert all(b - a >= 1 - 1e-6 for a, b in itertools.pairwise(rows))


def test_rules_are_stacked_in_one_block_per_hazard(default_graph: nx.DiGraph[str]) -> None:
    layout = html_layout(default_graph)
    rules = sorted(
        (row, default_graph.nodes[n]["hazard"])
        for n, (column, row) in layout.items()
        if column == LAYER_KINDS.index("rule")
    )
    hazards = [h for i, (_, h) in enumerate(rules) if i == 0 or rules[i - 1][1] != h]
    assert sorted(hazards) == sorted(set(hazards))  # each hazard's rules are contiguous


def test_layout_of_an_empty_ruleset() -> None:
    rs = Ruleset.model_validate({"ruleset": "empty", "version": "1", "title": "Empty"})
    g = ruleset_graph(rs)
    assert html_layout(g) == {}
    assert html_payload(g, "Empty")["graph"]["nodes"] == []
    parse_page(to_html(g))


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), max_size=30))
def test_spread_keeps_order_and_distance_and_the_mean(desired: list[float]) -> None:
    desired.sort()
    spread = _spread(desired)
    assert len(spread) == len(desired)
    assert all(b - a >= 1 - 1e-6 for a, b in itertools.pairwise(spread))
    if desired:
        assert sum(spread) == pytest.approx(sum(desired), rel=1e-9, abs=1e-6)
    if all(b - a >= 1 for a, b in itertools.pairwise(desired)):
        assert spread == pytest.approx(desired, abs=1e-6)
