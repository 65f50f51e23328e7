"""FHIR R4 in and out: QuestionnaireResponses to an assessment, a report to a RiskAssessment.

The implementation is in :mod:`riskrules.ehr._fhir`; this module is its public face.
"""

from riskrules.ehr._fhir import (
    BASE_URL,
    HAZARD_SYSTEM,
    LEVEL_SYSTEM,
    RISK_PROBABILITY_CODES,
    RISK_PROBABILITY_SYSTEM,
    RULESET_EXTENSION,
    RULESET_SYSTEM,
    FhirReferenceError,
    QuestionnaireMapping,
    assessment_from_questionnaire_responses,
    load_mappings,
    observations,
    risk_assessment,
)

__all__ = [
    "BASE_URL",
    "HAZARD_SYSTEM",
    "LEVEL_SYSTEM",
    "RISK_PROBABILITY_CODES",
    "RISK_PROBABILITY_SYSTEM",
    "RULESET_EXTENSION",
    "RULESET_SYSTEM",
    "FhirReferenceError",
    "QuestionnaireMapping",
    "assessment_from_questionnaire_responses",
    "load_mappings",
    "observations",
    "risk_assessment",
]
