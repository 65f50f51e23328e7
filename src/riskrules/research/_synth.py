"""Synthetic cohorts: realistic, clearly synthetic assessments for demos, benchmarks and tests.

:func:`synthesize` yields records for the default ruleset's input contract: flat dotted input
names plus an ``id`` of the form ``synthetic-000001`` (the prefix is the label: records carry no
other field, so they stay valid assessments). Values follow the distributions documented in
``docs/cohorts.md``, with correlations between related measures (caseload and direct hours drive
burnout and CBI work burnout; the trauma share drives secondary traumatic stress; AUDIT-C is the
sum of the first three AUDIT items; the C-SSRS skip pattern is respected). A ``missing`` share of
fields is left out at random. The same seed always gives the same records (``random.Random``).

These are not data about any person; they carry no clinical meaning beyond exercising rules.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from riskrules.errors import RiskRulesError
from riskrules.research._formats import detect_format, import_parquet

__all__ = ["ID_PREFIX", "synthesize", "write_synthetic"]

ID_PREFIX = "synthetic-"
"""Every synthetic record id starts with this."""

_CROSSINGS = {
    "role": 0.01,
    "time": 0.03,
    "place": 0.01,
    "money": 0.005,
    "gifts": 0.02,
    "clothing": 0.005,
    "language": 0.01,
    "self_disclosure": 0.03,
    "physical_contact": 0.01,
}
"""Base prevalence of each boundary crossing (tripled with a "special" client)."""

# C-SSRS follow-up questions and the question whose "yes" opens them.
_SKIPS = {
    "client.cssrs.q3": "client.cssrs.q2",
    "client.cssrs.q4": "client.cssrs.q2",
    "client.cssrs.q5": "client.cssrs.q2",
    "client.cssrs.q6_past_3_months": "client.cssrs.q6_lifetime",
}


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _audit(rng: random.Random) -> dict[str, int]:
    """AUDIT items from one drinking-severity draw: totals consistent by construction."""
    if _chance(rng, 0.3):  # abstinent in the past year
        return {"total": 0, "c": 0, "item9": 0, "item10": 0}
    severity = rng.expovariate(2.2)  # most drinkers low, a long tail of harmful use
    consumption = [int(_clip(round(severity * 1.5 + rng.gauss(0.1, 0.5)), 0, 4)) for _ in range(3)]
    dependence = [int(_clip(round(severity * 0.9 + rng.gauss(-0.5, 0.5)), 0, 4)) for _ in range(5)]

    def three_level() -> int:
        draw = rng.random() - min(severity * 0.12, 0.6)
        return 0 if draw > 0.15 else (2 if draw > 0.02 else 4)

    item9, item10 = three_level(), three_level()
    c_total = sum(consumption)
    return {
        "total": c_total + sum(dependence) + item9 + item10,
        "c": c_total,
        "item9": item9,
        "item10": item10,
    }


def _record(rng: random.Random) -> dict[str, Any]:
    """One complete synthetic assessment (flat dotted names -> values)."""
    out: dict[str, Any] = {}
    # caseload and hours: correlated workload
    clients = int(_clip(round(rng.gauss(24, 8)), 0, 90))
    hours = round(_clip(10 + 0.5 * clients + rng.gauss(0, 4), 0, 80), 1)
    load = (clients - 24) / 8 * 0.6 + (hours - 23) / 6 * 0.4
    share = round(rng.betavariate(2, 5), 2)
    trauma = (share - 0.29) / 0.16
    supervision = round(max(0.0, rng.gauss(6.5, 2)) * 2) / 2
    life_crisis = _chance(rng, 0.04)
    strain = load + (0.8 if life_crisis else 0.0) - 0.15 * (supervision - 6.5)

    burnout = int(_clip(round(19 + 4 * strain + 1.0 * trauma + rng.gauss(0, 3.5)), 10, 50))
    sts = int(_clip(round(18 + 3.5 * trauma + 1.2 * strain + rng.gauss(0, 3.5)), 10, 50))
    satisfaction = int(_clip(round(38 - 0.4 * (burnout - 19) + rng.gauss(0, 5)), 10, 50))
    stss = int(_clip(round(17 + 1.0 * (sts - 10) + rng.gauss(0, 5)), 17, 85))
    burnout_z = (burnout - 19) / 6
    cbi_work = round(_clip(30 + 12 * burnout_z + rng.gauss(0, 8), 0, 100), 1)
    cbi_personal = round(_clip(0.7 * cbi_work + 10 + rng.gauss(0, 9), 0, 100), 1)
    cbi_client = round(_clip(0.6 * cbi_work + 5 + rng.gauss(0, 9), 0, 100), 1)

    special = _chance(rng, 0.03)
    for name, p in _CROSSINGS.items():
        out[f"relationship.crossings.{name}"] = _chance(rng, p * (3 if special else 1))
    out["relationship.sexual_contact"] = _chance(rng, 0.002)
    out["relationship.special_client"] = special
    out["relationship.dual_relationship"] = _chance(rng, 0.03)

    out["clinician.life_crisis"] = life_crisis
    out["clinician.works_with_marginalized_communities"] = _chance(rng, 0.4)
    out["clinician.months_since_cultural_competency_training"] = round(
        min(rng.expovariate(1 / 12), 120.0)
    )
    out["clinician.proqol.secondary_traumatic_stress"] = sts
    out["clinician.stss.total"] = stss
    out["clinician.trauma_sessions_share"] = share
    out["clinician.active_clients"] = clients
    out["clinician.direct_hours_per_week"] = hours
    out["clinician.supervision_hours_per_month"] = supervision
    out["clinician.proqol.burnout"] = burnout
    out["clinician.proqol.compassion_satisfaction"] = satisfaction
    out["clinician.cbi.personal"] = cbi_personal
    out["clinician.cbi.work"] = cbi_work
    out["clinician.cbi.client"] = cbi_client

    out["client.sex"] = "female" if _chance(rng, 0.55) else "male"
    audit = _audit(rng)
    out["client.audit.total"] = audit["total"]
    out["client.audit.item9"] = audit["item9"]
    out["client.audit.item10"] = audit["item10"]
    out["client.audit_c.total"] = audit["c"]
    dast = 0 if _chance(rng, 0.85) else int(_clip(round(rng.expovariate(1 / 2.5)) + 1, 1, 10))
    use = min(audit["total"] / 30 + dast / 10, 1.0)
    out["client.dast10.total"] = dast
    out["client.cage_aid.total"] = sum(_chance(rng, 0.01 + 0.4 * use) for _ in range(4))

    trauma_history = _chance(rng, 0.35)
    q1 = _chance(rng, 0.04 + (0.03 if trauma_history else 0))
    q2 = _chance(rng, 0.45 if q1 else 0.02)
    out["client.cssrs.q1"] = q1
    out["client.cssrs.q2"] = q2
    if q2:
        q4 = _chance(rng, 0.25)
        out["client.cssrs.q3"] = _chance(rng, 0.5)
        out["client.cssrs.q4"] = q4
        out["client.cssrs.q5"] = _chance(rng, 0.4 if q4 else 0.05)
    lifetime = _chance(rng, 0.30 if q2 else 0.02)
    out["client.cssrs.q6_lifetime"] = lifetime
    if lifetime:
        out["client.cssrs.q6_past_3_months"] = _chance(rng, 0.25)
    out["client.trauma_history"] = trauma_history
    out["client.abusive_relationship_history"] = _chance(rng, 0.30 if trauma_history else 0.08)
    out["client.emotional_manipulation"] = _chance(rng, 0.06)
    return out


def _drop_missing(record: dict[str, Any], rng: random.Random, missing: float) -> dict[str, Any]:
    """Leave each field out with probability ``missing``; a follow-up question whose opening
    question was not asked is left out too (the C-SSRS skip pattern)."""
    kept = {name: value for name, value in record.items() if rng.random() >= missing}
    for follow_up, opener in _SKIPS.items():
        if opener not in kept:
            kept.pop(follow_up, None)
    return kept


def synthesize(n: int, seed: int, missing: float = 0.1) -> Iterator[dict[str, Any]]:
    """``n`` synthetic records (``id`` first, then dotted inputs in the default ruleset's input
    order); the same ``seed`` gives the same records. ``missing`` is the share of fields left
    out at random (0 to 1)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, not {n!r}")
    if isinstance(missing, bool) or not 0.0 <= missing <= 1.0:
        raise ValueError(f"missing must be a share between 0 and 1, not {missing!r}")
    order = list(_input_order())
    rng = random.Random(seed)
    width = max(6, len(str(n)))
    for i in range(1, n + 1):
        values = _drop_missing(_record(rng), rng, missing)
        record: dict[str, Any] = {"id": f"{ID_PREFIX}{i:0{width}d}"}
        record.update((name, values[name]) for name in order if name in values)
        yield record


def _input_order() -> tuple[str, ...]:
    """The default ruleset's inputs, in declaration order; every generated field must be one."""
    from riskrules.ruleset import load_ruleset

    names = tuple(load_ruleset("default").inputs)
    generated = set(_record(random.Random(0)))
    unknown = generated - set(names)
    if unknown:  # pragma: no cover - guards the generator against contract drift
        raise RiskRulesError(
            f"synthetic fields not declared by the default ruleset: {', '.join(sorted(unknown))}"
        )
    return names


def write_synthetic(
    path: str | os.PathLike[str],
    n: int,
    seed: int,
    *,
    missing: float = 0.1,
    format: str | None = None,
) -> int:
    """Write :func:`synthesize` records to ``path`` as JSON Lines, CSV or Parquet; return how
    many. Missing fields are left out (JSON Lines), empty cells (CSV) or nulls (Parquet);
    Parquet files also carry ``riskrules.synthetic: true`` in their metadata."""
    kind = detect_format(path, format)
    records = synthesize(n, seed, missing)
    columns = ["id", *_input_order()]
    target = Path(path)
    count = 0
    if kind == "jsonl":
        with target.open("w", encoding="utf-8") as stream:
            for record in records:
                stream.write(json.dumps(record) + "\n")
                count += 1
    elif kind == "csv":
        with target.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(columns)
            for record in records:
                writer.writerow([_cell(record.get(c)) for c in columns])
                count += 1
    else:
        count = _write_parquet(target, records, columns)
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_parquet(target: Path, records: Iterator[dict[str, Any]], columns: list[str]) -> int:
    from riskrules.ruleset import load_ruleset

    pq = import_parquet()
    import pyarrow as pa

    inputs = load_ruleset("default").inputs
    kinds = {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}
    fields = [pa.field("id", pa.string())]
    fields += [pa.field(c, kinds.get(inputs[c].type, pa.string())) for c in columns[1:]]
    schema = pa.schema(fields, metadata={"riskrules.synthetic": "true"})
    count = 0
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(target, schema) as writer:
        for record in records:
            batch.append(record)
            count += 1
            if len(batch) == 4096:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    return count
