"""Scoring cohorts on a Dask cluster: map scoring over partitions, one compiled ruleset per worker.

The implementation is in :mod:`riskrules.research._dask`; this module is its public face.
"""

from riskrules.research._dask import (
    compile_count,
    read_cohort,
    result_meta,
    score_bag,
    score_dataframe,
)

__all__ = [
    "compile_count",
    "read_cohort",
    "result_meta",
    "score_bag",
    "score_dataframe",
]
