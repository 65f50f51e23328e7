"""Instrument scoring: from item-level answers to the totals and subscales the rulesets read.

The implementation is in :mod:`riskrules.ehr._instruments`; this module is its public face.
"""

from riskrules.ehr._instruments import (
    INSTRUMENTS,
    assessment_from_items,
    score_audit,
    score_audit_c,
    score_cage_aid,
    score_cbi,
    score_cssrs_screener,
    score_dast10,
    score_proqol,
    score_stss,
    stss_subscales,
)

__all__ = [
    "INSTRUMENTS",
    "assessment_from_items",
    "score_audit",
    "score_audit_c",
    "score_cage_aid",
    "score_cbi",
    "score_cssrs_screener",
    "score_dast10",
    "score_proqol",
    "score_stss",
    "stss_subscales",
]
