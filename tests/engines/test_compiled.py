"""The generated-code engine: readable source, literals through ``repr``, one compilation."""

from __future__ import annotations

from typing import Any

import pytest

from riskrules import Ruleset, Scorer
from riskrules.engines import _compiled as compiled
from riskrules.engines._base import Program
from riskrules.engines._codegen import generate, shown
from riskrules.errors import EngineError
from riskrules.ruleset._conditions import Truth

HOSTILE = 'x\'); import os; os._exit(3)  # \n"""\\'


def _ruleset(values: list[str], when: dict[str, Any]) -> Ruleset:
    return Ruleset.model_validate(
        {
            "ruleset": "demo",
            "version": "1",
            "title": "Demo",
            "inputs": {"client.kind": {"type": "enum", "values": values}},
            "hazards": {"h": {"title": "H", "bands": {"low": 0, "high": 1}}},
            "rules": [
                {"id": "h.kind", "hazard": "h", "when": when, "then": {"points": 1},
                 "because": "Because."},
            ],
        }
    )  # fmt: skip


def test_string_literals_reach_the_source_only_through_repr() -> None:
    rs = _ruleset(["plain", HOSTILE], {"field": "client.kind", "eq": HOSTILE})
    program = Program.build(rs, {})
    source = shown(generate(program))
    assert repr(HOSTILE) in source
    assert "# rule 'h.kind'" in source
    engine = compiled.compile(program)
    assert engine.run({"client.kind": HOSTILE}).status == (Truth.TRUE,)
    assert engine.run({"client.kind": "plain"}).status == (Truth.FALSE,)
    assert engine.run({}).status == (Truth.UNKNOWN,)


def test_scorer_reports_match_the_closure_engine() -> None:
    rs = _ruleset(["a", "b"], {"not": {"field": "client.kind", "in": ["a"]}})
    with Scorer(rs, engine="native") as native, Scorer(rs, engine="closure") as closure:
        assert native.engine == "native"
        assert closure.engine == "closure"
        for case in ({"client": {"kind": "a"}}, {"client": {"kind": "b"}}, {}):
            assert native.score(case).model_dump_json() == closure.score(case).model_dump_json()


def test_equal_programs_share_one_compilation() -> None:
    rs = _ruleset(["a", "b"], {"field": "client.kind", "eq": "a"})
    compiled._code.cache_clear()
    compiled.compile(Program.build(rs, {}))
    compiled.compile(Program.build(rs, {}))
    info = compiled._code.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_closed_engine_refuses_to_run() -> None:
    engine = compiled.compile(
        Program.build(_ruleset(["a"], {"field": "client.kind", "eq": "a"}), {})
    )
    engine.close()
    with pytest.raises(EngineError, match="closed"):
        engine.run({})


def test_unvalidated_facts_are_an_engine_error() -> None:
    rs = Ruleset.model_validate(
        {
            "ruleset": "demo", "version": "1", "title": "Demo",
            "inputs": {"a": {"type": "integer"}},
            "hazards": {"h": {"title": "H", "bands": {"low": 0}}},
            "rules": [{"id": "h.a", "hazard": "h", "when": {"field": "a", "gt": 1},
                       "then": {"points": 1}, "because": "Because."}],
        }
    )  # fmt: skip
    engine = compiled.compile(Program.build(rs, {}))
    with pytest.raises(EngineError, match="validated input values"):
        engine.run({"a": "text"})
