"""Research on cohorts: score files of records, compare rulesets, sweep parameters, synthesize.

Cohort files and batch scoring (``riskrules batch``):

* ``_formats``: the file formats (JSON Lines, CSV, Parquet) and the optional pyarrow import;
* ``_cohort``: reading cohort files, one :class:`Record` per assessment;
* ``_rows``: reports as flat result rows, and writing rows to a file;
* ``_batch``: scoring a cohort file into a result file, with a progress line.

Comparing rulesets and sweeping parameters (``riskrules compare``, ``riskrules sweep``):

* ``_records``: the cohort of a comparison or sweep (a file or an iterable), streamed;
* ``_kappa``: agreement statistics (Cohen's and quadratic weighted kappa);
* ``_results``: the result models (:class:`Comparison`, :class:`SweepResult` and their parts);
* ``_compare``: :func:`compare`; ``_sweep``: :func:`sweep` and the parsing of swept values;
* ``_text`` and ``_figures``: the text summaries and PNG figures of the results.

And ``_synth``, synthetic cohorts for the default ruleset (``riskrules synth``), and ``_dask``,
the same scoring on a Dask cluster, public as :mod:`riskrules.dask`. :func:`score_parallel`, the
process pool behind ``Scorer.score_many(workers=N)``, belongs to :mod:`riskrules.scoring` and is
re-exported here.
"""

from riskrules.errors import RecordError
from riskrules.research._batch import BatchSummary, Progress, score_file
from riskrules.research._cohort import Record, UnreadableRecord, count_records, iter_records
from riskrules.research._compare import compare
from riskrules.research._formats import FORMATS, detect_format
from riskrules.research._kappa import cohens_kappa, weighted_kappa
from riskrules.research._results import (
    Agreement,
    ChangedRecord,
    Comparison,
    ComparisonSide,
    ProtocolChange,
    RuleRate,
    SweepPoint,
    SweepResult,
)
from riskrules.research._rows import RowWriter, report_row, result_columns, write_rows
from riskrules.research._sweep import MAX_SWEEP_POINTS, sweep
from riskrules.research._synth import (
    ID_PREFIX,
    synthesize,
    write_synthetic,
)
from riskrules.scoring._parallel import score_parallel

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
