"""CDS Hooks cards from a RiskReport: what an EHR shows a clinician, with the reasons.

The implementation is in :mod:`riskrules.ehr._cdshooks`; this module is its public face.
"""

from riskrules.ehr._cdshooks import (
    OVERRIDE_REASONS,
    OVERRIDE_SYSTEM,
    SUMMARY_LIMIT,
    cards,
    issued,
)

__all__ = [
    "OVERRIDE_REASONS",
    "OVERRIDE_SYSTEM",
    "SUMMARY_LIMIT",
    "cards",
    "issued",
]
