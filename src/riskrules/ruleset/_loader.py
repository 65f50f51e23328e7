"""Load rulesets from YAML: files, manifests with includes, directories, text and built-ins.

Every file is parsed safely (:mod:`riskrules.safeyaml`) and validated on its own as a
:class:`~riskrules.spec.RulesetDocument`, so shape errors point into the file that has them.
The files are then merged and validated as one :class:`~riskrules.spec.Ruleset`; a broken
invariant is mapped back through a source map to the file, line, column and YAML path where it
was written. Whatever goes wrong, the caller gets one :class:`~riskrules.errors.RulesetError`:
the first problem in document order, in plain words.

Merging: a manifest's ``include:`` paths are relative to the including file. Included files come
first, in the order listed (depth first), then the including file's own entries; a file reached
twice (a diamond) is merged once. Mapping sections (references, parameters, inputs, hazards,
protocols) are merged key by key and a key defined twice is an error naming both places; the
lists (rules, tests, properties) are concatenated in that order. ``ruleset``, ``version``,
``title`` and ``description`` come from the top file; ``levels`` may be declared by several files
if they agree.
"""

from __future__ import annotations

import difflib
import json
import os
import posixpath
import re
import types
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Final, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from riskrules.errors import RulesetError
from riskrules.ruleset import _safeyaml as safeyaml
from riskrules.ruleset._conditions import (
    NAME_PATTERN,
    OPERATORS,
    TAG_PREFIX,
    All,
    AnyOf,
    AtLeast,
    FieldLeaf,
    FindingLeaf,
    Not,
)
from riskrules.ruleset._safeyaml import Loc, Node, format_path, locate
from riskrules.ruleset._spec import InvariantError, Ruleset, RulesetDocument

__all__ = [
    "MAX_FILE_BYTES",
    "SCHEMA_COMMENT",
    "SourceLocation",
    "dump_ruleset",
    "load_ruleset",
    "ruleset_json_schema",
    "source_files",
    "source_location",
]

MAX_FILE_BYTES: Final = 1 << 20
"""Default cap on the size of one ruleset file (1 MiB)."""
MAX_INCLUDE_DEPTH: Final = 64
"""Includes nested deeper than this are rejected (a chain this long is a mistake)."""
SCHEMA_COMMENT: Final = "# yaml-language-server: $schema="
"""The first line of every ruleset file: editors validate against the JSON Schema it names."""
_DEFAULT_SCHEMA_REF: Final = "../schemas/ruleset.schema.json"
_STRING_FILE: Final = "<string>"
_BUILTIN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LOOKS_LIKE_YAML = re.compile(r"^\s*(?:[{\[#%]|---|[^\s:#/\\]+:(?:\s|$))")


class SourceLocation(NamedTuple):
    """Where a part of a loaded ruleset was written: file, 1-based line and column, YAML path."""

    file: str
    line: int
    column: int
    path: str


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class _Source:
    """One ruleset file: on disk (``path``) or packaged with riskrules (``root`` / ``rel``)."""

    display: str
    key: str
    path: Path | None = None
    root: Traversable | None = None
    rel: str = ""

    @property
    def location(self) -> str:
        if self.path is not None:
            return str(self.path.resolve())
        if self.root is None:
            return self.display  # YAML text
        return str(self.root.joinpath(*self.rel.split("/")))

    @classmethod
    def file(cls, path: Path, display: str) -> _Source:
        return cls(display=display, key=os.path.realpath(path), path=path)

    @classmethod
    def builtin(cls, root: Traversable, rel: str) -> _Source:
        return cls(display=rel, key=f"builtin:{rel}", root=root, rel=rel)

    def read(self, max_bytes: int) -> bytes:
        """The file's bytes; raises OSError when unreadable, RulesetError when too large."""
        if self.path is not None:
            if self.path.is_dir():
                raise IsADirectoryError(f"{self.display} is a directory")
            with self.path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
        else:
            assert self.root is not None
            resource = self.root.joinpath(*self.rel.split("/"))
            if not resource.is_file():
                raise FileNotFoundError(self.rel)
            data = resource.read_bytes()
        if len(data) > max_bytes:
            raise RulesetError(
                f"the file is larger than the {_size(max_bytes)} limit for a ruleset file",
                file=self.display,
            )
        return data

    def include(self, name: str) -> _Source:
        """The source ``name`` refers to when this file includes it."""
        if "\x00" in name:
            raise ValueError("an include path cannot contain a NUL character")
        if self.root is not None:
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(self.rel), name))
            if rel.startswith("../") or rel == ".." or posixpath.isabs(rel):
                raise ValueError(f"{name!r} points outside the built-in rulesets")
            return _Source.builtin(self.root, rel)
        if self.path is None:  # YAML text: includes are relative to the working directory
            return _Source.file(Path(name), name)
        display = os.path.normpath(os.path.join(os.path.dirname(self.display), name))
        return _Source.file(self.path.parent / name, display)


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n % (1 << 20) == 0 else f"{n} bytes"


def _builtin_root() -> Traversable | None:
    """The built-in rulesets: package data in a wheel, else the source tree's ``rulesets/``."""
    packaged = resources.files("riskrules").joinpath("data", "rulesets")
    if packaged.is_dir():
        return packaged
    tree = Path(__file__).resolve().parents[3] / "rulesets"
    return tree if tree.is_dir() else None


def _builtin_names(root: Traversable | None) -> list[str]:
    if root is None:
        return []
    names = (item.name for item in root.iterdir() if item.is_file())
    return sorted(name[: -len(".yaml")] for name in names if name.endswith(".yaml"))


# --------------------------------------------------------------------------- per-file state


@dataclass(slots=True)
class _Doc:
    """A parsed and shape-checked file."""

    source: _Source
    node: Node
    data: dict[str, Any]
    model: RulesetDocument


@dataclass(frozen=True, slots=True)
class _FileMap:
    display: str
    location: str
    node: Node


@dataclass(frozen=True, slots=True)
class _SourceMap:
    """Maps a location in the merged ruleset to the file and the location inside it."""

    files: tuple[_FileMap, ...]
    root: int
    levels: int
    entries: dict[tuple[str, str | int], tuple[int, str | int]]

    def resolve(self, loc: Loc) -> tuple[_FileMap, Loc]:
        if len(loc) >= 2:
            entry = self.entries.get((str(loc[0]), loc[1]))
            if entry is not None:
                index, local = entry
                return self.files[index], (loc[0], local, *loc[2:])
        if loc and loc[0] == "levels":
            return self.files[self.levels], loc
        return self.files[self.root], loc


_SOURCE_MAPS: dict[int, _SourceMap] = {}


def _remember(ruleset: Ruleset, smap: _SourceMap) -> None:
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


# --------------------------------------------------------------------------- loading


@dataclass
class _Loader:
    max_bytes: int
    max_nodes: int
    max_depth: int
    cache: dict[str, _Doc] = field(default_factory=dict)

    def error(
        self,
        doc: _Doc | _FileMap,
        loc: Loc,
        message: str,
        *,
        at: str = "value",
    ) -> RulesetError:
        """A RulesetError at ``loc`` in ``doc``: at the value, the key, or the parent mapping."""
        fmap = doc if isinstance(doc, _FileMap) else _FileMap(doc.source.display, "", doc.node)
        node, reached, key_node = locate(fmap.node, loc)
        path = reached
        if at == "key" and key_node is not None and reached == loc:
            node, path = key_node, loc[:-1]
        return RulesetError(
            message,
            file=fmap.display,
            line=node.line,
            column=node.column,
            path=format_path(path),
            rule_id=_rule_id(fmap.node, loc),
        )

    # -- reading

    def read_text(self, text: str, source: _Source) -> _Doc:
        if text.startswith("\ufeff"):
            text = text[1:]
        try:
            encoded_size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise RulesetError("the text is not valid Unicode", file=source.display) from None
        if encoded_size > self.max_bytes:
            raise RulesetError(
                f"the text is larger than the {_size(self.max_bytes)} limit for a ruleset file",
                file=source.display,
            )
        node = safeyaml.parse(
            text, file=source.display, max_nodes=self.max_nodes, max_depth=self.max_depth
        )
        if node is None:
            raise RulesetError("the ruleset file is empty", file=source.display)
        if node.kind != "map":
            kind = "a list" if node.kind == "seq" else f"the scalar {_show(node.value)}"
            raise RulesetError(
                f"a ruleset file must be a mapping of sections, not {kind}",
                file=source.display,
                line=node.line,
                column=node.column,
            )
        data = safeyaml.to_data(node)
        return _Doc(source, node, data, self.validate_document(source, node, data))

    def read(self, source: _Source, via: tuple[_Doc, Loc] | None = None) -> _Doc:
        """Parse and check ``source`` once per load; ``via`` is the include entry naming it."""
        cached = self.cache.get(source.key)
        if cached is not None:
            return cached
        try:
            raw = source.read(self.max_bytes)
        except OSError as exc:
            reason = "file not found" if isinstance(exc, FileNotFoundError) else _os_reason(exc)
            if via is not None:
                doc, loc = via
                name = doc.model.include[int(loc[-1])]
                raise self.error(doc, loc, f"cannot include {name!r}: {reason}") from None
            raise RulesetError(reason, file=source.display) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise RulesetError(
                "the file is not UTF-8 text", file=source.display, line=line
            ) from None
        doc = self.read_text(text, source)
        self.cache[source.key] = doc
        return doc

    def validate_document(
        self, source: _Source, node: Node, data: dict[str, Any]
    ) -> RulesetDocument:
        try:
            return RulesetDocument.model_validate(data)
        except ValidationError as exc:
            problems = _problems(exc, data, RulesetDocument)
            problem = min(problems, key=lambda p: _position(node, p))
            fmap = _FileMap(source.display, "", node)
            raise self.error(fmap, problem.loc, problem.message, at=problem.at) from None

    # -- includes

    def includes(self, doc: _Doc) -> Iterator[tuple[int, _Source]]:
        for i, name in enumerate(doc.model.include):
            try:
                yield i, doc.source.include(name)
            except ValueError as exc:
                raise self.error(doc, ("include", i), f"cannot include {name!r}: {exc}") from None

    def ordered(self, root: _Doc) -> list[_Doc]:
        """Every file reachable from ``root``, includes first (depth first), each once."""
        order: list[_Doc] = []
        done: set[str] = set()
        chain: list[_Doc] = [root]
        pending: list[Iterator[tuple[int, _Source]]] = [self.includes(root)]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                finished = chain.pop()
                pending.pop()
                done.add(finished.source.key)
                order.append(finished)
                continue
            i, source = step
            parent = chain[-1]
            keys = [d.source.key for d in chain]
            if source.key in keys:
                names = [d.source.display for d in chain[keys.index(source.key) :]]
                cycle = " -> ".join([*names, source.display])
                raise self.error(parent, ("include", i), f"include cycle: {cycle}")
            if source.key in done:
                continue
            if len(chain) >= MAX_INCLUDE_DEPTH:
                raise self.error(
                    parent, ("include", i), f"includes nested deeper than {MAX_INCLUDE_DEPTH}"
                )
            child = self.read(source, via=(parent, ("include", i)))
            chain.append(child)
            pending.append(self.includes(child))
        return order

    def root_of_directory(self, directory: Path, display: str) -> _Doc:
        files = sorted(
            p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
        )
        if not files:
            raise RulesetError("the directory holds no .yaml files", file=display)
        docs = [self.read(_Source.file(p, os.path.join(display, p.name))) for p in files]
        included = {source.key for doc in docs for _, source in self.includes(doc)}
        roots = [doc for doc in docs if doc.source.key not in included]
        if len(roots) > 1:
            names = ", ".join(doc.source.path.name for doc in roots if doc.source.path)
            raise RulesetError(
                f"the directory has several top files that no other file includes ({names}); "
                "load one of them, or add a manifest that includes the others",
                file=display,
            )
        if roots:
            return roots[0]
        for doc in docs:  # every file is included by another: some include chain is a cycle
            self.ordered(doc)
        raise RulesetError("no file in the directory is a top file", file=display)  # unreachable

    # -- merging

    def merge(self, docs: list[_Doc]) -> Ruleset:
        root = docs[-1]
        for key in ("ruleset", "version", "title"):
            if root.data.get(key) is None:
                raise self.error(
                    root,
                    (),
                    f"missing required key {key!r} (the top file of a ruleset declares "
                    "ruleset, version and title)",
                )
        merged: dict[str, Any] = {
            key: root.data[key]
            for key in ("ruleset", "version", "title", "description")
            if root.data.get(key) is not None
        }
        entries: dict[tuple[str, str | int], tuple[int, str | int]] = {}
        levels_from = self.merge_levels(docs, merged)
        for section, kind in _MAPPING_SECTIONS.items():
            out: dict[str, Any] = {}
            for index, doc in enumerate(docs):
                for name, value in (doc.data.get(section) or {}).items():
                    if name in out:
                        first_index, _ = entries[(section, name)]
                        where = self.place(docs[first_index], (section, name), at="key")
                        raise self.error(
                            doc,
                            (section, name),
                            f"duplicate {kind} {name!r} (also defined at {where})",
                            at="key",
                        )
                    out[name] = value
                    entries[(section, name)] = (index, name)
            if out:
                merged[section] = out
        rule_ids: dict[str, tuple[int, int]] = {}
        for section in ("rules", "tests", "properties"):
            items: list[Any] = []
            for index, doc in enumerate(docs):
                for j, item in enumerate(doc.data.get(section) or ()):
                    if section == "rules":
                        rule_id = item["id"]
                        if rule_id in rule_ids:
                            first_index, first_j = rule_ids[rule_id]
                            where = self.place(docs[first_index], ("rules", first_j, "id"))
                            raise self.error(
                                doc,
                                ("rules", j, "id"),
                                f"duplicate rule id {rule_id!r} (also defined at {where})",
                            )
                        rule_ids[rule_id] = (index, j)
                    entries[(section, len(items))] = (index, j)
                    items.append(item)
            if items:
                merged[section] = items
        smap = _SourceMap(
            files=tuple(_FileMap(d.source.display, d.source.location, d.node) for d in docs),
            root=len(docs) - 1,
            levels=levels_from,
            entries=entries,
        )
        ruleset = self.validate_ruleset(merged, smap)
        _remember(ruleset, smap)
        return ruleset

    def merge_levels(self, docs: list[_Doc], merged: dict[str, Any]) -> int:
        declared = [(i, d) for i, d in enumerate(docs) if d.data.get("levels") is not None]
        if not declared:
            return len(docs) - 1
        declared.sort(key=lambda pair: pair[0] != len(docs) - 1)  # the top file's wins
        first_index, first = declared[0]
        for _, doc in declared[1:]:
            if doc.data["levels"] != first.data["levels"]:
                where = self.place(first, ("levels",))
                raise self.error(
                    doc,
                    ("levels",),
                    f"levels differ from those declared at {where}; a ruleset has one scale",
                )
        merged["levels"] = first.data["levels"]
        return first_index

    def place(self, doc: _Doc, loc: Loc, *, at: str = "value") -> str:
        """``file:line:column`` of ``loc`` in ``doc`` (of its key when ``at`` is "key")."""
        node, _, key_node = locate(doc.node, loc)
        if at == "key" and key_node is not None:
            node = key_node
        return f"{doc.source.display}:{node.line}:{node.column}"

    def validate_ruleset(self, merged: dict[str, Any], smap: _SourceMap) -> Ruleset:
        try:
            return Ruleset.model_validate(merged)
        except ValidationError as exc:
            invariants = [
                error
                for e in exc.errors()
                if isinstance(error := (e.get("ctx") or {}).get("error"), InvariantError)
            ]
            if invariants:
                problem = _Problem(tuple(invariants[0].loc), invariants[0].message, "value")
            else:
                problems = _problems(exc, merged, Ruleset)
                problem = min(problems, key=lambda p: _merged_order(p, smap))
            fmap, local = smap.resolve(problem.loc)
            raise self.error(fmap, local, problem.message, at=problem.at) from None

    # -- entry

    def load(self, source: str | os.PathLike[str]) -> Ruleset:
        if isinstance(source, os.PathLike):
            return self.load_path(Path(source), os.fspath(source))
        if "\n" in source or not source.strip() or _LOOKS_LIKE_YAML.match(source):
            doc = self.read_text(source, _Source(display=_STRING_FILE, key=_STRING_FILE))
            return self.merge(self.ordered(doc))
        if _BUILTIN_NAME.match(source):
            root = _builtin_root()
            if source in _builtin_names(root):
                assert root is not None
                return self.merge(self.ordered(self.read(_Source.builtin(root, source + ".yaml"))))
            if not Path(source).exists():
                names = _builtin_names(root)
                listed = ", ".join(names) if names else "none found"
                hint = _did_you_mean(source, names)
                raise RulesetError(
                    f"unknown built-in ruleset {source!r}{hint} (built-in: {listed}); "
                    "a path to a file or directory is also accepted",
                    file=source,
                )
        return self.load_path(Path(source), source)

    def load_path(self, path: Path, display: str) -> Ruleset:
        try:
            is_dir = path.is_dir()
        except (OSError, ValueError):
            is_dir = False
        if is_dir:
            doc = self.root_of_directory(path, display)
        else:
            try:
                doc = self.read(_Source.file(path, display))
            except ValueError:  # e.g. a NUL character in the path
                raise RulesetError("not a valid file name", file=display) from None
        return self.merge(self.ordered(doc))


_MAPPING_SECTIONS: Final = {
    "references": "reference",
    "parameters": "parameter",
    "inputs": "input",
    "hazards": "hazard",
    "protocols": "protocol",
}


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read the file ({exc.strerror or exc})"


def _rule_id(root: Node, loc: Loc) -> str | None:
    if len(loc) < 2 or loc[0] != "rules" or not isinstance(loc[1], int):
        return None
    node, reached, _ = locate(root, (*loc[:2], "id"))
    if len(reached) == 3 and node.kind == "scalar" and isinstance(node.value, str):
        return node.value
    return None


def load_ruleset(
    source: Ruleset | str | os.PathLike[str],
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_nodes: int = safeyaml.MAX_NODES,
    max_depth: int = safeyaml.MAX_DEPTH,
) -> Ruleset:
    """Load and validate a ruleset.

    ``source`` is a :class:`Ruleset` (returned as is); a path to a YAML file, possibly a manifest
    with ``include:``; a directory (its one file that no other file there includes is the top
    file); YAML text (a string with a newline, or one that starts like a YAML mapping); or the
    name of a built-in ruleset such as ``"default"``. The caps bound the size of each file, the
    nodes one file may expand to (aliases included) and the nesting depth.

    Raises RulesetError, located at the first problem in document order.

    >>> rs = load_ruleset("ruleset: demo\\nversion: '1'\\ntitle: Demo\\n")
    >>> rs.ruleset, rs.scale[0]
    ('demo', 'low')
    """
    if isinstance(source, Ruleset):
        return source
    if not isinstance(source, str | os.PathLike):
        raise TypeError(
            f"load_ruleset takes a Ruleset, a path, YAML text or a built-in name, "
            f"not {type(source).__name__}"
        )
    try:
        return _Loader(max_bytes, max_nodes, max_depth).load(source)
    except RecursionError:
        raise RulesetError(
            "the ruleset is nested too deeply to load",
            file=source if isinstance(source, str) and "\n" not in source else _STRING_FILE,
        ) from None


# --------------------------------------------------------------------------- dumping


_DUMP_ORDER: Final = (
    "ruleset",
    "version",
    "title",
    "description",
    "levels",
    "references",
    "parameters",
    "inputs",
    "hazards",
    "rules",
    "protocols",
    "tests",
    "properties",
)


def dump_ruleset(ruleset: Ruleset, *, schema: str = _DEFAULT_SCHEMA_REF) -> str:
    """YAML text for ``ruleset`` that :func:`load_ruleset` reads back to an equal ruleset.

    The first line is the ``# yaml-language-server: $schema=...`` comment naming ``schema``.
    Keys equal to their defaults are left out.
    """
    data = ruleset.model_dump(mode="python", by_alias=True, exclude_defaults=True)
    ordered = {key: data[key] for key in _DUMP_ORDER if key in data}
    return safeyaml.dump(ordered, header=f"{SCHEMA_COMMENT}{schema}\n")


def ruleset_json_schema() -> str:
    """The JSON Schema of a ruleset file, as committed in ``schemas/ruleset.schema.json``."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **RulesetDocument.model_json_schema(by_alias=True),
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- validation errors


@dataclass(frozen=True, slots=True)
class _Problem:
    """One validation problem: where (``at`` the value, the key or the parent) and what."""

    loc: Loc
    message: str
    at: str


_CONDITION_CLASSES: Final[dict[str, type[BaseModel]]] = {
    "all": All,
    "any": AnyOf,
    "not": Not,
    "at_least": AtLeast,
    "field": FieldLeaf,
    "finding": FindingLeaf,
}
_CONDITION_KEYS: Final = tuple(_CONDITION_CLASSES)
_KIND_WORDS: Final = {
    "bool": "true or false",
    "int": "a number",
    "float": "a number",
    "str": "a string",
    "ParamRef": "{param: name}",
}
_PATTERN_WORDS: Final = {
    r"^[a-z][a-z0-9_]*$": "an id (lower-case letters, digits and _, starting with a letter)",
    NAME_PATTERN: (
        "a name (lower-case words of letters, digits and _ joined by dots, starting with a letter)"
    ),
}
_NOT_BOOLEANS: Final = frozenset({"yes", "no", "on", "off", "y", "n"})


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(value: Any) -> str:
    """A value as a YAML author would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return repr(value)


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_at(root: type[BaseModel], raw_loc: Loc) -> type[BaseModel] | None:
    """The model class validating the mapping at ``raw_loc`` (a pydantic loc, tags included)."""
    tp: Any = root
    for part in raw_loc:
        tp = _unwrap(tp)
        if isinstance(part, str) and part.startswith(TAG_PREFIX):
            tp = _CONDITION_CLASSES.get(part[len(TAG_PREFIX) :])
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            tp = next(
                (f.annotation for n, f in tp.model_fields.items() if part in (n, f.alias)), None
            )
        elif get_origin(tp) is tuple:
            args = get_args(tp)
            if len(args) == 2 and args[1] is Ellipsis:
                tp = args[0]
            elif isinstance(part, int) and 0 <= part < len(args):
                tp = args[part]
            else:
                return None
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        elif get_origin(tp) in (Union, types.UnionType):
            tp = next(
                (a for a in get_args(tp) if getattr(_unwrap(a), "__name__", "") == part), None
            )
        else:
            return None
        if tp is None:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _keys_of(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _split(raw_loc: Loc, data: Any, missing: bool = False) -> tuple[Loc, int | None, list[str]]:
    """Drop union-member tags from a pydantic loc by walking the data it describes.

    ``missing`` says the last part is a key the data lacks. Returns the data loc, the length of
    the loc before the first union-member tag (None when there is none) and the tags dropped.
    """
    clean: list[str | int] = []
    union_at: int | None = None
    tags: list[str] = []
    current = data
    last = len(raw_loc) - 1
    for i, part in enumerate(raw_loc):
        if isinstance(part, str) and part.startswith(TAG_PREFIX):
            continue
        found, child = _step(current, part)
        if found:
            clean.append(part)
            current = child
        elif missing and i == last:
            clean.append(part)
        elif isinstance(part, str):
            if union_at is None:
                union_at = len(clean)
            tags.append(part)
        else:
            clean.append(part)
    return tuple(clean), union_at, tags


def _step(data: Any, part: str | int) -> tuple[bool, Any]:
    """``(True, data[part])`` if ``part`` is a key or index of ``data``, else ``(False, None)``."""
    if isinstance(data, dict) and part in data:
        return True, data[part]
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return True, data[part]
    return False, None


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        found, data = _step(data, part)
        if not found:
            return None
    return data


def _problems(exc: ValidationError, data: Any, root: type[BaseModel]) -> list[_Problem]:
    """Plain-language problems from a ValidationError; never empty."""
    errors = exc.errors()
    found = list(_each_problem(errors, data, root))
    if not found:  # pragma: no cover - every error kind above yields at least one problem
        loc, _, _ = _split(tuple(errors[0]["loc"]), data)
        found.append(_Problem(loc, str(errors[0]["msg"]), "value"))
    return found


def _each_problem(errors: list[Any], data: Any, root: type[BaseModel]) -> Iterator[_Problem]:
    """Problems in plain words, union alternatives folded into one, echoes dropped."""
    missing_near: dict[Loc, list[str]] = {}
    unknown_near: dict[Loc, list[str]] = {}
    for err in errors:
        loc, _, _ = _split(tuple(err["loc"]), data, err["type"] == "missing")
        if err["type"] == "missing":
            missing_near.setdefault(loc[:-1], []).append(str(loc[-1]))
        elif err["type"] == "extra_forbidden":
            unknown_near.setdefault(loc[:-1], []).append(str(loc[-1]))
    unions: dict[Loc, list[tuple[Loc, dict[str, Any], list[str]]]] = {}
    for err in errors:
        raw_loc = tuple(err["loc"])
        if raw_loc and raw_loc[-1] == "[key]":  # a mapping key that is not a valid name
            loc, _, _ = _split(raw_loc[:-1], data)
            message = _message(err["type"], err.get("ctx") or {}, err.get("input"), err["msg"])
            yield _Problem(loc, message, "key")
            continue
        loc, union_at, tags = _split(raw_loc, data, err["type"] == "missing")
        if union_at is not None:
            unions.setdefault(loc[:union_at], []).append((loc, dict(err), tags))
            continue
        problem = _plain(err, raw_loc, loc, data, root, missing_near, unknown_near)
        if problem is not None:
            yield problem
    for prefix, alternatives in unions.items():
        value = _value_at(data, prefix)
        nested = [a for a in alternatives if a[2][0][:1].isupper()]
        if isinstance(value, dict) and nested:
            for loc, err, _ in nested:
                raw_loc = tuple(err["loc"])
                problem = _plain(err, raw_loc, loc, data, root, missing_near, unknown_near)
                if problem is not None:
                    yield problem
            continue
        kinds = list(dict.fromkeys(_KIND_WORDS.get(a[2][0], a[2][0]) for a in alternatives))
        wanted = ", ".join(kinds[:-1]) + " or " + kinds[-1] if len(kinds) > 1 else kinds[0]
        yield _Problem(prefix, f"expected {wanted}, got {_show(value)}", "value")


def _plain(
    err: dict[str, Any],
    raw_loc: Loc,
    loc: Loc,
    data: Any,
    root: type[BaseModel],
    missing_near: dict[Loc, list[str]],
    unknown_near: dict[Loc, list[str]],
) -> _Problem | None:
    """One pydantic error in plain words; None when it only echoes another error."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        key = str(loc[-1])
        if unknown_near.get(loc[:-1]):
            return None  # a misspelt key is the likelier error; it is reported instead
        return _Problem(loc[:-1], f"missing required key {key!r}", "parent")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        missing = missing_near.get(loc[:-1], [])
        hint = _did_you_mean(key, missing) or _did_you_mean(
            key, _keys_of(_model_at(root, raw_loc[:-1]))
        )
        if not hint and missing:
            hint = f" (expected {' and '.join(map(repr, missing))})"
        return _Problem(loc, f"unknown key {key!r}{hint}", "key")
    if kind == "condition_kind":
        return _condition_problem(loc, value)
    if kind in ("too_short", "too_long"):
        minimum = ctx.get("min_length", 0)
        if kind == "too_short" and isinstance(value, list | dict) and len(value) >= minimum:
            return None  # items were given but failed; their own errors say why
        if loc and loc[-1] == "between":
            count = len(value) if isinstance(value, list) else 0
            return _Problem(loc, f"between takes two values [low, high], got {count}", "value")
        if kind == "too_short":
            item = "item" if minimum == 1 else "items"
            return _Problem(loc, f"needs at least {minimum} {item}", "value")
        return _Problem(loc, f"takes at most {ctx.get('max_length')} items", "value")
    return _Problem(loc, _message(kind, ctx, value, err.get("msg", "")), "value")


def _message(kind: str, ctx: dict[str, Any], value: Any, msg: str) -> str:
    got = _show(value)
    if kind == "value_error":
        error = ctx.get("error")
        return str(error) if error is not None else msg.removeprefix("Value error, ")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected an integer, got {got}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        hint = ""
        if isinstance(value, str) and value.lower() in _NOT_BOOLEANS:
            hint = " (only true and false are booleans)"
        return f"expected true or false, got {got}{hint}"
    if kind == "string_type":
        hint = " (quote it to make it text)" if isinstance(value, int | float) else ""
        return f"expected a string, got {got}{hint}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        wanted = _PATTERN_WORDS.get(str(ctx.get("pattern")), f"text matching {ctx.get('pattern')}")
        return f"{got} is not {wanted}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        if expected == "True":
            return f"expected true, got {got}"
        choices = re.findall(r"'([^']*)'", expected)
        hint = _did_you_mean(value, choices) if isinstance(value, str) else ""
        return f"expected {expected}, got {got}{hint}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {got}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {got}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, got {got}"
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}, got {got}"
    return msg[:1].lower() + msg[1:]


def _condition_problem(loc: Loc, value: Any) -> _Problem:
    keys = ", ".join(_CONDITION_KEYS)
    if not isinstance(value, dict):
        return _Problem(
            loc, f"expected a condition (a mapping with one of {keys}), got {_show(value)}", "value"
        )
    tags = [k for k in value if k in _CONDITION_KEYS]
    if len(tags) > 1:
        return _Problem(
            loc,
            f"a condition takes exactly one of {keys}; got {tags[0]!r} and {tags[1]!r}",
            "value",
        )
    known = (*_CONDITION_KEYS, *OPERATORS, "n", "of")
    for key in value:
        if key not in known:
            hint = _did_you_mean(str(key), _CONDITION_KEYS) or _did_you_mean(str(key), known)
            return _Problem((*loc, key), f"unknown key {key!r}{hint}", "key")
    got = ", ".join(map(str, value)) or "an empty mapping"
    return _Problem(loc, f"a condition needs one of {keys}; got {got}", "value")


def _position(root: Node, problem: _Problem) -> tuple[int, int]:
    node, reached, key_node = locate(root, problem.loc)
    if problem.at == "key" and key_node is not None and reached == problem.loc:
        node = key_node
    return node.line, node.column


def _merged_order(problem: _Problem, smap: _SourceMap) -> tuple[int, int, int]:
    fmap, local = smap.resolve(problem.loc)
    line, column = _position(fmap.node, _Problem(local, problem.message, problem.at))
    return smap.files.index(fmap), line, column
