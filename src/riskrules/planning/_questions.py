"""What to ask next: rank the missing inputs by how far their answer could move the levels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from riskrules._types import FrozenModel
from riskrules.planning._context import context
from riskrules.report import RiskReport
from riskrules.scoring._scorer import Scorer

__all__ = ["LevelRange", "Question", "next_questions"]


class LevelRange(FrozenModel):
    """The lowest and highest level a hazard reaches over the answers to one question."""

    hazard: str
    lowest: str
    highest: str


class Question(FrozenModel):
    """A missing input worth asking about.

    ``range`` is the widest spread, in level steps, that its answer produces in one hazard
    (the others left unknown); ``hazard`` is that hazard (the highest-priority one on a tie);
    ``levels`` lists every hazard whose level its answer can move.
    """

    input: str
    range: int
    hazard: str | None
    levels: tuple[LevelRange, ...]


def next_questions(
    scorer: Scorer,
    assessment: Mapping[str, Any],
    k: int = 3,
    *,
    report: RiskReport | None = None,
) -> tuple[Question, ...]:
    """The ``k`` missing inputs whose answers could change the result most.

    For each input that some rule reads and the assessment lacks, the assessment is rescored
    with one answer from every region of its declared domain (the other missing inputs stay
    unknown); its ``range`` is the widest spread of levels reached in one hazard. Ranked by
    range, then by that hazard's priority, then by the total spread over all hazards, then in
    the ruleset's input order. ``report`` is accepted for symmetry and not needed.

    >>> from riskrules import Scorer
    >>> with Scorer("default", engine="native") as scorer:
    ...     top = next_questions(scorer, {}, 1)[0]
    >>> (top.input, top.hazard, top.range)
    ('client.cssrs.q4', 'crisis', 3)
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"k must be a non-negative integer, not {k!r}")
    del report
    ctx = context(scorer)
    facts = ctx.facts(assessment)
    hazards = ctx.ruleset.hazards
    ranked: list[tuple[tuple[int, int, int, int], Question]] = []
    for position, name in enumerate(ctx.space.read()):
        if name in facts:
            continue
        low: dict[str, int] = {}
        high: dict[str, int] = {}
        for value in ctx.space.regions(name):
            trial = ctx.score({**facts, name: value})
            for hid in hazards:
                r = ctx.level_rank(trial, hid)
                low[hid] = min(low.get(hid, r), r)
                high[hid] = max(high.get(hid, r), r)
        spreads = {hid: high[hid] - low[hid] for hid in low}
        widest = max(spreads.values(), default=0)
        top = [hid for hid in hazards if spreads.get(hid, 0) == widest and widest > 0]
        hazard = max(top, key=lambda h: hazards[h].priority) if top else None
        scale = ctx.ruleset.scale
        question = Question(
            input=name,
            range=widest,
            hazard=hazard,
            levels=tuple(
                LevelRange(hazard=hid, lowest=scale[low[hid]], highest=scale[high[hid]])
                for hid in hazards
                if spreads.get(hid, 0) > 0
            ),
        )
        priority = hazards[hazard].priority if hazard else 0
        key = (-widest, -priority, -sum(spreads.values()), position)
        ranked.append((key, question))
    ranked.sort(key=lambda item: item[0])
    return tuple(q for _, q in ranked[:k])
