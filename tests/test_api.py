"""The public surface: what users import, pinned so that a rename is a deliberate act.

A name added to or removed from a public module fails here until this file is updated with it
(and CHANGELOG.md says so). The import of riskrules stays light, and every exception is in
``riskrules.errors``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import riskrules
from riskrules.errors import RiskRulesError

TOP_LEVEL = {
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
    "ScenarioFailure",
    "ServiceRequestError",
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
}
"""``riskrules.__all__``."""

PUBLIC_MODULES = (
    "riskrules.authoring",
    "riskrules.cdshooks",
    "riskrules.dask",
    "riskrules.engines",
    "riskrules.errors",
    "riskrules.fhir",
    "riskrules.graph",
    "riskrules.instruments",
    "riskrules.planning",
    "riskrules.report",
    "riskrules.research",
    "riskrules.ruleset",
    "riskrules.scoring",
    "riskrules.service",
    "riskrules.testing",
)
"""Modules users import by name (their ``__all__`` is their surface)."""

SURFACE = Path(__file__).parent / "data" / "public_surface.json"
"""The pinned ``__all__`` of each public module; regenerate deliberately (see test below)."""

HEAVY = ("networkx", "pydantic", "hypothesis", "pyarrow", "matplotlib", "dask", "starlette")
"""Modules that ``import riskrules`` must not load (durable-rules is checked separately)."""


def _surface() -> dict[str, list[str]]:
    return {name: sorted(importlib.import_module(name).__all__) for name in PUBLIC_MODULES}


def test_top_level_all_is_pinned() -> None:
    assert set(riskrules.__all__) == TOP_LEVEL
    assert len(riskrules.__all__) == len(TOP_LEVEL), "a name is listed twice in __all__"


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_every_top_level_name_resolves(name: str) -> None:
    assert getattr(riskrules, name) is not None
    assert name in dir(riskrules)


def test_lazy_table_and_all_agree() -> None:
    lazy = set(riskrules._LAZY)
    eager = {n for n in TOP_LEVEL if n in vars(riskrules)} - lazy
    # every name is either imported eagerly (the errors) or through the lazy table
    assert lazy | eager | {"__version__"} >= TOP_LEVEL
    assert lazy <= TOP_LEVEL, f"lazy names missing from __all__: {sorted(lazy - TOP_LEVEL)}"


def test_public_modules_match_the_pinned_surface() -> None:
    """A deliberate change regenerates the pin (see scripts/public_surface.py)."""
    pinned = json.loads(SURFACE.read_text(encoding="utf-8"))
    actual = _surface()
    for module in PUBLIC_MODULES:
        added = sorted(set(actual[module]) - set(pinned.get(module, [])))
        removed = sorted(set(pinned.get(module, [])) - set(actual[module]))
        assert (added, removed) == ([], []), f"{module}: added {added}, removed {removed}"


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_names_resolve(module: str) -> None:
    mod = importlib.import_module(module)
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name} is listed in __all__ but missing"


def _package_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(riskrules.__path__, "riskrules."):
        names.append(info.name)
    return names


def test_every_exception_lives_in_errors_and_is_exported() -> None:
    found: dict[str, type[BaseException]] = {}
    for name in _package_modules():
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional dependency that is not installed here
            continue
        for attr, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__.startswith("riskrules")
                and not attr.startswith("_")
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    assert found, "no exception classes found: the walk is broken"
    for qualified, cls in sorted(found.items()):
        assert cls.__module__ == "riskrules.errors", f"{qualified} lives outside errors.py"
        assert issubclass(cls, RiskRulesError), f"{qualified} is not a RiskRulesError"
        assert cls.__name__ in TOP_LEVEL, f"{qualified} is not exported at the top level"
        assert cls.__name__ in (riskrules.errors.__doc__ or ""), f"{qualified} not in the tree"


def _run(code: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    return done.stdout


def test_import_riskrules_is_light() -> None:
    out = _run(
        f"""
        import sys
        import riskrules
        heavy = {HEAVY!r}
        print(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m.startswith("durable")))
        """
    )
    assert out.strip() == "[]", out


def test_scoring_does_not_load_networkx_until_a_graph_is_asked_for() -> None:
    out = _run(
        """
        import sys
        import riskrules
        report = riskrules.score({"clinician": {"active_clients": 40}}, engine="native")
        before = "networkx" in sys.modules
        report.graph
        print(before, "networkx" in sys.modules)
        """
    )
    assert out.split() == ["False", "True"]


def test_pytest_plugin_does_not_import_riskrules_for_other_projects(tmp_path: Path) -> None:
    (tmp_path / "test_other.py").write_text(
        "import sys\n\n\ndef test_alone():\n    assert 'riskrules' not in sys.modules\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    plugins = subprocess.run(
        [sys.executable, "-m", "pytest", "--trace-config", "-q", "--co", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "_riskrules_pytestplugin" in plugins.stdout, "the plugin is not registered"


def test_api_page_is_current() -> None:
    """docs/api.md is generated from the docstrings; regenerate it when the surface changes."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, str(root / "scripts" / "api_doc.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    page = (root / "docs" / "api.md").read_text(encoding="utf-8")
    assert page == done.stdout, "docs/api.md is stale: python scripts/api_doc.py > docs/api.md"
