"""A small ruleset shaped like the default one, for the scoring, report and graph tests.

It is built with ``Ruleset.model_validate`` so these tests do not depend on the loader or on the
shipped rulesets: caseload (parameters, a finding chain, a floor, a cap, a band recommendation),
substance use (a sex-specific k-of-n style screen) and crisis (a floor and the highest priority).
"""

from __future__ import annotations

import copy
from typing import Any

from riskrules import Ruleset

DEMO: dict[str, Any] = {
    "ruleset": "demo",
    "version": "1.0.0",
    "title": "Scoring test ruleset",
    "parameters": {
        "max_active_clients": {
            "type": "integer",
            "default": 35,
            "min": 1,
            "max": 500,
            "description": "local policy",
        },
        "burnout_high": {
            "type": "integer",
            "default": 42,
            "min": 10,
            "max": 50,
            "description": "ProQOL high band",
        },
        "trauma_share": {
            "type": "number",
            "default": 0.5,
            "min": 0,
            "max": 1,
            "description": "local policy",
        },
    },
    "inputs": {
        "clinician.active_clients": {"type": "integer", "min": 0, "max": 1000},
        "clinician.proqol.burnout": {"type": "integer", "min": 10, "max": 50},
        "clinician.trauma_sessions_share": {"type": "number", "min": 0, "max": 1},
        "clinician.life_crisis": {"type": "boolean"},
        "client.sex": {"type": "enum", "values": ["female", "male"]},
        "client.audit_c.total": {"type": "integer", "min": 0, "max": 12},
        "client.cssrs.q4": {"type": "boolean"},
        "client.cssrs.q5": {"type": "boolean"},
    },
    "hazards": {
        "caseload": {
            "title": "Caseload and burnout",
            "bands": {"low": 0, "moderate": 3, "high": 6, "critical": 10},
            "cap": 8,
            "recommend": {"moderate": ["self_care_plan"]},
        },
        "substance_abuse": {
            "title": "Client substance use",
            "bands": {"low": 0, "moderate": 2, "high": 5},
        },
        "crisis": {
            "title": "Client in crisis",
            "bands": {"low": 0, "critical": 10},
            "priority": 10,
        },
    },
    "rules": [
        {
            "id": "caseload.over_capacity",
            "hazard": "caseload",
            "when": {"field": "clinician.active_clients", "gt": {"param": "max_active_clients"}},
            "then": {
                "points": 3,
                "assert": ["caseload.over_capacity"],
                "recommend": ["peer_consultation"],
            },
            "because": "Active caseload above the service limit.",
        },
        {
            "id": "caseload.burnout_high",
            "hazard": "caseload",
            "when": {
                "all": [
                    {"finding": "caseload.over_capacity"},
                    {"field": "clinician.proqol.burnout", "gte": {"param": "burnout_high"}},
                ]
            },
            "then": {
                "points": 4,
                "floor": "high",
                "recommend": ["caseload_reduction", "clinical_supervision"],
            },
            "because": "Over capacity with burnout in the ProQOL high band.",
        },
        {
            "id": "caseload.trauma_heavy",
            "hazard": "caseload",
            "when": {
                "field": "clinician.trauma_sessions_share",
                "gte": {"param": "trauma_share"},
            },
            "then": {"points": 2, "recommend": ["clinical_supervision"]},
            "because": "Half or more of sessions focus on trauma material.",
        },
        {
            "id": "caseload.life_crisis",
            "hazard": "caseload",
            "when": {"field": "clinician.life_crisis", "eq": True},
            "then": {"points": 2},
            "because": "The clinician's own life crisis.",
        },
        {
            "id": "substance.audit_c_positive",
            "hazard": "substance_abuse",
            "when": {
                "any": [
                    {
                        "all": [
                            {"field": "client.sex", "eq": "male"},
                            {"field": "client.audit_c.total", "gte": 4},
                        ]
                    },
                    {
                        "all": [
                            {"field": "client.sex", "eq": "female"},
                            {"field": "client.audit_c.total", "gte": 3},
                        ]
                    },
                ]
            },
            "then": {
                "points": 2,
                "assert": ["audit_c.positive"],
                "recommend": ["brief_counselling"],
            },
            "because": "AUDIT-C positive (>= 4 men, >= 3 women).",
        },
        {
            "id": "crisis.high_risk",
            "hazard": "crisis",
            "salience": 10,
            "when": {
                "any": [
                    {"field": "client.cssrs.q4", "eq": True},
                    {"field": "client.cssrs.q5", "eq": True},
                ]
            },
            "then": {
                "floor": "critical",
                "assert": ["cssrs.high_risk"],
                "recommend": ["crisis_intervention"],
            },
            "because": "Yes to C-SSRS Q4 or Q5.",
        },
        {
            "id": "substance.in_crisis",
            "hazard": "substance_abuse",
            "when": {"all": [{"finding": "cssrs.high_risk"}, {"finding": "audit_c.positive"}]},
            "then": {"points": 3, "recommend": ["specialist_referral"]},
            "because": "A client in crisis who also screens positive for alcohol use.",
        },
    ],
    "protocols": {
        "peer_consultation": {"title": "Peer consultation", "urgency": "routine"},
        "caseload_reduction": {"title": "Caseload reduction", "urgency": "urgent"},
        "clinical_supervision": {"title": "Clinical supervision", "urgency": "soon"},
        "self_care_plan": {"title": "Self-care plan", "urgency": "routine"},
        "brief_counselling": {"title": "Brief counselling", "urgency": "soon"},
        "crisis_intervention": {"title": "Crisis intervention", "urgency": "immediate"},
        "specialist_referral": {"title": "Specialist referral", "urgency": "urgent"},
    },
}


def demo_data() -> dict[str, Any]:
    """A fresh deep copy of the demo ruleset's data, to modify in a test."""
    return copy.deepcopy(DEMO)


def demo_ruleset(**changes: Any) -> Ruleset:
    """The demo ruleset, with top-level sections replaced by ``changes``."""
    data = demo_data()
    data.update(changes)
    return Ruleset.model_validate(data)


HEAVY: dict[str, Any] = {
    "clinician": {
        "active_clients": 40,
        "proqol": {"burnout": 44},
        "trauma_sessions_share": 0.6,
        "life_crisis": True,
    },
    "client": {"sex": "female", "audit_c": {"total": 5}, "cssrs": {"q4": False, "q5": True}},
}
"""An assessment where every demo rule fires."""
