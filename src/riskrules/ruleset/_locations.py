"""Where each part of a loaded ruleset was written, and errors located there.

Every :class:`~riskrules.errors.RulesetError` the loader raises is built by :func:`located_error`:
file, line and column of the node at a YAML path, the path itself, and the id of the rule it lies
in. A merged ruleset keeps a :class:`SourceMap` from its paths back to the files they came from;
:func:`source_location` and :func:`source_files` answer from it for as long as the ruleset lives.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from riskrules._types import Loc
from riskrules.errors import RulesetError
from riskrules.ruleset._conditions import TAG_PREFIX
from riskrules.ruleset._safeyaml import Node, format_path, locate

if TYPE_CHECKING:
    from riskrules.ruleset._spec import Ruleset

__all__ = [
    "FileMap",
    "SourceLocation",
    "SourceMap",
    "located_error",
    "place",
    "remember",
    "source_files",
    "source_location",
]


class SourceLocation(NamedTuple):
    """Where a part of a loaded ruleset was written: file, 1-based line and column, YAML path."""

    file: str
    line: int
    column: int
    path: str


@dataclass(frozen=True, slots=True)
class FileMap:
    """One file of a merged ruleset: its display name, its location and its parsed root node."""

    display: str
    location: str
    node: Node


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Maps a location in the merged ruleset to the file and the location inside it."""

    files: tuple[FileMap, ...]
    root: int
    levels: int
    entries: dict[tuple[str, str | int], tuple[int, str | int]]

    def resolve(self, loc: Loc) -> tuple[FileMap, Loc]:
        if len(loc) >= 2:
            entry = self.entries.get((str(loc[0]), loc[1]))
            if entry is not None:
                index, local = entry
                return self.files[index], (loc[0], local, *loc[2:])
        if loc and loc[0] == "levels":
            return self.files[self.levels], loc
        return self.files[self.root], loc


_SOURCE_MAPS: dict[int, SourceMap] = {}


def remember(ruleset: Ruleset, smap: SourceMap) -> None:
    """Keep ``smap`` for ``ruleset`` until the ruleset is garbage-collected."""
    key = id(ruleset)
    _SOURCE_MAPS[key] = smap
    weakref.finalize(ruleset, _SOURCE_MAPS.pop, key, None)


def source_location(ruleset: Ruleset, loc: Sequence[str | int]) -> SourceLocation | None:
    """Where ``loc`` (a path in the merged ruleset, e.g. ``("rules", 3, "when")``) was written.

    Falls back to the nearest enclosing part that was written (a defaulted key has no place of
    its own). None for a ruleset that was not loaded from YAML by :func:`load_ruleset`.
    """
    smap = _SOURCE_MAPS.get(id(ruleset))
    if smap is None:
        return None
    clean = tuple(p for p in loc if not (isinstance(p, str) and p.startswith(TAG_PREFIX)))
    fmap, local = smap.resolve(clean)
    node, reached, _ = locate(fmap.node, local)
    return SourceLocation(fmap.display, node.line, node.column, format_path(reached))


def source_files(ruleset: Ruleset) -> tuple[str, ...]:
    """The files a loaded ruleset was merged from, in merge order (empty if not loaded)."""
    smap = _SOURCE_MAPS.get(id(ruleset))
    return tuple(f.location for f in smap.files) if smap is not None else ()


def located_error(
    display: str, root: Node, loc: Loc, message: str, *, at: str = "value"
) -> RulesetError:
    """A RulesetError at ``loc`` in the file ``display`` whose parsed root is ``root``.

    ``at`` places it at the value, at the key (``"key"``) or at the enclosing mapping.
    """
    node, reached, key_node = locate(root, loc)
    path = reached
    if at == "key" and key_node is not None and reached == loc:
        node, path = key_node, loc[:-1]
    return RulesetError(
        message,
        file=display,
        line=node.line,
        column=node.column,
        path=format_path(path),
        rule_id=_rule_id(root, loc),
    )


def place(display: str, root: Node, loc: Loc, *, at: str = "value") -> str:
    """``file:line:column`` of ``loc`` (of its key when ``at`` is "key")."""
    node, _, key_node = locate(root, loc)
    if at == "key" and key_node is not None:
        node = key_node
    return f"{display}:{node.line}:{node.column}"


def _rule_id(root: Node, loc: Loc) -> str | None:
    if len(loc) < 2 or loc[0] != "rules" or not isinstance(loc[1], int):
        return None
    node, reached, _ = locate(root, (*loc[:2], "id"))
    if len(reached) == 3 and node.kind == "scalar" and isinstance(node.value, str):
        return node.value
    return None
