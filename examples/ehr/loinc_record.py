"""A LOINC-coded record: select the responses that count, score them, say what was left out.

Run from the repository root:

    python examples/ehr/loinc_record.py

``loinc_record.json`` is a search result for one patient's QuestionnaireResponses, in the shape
LHC-Forms exports LOINC panels: no ``questionnaire`` URL, a group item coded with the panel
(``/72109-2`` AUDIT-C, ``/93373-9`` C-SSRS screener), answer codings without a system. It holds
this year's AUDIT-C and C-SSRS screener, last year's AUDIT-C, a PHQ-9 riskrules does not read,
and a draft. The shipped LOINC mappings read the forms; the selection policy keeps the latest
AUDIT-C, skips the rest and lists why. Screening and decision support, not a diagnosis.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import riskrules
from riskrules import fhir

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 3, 1, tzinfo=UTC)  # fixed, so the output is the same every run


def main() -> None:
    bundle = json.loads((HERE / "loinc_record.json").read_text(encoding="utf-8"))
    result = fhir.read_questionnaire_responses(
        bundle,
        on_unknown="skip",  # the PHQ-9 is not an error
        duplicates="latest",  # last year's AUDIT-C gives way to this year's
        max_age=timedelta(days=365),
        subject="Patient/example",
        now=NOW,
    )
    report = riskrules.score(result.assessment, engine="native")
    resource = fhir.risk_assessment(
        report,
        subject="Patient/example",
        basis=result.basis,
        occurrence="2026-02-10T15:10:00-05:00",
        hazards=["substance_abuse", "crisis"],
    )
    print(
        json.dumps(
            {
                "assessment": result.assessment,
                "sources": result.sources,
                "skipped": [
                    {"response": s.response, "reason": s.reason, "instrument": s.instrument}
                    for s in result.skipped
                ],
                "basis": [b["reference"] for b in resource["basis"]],
                "levels": {h: report.hazards[h].level for h in ("substance_abuse", "crisis")},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
