"""Source locations: merged paths map back to the file, line and column where they were written."""

from __future__ import annotations

import gc
from pathlib import Path

from riskrules import Ruleset, load_ruleset
from riskrules.ruleset import _locations as locations
from riskrules.ruleset._locations import SourceLocation, source_files, source_location

DATA = Path(__file__).parents[1] / "data"
CASELOAD = DATA / "caseload.yaml"
MANIFEST = DATA / "manifest"


def test_source_location_maps_merged_locations_to_files() -> None:
    ruleset = load_ruleset(MANIFEST)
    where = source_location(ruleset, ("rules", 1, "when", "condition:field", "eq"))
    assert where == SourceLocation(str(MANIFEST / "crisis.yaml"), 10, 40, "rules[0].when.eq")
    assert source_location(ruleset, ("protocols", "crisis_intervention", "urgency")) == (
        SourceLocation(
            str(MANIFEST / "shared.yaml"), 4, 62, "protocols.crisis_intervention.urgency"
        )
    )
    assert source_location(ruleset, ("title",)) == SourceLocation(
        str(MANIFEST / "default.yaml"), 5, 8, "title"
    )


def test_source_location_falls_back_to_the_nearest_written_part() -> None:
    ruleset = load_ruleset(CASELOAD)
    # rules[2] does not write a salience: the rule's own place is given.
    assert source_location(ruleset, ("rules", 2, "salience")) == SourceLocation(
        str(CASELOAD), 37, 5, "rules[2]"
    )


def test_source_location_is_none_for_rulesets_not_loaded_from_yaml() -> None:
    ruleset = Ruleset(ruleset="demo", version="1", title="Demo")
    assert source_location(ruleset, ("title",)) is None
    assert source_files(ruleset) == ()


def test_source_maps_are_released_with_their_ruleset() -> None:
    ruleset = load_ruleset(CASELOAD)
    key = id(ruleset)
    assert key in locations._SOURCE_MAPS
    del ruleset
    gc.collect()
    assert key not in locations._SOURCE_MAPS
