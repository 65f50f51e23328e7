"""Semantic diff of two rulesets: what changed in meaning, by id, not by text.

Both rulesets are compared in their canonical form (the form the fingerprint hashes), so layout,
comments, key order and the way a ruleset is split into files never show up. Mapping sections
(references, parameters, inputs, hazards, protocols) are matched by key and rules by id; within
an item every difference is reported at its YAML-style path (``when.all[1].gte``,
``bands.high``, ``then.points``) with the old and the new value. Rule order matters (it breaks
ties), so a rule that moved in the list is reported as ``moved`` and nothing else. Findings,
which are not declared, are compared as the set of findings some rule asserts. Scenarios
(``tests:``) are not part of a ruleset's meaning and are not compared.

>>> from riskrules import load_ruleset
>>> a = load_ruleset("default")
>>> diff_rulesets(a, a).identical
True
"""

from __future__ import annotations

import difflib
import json
import os
import re
from typing import Any, Literal, TypeAlias

from riskrules._types import FrozenModel, Loc
from riskrules.ruleset._loader import load_ruleset
from riskrules.ruleset._model import HEADER_KEYS, MAPPING_SECTIONS, SECTION_ORDER
from riskrules.ruleset._safeyaml import format_path
from riskrules.ruleset._spec import Ruleset

__all__ = ["SECTIONS", "Change", "RulesetDiff", "RulesetSide", "diff_rulesets"]

SECTIONS: tuple[str, ...] = (
    "ruleset",
    *(s for s in SECTION_ORDER if s in ("levels", *MAPPING_SECTIONS) and s != "protocols"),
    "rules",
    "findings",
    "protocols",
)
"""The sections of a diff, in the order they are reported: the canonical order of a ruleset,
with the findings (which rules assert) between the rules and the protocols."""

ChangeKind = Literal["added", "removed", "changed", "moved"]

_MARKERS: dict[str, str] = {"added": "+", "removed": "-", "changed": "~", "moved": "~"}
_MAPPINGS = tuple(MAPPING_SECTIONS)
_META = HEADER_KEYS
_HANDLED = {*_META, "levels", *_MAPPINGS, "rules"}
"""Top-level keys of the canonical form with their own comparison; others are compared whole."""
_CONDITION_TAGS = ("all", "any", "not", "at_least", "field", "finding")
_OPERATORS = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between"}


class RulesetSide(FrozenModel):
    """One side of a diff: which ruleset it was."""

    ruleset: str
    version: str
    fingerprint: str


class Change(FrozenModel):
    """One semantic difference.

    ``section`` is one of :data:`SECTIONS`; ``id`` the item's key or rule id (empty for the
    ``levels`` section); ``path`` the YAML-style path inside the item (empty when the whole item
    was added, removed or moved); ``aspect`` what kind of thing changed (``threshold``,
    ``points``, ``floor``, ``findings``, ``recommendations``, ``bands``, ``cap``, ``default``,
    ``bounds``, ``type``, ``values``, ``urgency``, ``title``, ``order``, ...); ``old`` and
    ``new`` the values on each side (``None`` where absent; positions for ``moved``).
    """

    section: str
    kind: ChangeKind
    id: str
    path: str = ""
    aspect: str
    old: Any = None
    new: Any = None

    @property
    def marker(self) -> str:
        """``+`` added, ``-`` removed, ``~`` changed or moved."""
        return _MARKERS[self.kind]


class RulesetDiff(FrozenModel):
    """The semantic differences from ruleset ``a`` to ruleset ``b``, grouped by section."""

    a: RulesetSide
    b: RulesetSide
    changes: tuple[Change, ...]

    @property
    def identical(self) -> bool:
        """True when the two rulesets mean the same (scenarios aside)."""
        return not self.changes

    def section(self, name: str) -> tuple[Change, ...]:
        """The changes in one section, in report order."""
        return tuple(c for c in self.changes if c.section == name)

    def to_json(self) -> str:
        """The diff as indented JSON: both sides, ``identical`` and the list of changes."""
        data = {"a": self.a.model_dump(), "b": self.b.model_dump(), "identical": self.identical}
        data["changes"] = [c.model_dump() for c in self.changes]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def to_text(self, a_label: str = "a", b_label: str = "b") -> str:
        """A readable report: both fingerprints, then each section's changes with markers."""
        width = max(len(a_label), len(b_label))
        lines = [
            f"--- {a_label:<{width}}  {self.a.ruleset} {self.a.version}  "
            f"fingerprint {self.a.fingerprint}",
            f"+++ {b_label:<{width}}  {self.b.ruleset} {self.b.version}  "
            f"fingerprint {self.b.fingerprint}",
        ]
        if self.identical:
            lines.append("")
            lines.append("no semantic differences")
        names = sorted({c.section for c in self.changes}, key=_section_rank)
        for name in names:
            changes = self.section(name)
            lines.append("")
            count = f"{len(changes)} change" + ("" if len(changes) == 1 else "s")
            lines.append(f"{name} ({count})")
            lines.extend(f"  {_change_text(c)}" for c in changes)
        return "\n".join(lines) + "\n"


def diff_rulesets(
    a: Ruleset | str | os.PathLike[str], b: Ruleset | str | os.PathLike[str]
) -> RulesetDiff:
    """The semantic diff from ``a`` to ``b`` (each a Ruleset or anything load_ruleset takes).

    Raises RulesetError when either side does not load.
    """
    old, new = load_ruleset(a), load_ruleset(b)
    ca, cb = old.canonical(), new.canonical()
    changes: list[Change] = []
    changes.extend(_meta_changes(ca, cb))
    if ca.get("levels") != cb.get("levels"):
        changes.append(
            Change(
                section="levels",
                kind="changed",
                id="",
                aspect="levels",
                old=ca.get("levels"),
                new=cb.get("levels"),
            )
        )
    for section in _MAPPINGS:
        changes.extend(_mapping_changes(section, ca.get(section, {}), cb.get(section, {})))
    changes.extend(_rule_changes(ca.get("rules", []), cb.get("rules", [])))
    changes.extend(_finding_changes(old, new))
    changes.extend(_other_changes(ca, cb))
    changes.sort(key=lambda c: _section_rank(c.section))  # stable: keeps each section's order
    return RulesetDiff(a=_side(old), b=_side(new), changes=tuple(changes))


def _section_rank(name: str) -> tuple[int, str]:
    return (SECTIONS.index(name), "") if name in SECTIONS else (len(SECTIONS), name)


def _other_changes(ca: dict[str, Any], cb: dict[str, Any]) -> list[Change]:
    """Any other part of the canonical form, so that a diff is empty only when both rulesets
    have the same fingerprint."""
    out: list[Change] = []
    for key in sorted((ca.keys() | cb.keys()) - _HANDLED):
        old, new = ca.get(key), cb.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            out.extend(_mapping_changes(key, old, new))
        elif old != new:
            out.append(Change(section=key, kind="changed", id="", aspect=key, old=old, new=new))
    return out


def _side(rs: Ruleset) -> RulesetSide:
    return RulesetSide(ruleset=rs.ruleset, version=rs.version, fingerprint=rs.fingerprint)


def _meta_changes(ca: dict[str, Any], cb: dict[str, Any]) -> list[Change]:
    out: list[Change] = []
    for key in _META:
        old, new = ca.get(key), cb.get(key)
        if old != new:
            kind: ChangeKind = "added" if old is None else "removed" if new is None else "changed"
            out.append(Change(section="ruleset", kind=kind, id=key, aspect=key, old=old, new=new))
    return out


def _mapping_changes(section: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    out: list[Change] = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            out.append(
                Change(section=section, kind="removed", id=key, aspect=_item(section), old=old[key])
            )
        elif key not in old:
            out.append(
                Change(section=section, kind="added", id=key, aspect=_item(section), new=new[key])
            )
        else:
            out.extend(_item_changes(section, key, old[key], new[key]))
    return out


def _item(section: str) -> str:
    """The singular name of an item of ``section`` (the aspect of a whole item)."""
    return {"references": "reference", "parameters": "parameter", "inputs": "input"}.get(
        section, section.rstrip("s")
    )


def _rule_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[Change]:
    by_id_old = {r["id"]: r for r in old}
    by_id_new = {r["id"]: r for r in new}
    out: list[Change] = []
    for rid in sorted(by_id_old.keys() | by_id_new.keys()):
        if rid not in by_id_new:
            out.append(
                Change(section="rules", kind="removed", id=rid, aspect="rule", old=by_id_old[rid])
            )
        elif rid not in by_id_old:
            out.append(
                Change(section="rules", kind="added", id=rid, aspect="rule", new=by_id_new[rid])
            )
        else:
            out.extend(_item_changes("rules", rid, by_id_old[rid], by_id_new[rid]))
    out.extend(_order_changes(old, new))
    return out


def _order_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[Change]:
    """Rules kept on both sides whose relative order changed, as ``moved`` (indexes in each)."""
    common = {r["id"] for r in old} & {r["id"] for r in new}
    seq_old = [r["id"] for r in old if r["id"] in common]
    seq_new = [r["id"] for r in new if r["id"] in common]
    if seq_old == seq_new:
        return []
    stayed = _longest_kept_order(seq_old, seq_new)
    index_old = {r["id"]: i for i, r in enumerate(old)}
    index_new = {r["id"]: i for i, r in enumerate(new)}
    moved = sorted((rid for rid in seq_new if rid not in stayed), key=index_new.__getitem__)
    return [
        Change(
            section="rules",
            kind="moved",
            id=rid,
            aspect="order",
            old=index_old[rid],
            new=index_new[rid],
        )
        for rid in moved
    ]


def _longest_kept_order(seq_old: list[str], seq_new: list[str]) -> set[str]:
    """The largest set of ids whose relative order is the same on both sides (a longest
    increasing subsequence of new positions), preferring, among equally long ones, the set that
    keeps the most ids at their own position, so that moves are reported where they happened."""
    position = {rid: i for i, rid in enumerate(seq_new)}
    p = [position[rid] for rid in seq_old]
    n = len(p)
    best: list[tuple[int, int]] = [(0, 0)] * n
    back = [-1] * n
    for i in range(n):
        best[i] = (1, int(p[i] == i))
        for j in range(i):
            if p[j] < p[i]:
                cand = (best[j][0] + 1, best[j][1] + int(p[i] == i))
                if cand > best[i]:
                    best[i], back[i] = cand, j
    end = max(range(n), key=lambda i: (best[i], -i), default=-1)
    kept: set[str] = set()
    while end >= 0:
        kept.add(seq_old[end])
        end = back[end]
    return kept


def _finding_changes(old: Ruleset, new: Ruleset) -> list[Change]:
    """Findings that some rule asserts on one side and none on the other."""

    def asserted(rs: Ruleset) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for rule in rs.rules:
            for finding in rule.then.assert_:
                found.setdefault(finding, []).append(rule.id)
        return found

    a, b = asserted(old), asserted(new)
    out: list[Change] = []
    for name in sorted(a.keys() | b.keys()):
        if name not in b:
            out.append(
                Change(section="findings", kind="removed", id=name, aspect="finding", old=a[name])
            )
        elif name not in a:
            out.append(
                Change(section="findings", kind="added", id=name, aspect="finding", new=b[name])
            )
    return out


def _item_changes(section: str, item: str, old: Any, new: Any) -> list[Change]:
    """Every difference inside one item present on both sides, at its YAML-style path."""
    in_rule = section == "rules"
    return [
        Change(
            section=section,
            kind=kind,
            id=item,
            path=format_path(path),
            aspect=aspect or _aspect(section, path),
            old=before,
            new=after,
        )
        for path, kind, before, after, aspect in _walk_diff((), old, new, in_rule)
    ]


_Path: TypeAlias = Loc
_Found: TypeAlias = tuple[_Path, ChangeKind, Any, Any, str | None]
"""A difference: path, kind, old value, new value and an aspect that overrides the default."""


def _walk_diff(path: _Path, old: Any, new: Any, in_rule: bool) -> list[_Found]:
    """Differences between two canonical JSON values, in document order.

    Inside a rule's ``when``, a node that became another kind of condition (a leaf testing
    another field or with another operator, ``all`` turned ``any``, ...) is reported whole.
    """
    if old == new:
        return []
    in_when = in_rule and path[:1] == ("when",)
    if isinstance(old, dict) and isinstance(new, dict):
        if in_when and _condition_shape(old) != _condition_shape(new):
            return [(path, "changed", old, new, "condition")]
        out: list[_Found] = []
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in new:
                out.append(((*path, key), "removed", old[key], None, None))
            elif key not in old:
                out.append(((*path, key), "added", None, new[key], None))
            else:
                out.extend(_walk_diff((*path, key), old[key], new[key], in_rule))
        return out
    if in_when and _is_condition_list(old) and _is_condition_list(new):
        return _list_diff(path, old, new)
    return [(path, "changed", old, new, None)]


def _condition_shape(value: dict[str, Any]) -> tuple[str, ...]:
    """What a condition node is apart from its constants: its connective, or the field and
    operator (or the finding) a leaf tests. Empty for a mapping that is not a condition."""
    if "field" in value:
        return ("field", value["field"], *sorted(k for k in value if k != "field"))
    if "finding" in value:
        return ("finding", value["finding"])
    return tuple(t for t in _CONDITION_TAGS if t in value)


def _is_condition_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _list_diff(path: _Path, old: list[Any], new: list[Any]) -> list[_Found]:
    """Sub-conditions matched by content: unchanged ones are skipped, one-for-one replacements
    are compared inside, the rest are reported as removed (old index) or added (new index).
    The same sub-conditions in another order are one ``order`` change."""
    keys_old = [json.dumps(v, sort_keys=True) for v in old]
    keys_new = [json.dumps(v, sort_keys=True) for v in new]
    if sorted(keys_old) == sorted(keys_new):
        return [(path, "changed", old, new, "order")]
    out: list[_Found] = []
    matcher = difflib.SequenceMatcher(None, keys_old, keys_new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                out.extend(_walk_diff((*path, j), old[i], new[j], True))
            continue
        out.extend(((*path, i), "removed", old[i], None, None) for i in range(i1, i2))
        out.extend(((*path, j), "added", None, new[j], None) for j in range(j1, j2))
    return out


def _aspect(section: str, path: _Path) -> str:
    """What kind of thing a path inside an item of ``section`` is."""
    head = str(path[0]) if path else _item(section)
    if section == "rules":
        if head == "when":
            if any(part in _OPERATORS for part in path if isinstance(part, str)):
                return "threshold"
            return "condition"
        if head == "then" and len(path) > 1:
            name = str(path[1])
            return {"assert": "findings", "recommend": "recommendations"}.get(name, name)
        return head
    if section == "hazards" and head == "recommend":
        return "recommendations"
    if section in ("parameters", "inputs") and head in ("min", "max"):
        return "bounds"
    return head


def _show(value: Any) -> str:
    """A value as compact JSON, the way changes show it in text."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _summary(change: Change) -> str:
    """A short description of a whole item that was added or removed."""
    value = change.new if change.kind == "added" else change.old
    if change.section == "rules" and isinstance(value, dict):
        then = value.get("then", {})
        parts = [f"hazard {value.get('hazard')}", f"points {_show(then.get('points', 0))}"]
        if "floor" in then:
            parts.append(f"floor {then['floor']}")
        if then.get("assert"):
            parts.append("asserts " + ", ".join(then["assert"]))
        return "; ".join(parts)
    if change.section == "findings":
        return "asserted by " + ", ".join(value)
    if isinstance(value, dict):
        for key in ("title", "citation"):
            if key in value:
                return f"{key} {_show(value[key])}"
        if change.section == "parameters":
            return f"default {_show(value.get('default'))}"
        if change.section == "inputs":
            return f"type {value.get('type')}"
    return _show(value)


def _members(old: list[Any], new: list[Any]) -> str:
    removed = [x for x in old if x not in new]
    added = [x for x in new if x not in old]
    parts = [f"+ {x}" for x in added] + [f"- {x}" for x in removed]
    return ", ".join(parts) if parts else f"order {_show(old)} -> {_show(new)}"


def _change_text(c: Change) -> str:
    marker = c.marker
    if c.kind == "moved":
        return f"{marker} {c.id}: moved rules[{c.old}] -> rules[{c.new}] (order breaks ties)"
    if c.aspect == "order":
        return f"{marker} {c.id}: {c.path}: the same conditions in another order"
    if not c.id:
        return f"{marker} {c.section}: {_show(c.old)} -> {_show(c.new)}"
    if c.section == "ruleset":
        return f"{marker} {c.id}: {_show(c.old)} -> {_show(c.new)}"
    if not c.path:
        return f"{marker} {c.id}: {c.kind} ({_summary(c)})"
    shown = c.aspect in re.split(r"[.\[\]]", c.path)
    where = f"{c.id}: {c.path}" if shown else f"{c.id}: {c.path} ({c.aspect})"
    if c.kind == "added":
        return f"{marker} {where}: added {_show(c.new)}"
    if c.kind == "removed":
        return f"{marker} {where}: removed {_show(c.old)}"
    if (
        isinstance(c.old, list)
        and isinstance(c.new, list)
        and c.aspect in ("findings", "recommendations")
    ):
        return f"{marker} {where}: {_members(c.old, c.new)}"
    return f"{marker} {where}: {_show(c.old)} -> {_show(c.new)}"
