"""The riskrules exception family: every error says where it happened.

``RiskRulesError`` is the root; callers that only want "did riskrules reject this" catch it.
Errors carry structured attributes (file, line, path, field, ...) so that tools can act on them,
and a one-line ``str()`` that a person can act on.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AssessmentError",
    "EngineError",
    "RiskRulesError",
    "RulesetError",
]


class RiskRulesError(Exception):
    """Base class of every error riskrules raises on purpose."""


class RulesetError(RiskRulesError):
    """A ruleset could not be loaded: bad YAML, bad shape or a broken invariant.

    Attributes mirror the printed form ``file:line:col: path: message``: ``file`` (a path or
    ``<string>``), ``line`` and ``column`` (1-based, ``None`` when unknown), ``path`` (the YAML
    path such as ``rules[3].when.all[1].gt``), ``rule_id`` (when the error is inside a rule) and
    ``message`` (the bare description).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        path: str = "",
        rule_id: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.rule_id = rule_id
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or "<ruleset>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [where]
        if self.path:
            parts.append(self.path)
        text = ": ".join(parts) + ": " + self.message
        if self.rule_id:
            text += f" [rule {self.rule_id}]"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_ruleset_error,
            (self.message, self.file, self.line, self.column, self.path, self.rule_id),
        )


def _rebuild_ruleset_error(
    message: str,
    file: str | None,
    line: int | None,
    column: int | None,
    path: str,
    rule_id: str | None,
) -> RulesetError:
    return RulesetError(message, file=file, line=line, column=column, path=path, rule_id=rule_id)


class AssessmentError(RiskRulesError):
    """An assessment (input document) does not fit the ruleset's declared inputs.

    ``field`` is the dotted field path, ``value`` the offending value (or ``None`` when the field
    itself is the problem), ``constraint`` what was expected. The values are part of the exception
    for the caller; riskrules never logs them.
    """

    def __init__(self, field: str, value: Any, constraint: str) -> None:
        self.field = field
        self.value = value
        self.constraint = constraint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        shown = repr(self.value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"{self.field or '<assessment>'}: {shown}: {self.constraint}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (AssessmentError, (self.field, self.value, self.constraint))


class EngineError(RiskRulesError):
    """A rule engine failed or is not available (e.g. durable-rules on Python 3.13+)."""
