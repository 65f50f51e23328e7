"""A scored report leaves ``fired`` to first use, yet reads in every way as if built whole."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from riskrules import RiskReport, Scorer
from riskrules.report import PENDING

HEAVY = {
    "clinician": {"active_clients": 44, "proqol": {"burnout": 44}},
    "client": {"cssrs": {"q1": True, "q2": True}},
}


def _fresh(engine: str) -> tuple[RiskReport, RiskReport]:
    """A report straight from scoring (``fired`` not built yet) and the same data validated."""
    with Scorer("default", engine=engine) as scorer:
        data = json.loads(scorer.score(HEAVY).model_dump_json())
        whole = RiskReport.model_validate({**data, "engine": scorer.engine})
        lazy = scorer.score(HEAVY)
    assert lazy.__dict__["fired"] is PENDING
    return lazy, whole


class _Holder(BaseModel):
    report: RiskReport


READS: dict[str, Callable[[RiskReport], Any]] = {
    "json": lambda r: r.model_dump_json(),
    "dump": lambda r: r.model_dump(),
    "dump excluding unset": lambda r: r.model_dump(exclude_unset=True),
    "dump of fired only": lambda r: r.model_dump(include={"fired"}),
    "inside another model": lambda r: _Holder(report=r).model_dump_json(),
    "type adapter": lambda r: TypeAdapter(list[RiskReport]).dump_json([r]).decode(),
    "iteration": lambda r: dict(r),
    "repr": repr,
    "pickle": lambda r: pickle.loads(pickle.dumps(r)).model_dump_json(),
    "copy": lambda r: copy.copy(r).model_dump_json(),
    "deepcopy": lambda r: copy.deepcopy(r).model_dump_json(),
    "model_copy": lambda r: r.model_copy().model_dump_json(),
    "attribute": lambda r: r.fired,
    "text": lambda r: r.to_text(),
}


@pytest.mark.parametrize("engine", ["native", "closure"])
@pytest.mark.parametrize("read", list(READS))
def test_a_lazy_report_reads_as_the_whole_one(engine: str, read: str) -> None:
    lazy, whole = _fresh(engine)
    assert READS[read](lazy) == READS[read](whole)
    assert lazy.__dict__["fired"] is not PENDING  # built by that first read


@pytest.mark.parametrize("engine", ["native", "closure"])
def test_equality_builds_either_side(engine: str) -> None:
    with Scorer("default", engine=engine) as scorer:
        built = scorer.score(HEAVY)
        assert built.fired
        assert scorer.score(HEAVY) == built
        assert built == scorer.score(HEAVY)
        assert scorer.score(HEAVY) != scorer.score({})


def test_fired_is_built_once_and_in_field_order() -> None:
    lazy, whole = _fresh("native")
    first = lazy.fired
    assert lazy.fired is first
    assert list(lazy.__dict__) == list(whole.__dict__) == list(RiskReport.model_fields)
    assert first
    assert all(f.reads for f in first)


def test_reports_stay_frozen_and_unhashable() -> None:
    lazy, _ = _fresh("native")
    with pytest.raises(ValidationError, match="frozen"):
        lazy.fired = ()  # type: ignore[misc]
    assert lazy.__dict__["fired"] is PENDING
    with pytest.raises(TypeError, match="unhashable"):
        hash(lazy)


def test_the_schema_of_the_report_is_the_model_s_own() -> None:
    schema = RiskReport.model_json_schema(mode="serialization")
    assert schema["properties"]["fired"]["items"] == {"$ref": "#/$defs/Firing"}
    assert schema["properties"]["fired"]["type"] == "array"


@pytest.mark.parametrize("engine", ["native", "closure"])
def test_fired_rule_ids_leave_the_details_unbuilt(engine: str) -> None:
    lazy, whole = _fresh(engine)
    ids = lazy._fired_rule_ids()
    assert lazy.__dict__["fired"] is PENDING
    assert ids == tuple(f.rule for f in whole.fired)
    assert ids
    assert lazy._fired_rule_ids() == whole._fired_rule_ids() == tuple(f.rule for f in lazy.fired)
