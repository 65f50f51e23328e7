"""What one lint run knows about its ruleset, shared by the checks, and how they report.

:class:`LintContext` holds the ruleset, the analysis tools (value domains and the solver), who
asserts and who reads each finding, the rules found dead, and the diagnostics emitted so far.
"""

from __future__ import annotations

from collections.abc import Iterable

from riskrules._types import Loc
from riskrules.authoring._diagnostics import CHECKS, Diagnostic
from riskrules.authoring._domains import LeafDomains
from riskrules.authoring._solver import Solver, Truths
from riskrules.ruleset._conditions import FindingLeaf, walk
from riskrules.ruleset._loader import source_location
from riskrules.ruleset._safeyaml import format_path
from riskrules.ruleset._spec import Ruleset

__all__ = ["LintContext", "quoted"]


def quoted(names: Iterable[str]) -> str:
    """Names as a comma-separated list of quoted strings: ``'a', 'b'``."""
    return ", ".join(repr(n) for n in names)


class LintContext:
    """One lint run over one ruleset; the checks append to ``found``.

    ``asserters`` maps each finding to the rules asserting it (by index), ``reads`` lists per
    rule the findings it reads (finding, read positively, YAML path). ``contradictory``,
    ``dead`` and ``status`` (the truth values each finding can take) are filled in by the rule
    checks, which run before the checks that need them.
    """

    def __init__(self, ruleset: Ruleset) -> None:
        self.rs = ruleset
        self.found: list[Diagnostic] = []
        self.domains = LeafDomains(ruleset)
        self.solver = Solver(ruleset, self.domains)
        self.asserters: dict[str, list[int]] = {}
        for i, rule in enumerate(ruleset.rules):
            for finding in dict.fromkeys(rule.then.assert_):
                self.asserters.setdefault(finding, []).append(i)
        self.reads: list[list[tuple[str, bool, Loc]]] = [
            [
                (node.finding, positive, ("rules", i, "when", *path))
                for node, path, positive in walk(rule.when)
                if isinstance(node, FindingLeaf)
            ]
            for i, rule in enumerate(ruleset.rules)
        ]
        self.contradictory: set[int] = set()
        self.dead: set[int] = set()
        self.status: dict[str, Truths] = {}

    def findings_read(self) -> set[str]:
        """Every finding some rule reads."""
        return {finding for reads in self.reads for finding, _, _ in reads}

    def emit(self, code: str, loc: Loc, message: str, rule_id: str | None = None) -> None:
        """Record a diagnostic of ``code`` at ``loc``, located in the YAML where possible."""
        where = source_location(self.rs, loc)
        if where is None:
            file, line, column, path = None, None, None, format_path(loc)
        else:
            file, line, column, path = where
        self.found.append(
            Diagnostic(code, CHECKS[code][0], message, rule_id, file, line, column, path)
        )
