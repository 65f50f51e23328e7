"""What a variant changes in the rulesets it builds on.

A file that ``extends:`` a ruleset, or includes a built-in one by name, is a *variant*: it may
redefine an entry that an earlier file defined (a parameter, input, hazard, protocol or
reference by key, a rule by id) and disable rules by id. Each change is an :class:`Override`,
listed on the loaded ruleset as :attr:`Ruleset.overrides <riskrules.Ruleset.overrides>` so that
tools and readers can see what the variant changed and where.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Override"]


@dataclass(frozen=True, slots=True)
class Override:
    """One change a variant makes: ``action`` is ``"replaces"`` or ``"disables"``."""

    kind: str
    """``parameter``, ``input``, ``hazard``, ``protocol``, ``reference`` or ``rule``."""
    name: str
    action: str
    at: str
    """``file:line:column`` of the variant's entry (or of its ``disable`` item)."""
    original: str
    """``file:line:column`` of the entry it replaces or disables."""

    def __str__(self) -> str:
        return f"{self.at}: {self.action} {self.kind} {self.name!r} (defined at {self.original})"
