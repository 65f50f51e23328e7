"""Shared test configuration: hypothesis profiles and the ``engine`` fixture.

``ci`` (the default) is thorough enough for continuous integration; ``dev`` is
quick for local iteration. Choose with ``HYPOTHESIS_PROFILE=dev pytest``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from engines_here import DURABLE, ENGINES

# durable-rules does not build on CPython 3.13+, so the durable engine's own tests cannot run there
# (the engine then raises EngineError and Scorer(engine="auto") uses the native engine).
collect_ignore = [] if DURABLE else ["engines/test_durable.py"]
# The YAML under data/ is input for the loader tests, not scenario suites for the riskrules
# pytest plugin (which collects the scenarios of ruleset files it finds).
collect_ignore.append("data")

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=20, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each engine that runs here, by name."""
    name: str = request.param
    return name
