"""Testing rulesets: scenario runs with rule coverage, hypothesis strategies, property checks.

A ruleset's ``tests:`` scenarios say what the rules must make of worked examples;
:func:`run_scenarios` scores each of them on every engine, compares the reports with the
expectations and measures which rules some scenario fires (``riskrules test``, and the pytest
plugin in ``_riskrules_pytestplugin``). A ruleset's ``properties:`` say what must hold for
*every* assessment; :func:`check_properties` searches for counterexamples with hypothesis and
turns the smallest one found into scenarios ready to paste under ``tests:`` (``riskrules check``).

:func:`assessments` is the hypothesis strategy behind the search, for researchers' own tests::

    from hypothesis import given
    from riskrules import Scorer, load_ruleset
    from riskrules.testing import assessments

    ruleset = load_ruleset("default")
    scorer = Scorer(ruleset)

    @given(assessments(ruleset))
    def test_reports_are_complete_or_say_what_is_missing(assessment):
        report = scorer.score(assessment)
        assert all(h.complete or h.missing for h in report.hazards.values())

hypothesis is needed only for :func:`assessments` and :func:`check_properties` (install the
``testing`` extra); ``import riskrules`` never imports it.
"""

from riskrules.testing._claims import describe_property
from riskrules.testing._common import ENGINE_NAMES, available_engines, nest
from riskrules.testing._counterexamples import Counterexample
from riskrules.testing._expect import Mismatch, check_expect
from riskrules.testing._properties import PropertyOutcome, PropertyResults, check_properties
from riskrules.testing._scenarios import (
    ScenarioOutcome,
    ScenarioResults,
    ScenarioRunner,
    run_scenarios,
)
from riskrules.testing._strategies import assessments

__all__ = [
    "ENGINE_NAMES",
    "Counterexample",
    "Mismatch",
    "PropertyOutcome",
    "PropertyResults",
    "ScenarioOutcome",
    "ScenarioResults",
    "ScenarioRunner",
    "assessments",
    "available_engines",
    "check_expect",
    "check_properties",
    "describe_property",
    "nest",
    "run_scenarios",
]
