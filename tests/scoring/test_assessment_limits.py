"""Hostile assessments and rulesets: limits give located errors, never a crash or a wrong score.

Nesting depth, the number of values and string length are bounded (AssessmentError from
``Scorer.score``, ``score_many(on_error="return")`` and ``riskrules score``, never
RecursionError); points and caps are bounded at load, so a hazard's score is always finite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from riskrules import AssessmentError, RulesetError, Scorer, load_ruleset
from riskrules.cli import main
from riskrules.scoring._validation import MAX_DEPTH, MAX_STRING, MAX_VALUES


@pytest.fixture(scope="module")
def scorer() -> Iterator[Scorer]:
    with Scorer("default", engine="native") as s:
        yield s


def nested_list(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def nested_object(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x": value}
    return value


HOSTILE = {
    "deep list": {"clinician": {"active_clients": nested_list(990)}},
    "deep object": {"clinician": nested_object(990)},
    "long string": {"client": {"sex": "f" * (MAX_STRING + 1)}},
    "long key": {"k" * (MAX_STRING + 1): 1},
    "many values": {"clinician": {"active_clients": list(range(MAX_VALUES))}},
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_score_raises_assessment_error(scorer: Scorer, name: str) -> None:
    with pytest.raises(AssessmentError) as caught:
        scorer.score(HOSTILE[name])
    assert len(str(caught.value)) < 600  # the message never quotes the whole value


def test_depth_limit_is_named(scorer: Scorer) -> None:
    with pytest.raises(AssessmentError, match=f"nested deeper than {MAX_DEPTH} levels"):
        scorer.score(HOSTILE["deep list"])


def test_score_many_returns_the_error_in_place(scorer: Scorer) -> None:
    results = list(
        scorer.score_many(
            [{}, HOSTILE["deep object"], {"clinician": {"active_clients": 3}}], on_error="return"
        )
    )
    assert isinstance(results[1], AssessmentError)
    assert not isinstance(results[0], AssessmentError)
    assert not isinstance(results[2], AssessmentError)


def test_ordinary_nesting_still_scores(scorer: Scorer) -> None:
    nested = scorer.score({"clinician": {"proqol": {"burnout": 30}, "active_clients": 10}})
    dotted = scorer.score({"clinician.proqol.burnout": 30, "clinician.active_clients": 10})
    assert nested.model_dump_json() == dotted.model_dump_json()


def test_cli_deep_assessment_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"clinician": {"active_clients": ' + "[" * 100 + "1" + "]" * 100 + "}}")
    assert main(["score", str(path), "--engine", "native"]) == 2
    err = capsys.readouterr().err
    assert "nested deeper than" in err
    assert "Traceback" not in err


def test_cli_refuses_devices_and_fifos(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", "/dev/zero", "--engine", "native"]) == 2
    assert "not a regular file" in capsys.readouterr().err
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert main(["score", str(fifo), "--engine", "native"]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_cli_bounds_the_size_it_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as stream:
        stream.truncate(5 * 1024 * 1024)  # sparse: 5 MiB of zero bytes
    assert main(["score", str(path), "--engine", "native"]) == 2
    assert "larger than" in capsys.readouterr().err


RULESET = """\
ruleset: big
version: 1.0.0
title: Big
inputs:
  a: {type: integer, min: 0, max: 10}
hazards:
  h:
    title: H
    bands: {low: 0, moderate: 3, high: 6, critical: 10}
    cap: CAP
rules:
  - id: h.one
    hazard: h
    when: {field: a, gt: 1}
    then: {points: POINTS}
    because: one
  - id: h.two
    hazard: h
    when: {field: a, gt: 2}
    then: {points: POINTS}
    because: two
"""


def test_overflowing_points_are_rejected_at_load() -> None:
    text = RULESET.replace("POINTS", "1e308").replace("    cap: CAP\n", "")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(text)
    err = caught.value
    assert "points" in str(err)
    assert err.line == 14
    assert "h.one" in str(err)


def test_overflowing_cap_is_rejected_at_load() -> None:
    text = RULESET.replace("POINTS", "1").replace("CAP", "1e309")
    with pytest.raises(RulesetError, match="cap"):
        load_ruleset(text)


def test_bounded_points_give_a_finite_score() -> None:
    text = RULESET.replace("POINTS", "1000000").replace("    cap: CAP\n", "")
    with Scorer(load_ruleset(text), engine="native") as s:
        report = s.score({"a": 5})
    assert report.hazards["h"].score == 2_000_000
    assert report.hazards["h"].level == "critical"
