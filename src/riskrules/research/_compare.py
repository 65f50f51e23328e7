"""Cohort-level research: compare two rulesets on one cohort, and sweep a ruleset's parameters.

:func:`compare` scores every record of a cohort under ruleset A and ruleset B (one read, both
scorings per record) and keeps only counts: per hazard and overall the level transition matrix,
percent agreement, Cohen's kappa and quadratic weighted kappa; per rule the firing rates; per
protocol how many records gained or lost it; and the ids of the records whose overall level
changed. :func:`sweep` scores a cohort at every point of a grid of one or two parameters and
keeps the level distribution per hazard and overall at each point.

Reports are never held in memory, so cohorts of millions of records stream through in constant
memory (apart from the list of changed ids). Results are frozen pydantic models: ``to_json()``
is byte-identical for the same rulesets, parameters and cohort, whichever engine scored it.

Kappa statistics are computed exactly from integer counts. With ``n`` records, observed counts
``o[i][j]``, row totals ``r`` and column totals ``c``::

    kappa   = (n * sum_i o[i][i] - sum_i r[i] c[i]) / (n**2 - sum_i r[i] c[i])
    kappa_w = 1 - n * sum_ij w[i][j] o[i][j] / sum_ij w[i][j] r[i] c[j],  w[i][j] = (i - j)**2

(the usual normalisation of the quadratic weights by ``(k - 1)**2`` cancels). When the expected
disagreement is zero (both sides put every record in one and the same level), kappa is 0/0; we
define it as 1.0 when the observed agreement is perfect and 0.0 otherwise.

>>> from riskrules import compare
>>> cohort = [{"clinician": {"active_clients": n}} for n in (20, 30, 40)]
>>> result = compare("default", "default", cohort, engine="native")
>>> result.overall.kappa, result.changed
(1.0, ())
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt

from riskrules.errors import AssessmentError, RiskRulesError
from riskrules.ruleset._spec import Ruleset
from riskrules.scoring._scorer import Scorer, _load

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "MAX_SWEEP_POINTS",
    "Agreement",
    "ChangedRecord",
    "Comparison",
    "ComparisonSide",
    "ProtocolChange",
    "RuleRate",
    "SweepPoint",
    "SweepResult",
    "cohens_kappa",
    "compare",
    "sweep",
    "weighted_kappa",
]

Number: TypeAlias = StrictInt | StrictFloat
CohortRecord: TypeAlias = "Mapping[str, Any] | tuple[Any, Mapping[str, Any]]"
Cohort: TypeAlias = "str | PathLike[str] | Iterable[CohortRecord]"
RulesetSource: TypeAlias = "Ruleset | str | PathLike[str]"

MAX_SWEEP_POINTS = 100
"""The most grid points one sweep compiles (one Scorer per point, all alive during the pass)."""

OVERALL = "overall"
"""The name under which the overall level appears next to the hazards."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- kappa


def cohens_kappa(matrix: Sequence[Sequence[int]]) -> float:
    """Cohen's (unweighted) kappa of a square matrix of counts (rows one rater, columns the other).

    Degenerate case (expected agreement 1): 1.0 when observed agreement is 1, else 0.0; an empty
    matrix (no records) also gives 1.0.
    """
    k = len(matrix)
    n = sum(sum(row) for row in matrix)
    rows = [sum(row) for row in matrix]
    cols = [sum(matrix[i][j] for i in range(k)) for j in range(k)]
    diagonal = sum(matrix[i][i] for i in range(k))
    chance = sum(rows[i] * cols[i] for i in range(k))
    denominator = n * n - chance
    if denominator == 0:
        return 1.0 if diagonal == n else 0.0
    return (n * diagonal - chance) / denominator


def weighted_kappa(matrix: Sequence[Sequence[int]]) -> float:
    """Quadratic weighted kappa of a square matrix of counts over an ordered scale.

    Disagreement weights are ``(i - j)**2``; the degenerate case is handled as in
    :func:`cohens_kappa`.
    """
    k = len(matrix)
    n = sum(sum(row) for row in matrix)
    rows = [sum(row) for row in matrix]
    cols = [sum(matrix[i][j] for i in range(k)) for j in range(k)]
    observed = sum((i - j) ** 2 * matrix[i][j] for i in range(k) for j in range(k))
    expected = sum((i - j) ** 2 * rows[i] * cols[j] for i in range(k) for j in range(k))
    if expected == 0:
        return 1.0 if observed == 0 else 0.0
    return 1.0 - n * observed / expected


# --------------------------------------------------------------------------- cohorts


def _records(
    cohort: Cohort, ruleset: Ruleset, id_column: str
) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
    """(index, id, assessment) for each record of a cohort file or iterable, streaming.

    Files are read by :func:`riskrules.cohort.iter_records`. In an iterable, a record is an
    assessment (whose ``id_column`` key, if present, is its id and not an input) or an
    ``(id, assessment)`` pair; records without an id are named by their 0-based index.
    """
    if isinstance(cohort, str | PathLike):
        try:
            from riskrules.research._cohort import iter_records
        except ImportError:  # pragma: no cover - the cohort reader ships with this module
            raise RiskRulesError("reading cohort files needs riskrules.cohort") from None
        for record in iter_records(cohort, ruleset=ruleset, id_column=id_column):
            rid = str(record.index) if record.id is None else str(record.id)
            yield record.index, rid, record.assessment
        return
    if isinstance(cohort, Mapping):
        raise RiskRulesError(
            "a cohort is a file path or an iterable of assessments, not a single assessment"
        )
    for index, item in enumerate(cohort):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping):
            yield index, str(item[0]), item[1]
        elif isinstance(item, Mapping):
            if id_column in item:
                rest = {key: value for key, value in item.items() if key != id_column}
                yield index, str(item[id_column]), rest
            else:
                yield index, str(index), item
        else:
            raise RiskRulesError(
                f"cohort record {index}: expected an assessment object or an (id, assessment) "
                f"pair, not {type(item).__name__}"
            )


def _source(cohort: Cohort) -> str:
    """How error messages name the cohort: its file, or nothing for an in-memory iterable."""
    return f"{os.fspath(cohort)}: " if isinstance(cohort, str | PathLike) else ""


def _score(scorer: Scorer, where: str, index: int, rid: str, assessment: Mapping[str, Any]) -> Any:
    try:
        return scorer.score(assessment)
    except AssessmentError as exc:
        raise RiskRulesError(f"{where}cohort record {index} (id {rid}): {exc}") from None


def _merge_scales(a: Sequence[str], b: Sequence[str]) -> tuple[str, ...]:
    """A's levels in order, with each level only B has placed after its predecessor in B."""
    merged = list(a)
    for i, level in enumerate(b):
        if level not in merged:
            merged.insert(merged.index(b[i - 1]) + 1 if i else 0, level)
    return tuple(merged)


def _percent(part: float) -> str:
    return f"{100 * part:.1f}%"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], indent: str = "  ") -> list[str]:
    """Left-aligned first column, right-aligned others."""
    body = [list(header), *(list(row) for row in rows)]
    widths = [max(len(row[i]) for row in body) for i in range(len(header))]
    lines = []
    for row in body:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append(indent + "  ".join(cells).rstrip())
    return lines


def _figure_library() -> tuple[Any, Any]:
    """matplotlib's Figure and Agg canvas, imported on first use (the ``plots`` extra)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise RiskRulesError(
            "figures need matplotlib: install it with pip install 'riskrules[plots]'"
        ) from None
    return Figure, FigureCanvasAgg


def _save(figure: Figure, canvas_type: Any, path: Path) -> Path:
    canvas_type(figure)
    figure.savefig(path, format="png", dpi=100, metadata={"Software": None})
    return path


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)


# --------------------------------------------------------------------------- comparison


class ComparisonSide(_Frozen):
    """One side of a comparison or sweep: the ruleset and its effective parameters."""

    ruleset: str
    version: str
    fingerprint: str
    params: dict[str, Number]


class Agreement(_Frozen):
    """Agreement of A's and B's levels for one hazard (or ``overall``).

    ``matrix[i][j]`` counts records at ``levels[i]`` under A and ``levels[j]`` under B.
    ``agreement`` is the share of records on the diagonal (0..1); ``kappa`` Cohen's kappa and
    ``weighted_kappa`` the quadratic weighted kappa; ``raised``/``lowered`` count records whose
    level is higher/lower under B; ``incomplete_a``/``incomplete_b`` records where the hazard
    (or the report) was incomplete on that side.
    """

    name: str
    matrix: tuple[tuple[int, ...], ...]
    agreement: float
    kappa: float
    weighted_kappa: float
    raised: int
    lowered: int
    incomplete_a: int
    incomplete_b: int


class RuleRate(_Frozen):
    """How often one rule fired under A and under B (``None`` where the ruleset lacks it)."""

    rule: str
    hazard: str
    fired_a: int | None
    fired_b: int | None
    rate_a: float | None
    rate_b: float | None
    difference: float | None
    """``rate_b - rate_a`` when both sides have the rule."""


class ProtocolChange(_Frozen):
    """How many records had a protocol recommended under A and B, gained it and lost it."""

    protocol: str
    recommended_a: int
    recommended_b: int
    gained: int
    lost: int


class ChangedRecord(_Frozen):
    """A record whose overall level differs between A and B."""

    index: int
    id: str
    a: str
    b: str


class Comparison(_Frozen):
    """The result of :func:`compare`: what changed from ruleset A to ruleset B on a cohort.

    ``levels`` is the ordered level scale (both rulesets' levels merged); ``hazards`` lists the
    hazards present in both rulesets (A's order) and ``overall`` the overall level; ``rules``
    A's rules in order, then the rules only B has; ``recommendations`` every protocol recommended
    at least once on either side; ``changed`` the records whose overall level changed, in cohort
    order.
    """

    a: ComparisonSide
    b: ComparisonSide
    records: int
    levels: tuple[str, ...]
    overall: Agreement
    hazards: tuple[Agreement, ...]
    rules: tuple[RuleRate, ...]
    recommendations: tuple[ProtocolChange, ...]
    changed: tuple[ChangedRecord, ...]

    def to_json(self) -> str:
        """Deterministic JSON (indented, newline-terminated)."""
        return self.model_dump_json(indent=2) + "\n"

    def agreement(self, name: str) -> Agreement:
        """The agreement of one hazard, or of ``overall``; KeyError when not compared."""
        for item in (self.overall, *self.hazards):
            if item.name == name:
                return item
        raise KeyError(name)

    def to_text(self, *, max_changed: int = 50) -> str:
        """A readable summary: agreement table, transition matrices, rule firing rates that
        differ, recommendation changes and (up to ``max_changed``) records whose level changed."""

        def side(label: str, s: ComparisonSide) -> str:
            return f"{label}: {s.ruleset} {s.version} ({s.fingerprint[:12]})"

        lines = ["riskrules comparison", side("  A", self.a), side("  B", self.b)]
        differing = sorted(
            name
            for name in set(self.a.params) | set(self.b.params)
            if self.a.params.get(name) != self.b.params.get(name)
        )
        for name in differing:
            lines.append(
                f"  parameter {name}: A {self.a.params.get(name, '-')}, "
                f"B {self.b.params.get(name, '-')}"
            )
        lines += [
            f"Records: {self.records}; incomplete reports: A {self.overall.incomplete_a}, "
            f"B {self.overall.incomplete_b}",
            f"Levels: {' < '.join(self.levels)}",
            "",
            "Agreement (kappa: Cohen's; weighted: quadratic; raised/lowered: level under B):",
        ]
        lines += _table(
            ("", "agreement", "kappa", "weighted", "raised", "lowered"),
            (
                (
                    item.name,
                    _percent(item.agreement),
                    f"{item.kappa:.3f}",
                    f"{item.weighted_kappa:.3f}",
                    str(item.raised),
                    str(item.lowered),
                )
                for item in (self.overall, *self.hazards)
            ),
        )
        unchanged = [h.name for h in self.hazards if not (h.raised or h.lowered)]
        for item in (self.overall, *self.hazards):
            if item.name in unchanged:
                continue
            lines += ["", f"Transitions, {item.name} (rows A, columns B):"]
            lines += _table(
                ("A \\ B", *self.levels),
                (
                    (level, *map(str, row))
                    for level, row in zip(self.levels, item.matrix, strict=True)
                ),
            )
        if unchanged:
            lines += ["", f"No level changed for: {', '.join(unchanged)}"]
        changed_rules = [r for r in self.rules if r.fired_a != r.fired_b]
        lines += ["", "Rule firing rates that differ (A, B, difference in points):"]
        if changed_rules:
            lines += _table(
                ("rule", "A", "B", "difference"),
                (
                    (
                        r.rule,
                        "-" if r.rate_a is None else _percent(r.rate_a),
                        "-" if r.rate_b is None else _percent(r.rate_b),
                        "-" if r.difference is None else f"{100 * r.difference:+.1f}",
                    )
                    for r in changed_rules
                ),
            )
        else:
            lines.append("  none")
        changed_protocols = [p for p in self.recommendations if p.gained or p.lost]
        lines += ["", "Recommendation changes (records):"]
        if changed_protocols:
            lines += _table(
                ("protocol", "A", "B", "gained", "lost"),
                (
                    (
                        p.protocol,
                        str(p.recommended_a),
                        str(p.recommended_b),
                        str(p.gained),
                        str(p.lost),
                    )
                    for p in changed_protocols
                ),
            )
        else:
            lines.append("  none")
        lines += ["", f"Records whose overall level changed: {len(self.changed)}"]
        lines += [f"  {c.id}: {c.a} -> {c.b}" for c in self.changed[:max_changed]]
        if len(self.changed) > max_changed:
            lines.append(f"  ... and {len(self.changed) - max_changed} more (see the JSON output)")
        return "\n".join(lines) + "\n"

    def figures(self, directory: str | PathLike[str]) -> list[Path]:
        """Write PNG figures into ``directory`` (created if needed) and return their paths:
        ``transitions-<name>.png`` per hazard and overall (heatmap of the transition matrix)
        and ``firing-rates.png`` (rate difference B - A per rule that changed).

        Needs matplotlib (the ``plots`` extra).
        """
        figure_type, canvas = _figure_library()
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        k = len(self.levels)
        for item in (self.overall, *self.hazards):
            fig = figure_type(figsize=(1.6 + 1.1 * k, 1.2 + 1.0 * k))
            ax = fig.add_subplot()
            image = ax.imshow(item.matrix, cmap="Blues")
            fig.colorbar(image, ax=ax, label="records")
            peak = max((v for row in item.matrix for v in row), default=0)
            for i, row in enumerate(item.matrix):
                for j, value in enumerate(row):
                    colour = "white" if peak and value > peak / 2 else "black"
                    ax.text(j, i, str(value), ha="center", va="center", color=colour)
            ax.set_xticks(range(k), self.levels, rotation=30)
            ax.set_yticks(range(k), self.levels)
            ax.set_xlabel(f"B: {self.b.ruleset}")
            ax.set_ylabel(f"A: {self.a.ruleset}")
            ax.set_title(f"{item.name}: kappa {item.kappa:.2f}, weighted {item.weighted_kappa:.2f}")
            fig.tight_layout()
            path = out / f"transitions-{_safe_name(item.name)}.png"
            written.append(_save(fig, canvas, path))
        rates = [r for r in self.rules if r.difference is not None and r.difference != 0]
        fig = figure_type(figsize=(7, 1.5 + 0.3 * max(len(rates), 1)))
        ax = fig.add_subplot()
        if rates:
            ax.barh(
                range(len(rates)),
                [100 * (r.difference or 0.0) for r in rates],
                color=["#b2182b" if (r.difference or 0) > 0 else "#2166ac" for r in rates],
            )
            ax.set_yticks(range(len(rates)), [r.rule for r in rates])
            ax.invert_yaxis()
        else:
            ax.text(0.5, 0.5, "no rule's firing rate changed", ha="center", va="center")
            ax.set_yticks([])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("firing rate B - A (percentage points)")
        ax.set_title("Rule firing-rate differences")
        fig.tight_layout()
        written.append(_save(fig, canvas, out / "firing-rates.png"))
        return written


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
) -> Comparison:
    """Score every record of ``cohort`` under rulesets ``a`` and ``b`` and compare the results.

    ``a`` and ``b`` are Rulesets or anything ``load_ruleset`` accepts; ``params_a``/``params_b``
    override their parameters. ``cohort`` is a cohort file (JSON Lines, CSV or Parquet, read by
    :func:`riskrules.cohort.iter_records`, whose ``id_column`` names the records) or an iterable
    of assessments or ``(id, assessment)`` pairs. Each record is read once and scored under both
    rulesets; only counts are kept. Raises RulesetError for a bad ruleset or parameter and
    RiskRulesError naming the record for a record that does not fit (or an empty cohort).
    """
    with contextlib.ExitStack() as stack:
        scorer_a = stack.enter_context(Scorer(a, engine=engine, params=params_a))
        scorer_b = stack.enter_context(Scorer(b, engine=engine, params=params_b))
        rs_a, rs_b = scorer_a.ruleset, scorer_b.ruleset
        levels = _merge_scales(rs_a.scale, rs_b.scale)
        position = {level: i for i, level in enumerate(levels)}
        shared = [h for h in rs_a.hazards if h in rs_b.hazards]
        overall = _Tally(OVERALL, len(levels))
        tallies = {h: _Tally(h, len(levels)) for h in shared}
        fired_a: dict[str, int] = dict.fromkeys((r.id for r in rs_a.rules), 0)
        fired_b: dict[str, int] = dict.fromkeys((r.id for r in rs_b.rules), 0)
        gained: dict[str, int] = {}
        lost: dict[str, int] = {}
        rec_a: dict[str, int] = {}
        rec_b: dict[str, int] = {}
        changed: list[ChangedRecord] = []
        records = 0
        where = _source(cohort)
        for index, rid, assessment in _records(cohort, rs_a, id_column):
            report_a = _score(scorer_a, where, index, rid, assessment)
            report_b = _score(scorer_b, where, index, rid, assessment)
            records += 1
            la, lb = report_a.overall_level, report_b.overall_level
            overall.add(position[la], position[lb], report_a.complete, report_b.complete)
            if la != lb:
                changed.append(ChangedRecord(index=index, id=rid, a=la, b=lb))
            for hid, tally in tallies.items():
                ha, hb = report_a.hazards[hid], report_b.hazards[hid]
                tally.add(position[ha.level], position[hb.level], ha.complete, hb.complete)
            for firing in report_a.fired:
                fired_a[firing.rule] += 1
            for firing in report_b.fired:
                fired_b[firing.rule] += 1
            protocols_a = {r.protocol for r in report_a.recommendations}
            protocols_b = {r.protocol for r in report_b.recommendations}
            for pid in protocols_a:
                rec_a[pid] = rec_a.get(pid, 0) + 1
            for pid in protocols_b:
                rec_b[pid] = rec_b.get(pid, 0) + 1
            for pid in protocols_b - protocols_a:
                gained[pid] = gained.get(pid, 0) + 1
            for pid in protocols_a - protocols_b:
                lost[pid] = lost.get(pid, 0) + 1
        if records == 0:
            raise RiskRulesError("the cohort has no records to compare")
        hazard_of = {r.id: r.hazard for r in rs_b.rules} | {r.id: r.hazard for r in rs_a.rules}
        rules = []
        for rule_id in dict.fromkeys([*fired_a, *fired_b]):
            na, nb = fired_a.get(rule_id), fired_b.get(rule_id)
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
        order = [*rs_a.protocols, *(p for p in rs_b.protocols if p not in rs_a.protocols)]
        recommendations = tuple(
            ProtocolChange(
                protocol=pid,
                recommended_a=rec_a.get(pid, 0),
                recommended_b=rec_b.get(pid, 0),
                gained=gained.get(pid, 0),
                lost=lost.get(pid, 0),
            )
            for pid in order
            if pid in rec_a or pid in rec_b
        )
        return Comparison(
            a=_side(scorer_a),
            b=_side(scorer_b),
            records=records,
            levels=levels,
            overall=overall.result(),
            hazards=tuple(tallies[h].result() for h in shared),
            rules=tuple(rules),
            recommendations=recommendations,
            changed=tuple(changed),
        )


# --------------------------------------------------------------------------- sweeps


class SweepPoint(_Frozen):
    """The level distribution at one grid point.

    ``params`` holds the swept parameters' values at this point; ``overall`` and ``hazards``
    map each level of the scale to the number of records at that level (an incomplete record
    counts at the level it reached; ``incomplete`` counts them per hazard and overall).
    """

    params: dict[str, Number]
    overall: dict[str, int]
    hazards: dict[str, dict[str, int]]
    incomplete: dict[str, int]


class SweepResult(_Frozen):
    """The result of :func:`sweep`: one :class:`SweepPoint` per grid point.

    Points are in grid order: the first parameter's values outermost, in the order given.
    ``ruleset.params`` are the parameters' values apart from the swept ones.
    """

    ruleset: ComparisonSide
    parameters: tuple[str, ...]
    values: dict[str, tuple[Number, ...]]
    records: int
    levels: tuple[str, ...]
    hazards: tuple[str, ...]
    points: tuple[SweepPoint, ...]

    def to_json(self) -> str:
        """Deterministic JSON (indented, newline-terminated)."""
        return self.model_dump_json(indent=2) + "\n"

    def _counts(self, point: SweepPoint, hazard: str) -> dict[str, int]:
        if hazard == OVERALL:
            return point.overall
        if hazard not in point.hazards:
            raise KeyError(hazard)
        return point.hazards[hazard]

    def share_at_least(self, level: str, hazard: str = OVERALL) -> list[float]:
        """Per point, the share of records whose level (of ``hazard``, default overall) is at
        or above ``level``."""
        if level not in self.levels:
            raise RiskRulesError(f"unknown level {level!r}; the scale is {', '.join(self.levels)}")
        above = self.levels[self.levels.index(level) :]
        return [
            sum(self._counts(p, hazard)[lv] for lv in above) / self.records for p in self.points
        ]

    def to_text(self) -> str:
        """One table per hazard and overall: record counts per level at each grid point."""
        rs = self.ruleset
        lines = [
            f"riskrules sweep: ruleset {rs.ruleset} {rs.version} ({rs.fingerprint[:12]}), "
            f"{self.records} records",
            "Swept: "
            + "; ".join(
                f"{name} = {', '.join(map(str, self.values[name]))}" for name in self.parameters
            ),
        ]
        for hazard in (OVERALL, *self.hazards):
            lines += ["", f"{hazard}: records per level"]
            lines += _table(
                (*self.parameters, *self.levels, "incomplete"),
                (
                    (
                        *(str(p.params[name]) for name in self.parameters),
                        *(str(self._counts(p, hazard)[lv]) for lv in self.levels),
                        str(p.incomplete[hazard]),
                    )
                    for p in self.points
                ),
            )
        return "\n".join(lines) + "\n"

    def figures(self, directory: str | PathLike[str], *, level: str | None = None) -> list[Path]:
        """Write PNG figures into ``directory`` and return their paths, one per hazard and
        overall (``sweep-<name>.png``): for a 1-D sweep stacked bars of the level shares at each
        value; for a 2-D sweep a heatmap of the share at or above ``level`` (default: the
        second level of the scale). Needs matplotlib (the ``plots`` extra)."""
        figure_type, canvas = _figure_library()
        threshold = level if level is not None else self.levels[min(1, len(self.levels) - 1)]
        self.share_at_least(threshold)  # validates the level
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for hazard in (OVERALL, *self.hazards):
            if len(self.parameters) == 1:
                fig = self._bars(figure_type, hazard)
            else:
                fig = self._heatmap(figure_type, hazard, threshold)
            written.append(_save(fig, canvas, out / f"sweep-{_safe_name(hazard)}.png"))
        return written

    def _bars(self, figure_type: Any, hazard: str) -> Figure:
        name = self.parameters[0]
        labels = [str(p.params[name]) for p in self.points]
        fig: Figure = figure_type(figsize=(1.5 + 0.6 * len(labels), 4))
        ax = fig.add_subplot()
        bottom = [0.0] * len(self.points)
        colours = _level_colours(len(self.levels))
        for lv, colour in zip(self.levels, colours, strict=True):
            shares = [self._counts(p, hazard)[lv] / self.records for p in self.points]
            ax.bar(labels, shares, bottom=bottom, label=lv, color=colour)
            bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
        ax.set_ylim(0, 1)
        ax.set_xlabel(name)
        ax.set_ylabel("share of records")
        ax.set_title(f"{hazard}: level shares")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.tight_layout()
        return fig

    def _heatmap(self, figure_type: Any, hazard: str, level: str) -> Figure:
        first, second = self.parameters
        xs, ys = self.values[second], self.values[first]
        shares = self.share_at_least(level, hazard)
        grid = [shares[i * len(xs) : (i + 1) * len(xs)] for i in range(len(ys))]
        fig: Figure = figure_type(figsize=(2.5 + 0.6 * len(xs), 1.5 + 0.5 * len(ys)))
        ax = fig.add_subplot()
        image = ax.imshow(grid, cmap="Reds", vmin=0, vmax=1, aspect="auto", origin="lower")
        fig.colorbar(image, ax=ax, label=f"share at or above {level}")
        for i, row in enumerate(grid):
            for j, share in enumerate(row):
                colour = "white" if share > 0.5 else "black"
                ax.text(j, i, f"{100 * share:.0f}%", ha="center", va="center", color=colour)
        ax.set_xticks(range(len(xs)), [str(x) for x in xs])
        ax.set_yticks(range(len(ys)), [str(y) for y in ys])
        ax.set_xlabel(second)
        ax.set_ylabel(first)
        ax.set_title(f"{hazard}: share at or above {level}")
        fig.tight_layout()
        return fig


def _level_colours(k: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["YlOrRd"]
    return [tuple(cmap(0.15 + 0.8 * i / max(k - 1, 1))) for i in range(k)]  # type: ignore[misc]


def _grid(grid: Mapping[str, Sequence[int | float]]) -> tuple[tuple[str, ...], list[list[Any]]]:
    if not isinstance(grid, Mapping) or not 1 <= len(grid) <= 2:
        raise RiskRulesError("a sweep grid maps one or two parameter names to lists of values")
    names = tuple(grid)
    values = []
    for name in names:
        column = grid[name]
        if isinstance(column, str | bytes) or not isinstance(column, Sequence) or not column:
            raise RiskRulesError(f"sweep parameter {name!r}: give a non-empty list of values")
        for value in column:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RiskRulesError(f"sweep parameter {name!r}: {value!r} is not a number")
            if not math.isfinite(value):
                raise RiskRulesError(f"sweep parameter {name!r}: {value!r} is not finite")
        if len(set(column)) != len(column):
            raise RiskRulesError(f"sweep parameter {name!r}: values repeat")
        values.append(list(column))
    size = math.prod(len(v) for v in values)
    if size > MAX_SWEEP_POINTS:
        raise RiskRulesError(
            f"the sweep grid has {size} points; at most {MAX_SWEEP_POINTS} are scored in one pass"
        )
    return names, values


def sweep(
    ruleset: RulesetSource,
    cohort: Cohort,
    grid: Mapping[str, Sequence[int | float]],
    *,
    engine: str = "auto",
    params: Mapping[str, int | float] | None = None,
    id_column: str = "id",
) -> SweepResult:
    """The level distribution of ``cohort`` at each point of a 1-D or 2-D parameter grid.

    ``grid`` maps one or two parameter names to their values (e.g. ``{"max_active_clients":
    [20, 25, 30]}``); ``params`` fixes other parameters. One Scorer is compiled per grid point
    (never per record), all before the cohort is read; the cohort is then read once and every
    record is scored at every point. That reads a file once and accepts one-shot iterables; it
    keeps one compiled ruleset per point alive, hence the cap of :data:`MAX_SWEEP_POINTS` points.
    """
    names, values = _grid(grid)
    rs = _load(ruleset)
    overlap = sorted(set(names) & set(params or {}))
    if overlap:
        raise RiskRulesError(f"parameter {overlap[0]!r} is both swept and fixed")
    points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    levels = rs.scale
    hazards = tuple(rs.hazards)
    with contextlib.ExitStack() as stack:
        scorers = [
            stack.enter_context(Scorer(rs, engine=engine, params={**(params or {}), **point}))
            for point in points
        ]
        counts = [{h: dict.fromkeys(levels, 0) for h in (OVERALL, *hazards)} for _ in points]
        incomplete = [dict.fromkeys((OVERALL, *hazards), 0) for _ in points]
        records = 0
        where = _source(cohort)
        for index, rid, assessment in _records(cohort, rs, id_column):
            records += 1
            for scorer, count, missing in zip(scorers, counts, incomplete, strict=True):
                report = _score(scorer, where, index, rid, assessment)
                count[OVERALL][report.overall_level] += 1
                missing[OVERALL] += not report.complete
                for hid, result in report.hazards.items():
                    count[hid][result.level] += 1
                    missing[hid] += not result.complete
        if records == 0:
            raise RiskRulesError("the cohort has no records to sweep")
        base = {k: v for k, v in scorers[0].params.items() if k not in names}
    return SweepResult(
        ruleset=ComparisonSide(
            ruleset=rs.ruleset, version=rs.version, fingerprint=rs.fingerprint, params=base
        ),
        parameters=names,
        values={name: tuple(column) for name, column in zip(names, values, strict=True)},
        records=records,
        levels=levels,
        hazards=hazards,
        points=tuple(
            SweepPoint(
                params=point,
                overall=count[OVERALL],
                hazards={h: count[h] for h in hazards},
                incomplete=missing,
            )
            for point, count, missing in zip(points, counts, incomplete, strict=True)
        ),
    )


def parse_values(text: str) -> list[int | float]:
    """Sweep values from text: ``START:STOP:STEP`` (inclusive of STOP when reached),
    ``A,B,C`` or a single number. Integers stay integers; decimal steps are exact
    (``0.1:0.3:0.1`` gives 0.1, 0.2, 0.3). Raises ValueError with a short reason."""
    from decimal import Decimal, InvalidOperation

    def number(part: str) -> Decimal:
        try:
            value = Decimal(part.strip())
        except InvalidOperation:
            raise ValueError(f"{part.strip()!r} is not a number") from None
        if not value.is_finite():
            raise ValueError(f"{part.strip()!r} is not a finite number")
        return value

    def plain(value: Decimal) -> int | float:
        return (
            int(value)
            if value == value.to_integral_value() and "." not in str(value)
            else (float(value))
        )

    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"expected START:STOP:STEP, got {text!r}")
        start, stop, step = map(number, parts)
        if step <= 0:
            raise ValueError("STEP must be positive")
        if stop < start:
            raise ValueError("STOP must not be below START")
        if (stop - start) / step >= MAX_SWEEP_POINTS:
            raise ValueError(f"more than {MAX_SWEEP_POINTS} values")
        integral = all("." not in p and "e" not in p.lower() for p in parts)
        out: list[int | float] = []
        current = start
        while current <= stop:
            out.append(int(current) if integral else float(current))
            current += step
        return out
    values = [number(part) for part in text.split(",")]
    return [plain(v) for v in values]
