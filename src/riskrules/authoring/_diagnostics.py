"""The lint codes and the diagnostic they produce.

:data:`CHECKS` is the registry of every code with its severity and a one-line summary
(``docs/lint.md`` explains each); :class:`Diagnostic` is one finding, located in the YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeAlias

__all__ = ["CHECKS", "Diagnostic", "Severity"]

Severity: TypeAlias = Literal["error", "warning"]

CHECKS: Mapping[str, tuple[Severity, str]] = {
    "RR101": ("error", "rule can never fire: it needs a finding that no rule can assert"),
    "RR102": ("warning", "test of a finding that no rule can assert is constant"),
    "RR103": ("error", "rule can never fire: its conditions contradict each other or the bounds"),
    "RR104": ("warning", "field test that can never hold given the input's declared domain"),
    "RR105": ("warning", "rule fires on every assessment"),
    "RR106": ("warning", "field test that always holds when its input is present"),
    "RR107": ("error", "rule with no effect: no points, findings, protocols or floor"),
    "RR108": ("warning", "presence test under `not`: the rule fires when data is missing"),
    "RR109": ("error", "rule's own tests exclude the conditions of the findings it needs"),
    "RR110": ("warning", "parameter's default or range lies outside its input's range"),
    "RR111": ("warning", "rule subsumed by a broader rule with the same effect"),
    "RR201": ("error", "finding read under `not` inside its own dependency cycle"),
    "RR202": ("warning", "positive dependency cycle between findings"),
    "RR301": ("warning", "finding asserted but never read"),
    "RR302": ("warning", "input declared but never read"),
    "RR303": ("warning", "parameter declared but never used"),
    "RR304": ("warning", "protocol declared but never named by a rule or hazard"),
    "RR305": ("warning", "reference declared but never cited"),
    "RR401": ("warning", "duplicate rules: equivalent conditions in the same hazard"),
    "RR402": ("warning", "level unreachable: no achievable score lands in its band"),
    "RR403": ("warning", "top band unreachable: the hazard's maximum score is below it"),
    "RR404": ("warning", "protocol that nothing can recommend"),
    "RR405": ("error", "floor at a level the hazard's bands do not define"),
    "RR406": ("warning", "hazard with no rules"),
    "RR407": ("warning", "cut-off table with overlapping ranges or a gap"),
}
"""Every lint code: its severity and a one-line summary (``docs/lint.md`` explains each)."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One lint finding, located where the defect was written.

    ``file``, ``line`` and ``column`` (1-based) are None when the ruleset was not loaded from
    YAML; ``path`` is the YAML path (``rules[3].when.all[1]``) either way.
    """

    code: str
    severity: Severity
    message: str
    rule_id: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str = ""

    @property
    def location(self) -> str:
        """``file:line:col``, or ``<ruleset>:path`` for a ruleset not loaded from YAML."""
        if self.file is None or self.line is None:
            where = self.file or "<ruleset>"
            return f"{where}:{self.path}" if self.path else where
        return f"{self.file}:{self.line}:{self.column or 1}"

    def __str__(self) -> str:
        return f"{self.location} {self.code} {self.severity} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The diagnostic as plain JSON-ready data."""
        return asdict(self)

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        """Order by file, line, column and code (then path and message, for ties)."""
        return (
            self.file or "",
            self.line or 0,
            self.column or 0,
            self.code,
            self.path,
            self.message,
        )
