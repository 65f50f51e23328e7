"""Fingerprints: what changes a ruleset's fingerprint (its semantics) and what does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from riskrules import dump_ruleset, load_ruleset

CASELOAD = Path(__file__).parents[1] / "data" / "caseload.yaml"
BASE = CASELOAD.read_text(encoding="utf-8")


def test_comments_and_layout_do_not_change_the_fingerprint() -> None:
    base = load_ruleset(BASE)
    commented = "\n".join(
        line + "  # note" if line and not line.startswith("#") and line[-1] not in "|>" else line
        for line in BASE.splitlines()
    )
    assert load_ruleset(commented).fingerprint == base.fingerprint
    blocky = dump_ruleset(base)
    assert blocky != BASE
    assert load_ruleset(blocky).fingerprint == base.fingerprint


def test_key_order_does_not_change_the_fingerprint() -> None:
    base = load_ruleset(BASE)
    moved = BASE.replace(
        "  - id: caseload.over_capacity\n    hazard: caseload\n",
        "  - hazard: caseload\n    id: caseload.over_capacity\n",
    ).replace(
        "  clinician.life_crisis: {type: boolean}\n"
        "  clinician.setting: {type: enum, values: [inpatient, outpatient, community]}\n",
        "  clinician.setting: {values: [inpatient, outpatient, community], type: enum}\n"
        "  clinician.life_crisis: {type: boolean}\n",
    )
    assert moved != BASE
    assert load_ruleset(moved).fingerprint == base.fingerprint


def test_integral_floats_and_integers_fingerprint_alike() -> None:
    base = load_ruleset(BASE)
    assert load_ruleset(BASE.replace("gte: 42", "gte: 42.0")).fingerprint == base.fingerprint


def test_scenarios_do_not_change_the_fingerprint() -> None:
    base = load_ruleset(BASE)
    renamed = BASE.replace("heavy caseload with high burnout", "another name")
    assert load_ruleset(renamed).fingerprint == base.fingerprint


def test_semantic_changes_change_the_fingerprint() -> None:
    base = load_ruleset(BASE).fingerprint
    edits = [
        ("gte: 42", "gte: 43"),  # a threshold
        ("then: {points: 3,", "then: {points: 4,"),  # points
        ("n: 2", "n: 3"),  # k of k-of-n
        ("floor: high", "floor: critical"),
        ("default: 35", "default: 36"),  # a parameter default
        ("moderate: 3,", "moderate: 4,"),  # a band
        ("urgency: soon}", "urgency: urgent}"),
    ]
    seen = {base}
    for old, new in edits:
        assert old in BASE, old
        changed = load_ruleset(BASE.replace(old, new, 1)).fingerprint
        assert changed not in seen, f"{old!r} -> {new!r} did not change the fingerprint"
        seen.add(changed)


def test_loading_is_deterministic() -> None:
    first = load_ruleset(BASE)
    for _ in range(5):
        again = load_ruleset(BASE)
        assert again == first
        assert again.fingerprint == first.fingerprint
        assert dump_ruleset(again) == dump_ruleset(first)


def test_the_fingerprint_does_not_depend_on_hash_randomisation() -> None:
    here = load_ruleset(CASELOAD).fingerprint
    code = (
        "import sys; from riskrules import load_ruleset; "
        "print(load_ruleset(sys.argv[1]).fingerprint)"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code, str(CASELOAD)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        assert out.stdout.strip() == here
