"""EHR integration: instrument scoring, FHIR in and out, CDS Hooks cards and service.

The public modules are at the top of the package, where integrators import them:
:mod:`riskrules.instruments` (item answers to the fields rulesets read), :mod:`riskrules.fhir`
(QuestionnaireResponse in, RiskAssessment and Observation out), :mod:`riskrules.cdshooks`
(cards) and :mod:`riskrules.service` (the CDS Hooks service, extra ``riskrules[service]``).
This package holds their implementation and imports nothing by itself.
"""
