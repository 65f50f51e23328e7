"""riskrules: explainable rule-based scoring of the risks mental-health professionals face.

Screening and decision support, not a diagnosis.

The package is layered one way: :mod:`riskrules.ruleset` (model, conditions, YAML loader) ->
:mod:`riskrules.engines` -> :mod:`riskrules.scoring` -> :mod:`riskrules.report` and
:mod:`riskrules.graph`. Around that core sit the tools of each audience:
:mod:`riskrules.authoring` and :mod:`riskrules.testing` for ruleset authors,
:mod:`riskrules.research` and :mod:`riskrules.dask` for researchers, :mod:`riskrules.ehr`
(public as :mod:`riskrules.instruments`, :mod:`riskrules.fhir`, :mod:`riskrules.cdshooks` and
:mod:`riskrules.service`) for EHR integrators, and :mod:`riskrules.cli` for the command line.
Every exception is in :mod:`riskrules.errors`.

``import riskrules`` is light: each public name below is imported on first use, so networkx,
hypothesis, pyarrow, matplotlib, dask, starlette and durable-rules load only when a feature that
needs them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from riskrules.errors import (
    AssessmentError,
    ConfigError,
    EngineError,
    FhirReferenceError,
    InvariantError,
    NotRecommendedError,
    RecordError,
    RiskRulesError,
    RulesetError,
    ScenarioFailure,
    ServiceRequestError,
)

if TYPE_CHECKING:
    from riskrules.authoring import Diagnostic, RulesetDiff, diff_rulesets, lint
    from riskrules.graph import (
        ruleset_graph,
        to_dot,
        to_graphml,
        to_html,
        to_mermaid,
        to_node_link_json,
    )
    from riskrules.report import (
        Explanation,
        Firing,
        HazardResult,
        Indeterminate,
        Recommendation,
        RiskReport,
        RulesetInfo,
    )
    from riskrules.research import (
        Comparison,
        Record,
        SweepResult,
        compare,
        iter_records,
        report_row,
        sweep,
        synthesize,
    )
    from riskrules.ruleset import (
        Hazard,
        Input,
        Parameter,
        Property,
        Protocol,
        Reference,
        Rule,
        Ruleset,
        Scenario,
        dump_ruleset,
        load_ruleset,
    )
    from riskrules.scoring import Scorer, score

    __version__: str


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("riskrules")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "0.0.0"


_LAZY: dict[str, str] = {
    # the ruleset model and loader
    "Hazard": "riskrules.ruleset",
    "Input": "riskrules.ruleset",
    "Parameter": "riskrules.ruleset",
    "Property": "riskrules.ruleset",
    "Protocol": "riskrules.ruleset",
    "Reference": "riskrules.ruleset",
    "Rule": "riskrules.ruleset",
    "Ruleset": "riskrules.ruleset",
    "Scenario": "riskrules.ruleset",
    "dump_ruleset": "riskrules.ruleset",
    "load_ruleset": "riskrules.ruleset",
    # scoring and its report
    "Scorer": "riskrules.scoring",
    "score": "riskrules.scoring",
    "Explanation": "riskrules.report",
    "Firing": "riskrules.report",
    "HazardResult": "riskrules.report",
    "Indeterminate": "riskrules.report",
    "Recommendation": "riskrules.report",
    "RiskReport": "riskrules.report",
    "RulesetInfo": "riskrules.report",
    # graphs (networkx)
    "ruleset_graph": "riskrules.graph",
    "to_dot": "riskrules.graph",
    "to_graphml": "riskrules.graph",
    "to_html": "riskrules.graph",
    "to_mermaid": "riskrules.graph",
    "to_node_link_json": "riskrules.graph",
    # authoring
    "Diagnostic": "riskrules.authoring",
    "RulesetDiff": "riskrules.authoring",
    "diff_rulesets": "riskrules.authoring",
    "lint": "riskrules.authoring",
    # research
    "Comparison": "riskrules.research",
    "Record": "riskrules.research",
    "SweepResult": "riskrules.research",
    "compare": "riskrules.research",
    "iter_records": "riskrules.research",
    "report_row": "riskrules.research",
    "sweep": "riskrules.research",
    "synthesize": "riskrules.research",
}
"""Public name -> the module that defines it, imported on first access."""

_SUBMODULES = frozenset(
    {
        "authoring",
        "cdshooks",
        "cli",
        "dask",
        "engines",
        "errors",
        "fhir",
        "graph",
        "instruments",
        "planning",
        "report",
        "research",
        "ruleset",
        "scoring",
        "service",
        "testing",
    }
)
"""Submodules reachable as ``riskrules.<name>`` without an explicit import."""


def __getattr__(name: str) -> object:
    if name == "__version__":  # importlib.metadata alone costs more than the rest of the import
        globals()[name] = value = _version()
        return value
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})


__all__ = [
    "AssessmentError",
    "Comparison",
    "ConfigError",
    "Diagnostic",
    "EngineError",
    "Explanation",
    "FhirReferenceError",
    "Firing",
    "Hazard",
    "HazardResult",
    "Indeterminate",
    "Input",
    "InvariantError",
    "NotRecommendedError",
    "Parameter",
    "Property",
    "Protocol",
    "Recommendation",
    "Record",
    "RecordError",
    "Reference",
    "RiskReport",
    "RiskRulesError",
    "Rule",
    "Ruleset",
    "RulesetDiff",
    "RulesetError",
    "RulesetInfo",
    "Scenario",
    "ScenarioFailure",
    "Scorer",
    "ServiceRequestError",
    "SweepResult",
    "__version__",
    "compare",
    "diff_rulesets",
    "dump_ruleset",
    "iter_records",
    "lint",
    "load_ruleset",
    "report_row",
    "ruleset_graph",
    "score",
    "sweep",
    "synthesize",
    "to_dot",
    "to_graphml",
    "to_html",
    "to_mermaid",
    "to_node_link_json",
]
