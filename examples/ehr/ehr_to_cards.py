"""From an EHR's FHIR QuestionnaireResponses to a RiskAssessment and CDS Hooks cards.

Run from the repository root:

    python examples/ehr/ehr_to_cards.py

It reads the two QuestionnaireResponses next to this file (an AUDIT and a C-SSRS screener for
one client), builds the assessment, scores it with the built-in default ruleset, and prints the
FHIR RiskAssessment and the cards an EHR would show. Screening and decision support, not a
diagnosis.
"""

from __future__ import annotations

import json
from pathlib import Path

import riskrules
from riskrules import cdshooks, fhir

HERE = Path(__file__).resolve().parent


def main() -> None:
    responses = [
        json.loads((HERE / name).read_text(encoding="utf-8"))
        for name in ("audit_response.json", "cssrs_response.json")
    ]
    # 1. item answers -> instrument totals under the default input contract
    assessment = fhir.assessment_from_questionnaire_responses(responses)
    # 2. score (the native engine is deterministic and fast; "auto" works too)
    report = riskrules.score(assessment, engine="native")
    # 3. FHIR out: a RiskAssessment about the client, based on the two responses
    client_hazards = ["substance_abuse", "crisis"]
    resource = fhir.risk_assessment(
        report,
        subject="Patient/example",
        basis=[f"QuestionnaireResponse/{r['id']}" for r in responses],
        occurrence="2026-11-02T10:30:00Z",
        hazards=client_hazards,
    )
    # 4. CDS Hooks cards for the clinician's screen
    shown = cdshooks.cards(report, ruleset=riskrules.load_ruleset("default"))
    print(json.dumps({"assessment": assessment, "riskAssessment": resource}, indent=2))
    for card in shown:
        print(f"[{card['indicator']}] {card['summary']}")


if __name__ == "__main__":
    main()
