"""What compare and sweep say about hazards they do not tabulate, and ``synth | head``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskrules import Scorer, compare, load_ruleset, sweep
from riskrules.research._synth import synthesize

DATA = Path(__file__).resolve().parents[1] / "data"
SRC = Path(__file__).resolve().parents[2] / "src"
COHORT = [
    {"clinician": {"active_clients": n, "proqol": {"burnout": 10 + n % 40}}} for n in range(60)
]


def test_compare_names_hazards_present_in_only_one_ruleset() -> None:
    result = compare(DATA / "caseload.yaml", "default", COHORT, engine="native")
    default = list(load_ruleset("default").hazards)
    assert result.only_a == ()
    assert result.only_b == tuple(h for h in default if h != "caseload")
    assert [a.name for a in result.hazards] == ["caseload"]
    text = result.to_text()
    assert f"hazards only in B (not compared): {', '.join(result.only_b)}" in text


def test_compare_of_the_same_hazards_lists_none() -> None:
    result = compare("default", "default", COHORT[:5], engine="native")
    assert (result.only_a, result.only_b) == ((), ())
    assert "only in" not in result.to_text()


def test_sweep_leaves_out_hazards_the_parameter_cannot_affect() -> None:
    cohort = list(synthesize(200, 3, 0.2))
    result = sweep("default", cohort, {"max_active_clients": [10, 60]}, engine="native")
    assert result.hazards == ("caseload",)
    assert set(result.unaffected) == set(load_ruleset("default").hazards) - {"caseload"}
    text = result.to_text()
    assert "Not shown (the swept parameters cannot change their levels): " in text
    assert "crisis: records per level" not in text
    assert "caseload: records per level" in text
    assert "overall: records per level" in text


@pytest.mark.parametrize("param", sorted(load_ruleset("default").parameters))
def test_unaffected_hazards_really_do_not_change(param: str) -> None:
    rs = load_ruleset("default")
    spec = rs.parameters[param]
    low = spec.min if spec.min is not None else 0
    high = spec.max if spec.max is not None else 1000
    result = sweep(rs, [{}], {param: [low, high]}, engine="native")
    cohort = [{k: v for k, v in r.items() if k != "id"} for r in synthesize(150, 5, 0.2)]
    with (
        Scorer(rs, engine="native", params={param: low}) as a,
        Scorer(rs, engine="native", params={param: high}) as b,
    ):
        for assessment in cohort:
            ra, rb = a.score(assessment), b.score(assessment)
            for hid in result.unaffected:
                assert ra.hazards[hid] == rb.hazards[hid], (param, hid)


def test_synth_into_a_closed_pipe_exits_quietly() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    synth = subprocess.Popen(
        [sys.executable, "-m", "riskrules", "synth", "--n", "20000"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert synth.stdout is not None
    first = synth.stdout.readline()
    synth.stdout.close()  # what `head -1` does after one line
    _, err = synth.communicate(timeout=120)
    assert first.startswith(b'{"id": "synthetic-000001"')
    assert synth.returncode == 0
    assert err == b""
