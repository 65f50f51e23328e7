"""The riskrules exception family: every error says where it happened.

``RiskRulesError`` is the root; callers that only want "did riskrules reject this" catch it.
Errors carry structured attributes (file, line, path, field, ...) so that tools can act on them,
and a one-line ``str()`` that a person can act on. Every class here is exported at the top level
(``riskrules.RulesetError``)::

    RiskRulesError
    ├── RulesetError            a ruleset did not load (file:line:col, YAML path, rule id)
    ├── InvariantError          a broken cross-reference inside a ruleset (also a ValueError;
    │                           the loader turns it into a located RulesetError)
    ├── AssessmentError         an assessment does not fit the ruleset (field, value, constraint)
    ├── RecordError             a cohort record that does not fit: file, index, record id (wraps
    │                           the record's AssessmentError)
    ├── EngineError             a rule engine failed or is not available
    ├── NotRecommendedError     ``explain()`` of a protocol the report does not recommend
    │                           (also a KeyError)
    ├── FhirReferenceError      a reference, date or option for the FHIR export is unacceptable
    │                           (also a ValueError)
    ├── ConfigError             the CDS Hooks service's configuration is unusable
    ├── ServiceRequestError     the CDS Hooks service rejects a request (HTTP status, message)
    └── ScenarioFailure         a ruleset scenario failed under the pytest plugin

Exceptions used only as private control flow inside one module (never seen by a caller) stay
beside the code that raises and catches them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AssessmentError",
    "ConfigError",
    "EngineError",
    "FhirReferenceError",
    "InvariantError",
    "NotRecommendedError",
    "RecordError",
    "RiskRulesError",
    "RulesetError",
    "ScenarioFailure",
    "ServiceRequestError",
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


class InvariantError(RiskRulesError, ValueError):
    """A broken cross-reference invariant at ``loc`` (a path inside the merged ruleset).

    Raised inside model validation (hence a ``ValueError``); the loader reports it as a
    :class:`RulesetError` located at ``loc``.
    """

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


class RecordError(RiskRulesError):
    """A cohort record that does not fit the ruleset, located by file, record index and id."""

    def __init__(self, source: str, index: int, record_id: str | None, error: AssessmentError):
        self.source = source
        self.index = index
        self.record_id = record_id
        self.error = error
        super().__init__(self.__str__())

    def __str__(self) -> str:
        who = f"record {self.index}" + ("" if self.record_id is None else f" (id {self.record_id})")
        return f"{self.source}: {who}: {self.error}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (RecordError, (self.source, self.index, self.record_id, self.error))


class NotRecommendedError(RiskRulesError, KeyError):
    """``explain()`` was asked about a protocol the report does not recommend."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class FhirReferenceError(RiskRulesError, ValueError):
    """A reference, date or option given to the FHIR export is not acceptable."""


class ConfigError(RiskRulesError):
    """The CDS Hooks service configuration is unusable (message names the file and key)."""


class ServiceRequestError(RiskRulesError):
    """The CDS Hooks service rejects a request: ``status`` is the HTTP status (4xx, or 503 when
    a bounded resource is full) and ``message`` the reason sent back as ``{"error": message}``.

    Messages name fields and constraints, never the values a request carried.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (ServiceRequestError, (self.status, self.message))


class ScenarioFailure(RiskRulesError):
    """A ruleset scenario contradicted its expectations under the pytest plugin.

    ``diff`` is the expected-against-actual text that pytest shows instead of a traceback.
    """

    def __init__(self, diff: str) -> None:
        super().__init__(diff)
        self.diff = diff
