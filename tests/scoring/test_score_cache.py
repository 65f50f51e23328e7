"""``riskrules.score(..., ruleset=path)`` notices edits of the file and of its includes."""

from __future__ import annotations

import os
from pathlib import Path

from riskrules import score
from riskrules.scoring import _scorer as scoring_module

TOP = """ruleset: cached
version: '1'
title: Cached
include: [part.yaml]
hazards:
  h: {title: H, bands: {low: 0, high: 2}}
rules:
  - id: r
    hazard: h
    when: {field: x, gte: LIMIT}
    then: {points: 2}
    because: x is high.
"""
PART = "inputs:\n  x: {type: integer, min: 0, max: 100}\n"


def _write(path: Path, text: str, tick: int) -> None:
    path.write_text(text, "utf-8")
    os.utime(path, ns=(tick * 1_000_000_000, tick * 1_000_000_000))


def _level(path: Path, x: int) -> str:
    return score({"x": x}, ruleset=path, engine="native").hazards["h"].level


def test_an_edited_file_is_loaded_again(tmp_path: Path) -> None:
    top = tmp_path / "top.yaml"
    _write(tmp_path / "part.yaml", PART, 1)
    _write(top, TOP.replace("LIMIT", "50"), 1)
    assert _level(top, 40) == "low"
    _write(top, TOP.replace("LIMIT", "30"), 2)  # same size, a new modification time
    assert _level(top, 40) == "high"
    assert _level(str(top), 40) == "high"  # a str names the same file


def test_an_edited_include_is_loaded_again(tmp_path: Path) -> None:
    top = tmp_path / "top.yaml"
    _write(tmp_path / "part.yaml", PART, 1)
    _write(top, TOP.replace("LIMIT", "50"), 1)
    assert _level(top, 60) == "high"
    _write(tmp_path / "part.yaml", PART.replace("max: 100", "max: 1000"), 1)  # a new size
    assert _level(top, 600) == "high"


def test_an_unchanged_file_is_not_loaded_again(tmp_path: Path) -> None:
    top = tmp_path / "top.yaml"
    _write(tmp_path / "part.yaml", PART, 1)
    _write(top, TOP.replace("LIMIT", "50"), 1)
    _level(top, 1)
    before = scoring_module._cached_scorer.cache_info()
    for x in range(5):
        _level(top, x)
    after = scoring_module._cached_scorer.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (5, 0)
