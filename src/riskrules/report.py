"""RiskReport and its parts: what scoring one assessment found, and why.

A report is plain, frozen, JSON-serialisable data. ``report.model_dump_json()`` is byte-identical
for the same ruleset, parameters and assessment, whichever engine scored it (the ``engine`` field
is kept on the object but excluded from JSON). The provenance graph (``report.graph``) and
``report.explain(protocol_id)`` are built on demand from the ruleset the report was scored with.

Graph exports are plain functions over the graph, so they work the same for a report's provenance
graph and for a whole ruleset's static graph::

    from riskrules import to_mermaid
    print(to_mermaid(report.graph))
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, cast

from pydantic import Field, PrivateAttr, field_serializer

from riskrules._types import FrozenModel, StrictNumber, StrictValue
from riskrules.errors import NotRecommendedError, RiskRulesError

if TYPE_CHECKING:
    import networkx as nx

    from riskrules.ruleset._spec import Ruleset

__all__ = [
    "DISCLAIMER",
    "Explanation",
    "Firing",
    "HazardResult",
    "Indeterminate",
    "NotRecommendedError",
    "Recommendation",
    "RiskReport",
    "RulesetInfo",
]


class _Pending:
    """Stands for a report field that is built on first use."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<built on first use>"


PENDING: Any = _Pending()
"""The value of ``RiskReport.fired`` in a report's ``__dict__`` until it is first used."""


class _Details(Protocol):
    """What builds a scored report's ``fired`` on first use."""

    def __call__(self) -> tuple[Firing, ...]: ...

    def rule_ids(self) -> tuple[str, ...]:
        """The fired rules' ids in firing order, without building their details."""
        ...


DISCLAIMER = (
    "Screening and decision support, not a diagnosis: this report shows which rules fired on the "
    "information given and why. It does not replace the judgement of a qualified professional; "
    "missing information is reported as incomplete, never as low risk."
)
"""The disclaimer every report carries."""


class RulesetInfo(FrozenModel):
    """Which ruleset scored the assessment: id, version and semantic fingerprint."""

    id: str
    version: str
    fingerprint: str


class HazardResult(FrozenModel):
    """One hazard's outcome.

    ``possible_level`` is the level the hazard would reach if every indeterminate rule of the
    hazard fired; it equals ``level`` when the hazard is ``complete``. ``missing`` lists the
    absent inputs that left its rules indeterminate (sorted).
    """

    title: str
    score: StrictNumber
    level: str
    possible_level: str
    complete: bool
    missing: tuple[str, ...]


class Firing(FrozenModel):
    """A rule that fired: its hazard, effect, reason and the facts it read.

    ``reads`` maps each input field the rule's condition reads to its value (``None`` when the
    field was not assessed); ``findings_read`` names the findings the condition reads.
    """

    rule: str
    hazard: str
    points: StrictNumber
    floor: str | None
    because: str
    reads: dict[str, StrictValue | None]
    findings_read: tuple[str, ...]


class Indeterminate(FrozenModel):
    """A rule that could neither fire nor be ruled out because inputs were missing."""

    rule: str
    hazard: str
    missing: tuple[str, ...]


class Recommendation(FrozenModel):
    """A recommended protocol with the rules that support it (``because``, in firing order).

    ``level`` is the highest level among the hazards whose rules or bands recommend it.
    """

    protocol: str
    title: str
    urgency: str
    level: str
    because: tuple[str, ...]


class Explanation(FrozenModel):
    """Why a protocol was recommended: every causal path from the inputs to it.

    ``paths`` holds node ids (``input:…``, ``rule:…``, ``finding:…``, ``hazard:…``,
    ``protocol:…``); ``text`` renders them one path per line. ``str(explanation)`` is ``text``.
    """

    protocol: str
    paths: tuple[tuple[str, ...], ...]
    text: str

    def __str__(self) -> str:
        return self.text


def _incomplete_note(report: RiskReport) -> str:
    """What follows the overall level in the text summary of an incomplete report."""
    if report.complete:
        return ""
    if report.possible_level == report.overall_level:
        return " (incomplete: some rules lacked inputs, but none of them could raise it)"
    return f" so far; incomplete, could reach {report.possible_level} (some rules lacked inputs)"


class RiskReport(FrozenModel):
    """The result of scoring one assessment against one ruleset.

    Fields appear in JSON in the order declared here. ``hazards`` follows the ruleset's hazard
    order; ``fired`` is in firing order; ``recommendations`` are ranked (crisis-priority hazards
    first, then urgency, level and support). ``engine`` names the engine that ran but is not part
    of the JSON, so reports compare byte-for-byte across engines.

    ``overall_level`` is the highest hazard level reached so far. ``complete`` tells whether every
    hazard is complete; ``possible_level`` is the highest level any hazard could still reach if
    its indeterminate rules fired (the highest ``possible_level`` of the hazards), so it equals
    ``overall_level`` when the report is complete. An empty assessment reads "low so far,
    incomplete, could reach critical", never a bare "low".

    A scored report builds ``fired`` (each fired rule with the values it read) when it is first
    read; serialising, comparing, iterating, copying or pickling the report reads it, so a
    report always serialises and compares as if it had been built whole.
    """

    ruleset: RulesetInfo
    params: dict[str, StrictNumber]
    overall_level: str
    possible_level: str
    complete: bool
    hazards: dict[str, HazardResult]
    findings: tuple[str, ...]
    fired: tuple[Firing, ...]
    indeterminate: tuple[Indeterminate, ...]
    recommendations: tuple[Recommendation, ...]
    disclaimer: str = DISCLAIMER
    engine: str = Field(default="", exclude=True)

    _ruleset: Ruleset | None = PrivateAttr(default=None)
    _details: _Details | None = PrivateAttr(default=None)
    """Builds ``fired`` on first use, for reports made by scoring (see ``_complete``)."""

    __hash__ = None  # type: ignore[assignment]  # reports hold dicts: never hashable

    def _complete(self) -> tuple[Firing, ...]:
        """``fired``, built now if it was left for first use: the per-rule details cost the
        most to build and are often not read. Attribute access, serialisation, ``==``,
        iteration, ``repr``, copy and pickle all come here first, so a report always reads as
        if it had been built whole."""
        private = self.__pydantic_private__
        build = None if private is None else private.get("_details")
        if build is not None:
            self.__dict__["fired"] = build()
            private["_details"] = None  # type: ignore[index]
        fired: tuple[Firing, ...] = self.__dict__["fired"]
        return fired

    def _fired_rule_ids(self) -> tuple[str, ...]:
        """The ids of the fired rules in firing order, without building ``fired`` when it was
        left for first use (cohort rows and counts need only the ids)."""
        private = self.__pydantic_private__
        build = None if private is None else private.get("_details")
        if build is not None and self.__dict__["fired"] is PENDING:
            return cast("_Details", build).rule_ids()
        return tuple(firing.rule for firing in self.fired)

    @field_serializer("fired", mode="plain")
    def _serialize_fired(self, value: Any) -> tuple[Firing, ...]:
        return self.fired

    def __eq__(self, other: object) -> bool:
        self._complete()
        if isinstance(other, RiskReport):
            other._complete()
        return super().__eq__(other)

    def __iter__(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        self._complete()
        return super().__iter__()

    def __repr_args__(self) -> Any:
        self._complete()
        return super().__repr_args__()

    def __getstate__(self) -> dict[Any, Any]:
        self._complete()
        return super().__getstate__()

    def __copy__(self) -> RiskReport:
        self._complete()
        return super().__copy__()

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> RiskReport:
        self._complete()
        return super().__deepcopy__(memo)

    def _attach(self, ruleset: Ruleset) -> RiskReport:
        """Keep the scoring ruleset for ``graph`` and ``explain`` (not serialised)."""
        self._ruleset = ruleset
        return self

    def _require_ruleset(self) -> Ruleset:
        if self._ruleset is None:
            raise RiskRulesError(
                "this report carries no ruleset (it was rebuilt from data); use "
                "riskrules.graph.provenance_graph(report, ruleset) with the ruleset it was "
                "scored with"
            )
        return self._ruleset

    @cached_property
    def graph(self) -> nx.DiGraph[str]:
        """The provenance graph (built on first use): inputs -> rules -> findings -> hazards ->
        protocols, only for the rules that fired. Export it with ``riskrules.to_mermaid``,
        ``to_dot``, ``to_graphml`` or ``to_node_link_json``. Treat it as read-only."""
        from riskrules.graph import provenance_graph  # networkx loads only when asked

        return provenance_graph(self, self._require_ruleset())

    def to_text(self) -> str:
        """A short human summary: levels per hazard, recommendations with their reasons,
        indeterminate rules, and the disclaimer (what ``riskrules score --format text`` prints).
        """
        reasons = {f.rule: f.because for f in self.fired}
        info = self.ruleset
        lines = [
            f"riskrules report: ruleset {info.id} {info.version} ({info.fingerprint[:12]})",
            f"Overall level: {self.overall_level}" + _incomplete_note(self),
            "",
            "Hazards:",
        ]
        for hid, hazard in self.hazards.items():
            line = f"  {hid}: {hazard.level} (score {hazard.score})"
            if not hazard.complete:
                line += (
                    f"; incomplete, could reach {hazard.possible_level}; "
                    f"missing: {', '.join(hazard.missing)}"
                )
            lines.append(line)
        lines += ["", "Recommendations:"]
        if not self.recommendations:
            lines.append("  none")
        for rank, rec in enumerate(self.recommendations, 1):
            lines.append(f"  {rank}. {rec.protocol}: {rec.title} [{rec.urgency}, {rec.level}]")
            lines.extend(f"       - {rule}: {reasons.get(rule, '')}" for rule in rec.because)
        if self.indeterminate:
            lines += ["", "Indeterminate rules (inputs missing):"]
            lines.extend(
                f"  {item.rule} ({item.hazard}): missing {', '.join(item.missing)}"
                for item in self.indeterminate
            )
        lines += ["", self.disclaimer]
        return "\n".join(lines) + "\n"

    def recommendation(self, protocol_id: str) -> Recommendation:
        """The recommendation of ``protocol_id``; NotRecommendedError if it was not recommended."""
        for rec in self.recommendations:
            if rec.protocol == protocol_id:
                return rec
        recommended = ", ".join(r.protocol for r in self.recommendations) or "none"
        raise NotRecommendedError(
            f"protocol {protocol_id!r} was not recommended in this report "
            f"(recommended: {recommended})"
        )

    def explain(self, protocol_id: str) -> Explanation:
        """The causal paths from the assessed inputs to a recommended protocol.

        Raises NotRecommendedError (a KeyError and a RiskRulesError) when the protocol was not
        recommended.
        """
        from riskrules.graph import explain_paths, node_text

        self.recommendation(protocol_id)
        graph = self.graph
        target = f"protocol:{protocol_id}"
        paths = explain_paths(graph, target)
        rec = self.recommendation(protocol_id)
        lines = [f"{target} ({rec.title}; {rec.urgency}) is recommended because:"]
        lines.extend("  " + " -> ".join(node_text(graph, node) for node in path) for path in paths)
        return Explanation(protocol=protocol_id, paths=paths, text="\n".join(lines))


def _fired(report: RiskReport) -> tuple[Firing, ...]:
    value = report.__dict__["fired"]
    return report._complete() if value is PENDING else cast("tuple[Firing, ...]", value)


# a data descriptor: reading ``report.fired`` builds it first when it was left for first use
setattr(RiskReport, "fired", property(_fired, doc="The fired rules, in firing order."))  # noqa: B010
