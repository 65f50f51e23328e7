"""The report of one run of the native Scorer's generated code.

:class:`Assembler` turns what ``run`` and ``aggregate`` returned (see
:mod:`riskrules.scoring._generated`) into a :class:`~riskrules.report.RiskReport`: the hazard
results, findings, indeterminate rules and recommendations, with the parts that recur shared
between reports (:class:`~riskrules.scoring._parts.ReportMaker`). The closure and durable
engines' reports come from the reference :class:`~riskrules.scoring._aggregation.Aggregator`;
the tests check both give the same JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from riskrules.engines._base import Program
from riskrules.engines._codegen import input_order
from riskrules.report import HazardResult, Indeterminate, Recommendation, RiskReport
from riskrules.ruleset._spec import Ruleset
from riskrules.scoring._facts import integer_scores, rule_facts
from riskrules.scoring._parts import ReportMaker, construct

if TYPE_CHECKING:
    from riskrules._types import Number

__all__ = ["Assembler"]

_MAX_PER_RULE = 256
"""Indeterminate parts kept per rule (one per set of missing inputs)."""
_MAX_PER_HAZARD = 4096
"""Hazard results kept per hazard."""


class Assembler:
    """Reports from the generated code's results, for one Scorer."""

    def __init__(
        self, ruleset: Ruleset, program: Program, params: dict[str, Number], engine: str
    ) -> None:
        self._rules = rule_facts(ruleset)
        self._maker = ReportMaker(ruleset, program, self._rules, params, engine)
        self._scale = ruleset.scale
        self._order = input_order(program)
        integral = integer_scores(ruleset, self._rules)
        self._hazards = tuple(
            (hid, hazard.title, not integral[hid]) for hid, hazard in ruleset.hazards.items()
        )
        self._hazard_parts: tuple[dict[Any, HazardResult], ...] = tuple({} for _ in ruleset.hazards)
        self._asserts = tuple(r.asserts for r in self._rules)
        self._open_parts: list[dict[int, Indeterminate]] = [{} for _ in self._rules]
        self._mask_names: dict[int, tuple[str, ...]] = {}

    def assemble(
        self,
        values: tuple[Any, ...],
        fired: list[int],
        aggregated: tuple[Any, ...],
    ) -> RiskReport:
        """The report of one run: input values ``X``, the firings in order, and what the
        generated ``aggregate`` returned."""
        hazards, ranked_raw, masks, opened, top, reach = aggregated
        scale = self._scale
        asserts = self._asserts
        maker = self._maker
        return maker.report(
            overall_level=scale[top],
            possible_level=scale[reach],
            complete=masks is None,
            hazards=self._results(hazards),
            findings=tuple(dict.fromkeys([f for i in fired for f in asserts[i]])),
            indeterminate=() if masks is None else self._open(opened, masks),
            recommendations=self._recommendations(ranked_raw),
            fired=fired,
            inputs=values,
        )

    def _results(self, hazards: tuple[tuple[Any, ...], ...]) -> dict[str, HazardResult]:
        """Each hazard's result; equal results (same score and type) share one part."""
        scale = self._scale
        results: dict[str, HazardResult] = {}
        for (hid, title, floaty), store, key in zip(
            self._hazards, self._hazard_parts, hazards, strict=True
        ):
            if floaty:  # 1 and 1.0 are equal keys but print differently
                key = (key, type(key[0]))
            result = store.get(key)
            if result is None:
                score, level, possible, still_open, absent = key if not floaty else key[0]
                result = construct(
                    HazardResult,
                    {
                        "title": title,
                        "score": score,
                        "level": scale[level],
                        "possible_level": scale[possible],
                        "complete": not still_open,
                        "missing": self._names(absent),
                    },
                )
                if len(store) >= _MAX_PER_HAZARD:
                    store.clear()
                store[key] = result
            results[hid] = result
        return results

    def _recommendations(self, ranked: list[tuple[Any, ...]]) -> tuple[Recommendation, ...]:
        """The recommended protocols, ranked, from the generated code's ranked entries."""
        make = self._maker.recommendation
        return tuple([make(pid, -level, tuple(support)) for _, _, level, _, pid, support in ranked])

    def _open(self, opened: list[int], masks: list[int]) -> tuple[Indeterminate, ...]:
        """The indeterminate rules' parts, with the inputs missing for each."""
        store = self._open_parts
        out = []
        for i in opened:
            mask = masks[i]
            mine = store[i]
            part = mine.get(mask)
            if part is None:
                rule = self._rules[i]
                part = construct(
                    Indeterminate,
                    {"rule": rule.id, "hazard": rule.hazard, "missing": self._names(mask)},
                )
                if len(mine) >= _MAX_PER_RULE:
                    mine.clear()
                mine[mask] = part
            out.append(part)
        return tuple(out)

    def _names(self, mask: int) -> tuple[str, ...]:
        """The input names of a bit mask over ``X`` (sorted, as ``X`` is)."""
        names = self._mask_names.get(mask)
        if names is None:
            names = tuple(name for k, name in enumerate(self._order) if mask >> k & 1)
            if len(self._mask_names) >= 65536:
                self._mask_names.clear()
            self._mask_names[mask] = names
        return names
