"""pytest plugin: ruleset scenarios are test items, so ``pytest rulesets/`` just works.

Registered through the ``pytest11`` entry point. This module is top-level and imports nothing
of riskrules until pytest offers it a ruleset file to collect, so a project that merely has
riskrules installed pays nothing for the plugin at pytest start-up. pytest offers it every file
it walks; a YAML file is collected when it has a top-level ``tests:`` section and is a riskrules
ruleset: a top-level ``ruleset:`` key, the schema comment naming ``ruleset.schema.json``, or
scenarios shaped as riskrules writes them (entries with ``input:`` and ``expect:``), so that a
fragment without a header is collected as ``riskrules test`` would run it. Each scenario written
in that file becomes one item per engine, named ``file.yaml::scenario name[engine]``. A file
collected whose scenarios no ruleset runs (a fragment its directory's top file does not include)
is reported as skipped, with the reason.

A scenario runs in the ruleset its file belongs to: a file with ``ruleset:`` is loaded on its
own (with what it includes); a fragment without it is run inside the ruleset of its directory
(the file there that no other includes). Scenarios of included files run with those files.

A failure shows the scenario's diff (expected vs actual), not a traceback. Choose engines with
``--riskrules-engine``; disable the plugin with ``-p no:riskrules``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from riskrules.testing import ScenarioRunner

__all__ = ["RulesetFile", "ScenarioItem"]

_TOP_KEY = r"^{}[ \t]*:"
_TESTS = re.compile(_TOP_KEY.format("tests"), re.MULTILINE)
_RULESET = re.compile(_TOP_KEY.format("ruleset"), re.MULTILINE)
_SCHEMA = re.compile(r"\A(?:\ufeff)?#[^\n]*\$schema=[^\n]*ruleset\.schema\.json")
_SCENARIO_KEYS = (re.compile(r"^[ \t-]*input[ \t]*:", re.M), re.compile(r"\bexpect[ \t]*:"))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("riskrules", "riskrules ruleset scenarios")
    group.addoption(
        "--riskrules-engine",
        action="append",
        choices=("native", "durable"),
        default=None,
        help="run ruleset scenarios on this engine (repeatable; default: every available one)",
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> RulesetFile | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    text = _read(file_path)
    if text is None or not _TESTS.search(text):
        return None
    scenarios = all(key.search(text) for key in _SCENARIO_KEYS)
    if not (_RULESET.search(text) or _SCHEMA.match(text) or scenarios):
        return None
    file: RulesetFile = RulesetFile.from_parent(parent, path=file_path)
    return file


class RulesetFile(pytest.File):
    """A ruleset YAML file whose own ``tests:`` scenarios become items."""

    def collect(self) -> Iterator[ScenarioItem]:
        from riskrules.errors import RiskRulesError
        from riskrules.ruleset import load_ruleset, source_location
        from riskrules.testing import ScenarioRunner, available_engines

        text = _read(self.path) or ""
        path = self.path
        with contextlib.suppress(ValueError):  # messages name files as the user typed them
            path = path.relative_to(self.config.invocation_params.dir)
        source = path if _RULESET.search(text) else path.parent
        try:
            ruleset = load_ruleset(source)
        except RiskRulesError as exc:
            raise self.CollectError(str(exc)) from None
        runner = ScenarioRunner(ruleset)
        self.config.add_cleanup(runner.close)
        engines = self.config.getoption("riskrules_engine") or available_engines()
        mine = self.path.resolve()
        base = self.config.invocation_params.dir
        own = 0
        for index, scenario in enumerate(ruleset.tests):
            where = source_location(ruleset, ("tests", index))
            if where is None or (base / where.file).resolve() != mine:
                continue
            own += 1
            for engine in dict.fromkeys(engines):
                yield ScenarioItem.from_parent(
                    self,
                    name=f"{scenario.name}[{engine}]",
                    runner=runner,
                    index=index,
                    engine=engine,
                    line=where.line,
                )
        if not own:
            why = (
                "the rulesets it builds on leave their scenarios out of a variant"
                if source == path
                else f"the ruleset of its directory ({ruleset.ruleset}) does not include it"
            )
            pytest.skip(f"{path}: its scenarios run in no ruleset: {why}")


class ScenarioItem(pytest.Item):
    """One scenario on one engine."""

    def __init__(
        self, *, runner: ScenarioRunner, index: int, engine: str, line: int, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.runner = runner
        self.index = index
        self.engine = engine
        self.line = line

    def runtest(self) -> None:
        from riskrules.errors import RiskRulesError, ScenarioFailure

        try:
            outcome = self.runner.run(self.index, self.engine)
        except RiskRulesError as exc:  # e.g. an engine that is not available here
            raise ScenarioFailure(f"{self.path.name}: scenario {self.name}: {exc}\n") from None
        if not outcome.passed:
            raise ScenarioFailure(outcome.diff())

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> Any:
        from riskrules.errors import ScenarioFailure

        if isinstance(excinfo.value, ScenarioFailure):
            return excinfo.value.diff.rstrip("\n")
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.line - 1, f"scenario {self.name}"
