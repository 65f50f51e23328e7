"""Research on cohorts: score files of records, compare rulesets, sweep parameters, synthesize.

* ``_cohort``: read cohort files (JSON Lines, CSV, Parquet) and write result rows
  (``riskrules batch``);
* ``_compare``: level agreement between two rulesets and parameter sweeps (``riskrules compare``,
  ``riskrules sweep``);
* ``_synth``: synthetic cohorts for the default ruleset (``riskrules synth``);
* ``_dask``: the same scoring on a Dask cluster, public as :mod:`riskrules.dask`.
"""

from riskrules.research._cohort import (
    FORMATS,
    BatchSummary,
    Progress,
    Record,
    RecordError,
    RowWriter,
    UnreadableRecord,
    count_records,
    detect_format,
    iter_records,
    report_row,
    result_columns,
    score_file,
    score_parallel,
    write_rows,
)
from riskrules.research._compare import (
    MAX_SWEEP_POINTS,
    Agreement,
    ChangedRecord,
    Comparison,
    ComparisonSide,
    ProtocolChange,
    RuleRate,
    SweepPoint,
    SweepResult,
    cohens_kappa,
    compare,
    sweep,
    weighted_kappa,
)
from riskrules.research._synth import (
    ID_PREFIX,
    synthesize,
    write_synthetic,
)

__all__ = [
    "FORMATS",
    "ID_PREFIX",
    "MAX_SWEEP_POINTS",
    "Agreement",
    "BatchSummary",
    "ChangedRecord",
    "Comparison",
    "ComparisonSide",
    "Progress",
    "ProtocolChange",
    "Record",
    "RecordError",
    "RowWriter",
    "RuleRate",
    "SweepPoint",
    "SweepResult",
    "UnreadableRecord",
    "cohens_kappa",
    "compare",
    "count_records",
    "detect_format",
    "iter_records",
    "report_row",
    "result_columns",
    "score_file",
    "score_parallel",
    "sweep",
    "synthesize",
    "weighted_kappa",
    "write_rows",
    "write_synthetic",
]
