"""riskrules: explainable rule-based scoring of the risks mental-health professionals face.

Screening and decision support, not a diagnosis.
"""

from importlib.metadata import PackageNotFoundError, version

from .cohort import Record, iter_records, report_row
from .compare import Comparison, SweepResult, compare, sweep
from .diff import RulesetDiff, diff_rulesets
from .errors import AssessmentError, EngineError, RiskRulesError, RulesetError
from .graph import ruleset_graph, to_dot, to_graphml, to_html, to_mermaid, to_node_link_json
from .lint import Diagnostic, lint
from .loader import dump_ruleset, load_ruleset
from .report import (
    Explanation,
    Firing,
    HazardResult,
    Indeterminate,
    Recommendation,
    RiskReport,
    RulesetInfo,
)
from .scoring import Scorer, score
from .spec import (
    Hazard,
    Input,
    Parameter,
    Property,
    Protocol,
    Reference,
    Rule,
    Ruleset,
    Scenario,
)
from .synth import synthesize

try:
    __version__ = version("riskrules")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

_LAZY_SUBMODULES = frozenset({"instruments", "cdshooks", "fhir"})
"""Submodules reachable as ``riskrules.<name>`` but imported only on first use."""


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AssessmentError",
    "Comparison",
    "Diagnostic",
    "EngineError",
    "Explanation",
    "Firing",
    "Hazard",
    "HazardResult",
    "Indeterminate",
    "Input",
    "Parameter",
    "Property",
    "Protocol",
    "Recommendation",
    "Record",
    "Reference",
    "RiskReport",
    "RiskRulesError",
    "Rule",
    "Ruleset",
    "RulesetDiff",
    "RulesetError",
    "RulesetInfo",
    "Scenario",
    "Scorer",
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
