#!/usr/bin/env bash
# Render a ruleset's HTML graph page to PNG with headless Chromium, and check that it drew.
#
# Usage: scripts/render_graph.sh [RULESET] [OUTPUT.png] [NODE]
#   RULESET  ruleset file, directory or built-in name            (default: default)
#   OUTPUT   the PNG to write                                     (default: docs/default-ruleset-graph.png)
#   NODE     a node id to select, e.g. hazard:crisis: the page opens at #node=NODE with
#            that node's upstream and downstream paths highlighted   (default: none)
#
# Environment:
#   PYTHON    the Python with riskrules installed  (default: python3)
#   CHROMIUM  the Chromium binary                  (default: chromium)
#   WINDOW    the window size WIDTH,HEIGHT          (default: 1700,1500)
#
# Needs Chromium; on Debian: apt-get update && apt-get install -y chromium
# (fonts-dejavu-core gives the page a readable sans-serif font).
#
# The page is generated with `riskrules graph RULESET --format html`. Chromium first loads it
# with --dump-dom: the DOM after the page's script ran must hold one drawn box per node and
# one path per edge of the graph, otherwise the script exits 1 and writes no PNG. Then it
# takes the screenshot. Chromium runs without network access to anything: the page is
# self-contained, and background networking, component updates and sync are switched off.
#
# The picture in docs/ was made with:
#   scripts/render_graph.sh default docs/default-ruleset-graph.png
#   scripts/render_graph.sh default docs/default-ruleset-graph-crisis.png hazard:crisis
set -euo pipefail

ruleset=${1:-default}
output=${2:-docs/default-ruleset-graph.png}
node=${3:-}
python=${PYTHON:-python3}
chromium=${CHROMIUM:-chromium}
window=${WINDOW:-1700,1500}

if ! command -v "$chromium" >/dev/null 2>&1; then
    echo "render_graph: $chromium not found; on Debian: apt-get install -y chromium" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
page="$work/graph.html"
"$python" -m riskrules graph "$ruleset" --format html --output "$page"
read -r nodes edges < <(
    "$python" -m riskrules graph "$ruleset" --format json |
        "$python" -c 'import json, sys; g = json.load(sys.stdin); print(len(g["nodes"]), len(g["edges"]))'
)

url="file://$page"
if [ -n "$node" ]; then
    url="$url#node=$("$python" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$node")"
fi

run_chromium() {
    "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
        --user-data-dir="$(mktemp -d -p "$work")" --window-size="$window" \
        --virtual-time-budget=5000 "$@" 2>>"$work/chromium.log"
}

# 1. The page's script ran and drew every node and edge.
if ! run_chromium --dump-dom "$url" >"$work/dom.html"; then
    cat "$work/chromium.log" >&2
    exit 1
fi
drawn_nodes=$( (grep -o 'class="node[ "]' "$work/dom.html" || true) | wc -l)
drawn_edges=$( (grep -o 'class="edge[ "]' "$work/dom.html" || true) | wc -l)
if [ "$drawn_nodes" -ne "$nodes" ] || [ "$drawn_edges" -ne "$edges" ]; then
    echo "render_graph: the page drew $drawn_nodes/$nodes nodes and $drawn_edges/$edges edges" >&2
    exit 1
fi
if [ -n "$node" ] && ! grep -q 'class="node[^"]*selected' "$work/dom.html"; then
    echo "render_graph: the page did not select $node" >&2
    exit 1
fi

# 2. The picture.
mkdir -p "$(dirname "$output")"
if ! run_chromium --screenshot="$output" "$url" >/dev/null || [ ! -s "$output" ]; then
    cat "$work/chromium.log" >&2
    exit 1
fi
echo "render_graph: $output ($nodes nodes, $edges edges drawn)"
