"""riskrules: explainable rule-based scoring of the risks mental-health professionals face.

Screening and decision support, not a diagnosis.
"""

from importlib.metadata import PackageNotFoundError, version

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

try:
    __version__ = version("riskrules")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "AssessmentError",
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
    "__version__",
    "diff_rulesets",
    "dump_ruleset",
    "lint",
    "load_ruleset",
    "ruleset_graph",
    "score",
    "to_dot",
    "to_graphml",
    "to_html",
    "to_mermaid",
    "to_node_link_json",
]
