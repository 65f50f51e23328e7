"""The EHR walk-through's runnable example works end to end, as docs/ehr-integration.md says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def run(name: str) -> Any:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "ehr" / name)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return json.loads(out)


def test_loinc_record_example_selects_and_explains() -> None:
    data = run("loinc_record.py")
    assert data["assessment"]["client.audit_c.total"] == 8
    assert data["assessment"]["client.cssrs.q3"] is True
    assert data["sources"]["client.audit_c.total"] == "QuestionnaireResponse/audit-c-2026"
    assert [(s["response"], s["reason"].split(":")[0]) for s in data["skipped"]] == [
        ("QuestionnaireResponse/phq-9-2026", "no mapping"),
        (
            "QuestionnaireResponse/audit-c-2025",
            "superseded by the later QuestionnaireResponse/audit-c-2026",
        ),
        ("QuestionnaireResponse/cssrs-draft", "status 'in-progress'"),
    ]
    assert data["basis"] == [
        "QuestionnaireResponse/cssrs-2026",
        "QuestionnaireResponse/audit-c-2026",
    ]
    assert data["levels"]["crisis"] == "high"


def test_site_mapping_example_gets_the_forms_own_dast_total() -> None:
    data = run("site_mapping.py")
    assert data == {
        "with_site_mapping": {"client.dast10.total": 3},
        "if_item_3_were_mapped_as_published": {"client.dast10.total": 2},
    }
