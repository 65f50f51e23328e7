"""Merging the files of a ruleset into one validated ``Ruleset`` that remembers its sources.

A manifest's ``include:`` paths are relative to the including file. Included files come first,
in the order listed (depth first), then the including file's own entries; a file reached twice
(a diamond) is merged once. Mapping sections (references, parameters, inputs, hazards,
protocols) are merged key by key and a key defined twice is an error naming both places; the
lists (rules, tests, properties) are concatenated in that order. ``ruleset``, ``version``,
``title`` and ``description`` come from the top file; ``levels`` may be declared by several
files if they agree.

The merged data is validated as a :class:`~riskrules.ruleset._spec.Ruleset`; a problem is mapped
back through the :class:`~riskrules.ruleset._locations.SourceMap` to the file, line, column and
YAML path where it was written.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from pydantic import ValidationError

from riskrules.errors import InvariantError
from riskrules.ruleset._includes import Doc
from riskrules.ruleset._locations import FileMap, SourceMap, located_error, remember
from riskrules.ruleset._messages import Problem, position, translate
from riskrules.ruleset._model import HEADER_KEYS, LIST_SECTIONS, MAPPING_SECTIONS
from riskrules.ruleset._spec import Ruleset

__all__ = ["merge"]


_Entries: TypeAlias = dict[tuple[str, str | int], tuple[int, str | int]]


def merge(docs: list[Doc]) -> Ruleset:
    """The ruleset ``docs`` make up, merged in order; the last one is the top file."""
    root = docs[-1]
    for key in HEADER_KEYS[:3]:
        if root.data.get(key) is None:
            raise root.error(
                (),
                f"missing required key {key!r} (the top file of a ruleset declares "
                "ruleset, version and title)",
            )
    merged: dict[str, Any] = {
        key: root.data[key] for key in HEADER_KEYS if root.data.get(key) is not None
    }
    entries: _Entries = {}
    levels_from = _merge_levels(docs, merged)
    _merge_mappings(docs, merged, entries)
    _merge_lists(docs, merged, entries)
    smap = SourceMap(
        files=tuple(FileMap(d.source.display, d.source.location, d.node) for d in docs),
        root=len(docs) - 1,
        levels=levels_from,
        entries=entries,
    )
    ruleset = _validate(merged, smap)
    remember(ruleset, smap)
    return ruleset


def _merge_levels(docs: list[Doc], merged: dict[str, Any]) -> int:
    """Set the one level scale; the index of the file it comes from (the top file by default)."""
    declared = [(i, d) for i, d in enumerate(docs) if d.data.get("levels") is not None]
    if not declared:
        return len(docs) - 1
    declared.sort(key=lambda pair: pair[0] != len(docs) - 1)  # the top file's wins
    first_index, first = declared[0]
    for _, doc in declared[1:]:
        if doc.data["levels"] != first.data["levels"]:
            where = first.place(("levels",))
            raise doc.error(
                ("levels",),
                f"levels differ from those declared at {where}; a ruleset has one scale",
            )
    merged["levels"] = first.data["levels"]
    return first_index


def _merge_mappings(docs: list[Doc], merged: dict[str, Any], entries: _Entries) -> None:
    """Merge the mapping sections key by key; a key defined twice is an error."""
    for section, kind in MAPPING_SECTIONS.items():
        out: dict[str, Any] = {}
        for index, doc in enumerate(docs):
            for name, value in (doc.data.get(section) or {}).items():
                if name in out:
                    first_index, _ = entries[(section, name)]
                    where = docs[first_index].place((section, name), at="key")
                    raise doc.error(
                        (section, name),
                        f"duplicate {kind} {name!r} (also defined at {where})",
                        at="key",
                    )
                out[name] = value
                entries[(section, name)] = (index, name)
        if out:
            merged[section] = out


def _merge_lists(docs: list[Doc], merged: dict[str, Any], entries: _Entries) -> None:
    """Concatenate the list sections; a rule id defined twice is an error."""
    rule_ids: dict[str, tuple[int, int]] = {}
    for section in LIST_SECTIONS:
        items: list[Any] = []
        for index, doc in enumerate(docs):
            for j, item in enumerate(doc.data.get(section) or ()):
                if section == "rules":
                    rule_id = item["id"]
                    if rule_id in rule_ids:
                        first_index, first_j = rule_ids[rule_id]
                        where = docs[first_index].place(("rules", first_j, "id"))
                        raise doc.error(
                            ("rules", j, "id"),
                            f"duplicate rule id {rule_id!r} (also defined at {where})",
                        )
                    rule_ids[rule_id] = (index, j)
                entries[(section, len(items))] = (index, j)
                items.append(item)
        if items:
            merged[section] = items


def _validate(merged: dict[str, Any], smap: SourceMap) -> Ruleset:
    """``merged`` as a Ruleset; the first problem is raised where it was written."""
    try:
        return Ruleset.model_validate(merged)
    except ValidationError as exc:
        invariants = [
            error
            for e in exc.errors()
            if isinstance(error := (e.get("ctx") or {}).get("error"), InvariantError)
        ]
        if invariants:
            problem = Problem(tuple(invariants[0].loc), invariants[0].message, "value")
        else:
            problems = translate(exc, merged, Ruleset)
            problem = min(problems, key=lambda p: _merged_order(p, smap))
        fmap, local = smap.resolve(problem.loc)
        raise located_error(
            fmap.display, fmap.node, local, problem.message, at=problem.at
        ) from None


def _merged_order(problem: Problem, smap: SourceMap) -> tuple[int, int, int]:
    """Sort key of a problem in the merged ruleset: file in merge order, line, column."""
    fmap, local = smap.resolve(problem.loc)
    line, column = position(fmap.node, Problem(local, problem.message, problem.at))
    return smap.files.index(fmap), line, column
