"""Merging the files of a ruleset into one validated ``Ruleset`` that remembers its sources.

A manifest's ``include:`` paths are relative to the including file. Included files come first,
in the order listed (depth first), then the including file's own entries; a file reached twice
(a diamond) is merged once. Mapping sections (references, parameters, inputs, hazards,
protocols) are merged key by key and a key defined twice is an error naming both places; the
lists (rules, tests, properties) are concatenated in that order. ``ruleset``, ``version``,
``title`` and ``description`` come from the top file; ``levels`` may be declared by several
files if they agree.

A *variant* (a file that ``extends:`` a ruleset or includes a built-in one by name) may instead
redefine an entry an earlier file defined, mapping entries by key and rules by id (a replaced
rule keeps its place in the order), and disable rules by id; each change is recorded as an
:class:`~riskrules.ruleset._overrides.Override` on the ruleset. The scenarios (``tests``) of the
rulesets a variant builds on are left out: they pin down what that ruleset scores, which the
variant changes on purpose; its properties are kept.

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
from riskrules.ruleset._model import HEADER_KEYS, LIST_SECTIONS, MAPPING_SECTIONS, did_you_mean
from riskrules.ruleset._overrides import Override
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
    overrides: list[Override] = []
    levels_from = _merge_levels(docs, merged)
    _merge_mappings(docs, merged, entries, overrides)
    _merge_lists(docs, merged, entries, overrides)
    smap = SourceMap(
        files=tuple(FileMap(d.source.display, d.source.location, d.node) for d in docs),
        root=len(docs) - 1,
        levels=levels_from,
        entries=entries,
    )
    ruleset = _validate(merged, smap)
    ruleset._overrides = tuple(overrides)
    ruleset._base_files = frozenset(d.source.display for d in docs if d.base)
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


def _merge_mappings(
    docs: list[Doc], merged: dict[str, Any], entries: _Entries, overrides: list[Override]
) -> None:
    """Merge the mapping sections key by key; a key defined twice is an error, unless a
    variant redefines it."""
    for section, kind in MAPPING_SECTIONS.items():
        out: dict[str, Any] = {}
        for index, doc in enumerate(docs):
            for name, value in (doc.data.get(section) or {}).items():
                if name in out:
                    first_index, _ = entries[(section, name)]
                    where = docs[first_index].place((section, name), at="key")
                    if not doc.variant or first_index == index:
                        raise doc.error(
                            (section, name),
                            f"duplicate {kind} {name!r} (also defined at {where})",
                            at="key",
                        )
                    at = doc.place((section, name), at="key")
                    overrides.append(Override(kind, name, "replaces", at, where))
                    del out[name]  # the variant's entry takes the place of the original
                out[name] = value
                entries[(section, name)] = (index, name)
        if out:
            merged[section] = out


def _merge_lists(
    docs: list[Doc], merged: dict[str, Any], entries: _Entries, overrides: list[Override]
) -> None:
    """Concatenate the list sections; a rule id defined twice is an error, unless a variant
    redefines it (the new rule takes the old one's place); disabled rules are left out."""
    rule_at: dict[str, tuple[int, int, int]] = {}  # id -> file, index in file, index in list
    for section in LIST_SECTIONS:
        items: list[Any] = []
        for index, doc in enumerate(docs):
            if section == "tests" and doc.base:
                continue  # scenarios of the ruleset a variant builds on describe that one
            for j, item in enumerate(doc.data.get(section) or ()):
                slot = len(items)
                if section == "rules":
                    rule_id = item["id"]
                    if rule_id in rule_at:
                        first_index, first_j, slot = rule_at[rule_id]
                        where = docs[first_index].place(("rules", first_j, "id"))
                        if not doc.variant or first_index == index:
                            raise doc.error(
                                ("rules", j, "id"),
                                f"duplicate rule id {rule_id!r} (also defined at {where})",
                            )
                        at = doc.place(("rules", j, "id"))
                        overrides.append(Override("rule", rule_id, "replaces", at, where))
                    rule_at[rule_id] = (index, j, slot)
                entries[(section, slot)] = (index, j)
                if slot == len(items):
                    items.append(item)
                else:
                    items[slot] = item
        if section == "rules":
            items = _disable(docs, items, rule_at, entries, overrides)
        if items:
            merged[section] = items


def _disable(
    docs: list[Doc],
    rules: list[Any],
    rule_at: dict[str, tuple[int, int, int]],
    entries: _Entries,
    overrides: list[Override],
) -> list[Any]:
    """``rules`` without those the files ``disable``; the source entries are renumbered."""
    disabled: set[str] = set()
    for index, doc in enumerate(docs):
        for k, rule_id in enumerate(doc.model.disable):
            if rule_id not in rule_at or rule_at[rule_id][0] >= index:
                hint = did_you_mean(rule_id, [i for i, at in rule_at.items() if at[0] < index])
                raise doc.error(
                    ("disable", k),
                    f"no rule {rule_id!r} in the rulesets this file builds on{hint}",
                )
            first_index, first_j, _ = rule_at[rule_id]
            where = docs[first_index].place(("rules", first_j, "id"))
            at = doc.place(("disable", k))
            overrides.append(Override("rule", rule_id, "disables", at, where))
            disabled.add(rule_id)
    if not disabled:
        return rules
    kept: list[Any] = []
    for slot, rule in enumerate(rules):
        origin = entries.pop(("rules", slot))
        if rule["id"] not in disabled:
            entries[("rules", len(kept))] = origin
            kept.append(rule)
    return kept


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
