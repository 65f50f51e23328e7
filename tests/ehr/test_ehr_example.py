"""The EHR walk-through's runnable example works end to end, as docs/ehr-integration.md says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ehr" / "ehr_to_cards.py"


def test_example_goes_from_questionnaire_responses_to_cards() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    head, _, tail = out.partition("\n[")
    data = json.loads(head)
    # AUDIT items sum to 16 (zone III) with item 10 at 4: WHO's next-highest intervention
    assert data["assessment"]["client.audit.total"] == 16
    assert data["assessment"]["client.audit.item10"] == 4
    assert data["assessment"]["client.cssrs.q3"] is True
    resource = data["riskAssessment"]
    assert resource["resourceType"] == "RiskAssessment"
    assert resource["subject"] == {"reference": "Patient/example"}
    assert [b["reference"] for b in resource["basis"]] == [
        "QuestionnaireResponse/audit-2026-11-02",
        "QuestionnaireResponse/cssrs-2026-11-02",
    ]
    assert "specialist_referral" in resource["mitigation"]
    cards = ["[" + line for line in tail.splitlines()] if tail else []
    assert cards[0].startswith("[warning] Client crisis")
    assert any("Client substance use" in line for line in cards)


def test_example_output_is_deterministic() -> None:
    runs = {
        subprocess.run(
            [sys.executable, str(EXAMPLE)], capture_output=True, text=True, check=True, timeout=120
        ).stdout
        for _ in range(2)
    }
    assert len(runs) == 1
