"""What scenario runs and property checks report alike.

One outcome per entry of a ruleset section (``tests:`` or ``properties:``), located where the
entry was written, and the results over a whole section: passed when every outcome passed, headed
and identified by the ruleset they checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from riskrules.ruleset._loader import SourceLocation, source_location
from riskrules.ruleset._spec import Ruleset
from riskrules.testing._common import location_text

__all__ = ["SectionOutcome", "SectionResults"]


@dataclass(frozen=True, slots=True)
class SectionOutcome:
    """The outcome for one entry of a ruleset section."""

    _section: ClassVar[str]
    """The section the entries are in: ``tests`` or ``properties``."""

    ruleset: Ruleset
    index: int
    """Position of the entry in its section of ``ruleset`` (``tests`` or ``properties``)."""

    @property
    def location(self) -> SourceLocation | None:
        """Where the entry was written (None for a ruleset not loaded from YAML)."""
        return source_location(self.ruleset, (self._section, self.index))

    @property
    def where(self) -> str:
        return location_text(self.ruleset, (self._section, self.index))


class _Checked(Protocol):
    @property
    def passed(self) -> bool: ...


OutcomeT = TypeVar("OutcomeT", bound=_Checked)


class SectionResults(Generic[OutcomeT]):
    """The outcomes for every entry of a ruleset section; a base for frozen dataclasses."""

    __slots__ = ()

    ruleset: Ruleset
    outcomes: tuple[OutcomeT, ...]

    @property
    def failures(self) -> tuple[OutcomeT, ...]:
        return tuple(o for o in self.outcomes if not o.passed)

    @property
    def passed(self) -> bool:
        return not self.failures

    def _heading(self, source: str | None) -> str:
        """``source: ruleset NAME VERSION: ``, the start of the summary line."""
        rs = self.ruleset
        head = f"{source}: " if source else ""
        return f"{head}ruleset {rs.ruleset} {rs.version}: "

    def _identity(self) -> dict[str, Any]:
        """The ruleset checked, as the first keys of ``to_dict()``."""
        rs = self.ruleset
        return {"ruleset": rs.ruleset, "version": rs.version, "fingerprint": rs.fingerprint}
