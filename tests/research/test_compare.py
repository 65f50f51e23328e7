"""Ruleset comparison and parameter sweeps over cohorts (riskrules.compare, compare / sweep CLI)."""

from __future__ import annotations

import importlib
import itertools
import json
import math
import random
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]

from riskrules import Ruleset, RulesetError, compare, load_ruleset, sweep
from riskrules.cli import main
from riskrules.errors import RiskRulesError
from riskrules.research import cohens_kappa, weighted_kappa
from riskrules.research._sweep import parse_values

LEVELS = ("low", "moderate", "high", "critical")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# the package's ``compare`` and ``sweep`` attributes are the functions; modules are reached by name
compare_module = importlib.import_module("riskrules.research._compare")
sweep_module = importlib.import_module("riskrules.research._sweep")


def label_ruleset(reads: str) -> Ruleset:
    """A ruleset whose hazard ``h`` level is the value (0-3) of input ``reads`` (x or y).

    Both variants declare x and y, so every assessment fits both; their rule ids differ, and
    reaching ``high`` recommends protocol ``p``.
    """
    return Ruleset.model_validate(
        {
            "ruleset": f"labels_{reads}",
            "version": "1",
            "title": "Level equals an input",
            "inputs": {
                "x": {"type": "integer", "min": 0, "max": 3},
                "y": {"type": "integer", "min": 0, "max": 3},
            },
            "hazards": {
                "h": {
                    "title": "H",
                    "bands": {"low": 0, "moderate": 1, "high": 2, "critical": 3},
                    "recommend": {"high": ["p"]},
                }
            },
            "protocols": {"p": {"title": "P", "urgency": "soon"}},
            "rules": [
                {
                    "id": f"{reads}.at_least_{k}",
                    "hazard": "h",
                    "when": {"field": reads, "gte": k},
                    "then": {"points": 1},
                    "because": f"{reads} is at least {k}.",
                }
                for k in (1, 2, 3)
            ],
        }
    )


def build_cohort(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Caseload-related assessments for the default ruleset, with ids ``r0``, ``r1``, ..."""
    rng = random.Random(seed)
    cohort = []
    for i in range(n):
        clients = rng.randint(10, 70)
        cohort.append(
            {
                "id": f"r{i}",
                "clinician": {
                    "active_clients": clients,
                    "direct_hours_per_week": round(rng.uniform(15, 40), 1),
                    "supervision_hours_per_month": rng.choice([None, 1, 2, 4, 6]),
                    "proqol": {"burnout": min(50, max(10, 12 + clients // 3 + rng.randint(-6, 6)))},
                },
            }
        )
    return cohort


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_kappa_of_a_hand_computed_matrix() -> None:
    # po = 35/50 = 0.7; pe = (25*30 + 25*20) / 50**2 = 0.5; kappa = 0.2 / 0.5
    assert cohens_kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)
    # with two levels every disagreement has the same weight
    assert weighted_kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)
    # quadratic weights: a two-level disagreement counts four times a one-level one
    near = [[10, 5, 0], [0, 10, 0], [0, 0, 10]]
    far = [[10, 0, 5], [0, 10, 0], [0, 0, 10]]
    assert weighted_kappa(near) > weighted_kappa(far)
    assert cohens_kappa(near) == pytest.approx(cohens_kappa(far))


def test_kappa_degenerate_cases() -> None:
    assert cohens_kappa([[7, 0], [0, 0]]) == 1.0
    assert weighted_kappa([[7, 0], [0, 0]]) == 1.0
    assert cohens_kappa([[0, 0], [0, 0]]) == 1.0
    # one side constant, the other not: expected agreement < 1, kappa 0
    assert cohens_kappa([[3, 4], [0, 0]]) == 0.0


def _sklearn(a: list[int], b: list[int], weights: str | None) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b, labels=[0, 1, 2, 3], weights=weights))


def _matrix(pairs: list[tuple[int, int]]) -> list[list[int]]:
    matrix = [[0] * 4 for _ in range(4)]
    for i, j in pairs:
        matrix[i][j] += 1
    return matrix


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=60))
def test_kappa_matches_scikit_learn(pairs: list[tuple[int, int]]) -> None:
    a = [i for i, _ in pairs]
    b = [j for _, j in pairs]
    matrix = _matrix(pairs)
    for ours, weights in ((cohens_kappa(matrix), None), (weighted_kappa(matrix), "quadratic")):
        theirs = _sklearn(a, b, weights)
        if math.isnan(theirs):  # 0/0: our documented convention
            assert ours == (1.0 if a == b else 0.0)
        else:
            assert ours == pytest.approx(theirs, abs=1e-9)


PAIRS = [(0, 0), (0, 1), (1, 1), (2, 2), (2, 1), (3, 3), (1, 3), (0, 0)]


def test_hand_made_transition_matrix_and_agreement() -> None:
    cohort = [(f"p{i}", {"x": x, "y": y}) for i, (x, y) in enumerate(PAIRS)]
    result = compare(label_ruleset("x"), label_ruleset("y"), cohort, engine="native")
    assert result.records == 8
    assert result.levels == LEVELS
    h = result.agreement("h")
    assert h.matrix == (
        (2, 1, 0, 0),
        (0, 1, 0, 1),
        (0, 1, 1, 0),
        (0, 0, 0, 1),
    )
    assert h.agreement == pytest.approx(5 / 8)
    assert (h.raised, h.lowered) == (2, 1)
    assert result.overall.matrix == h.matrix
    xs, ys = [x for x, _ in PAIRS], [y for _, y in PAIRS]
    assert h.kappa == pytest.approx(_sklearn(xs, ys, None))
    assert h.weighted_kappa == pytest.approx(_sklearn(xs, ys, "quadratic"))
    assert [(c.id, c.a, c.b) for c in result.changed] == [
        ("p1", "low", "moderate"),
        ("p4", "high", "moderate"),
        ("p6", "moderate", "critical"),
    ]
    # rules are matched by id: these exist on one side only
    rates = {r.rule: r for r in result.rules}
    assert rates["x.at_least_1"].fired_a == 5
    assert rates["x.at_least_1"].fired_b is None
    assert rates["x.at_least_1"].difference is None
    assert rates["y.at_least_2"].rate_b == pytest.approx(3 / 8)
    assert rates["y.at_least_2"].rate_a is None
    # protocol p at high or above: A has pairs 3, 4, 5; B has 3, 5, 6
    (p,) = result.recommendations
    assert (p.protocol, p.recommended_a, p.recommended_b, p.gained, p.lost) == ("p", 3, 3, 1, 1)


RULESET_X, RULESET_Y = label_ruleset("x"), label_ruleset("y")


@settings(max_examples=25)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=30))
def test_compare_counts_what_it_scores(pairs: list[tuple[int, int]]) -> None:
    result = compare(RULESET_X, RULESET_Y, [{"x": x, "y": y} for x, y in pairs], engine="native")
    matrix = _matrix(pairs)
    assert [list(row) for row in result.agreement("h").matrix] == matrix
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    theirs = _sklearn(xs, ys, "quadratic")
    if not math.isnan(theirs):
        assert result.agreement("h").weighted_kappa == pytest.approx(theirs, abs=1e-9)
    assert [c.index for c in result.changed] == [i for i, (x, y) in enumerate(pairs) if x != y]


def test_level_scales_are_merged_in_order() -> None:
    merge = compare_module._merge_scales
    assert merge(("low", "high"), ("low", "moderate", "high")) == ("low", "moderate", "high")
    assert merge(("a", "b"), ("z", "a", "c")) == ("z", "a", "c", "b")


def test_default_against_itself_agrees_fully() -> None:
    cohort = build_cohort(40)
    result = compare("default", "default", cohort, engine="native")
    assert result.changed == ()
    for item in (result.overall, *result.hazards):
        assert item.kappa == 1.0
        assert item.weighted_kappa == 1.0
        assert item.agreement == 1.0
        assert item.incomplete_a == item.incomplete_b
    assert [h.name for h in result.hazards] == list(load_ruleset("default").hazards)
    assert all(r.difference == 0 for r in result.rules)
    assert all(p.gained == p.lost == 0 for p in result.recommendations)
    assert result.overall.incomplete_a == 40  # the cohort only assesses caseload


def test_a_lower_caseload_limit_raises_levels_of_the_records_in_between() -> None:
    cohort = build_cohort(60)
    clients = {r["id"]: r["clinician"]["active_clients"] for r in cohort}
    result = compare(
        "default", "default", cohort, engine="native", params_b={"max_active_clients": 25}
    )
    assert result.a.params["max_active_clients"] == 35
    assert result.b.params["max_active_clients"] == 25
    assert result.changed
    for record in result.changed:
        assert 25 < clients[record.id] <= 35
        assert LEVELS.index(record.b) > LEVELS.index(record.a)
        assert cohort[record.index]["id"] == record.id
    assert result.overall.lowered == 0
    assert result.overall.raised == len(result.changed)
    assert result.overall.kappa < 1.0
    rate = next(r for r in result.rules if r.rule == "caseload.over_capacity")
    between = sum(25 < n <= 35 for n in clients.values())
    assert rate.fired_b - rate.fired_a == between  # type: ignore[operator]
    assert rate.difference == pytest.approx(between / 60)
    reduction = next(p for p in result.recommendations if p.protocol == "caseload_reduction")
    assert 0 < reduction.gained <= between  # the high band recommends it too
    assert reduction.lost == 0
    text = result.to_text()
    assert "parameter max_active_clients: A 35, B 25" in text
    assert f"Records whose overall level changed: {len(result.changed)}" in text


def test_comparison_json_is_deterministic_and_complete() -> None:
    cohort = build_cohort(20)
    runs = [
        compare("default", "default", cohort, engine="native", params_b={"max_active_clients": 20})
        for _ in range(2)
    ]
    assert runs[0].to_json() == runs[1].to_json()
    data = json.loads(runs[0].to_json())
    assert set(data) == {
        "a",
        "b",
        "records",
        "levels",
        "overall",
        "hazards",
        "only_a",
        "only_b",
        "rules",
        "recommendations",
        "changed",
    }
    assert set(data["overall"]) == {
        "name",
        "matrix",
        "agreement",
        "kappa",
        "weighted_kappa",
        "raised",
        "lowered",
        "incomplete_a",
        "incomplete_b",
    }
    assert sum(map(sum, data["overall"]["matrix"])) == 20


def test_cohort_records_ids_and_errors() -> None:
    rs = label_ruleset("x")
    result = compare(rs, label_ruleset("y"), [{"x": 1, "y": 0}, {"id": 9, "x": 0, "y": 2}])
    assert [c.id for c in result.changed] == ["0", "9"]
    with pytest.raises(RiskRulesError, match=r"cohort record 1 \(id 1\): z: .*unknown field"):
        compare(rs, rs, [{"x": 1}, {"z": 1}], engine="native")
    with pytest.raises(RiskRulesError, match="no records"):
        compare(rs, rs, [], engine="native")
    with pytest.raises(RiskRulesError, match="not a single assessment"):
        compare(rs, rs, {"x": 1}, engine="native")  # type: ignore[dict-item]
    with pytest.raises(RulesetError, match=r"parameters\.nope"):
        compare(rs, rs, [{"x": 1}], engine="native", params_a={"nope": 1})


def test_compare_reads_cohort_files(tmp_path: Path) -> None:
    cohort = build_cohort(15)
    path = write_jsonl(tmp_path / "cohort.jsonl", cohort)
    from_file = compare(
        "default", "default", path, engine="native", params_b={"max_active_clients": 20}
    )
    in_memory = compare(
        "default", "default", cohort, engine="native", params_b={"max_active_clients": 20}
    )
    assert from_file.to_json() == in_memory.to_json()


def test_csv_and_jsonl_cohorts_compare_alike(tmp_path: Path) -> None:
    cohort = [r for r in build_cohort(15) if r["clinician"]["supervision_hours_per_month"]]
    columns = ["id", "clinician.active_clients", "clinician.supervision_hours_per_month"]
    lines = [",".join(columns)]
    lines += [
        f"{r['id']},{r['clinician']['active_clients']},"
        f"{r['clinician']['supervision_hours_per_month']}"
        for r in cohort
    ]
    csv_path = tmp_path / "cohort.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    jsonl_path = write_jsonl(
        tmp_path / "cohort.jsonl",
        [
            {
                "id": r["id"],
                "clinician.active_clients": r["clinician"]["active_clients"],
                "clinician.supervision_hours_per_month": r["clinician"][
                    "supervision_hours_per_month"
                ],
            }
            for r in cohort
        ],
    )
    results = [
        compare("default", "default", path, engine="native", params_b={"max_active_clients": 20})
        for path in (csv_path, jsonl_path)
    ]
    assert results[0].records == len(cohort)
    assert results[0].changed
    assert results[0].to_json() == results[1].to_json()


def test_sweep_counts_and_monotone_share() -> None:
    cohort = build_cohort(80)
    values = [20, 30, 40, 50, 60]
    result = sweep("default", iter(cohort), {"max_active_clients": values}, engine="native")
    assert result.records == 80
    assert [p.params for p in result.points] == [{"max_active_clients": v} for v in values]
    for point in result.points:
        assert sum(point.overall.values()) == 80
        for counts in point.hazards.values():
            assert sum(counts.values()) == 80
    shares = result.share_at_least("moderate")
    assert all(a >= b for a, b in itertools.pairwise(shares))
    assert shares[0] > shares[-1]
    assert "max_active_clients" not in result.ruleset.params


def test_sweep_compiles_once_per_point_and_reads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Any] = []
    real = sweep_module.Scorer

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(kwargs.get("params"))
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "Scorer", counting)
    reads = 0

    def records() -> Any:
        nonlocal reads
        reads += 1
        yield from build_cohort(30)

    grid = {"max_active_clients": [20, 40], "max_direct_hours_per_week": [20, 30, 40]}
    result = sweep("default", records(), grid, engine="native")
    assert len(built) == 6
    assert reads == 1
    assert [tuple(p.params.values()) for p in result.points] == [
        (20, 20),
        (20, 30),
        (20, 40),
        (40, 20),
        (40, 30),
        (40, 40),
    ]
    # more allowed hours never raise the caseload level
    shares = result.share_at_least("moderate", "caseload")
    assert shares[0] >= shares[1] >= shares[2]


def test_sweep_rejects_bad_grids() -> None:
    cohort = build_cohort(3)
    with pytest.raises(RiskRulesError, match="one or two"):
        sweep("default", cohort, {"a": [1], "b": [1], "c": [1]}, engine="native")
    with pytest.raises(RiskRulesError, match="non-empty"):
        sweep("default", cohort, {"max_active_clients": []}, engine="native")
    with pytest.raises(RulesetError, match="max_actve_clients"):
        sweep("default", cohort, {"max_actve_clients": [10]}, engine="native")
    with pytest.raises(RulesetError, match="below the minimum"):
        sweep("default", cohort, {"max_active_clients": [0]}, engine="native")
    with pytest.raises(RiskRulesError, match="at most"):
        sweep("default", cohort, {"max_active_clients": list(range(1, 200))}, engine="native")


def test_parse_values() -> None:
    assert parse_values("20:60:5") == [20, 25, 30, 35, 40, 45, 50, 55, 60]
    assert parse_values("20:30:4") == [20, 24, 28]
    assert parse_values("0.1:0.3:0.1") == [0.1, 0.2, 0.3]
    assert parse_values("1,2.5,4") == [1, 2.5, 4]
    assert parse_values("7") == [7]
    for bad in ("a:b:c", "1:2", "5:1:1", "1:5:0", "1,x"):
        with pytest.raises(ValueError):  # noqa: PT011 - the CLI shows the message
            parse_values(bad)


def test_figures_are_pngs(tmp_path: Path) -> None:
    cohort = build_cohort(12)
    comparison = compare(
        "default", "default", cohort, engine="native", params_b={"max_active_clients": 20}
    )
    one = sweep("default", cohort, {"max_active_clients": [20, 40]}, engine="native")
    two = sweep(
        "default",
        cohort,
        {"max_active_clients": [20, 40], "max_direct_hours_per_week": [20, 30]},
        engine="native",
    )
    paths = comparison.figures(tmp_path / "compare")
    paths += one.figures(tmp_path / "one")
    paths += two.figures(tmp_path / "two", level="high")
    names = {p.name for p in paths}
    assert {"transitions-overall.png", "transitions-caseload.png", "firing-rates.png"} <= names
    assert "sweep-overall.png" in names
    for path in paths:
        assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_figures_without_matplotlib_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = compare(label_ruleset("x"), label_ruleset("x"), [{"x": 1}], engine="native")
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(RiskRulesError, match=r"riskrules\[plots\]"):
        result.figures(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(tmp_path / "cohort.jsonl", build_cohort(25))
    base = ("compare", "default", "default", "--cohort", str(path), "--engine", "native")
    status, out, err = run(capsys, *base, "--param-b", "max_active_clients=20", "--format", "json")
    assert (status, err) == (0, "")
    data = json.loads(out)
    assert data["records"] == 25
    assert data["b"]["params"]["max_active_clients"] == 20
    assert data["changed"]
    assert {"id", "index", "a", "b"} == set(data["changed"][0])
    status, out, _ = run(capsys, *base, "--figures", str(tmp_path / "figs"))
    assert status == 0
    assert "riskrules comparison" in out
    assert (tmp_path / "figs" / "transitions-overall.png").read_bytes()[:8] == PNG_SIGNATURE


def test_cli_compare_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "clinician": {"active_clients": 3}}\n{"id": "b", "x": 1}\n')
    status, out, err = run(capsys, "compare", "default", "default", "--cohort", str(bad))
    assert status == 2
    assert out == ""
    assert f"{bad}: cohort record 1 (id b): x: " in err
    status, _, err = run(
        capsys, "compare", "default", "default", "--cohort", str(tmp_path / "missing.jsonl")
    )
    assert status == 2
    assert "missing.jsonl" in err
    status, _, err = run(
        capsys, "compare", "default", "default", "--cohort", str(bad), "--param-a", "nope=1"
    )
    assert status == 2
    assert "parameters.nope" in err


def test_cli_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(tmp_path / "cohort.jsonl", build_cohort(20))
    base = ("sweep", "default", "--cohort", str(path), "--engine", "native")
    status, out, err = run(
        capsys, *base, "--param", "max_active_clients=20:60:20", "--format", "json"
    )
    assert (status, err) == (0, "")
    data = json.loads(out)
    assert data["parameters"] == ["max_active_clients"]
    assert data["values"] == {"max_active_clients": [20, 40, 60]}
    assert [sum(p["overall"].values()) for p in data["points"]] == [20, 20, 20]
    status, out, _ = run(
        capsys,
        *base,
        "--param",
        "max_active_clients=20,40",
        "--param",
        "max_direct_hours_per_week=20:30:10",
        "--figures",
        str(tmp_path / "figs"),
    )
    assert status == 0
    assert "overall: records per level" in out
    assert (tmp_path / "figs" / "sweep-overall.png").read_bytes()[:8] == PNG_SIGNATURE


def test_cli_sweep_same_parameter_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(tmp_path / "cohort.jsonl", build_cohort(2))
    argv = ["sweep", "default", "--cohort", str(path)]
    argv += ["--param", "max_active_clients=20", "--param", "max_active_clients=30"]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert "different parameter" in err


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("max_active_clients=20:x:5", "'x' is not a number"),
        ("max_active_clients", "expected NAME="),
        ("max_actve_clients=20:30:5", "did you mean"),
        ("max_active_clients=0,5", "below the minimum"),
    ],
)
def test_cli_sweep_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], param: str, message: str
) -> None:
    path = write_jsonl(tmp_path / "cohort.jsonl", build_cohort(2))
    status, out, err = run(capsys, "sweep", "default", "--cohort", str(path), "--param", param)
    assert status == 2
    assert out == ""
    assert message in err
