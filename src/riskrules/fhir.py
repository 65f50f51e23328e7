"""FHIR R4 in and out: QuestionnaireResponses to an assessment, a report to a RiskAssessment.

EHRs hold questionnaire answers as ``QuestionnaireResponse`` resources and expect results as
``RiskAssessment`` (or ``Observation``) resources. This module converts both ways with plain
dicts, so it needs no FHIR library at run time. The formats, the shipped mappings, the
selection policy and every coding choice are described in ``docs/fhir.md``.

* :func:`read_questionnaire_responses`: responses (dicts, JSON text or a Bundle) -> the dotted
  assessment :class:`riskrules.Scorer` reads, with which response supplied each field and which
  were skipped and why; :func:`assessment_from_questionnaire_responses` returns the assessment
  alone.
* :func:`load_mappings`: the questionnaire mappings in force (shipped plus a site's own),
  each validated against the mapping schema (:func:`fhir_mapping_json_schema`).
* :func:`risk_assessment` and :func:`observations`: a report as FHIR resources.

The implementation is in the private modules of :mod:`riskrules.ehr`; this module is its public
face.
"""

from riskrules.ehr._fhir_mapping_spec import fhir_mapping_json_schema
from riskrules.ehr._fhir_mappings import QuestionnaireMapping, load_mappings
from riskrules.ehr._fhir_out import (
    BASE_URL,
    HAZARD_SYSTEM,
    LEVEL_SYSTEM,
    RISK_PROBABILITY_CODES,
    RISK_PROBABILITY_SYSTEM,
    RULESET_EXTENSION,
    RULESET_SYSTEM,
    observations,
    risk_assessment,
)
from riskrules.ehr._fhir_select import (
    QuestionnaireResponsesResult,
    SkippedResponse,
    assessment_from_questionnaire_responses,
    read_questionnaire_responses,
)
from riskrules.errors import FhirReferenceError

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
    "QuestionnaireResponsesResult",
    "SkippedResponse",
    "assessment_from_questionnaire_responses",
    "fhir_mapping_json_schema",
    "load_mappings",
    "observations",
    "read_questionnaire_responses",
    "risk_assessment",
]
