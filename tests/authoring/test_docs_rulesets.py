"""The rulesets written in the docs lint clean and pass their scenarios, and the authoring guide
lists every value an enumerated key takes."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
import yaml

from riskrules import RulesetError, lint, load_ruleset
from riskrules.ruleset._conditions import OPERATORS
from riskrules.ruleset._spec import (
    DEFAULT_LEVELS,
    PROPERTY_KINDS,
    Expect,
    Input,
    Monotone,
    Parameter,
    Protocol,
    Then,
)
from riskrules.testing import run_scenarios

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _ruleset_blocks() -> list[tuple[str, str]]:
    """Every ```yaml block in docs/*.md that is a whole ruleset file (has ``ruleset:``)."""
    blocks = []
    for doc in sorted(DOCS.glob("*.md")):
        text = doc.read_text("utf-8")
        for match in re.finditer(r"```yaml\n(.*?)```", text, flags=re.DOTALL):
            data = yaml.safe_load(match.group(1))
            if isinstance(data, dict) and "ruleset" in data:
                line = text[: match.start()].count("\n") + 2
                blocks.append((f"{doc.name}:{line}", match.group(1)))
    return blocks


BLOCKS = _ruleset_blocks()


def test_the_docs_hold_whole_rulesets() -> None:
    names = [name.split(":")[0] for name, _ in BLOCKS]
    assert "authoring.md" in names
    assert "research.md" in names


def _local_includes(text: str) -> list[str]:
    data = yaml.safe_load(text)
    named = [*data.get("include", []), *([data["extends"]] if "extends" in data else [])]
    return [n for n in named if not re.fullmatch(r"[a-z][a-z0-9_]*", n)]


@pytest.mark.parametrize(("where", "text"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_every_ruleset_in_the_docs_lints_clean(where: str, text: str) -> None:
    local = _local_includes(text)
    if local:
        # a manifest of files the page only names: its own text must still be a valid file
        with pytest.raises(RulesetError, match="cannot include"):
            load_ruleset(text)
        return
    assert [str(d) for d in lint(text)] == [], where
    ruleset = load_ruleset(text)
    if ruleset.tests:
        outcome = run_scenarios(ruleset, engines=["native"])
        assert outcome.passed, outcome.to_text(where)


def _literal(model: type, name: str) -> tuple[str, ...]:
    hints = typing.get_type_hints(model, include_extras=False)
    return tuple(str(v) for v in typing.get_args(hints[name]))


def test_the_authoring_guide_lists_every_enumerated_value() -> None:
    guide = (DOCS / "authoring.md").read_text("utf-8")
    table = guide.split("## Every enumerated value", 1)[1].split("\n## ", 1)[0]
    expect_keys = [f.alias or name for name, f in Expect.model_fields.items()]
    then_keys = [f.alias or name for name, f in Then.model_fields.items()]
    groups = {
        "urgency": _literal(Protocol, "urgency"),
        "input types": _literal(Input, "type"),
        "parameter types": _literal(Parameter, "type"),
        "levels": DEFAULT_LEVELS,
        "operators": OPERATORS,
        "properties": PROPERTY_KINDS,
        "direction": _literal(Monotone, "direction"),
        "expect": tuple(expect_keys),
        "then": tuple(then_keys),
    }
    for group, values in groups.items():
        assert values, group
        for value in values:
            assert f"`{value}`" in table, f"{group}: {value} is not listed"
