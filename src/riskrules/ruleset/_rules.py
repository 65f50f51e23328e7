"""What a ruleset scores: hazards and their level bands, the rules that add to them, protocols.

A :class:`Rule` fires when its condition (:mod:`riskrules.ruleset._conditions`) is true and
applies its :class:`Then`: points towards its :class:`Hazard`, asserted findings, recommended
:class:`Protocol` ids and a level floor. A hazard's bands map its points to a level of the scale.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt, StrictStr, model_validator

from riskrules._types import FrozenModel, StrictNumber
from riskrules.ruleset._conditions import Condition
from riskrules.ruleset._model import DottedName, Id, Text, check_finite

__all__ = ["DEFAULT_LEVELS", "MAX_POINTS", "URGENCIES", "Hazard", "Protocol", "Rule", "Then"]

MAX_POINTS = 1_000_000
"""Largest ``points`` of a rule and ``cap`` of a hazard: a hazard's score, the sum of its fired
rules' points, then always stays a finite number (``1e308`` on two rules would overflow)."""

DEFAULT_LEVELS: tuple[str, ...] = ("low", "moderate", "high", "critical")
"""The ordered level scale used when a ruleset does not declare ``levels``."""

URGENCIES: tuple[str, ...] = ("routine", "soon", "urgent", "immediate")
"""Protocol urgency, least to most urgent; recommendations rank by it."""


class Hazard(FrozenModel):
    """A scored hazard: points of fired rules map to a level through ordered bands."""

    title: Text
    description: StrictStr | None = None
    bands: dict[str, StrictNumber]
    cap: Annotated[StrictNumber, Field(gt=0, le=MAX_POINTS)] | None = None
    priority: StrictInt = 0
    recommend: dict[str, tuple[Id, ...]] = Field(default_factory=dict)


class Then(FrozenModel):
    """What a fired rule does: add points, assert findings, recommend protocols, set a floor."""

    points: Annotated[StrictNumber, Field(ge=0, le=MAX_POINTS)] = 0
    assert_: tuple[DottedName, ...] = Field(default=(), alias="assert")
    recommend: tuple[Id, ...] = ()
    floor: StrictStr | None = None

    @model_validator(mode="after")
    def _finite_points(self) -> Then:
        check_finite(self.points, "points")
        return self


class Rule(FrozenModel):
    """One rule: when its condition is true it fires once and applies ``then``."""

    id: DottedName
    hazard: Id
    when: Condition
    then: Then
    because: Text
    source: Id | None = None
    salience: StrictInt = 0


class Protocol(FrozenModel):
    """A recommendable protocol: what to do, how urgently, on whose authority."""

    title: Text
    urgency: Literal["routine", "soon", "urgent", "immediate"]
    steps: tuple[Text, ...] = ()
    description: StrictStr | None = None
    source: Id | None = None
