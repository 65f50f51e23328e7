"""The regions planning searches: one value for every region of an input's domain."""

from __future__ import annotations

from riskrules import Ruleset
from riskrules.planning._space import Space

RULESET = Ruleset.model_validate(
    {
        "ruleset": "regions",
        "version": "1",
        "title": "Regions",
        "parameters": {"limit": {"default": 1.5, "description": "a limit"}},
        "inputs": {
            "clinician.share": {"type": "number", "min": 0, "max": 3},
            "clinician.count": {"type": "integer", "min": 0},
            "clinician.flag": {"type": "boolean"},
        },
        "hazards": {"h": {"title": "H", "bands": {"low": 0, "high": 1}}},
        "rules": [
            {
                "id": "h.share",
                "hazard": "h",
                "when": {
                    "all": [
                        {"field": "clinician.share", "gt": 1},
                        {"field": "clinician.share", "lt": {"param": "limit"}},
                    ]
                },
                "then": {"points": 1},
                "because": "Between the two limits.",
            },
            {
                "id": "h.count",
                "hazard": "h",
                "when": {"field": "clinician.count", "between": [3, 5]},
                "then": {"points": 1},
                "because": "Three to five.",
            },
        ],
    }
)


def test_an_open_interval_between_close_thresholds_gets_a_value() -> None:
    space = Space(RULESET, {"limit": 1.5})
    signatures = {space.signature("clinician.share", v) for v in space.regions("clinician.share")}
    assert (True, True) in signatures  # only values strictly between 1 and 1.5
    assert 1.25 in space.regions("clinician.share")


def test_integer_regions_are_the_nearest_values_and_stay_in_the_domain() -> None:
    space = Space(RULESET, {"limit": 1.5})
    # below 3 and above 5 are one region (the rule does not fire); the nearest to 9 is 6
    assert space.regions("clinician.count", near=9) == [5, 6]
    assert space.regions("clinician.count", near=0) == [0, 3]
    assert all(v >= 0 for v in space.candidates("clinician.count"))
    assert len(space.regions("clinician.flag")) == 1  # read by no rule: one region
    assert space.relevant(["h"]) == ["clinician.share", "clinician.count"]
