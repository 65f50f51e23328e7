"""Report parts built from trusted values, and the one place a scored RiskReport is made.

Every value here comes from validated data (the ruleset, an engine's firings, validated input
values), so models are constructed without validating them again (:func:`construct`; the
tests check the result equals validating the same data). Frozen parts that recur (hazard
results, indeterminate rules, recommendations) are kept and shared between reports; the
mutable ones (``params``, ``hazards``, each firing's ``reads``) are new in every report.
``fired`` is left to first use (see :class:`~riskrules.report.RiskReport`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel

from riskrules.engines._base import Program
from riskrules.engines._codegen import input_order
from riskrules.report import (
    DISCLAIMER,
    PENDING,
    Firing,
    HazardResult,
    Indeterminate,
    Recommendation,
    RiskReport,
    RulesetInfo,
)
from riskrules.ruleset._spec import Ruleset
from riskrules.scoring._facts import RuleFacts

if TYPE_CHECKING:
    from riskrules._types import Number, Value

__all__ = ["ReportMaker", "construct"]

_M = TypeVar("_M", bound=BaseModel)
_setattr = object.__setattr__

_FIRING_FIELDS = set(Firing.model_fields)
"""The fields set of every Firing built here (shared: frozen models never change it)."""
_REPORT_FIELDS = set(RiskReport.model_fields)


def construct(model: type[_M], values: dict[str, Any]) -> _M:
    """A report model from values that are already valid (trusted construction).

    What ``model.model_construct(**values)`` does for these models (no aliases, defaults filled
    by the caller, no private attributes) without its per-field loop, which costs more than the
    rest of building a report. ``values`` must name every field, in declaration order.
    """
    instance = model.__new__(model)
    _setattr(instance, "__dict__", values)
    _setattr(instance, "__pydantic_fields_set__", set(values))
    _setattr(instance, "__pydantic_extra__", None)
    _setattr(instance, "__pydantic_private__", None)
    return instance


class _Details:
    """Builds one report's ``fired`` on first use (see :class:`~riskrules.report.RiskReport`)."""

    __slots__ = ("_fired", "_inputs", "_maker")

    def __init__(
        self,
        maker: ReportMaker,
        fired: Sequence[int],
        inputs: Mapping[str, Value] | tuple[Any, ...],
    ) -> None:
        self._maker = maker
        self._fired = fired
        self._inputs = inputs

    def __call__(self) -> tuple[Firing, ...]:
        return self._maker.fired(self._fired, self._inputs)

    def rule_ids(self) -> tuple[str, ...]:
        return self._maker.rule_ids(self._fired)


class ReportMaker:
    """Makes the reports of one Scorer and keeps the parts they share."""

    _MAX_PARTS = 65536

    def __init__(
        self,
        ruleset: Ruleset,
        program: Program,
        rules: tuple[RuleFacts, ...],
        params: dict[str, Number],
        engine: str,
    ) -> None:
        self._ruleset = ruleset
        self._params = params
        self._engine = engine
        self._info = RulesetInfo(
            id=ruleset.ruleset, version=ruleset.version, fingerprint=ruleset.fingerprint
        )
        position = {name: k for k, name in enumerate(input_order(program))}
        self._firings: tuple[tuple[dict[str, Any], tuple[str, ...], tuple[int, ...]], ...] = tuple(
            (
                {
                    "rule": r.id,
                    "hazard": r.hazard,
                    "points": r.points,
                    "floor": r.floor_name,
                    "because": r.because,
                    "reads": None,  # filled per report, in its place in the field order
                    "findings_read": r.findings,
                },
                r.fields,
                tuple(position[f] for f in r.fields),
            )
            for r in rules
        )
        self._scale = ruleset.scale
        self._protocols = {pid: (p.title, p.urgency) for pid, p in ruleset.protocols.items()}
        self.parts: dict[Any, BaseModel] = {}
        """Shared frozen parts by key; callers look up, :meth:`part` adds."""

    def part(self, key: Any, model: type[_M], values: dict[str, Any]) -> _M:
        """Build a report part and keep it for the next report with the same part (frozen
        models are shared safely); the store is emptied when it grows large."""
        made = construct(model, values)
        if len(self.parts) >= self._MAX_PARTS:
            self.parts.clear()
        self.parts[key] = made
        return made

    def recommendation(self, pid: str, level: int, because: tuple[str, ...]) -> Recommendation:
        """The recommendation of protocol ``pid`` at level index ``level``, supported by the
        rules ``because`` (shared between reports)."""
        key = (pid, level, because)
        rec = cast("Recommendation | None", self.parts.get(key))
        if rec is None:
            title, urgency = self._protocols[pid]
            rec = self.part(
                key,
                Recommendation,
                {
                    "protocol": pid,
                    "title": title,
                    "urgency": urgency,
                    "level": self._scale[level],
                    "because": because,
                },
            )
        return rec

    def report(
        self,
        overall_level: str,
        possible_level: str,
        complete: bool,
        hazards: dict[str, HazardResult],
        findings: tuple[str, ...],
        indeterminate: tuple[Indeterminate, ...],
        recommendations: tuple[Recommendation, ...],
        fired: Sequence[int],
        inputs: Mapping[str, Value] | tuple[Any, ...],
    ) -> RiskReport:
        """A report (``hazards`` becomes its own); ``fired`` is built on first use, with the
        values the rules read from ``inputs``: the facts, or ``X`` by position in
        :func:`~riskrules.engines._codegen.input_order`."""
        report = RiskReport.__new__(RiskReport)
        _setattr(
            report,
            "__dict__",
            {
                "ruleset": self._info,
                "params": dict(self._params),
                "overall_level": overall_level,
                "possible_level": possible_level,
                "complete": complete,
                "hazards": hazards,
                "findings": findings,
                "fired": PENDING,
                "indeterminate": indeterminate,
                "recommendations": recommendations,
                "disclaimer": DISCLAIMER,
                "engine": self._engine,
            },
        )
        _setattr(report, "__pydantic_fields_set__", _REPORT_FIELDS)
        _setattr(report, "__pydantic_extra__", None)
        details = _Details(self, fired, inputs)
        _setattr(report, "__pydantic_private__", {"_ruleset": self._ruleset, "_details": details})
        return report

    def rule_ids(self, fired: Sequence[int]) -> tuple[str, ...]:
        """The ids of the rules ``fired``, in order."""
        templates = self._firings
        return tuple([templates[i][0]["rule"] for i in fired])

    def fired(
        self, fired: Sequence[int], inputs: Mapping[str, Value] | tuple[Any, ...]
    ) -> tuple[Firing, ...]:
        """The fired rules' details, with the values they read from ``inputs``."""
        templates = self._firings
        new = Firing.__new__
        fields_set = _FIRING_FIELDS
        out = []
        for i in fired:
            template, fields, positions = templates[i]
            values = template.copy()
            if isinstance(inputs, tuple):
                values["reads"] = {f: inputs[k] for f, k in zip(fields, positions, strict=True)}
            else:
                values["reads"] = {f: inputs.get(f) for f in fields}
            firing = new(Firing)
            _setattr(firing, "__dict__", values)
            _setattr(firing, "__pydantic_fields_set__", fields_set)
            _setattr(firing, "__pydantic_extra__", None)
            _setattr(firing, "__pydantic_private__", None)
            out.append(firing)
        return tuple(out)
