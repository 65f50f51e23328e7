"""Compare two rulesets on one cohort (``riskrules compare``).

:func:`compare` scores every record of a cohort under ruleset A and ruleset B (one read, both
scorings per record) and keeps only counts: per hazard and overall the level transition matrix,
percent agreement, Cohen's kappa and quadratic weighted kappa (see ``_kappa``); per rule the
firing rates; per protocol how many records gained or lost it; and the ids of the records whose
overall level changed. Reports are never held in memory, so cohorts of millions of records
stream through in constant memory (apart from the list of changed ids). The result, a
:class:`Comparison`, is byte-identical in JSON for the same rulesets, parameters and cohort,
whichever engine scored it.

>>> from riskrules import compare
>>> cohort = [{"clinician": {"active_clients": n}} for n in (20, 30, 40)]
>>> result = compare("default", "default", cohort, engine="native")
>>> result.overall.kappa, result.changed
(1.0, ())
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Mapping, Sequence

from riskrules._types import RulesetSource
from riskrules.errors import RiskRulesError
from riskrules.report import RiskReport
from riskrules.research._fields import UNKNOWN_FIELDS, UnknownFields, drop_undeclared
from riskrules.research._kappa import cohens_kappa, weighted_kappa
from riskrules.research._records import (
    Cohort,
    cohort_label,
    cohort_records,
    score_record,
)
from riskrules.research._results import (
    OVERALL,
    Agreement,
    ChangedRecord,
    Comparison,
    ComparisonSide,
    ProtocolChange,
    RuleRate,
)
from riskrules.ruleset import Ruleset
from riskrules.scoring import Scorer

__all__ = ["compare"]


def _merge_scales(a: Sequence[str], b: Sequence[str]) -> tuple[str, ...]:
    """A's levels in order, with each level only B has placed after its predecessor in B."""
    merged = list(a)
    for i, level in enumerate(b):
        if level not in merged:
            merged.insert(merged.index(b[i - 1]) + 1 if i else 0, level)
    return tuple(merged)


class _Tally:
    """Running counts of one compared hazard (or overall)."""

    def __init__(self, name: str, k: int) -> None:
        self.name = name
        self.matrix = [[0] * k for _ in range(k)]
        self.incomplete_a = 0
        self.incomplete_b = 0

    def add(self, i: int, j: int, complete_a: bool, complete_b: bool) -> None:
        self.matrix[i][j] += 1
        self.incomplete_a += not complete_a
        self.incomplete_b += not complete_b

    def result(self) -> Agreement:
        k = len(self.matrix)
        n = sum(sum(row) for row in self.matrix)
        diagonal = sum(self.matrix[i][i] for i in range(k))
        return Agreement(
            name=self.name,
            matrix=tuple(tuple(row) for row in self.matrix),
            agreement=diagonal / n if n else 1.0,
            kappa=cohens_kappa(self.matrix),
            weighted_kappa=weighted_kappa(self.matrix),
            raised=sum(self.matrix[i][j] for i in range(k) for j in range(i + 1, k)),
            lowered=sum(self.matrix[i][j] for i in range(k) for j in range(i)),
            incomplete_a=self.incomplete_a,
            incomplete_b=self.incomplete_b,
        )


class _Counts:
    """Everything :func:`compare` keeps while the cohort streams through: counts of levels,
    firings and recommendations under A and B, and the records whose overall level changed."""

    def __init__(self, rs_a: Ruleset, rs_b: Ruleset) -> None:
        self.rs_a, self.rs_b = rs_a, rs_b
        self.levels = _merge_scales(rs_a.scale, rs_b.scale)
        self._position = {level: i for i, level in enumerate(self.levels)}
        self.overall = _Tally(OVERALL, len(self.levels))
        shared = [h for h in rs_a.hazards if h in rs_b.hazards]
        self.hazards = {h: _Tally(h, len(self.levels)) for h in shared}
        self.fired_a: dict[str, int] = dict.fromkeys((r.id for r in rs_a.rules), 0)
        self.fired_b: dict[str, int] = dict.fromkeys((r.id for r in rs_b.rules), 0)
        self.recommended_a: Counter[str] = Counter()
        self.recommended_b: Counter[str] = Counter()
        self.gained: Counter[str] = Counter()
        self.lost: Counter[str] = Counter()
        self.changed: list[ChangedRecord] = []
        self.records = 0

    def add(self, index: int, rid: str, report_a: RiskReport, report_b: RiskReport) -> None:
        """Count one record scored under A and under B."""
        self.records += 1
        self._levels(index, rid, report_a, report_b)
        for rule in report_a._fired_rule_ids():
            self.fired_a[rule] += 1
        for rule in report_b._fired_rule_ids():
            self.fired_b[rule] += 1
        protocols_a = {r.protocol for r in report_a.recommendations}
        protocols_b = {r.protocol for r in report_b.recommendations}
        self.recommended_a.update(protocols_a)
        self.recommended_b.update(protocols_b)
        self.gained.update(protocols_b - protocols_a)
        self.lost.update(protocols_a - protocols_b)

    def _levels(self, index: int, rid: str, report_a: RiskReport, report_b: RiskReport) -> None:
        position = self._position
        la, lb = report_a.overall_level, report_b.overall_level
        self.overall.add(position[la], position[lb], report_a.complete, report_b.complete)
        if la != lb:
            self.changed.append(ChangedRecord(index=index, id=rid, a=la, b=lb))
        for hid, tally in self.hazards.items():
            ha, hb = report_a.hazards[hid], report_b.hazards[hid]
            tally.add(position[ha.level], position[hb.level], ha.complete, hb.complete)

    def rules(self) -> tuple[RuleRate, ...]:
        """A's rules in order, then the rules only B has, with their firing rates."""
        records = self.records
        hazard_of = {r.id: r.hazard for r in self.rs_b.rules} | {
            r.id: r.hazard for r in self.rs_a.rules
        }
        rules = []
        for rule_id in dict.fromkeys([*self.fired_a, *self.fired_b]):
            na, nb = self.fired_a.get(rule_id), self.fired_b.get(rule_id)
            ra = None if na is None else na / records
            rb = None if nb is None else nb / records
            rules.append(
                RuleRate(
                    rule=rule_id,
                    hazard=hazard_of[rule_id],
                    fired_a=na,
                    fired_b=nb,
                    rate_a=ra,
                    rate_b=rb,
                    difference=None if ra is None or rb is None else (nb or 0) / records - ra,
                )
            )
        return tuple(rules)

    def recommendations(self) -> tuple[ProtocolChange, ...]:
        """Every protocol recommended at least once on either side, A's order first."""
        protocols_a = self.rs_a.protocols
        order = [*protocols_a, *(p for p in self.rs_b.protocols if p not in protocols_a)]
        return tuple(
            ProtocolChange(
                protocol=pid,
                recommended_a=self.recommended_a[pid],
                recommended_b=self.recommended_b[pid],
                gained=self.gained[pid],
                lost=self.lost[pid],
            )
            for pid in order
            if pid in self.recommended_a or pid in self.recommended_b
        )


def _side(scorer: Scorer) -> ComparisonSide:
    rs = scorer.ruleset
    return ComparisonSide(
        ruleset=rs.ruleset, version=rs.version, fingerprint=rs.fingerprint, params=scorer.params
    )


def compare(
    a: RulesetSource,
    b: RulesetSource,
    cohort: Cohort,
    *,
    engine: str = "auto",
    params_a: Mapping[str, int | float] | None = None,
    params_b: Mapping[str, int | float] | None = None,
    id_column: str = "id",
    unknown_fields: UnknownFields = "error",
) -> Comparison:
    """Score every record of ``cohort`` under rulesets ``a`` and ``b`` and compare the results.

    ``a`` and ``b`` are Rulesets or anything ``load_ruleset`` accepts; ``params_a``/``params_b``
    override their parameters. ``cohort`` is a cohort file (JSON Lines, CSV or Parquet, read by
    :func:`riskrules.research.iter_records`, whose ``id_column`` names the records) or an
    iterable of assessments or ``(id, assessment)`` pairs. Each record is read once and scored
    under both rulesets; only counts are kept. Raises RulesetError for a bad ruleset or
    parameter and RiskRulesError naming the record for a record that does not fit (or an empty
    cohort). With ``unknown_fields="ignore"`` each side scores each record without the fields
    its ruleset does not declare (:func:`~riskrules.research._fields.drop_undeclared`), and
    ``ignored_fields`` counts them per side.
    """
    if unknown_fields not in UNKNOWN_FIELDS:
        raise ValueError(f"unknown_fields is 'error' or 'ignore', not {unknown_fields!r}")
    ignore = unknown_fields == "ignore"
    ignored = {"a": 0, "b": 0}
    with contextlib.ExitStack() as stack:
        scorer_a = stack.enter_context(Scorer(a, engine=engine, params=params_a))
        scorer_b = stack.enter_context(Scorer(b, engine=engine, params=params_b))
        counts = _Counts(scorer_a.ruleset, scorer_b.ruleset)
        where = cohort_label(cohort)
        for index, rid, assessment in cohort_records(cohort, scorer_a.ruleset, id_column):
            in_a, in_b = assessment, assessment
            if ignore:
                in_a, dropped_a = drop_undeclared(assessment, scorer_a.ruleset)
                in_b, dropped_b = drop_undeclared(assessment, scorer_b.ruleset)
                ignored["a"] += dropped_a
                ignored["b"] += dropped_b
            report_a = score_record(scorer_a, where, index, rid, in_a)
            report_b = score_record(scorer_b, where, index, rid, in_b)
            counts.add(index, rid, report_a, report_b)
        if counts.records == 0:
            raise RiskRulesError("the cohort has no records to compare")
        return Comparison(
            a=_side(scorer_a),
            b=_side(scorer_b),
            records=counts.records,
            levels=counts.levels,
            overall=counts.overall.result(),
            hazards=tuple(tally.result() for tally in counts.hazards.values()),
            only_a=tuple(h for h in scorer_a.ruleset.hazards if h not in scorer_b.ruleset.hazards),
            only_b=tuple(h for h in scorer_b.ruleset.hazards if h not in scorer_a.ruleset.hazards),
            rules=counts.rules(),
            recommendations=counts.recommendations(),
            changed=tuple(counts.changed),
            ignored_fields=ignored if ignore else None,
        )
