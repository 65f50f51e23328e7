"""Reading ruleset files, each parsed and shape-checked once, and following their includes.

A :class:`Reader` turns a :class:`~riskrules.ruleset._sources.Source` into a :class:`Doc`: the
bytes read under the size cap, decoded as UTF-8, parsed by :mod:`riskrules.ruleset._safeyaml`
and validated on its own as a :class:`~riskrules.ruleset._spec.RulesetDocument`, so that shape
errors point into the file that has them. :meth:`Reader.ordered` lists every file an ``include:``
reaches, includes first (depth first), each once; cycles and chains nested too deep are errors
located at the include that closes them. :meth:`Reader.root_of_directory` finds the top file of a
directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from riskrules._types import Loc
from riskrules.errors import RulesetError
from riskrules.ruleset import _safeyaml as safeyaml
from riskrules.ruleset._locations import located_error, place
from riskrules.ruleset._messages import position, translate
from riskrules.ruleset._safeyaml import Node
from riskrules.ruleset._sources import Source, describe_size, inside, os_reason
from riskrules.ruleset._spec import RulesetDocument

__all__ = ["MAX_INCLUDE_DEPTH", "Doc", "Reader"]

MAX_INCLUDE_DEPTH: Final = 64
"""Includes nested deeper than this are rejected (a chain this long is a mistake)."""


@dataclass(slots=True)
class Doc:
    """A parsed and shape-checked file."""

    source: Source
    node: Node
    data: dict[str, Any]
    model: RulesetDocument
    variant: bool = False
    """Whether this file builds on another ruleset (``extends:``, or an include of a built-in
    ruleset by name): it may then redefine what earlier files define, and disable rules."""
    base: bool = False
    """Whether this file was reached through a variant's ``extends:`` or built-in include: its
    scenarios describe the ruleset it belongs to, not the variant, and are left out."""

    def error(self, loc: Loc, message: str, *, at: str = "value") -> RulesetError:
        """A RulesetError at ``loc`` in this file: at the value, the key or the parent mapping."""
        return located_error(self.source.display, self.node, loc, message, at=at)

    def place(self, loc: Loc, *, at: str = "value") -> str:
        """``file:line:column`` of ``loc`` in this file (of its key when ``at`` is "key")."""
        return place(self.source.display, self.node, loc, at=at)


@dataclass
class Reader:
    """Reads the files of one load under its caps; a file reached twice is read once."""

    max_bytes: int
    max_nodes: int
    max_depth: int
    roots: tuple[str, ...] = ()
    """Real paths of the folders included files must lie in (empty: no restriction)."""
    cache: dict[str, Doc] = field(default_factory=dict)

    def read_text(self, text: str, source: Source) -> Doc:
        """Parse and check YAML text that ``source`` holds."""
        if text.startswith("\ufeff"):
            text = text[1:]
        try:
            encoded_size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise RulesetError("the text is not valid Unicode", file=source.display) from None
        if encoded_size > self.max_bytes:
            raise RulesetError(
                f"the text is larger than the {describe_size(self.max_bytes)} limit for a "
                "ruleset file",
                file=source.display,
            )
        node = safeyaml.parse(
            text, file=source.display, max_nodes=self.max_nodes, max_depth=self.max_depth
        )
        if node is None:
            raise RulesetError("the ruleset file is empty", file=source.display)
        if node.kind != "map":
            kind = "a list" if node.kind == "seq" else "a single value"
            raise RulesetError(
                f"a ruleset file must be a mapping of sections, not {kind}",
                file=source.display,
                line=node.line,
                column=node.column,
            )
        data = safeyaml.to_data(node)
        return Doc(source, node, data, self.validate_document(source, node, data))

    def read(self, source: Source, via: tuple[Doc, Loc] | None = None) -> Doc:
        """Parse and check ``source`` once per load; ``via`` is the include entry naming it."""
        cached = self.cache.get(source.key)
        if cached is not None:
            return cached
        try:
            raw = source.read(self.max_bytes)
        except OSError as exc:
            reason = "file not found" if isinstance(exc, FileNotFoundError) else os_reason(exc)
            if via is not None:
                doc, loc = via
                name = doc.model.extends if loc == ("extends",) else doc.model.include[int(loc[-1])]
                raise doc.error(loc, f"cannot include {name!r}: {reason}") from None
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
        self, source: Source, node: Node, data: dict[str, Any]
    ) -> RulesetDocument:
        """``data`` as a RulesetDocument; the first problem in the file is raised, located."""
        try:
            return RulesetDocument.model_validate(data)
        except ValidationError as exc:
            problems = translate(exc, data, RulesetDocument)
            problem = min(problems, key=lambda p: position(node, p))
            raise located_error(
                source.display, node, problem.loc, problem.message, at=problem.at
            ) from None

    def includes(self, doc: Doc) -> Iterator[tuple[Loc, Source]]:
        """The sources ``doc`` builds on: what it ``extends``, then its ``include:`` list, each
        with the location of the entry that names it."""
        named: list[tuple[Loc, str]] = [
            (("include", i), n) for i, n in enumerate(doc.model.include)
        ]
        if doc.model.extends is not None:
            named.insert(0, (("extends",), doc.model.extends))
        for loc, name in named:
            try:
                source = doc.source.include(name)
            except ValueError as exc:
                raise doc.error(loc, f"cannot include {name!r}: {exc}") from None
            if source.path is not None and source.path.suffix not in (".yaml", ".yml"):
                raise doc.error(
                    loc,
                    f"cannot include {name!r}: an include names a .yaml or .yml file, or a "
                    "built-in ruleset by name",
                )
            if source.path is not None and self.roots and not inside(source.key, self.roots):
                where = "an absolute path" if os.path.isabs(name) else "a path"
                raise doc.error(
                    loc,
                    f"cannot include {name!r}: {where} outside the ruleset's folder "
                    f"{self.roots[0]} (pass include_roots to allow another folder)",
                )
            if loc == ("extends",) or (source.root is not None and doc.source.root is None):
                doc.variant = True
            yield loc, source

    def ordered(self, root: Doc) -> list[Doc]:
        """Every file reachable from ``root``, includes first (depth first), each once."""
        order: list[Doc] = []
        done: set[str] = set()
        chain: list[Doc] = [root]
        pending: list[Iterator[tuple[Loc, Source]]] = [self.includes(root)]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                finished = chain.pop()
                pending.pop()
                done.add(finished.source.key)
                order.append(finished)
                continue
            loc, source = step
            parent = chain[-1]
            keys = [d.source.key for d in chain]
            if source.key in keys:
                names = [d.source.display for d in chain[keys.index(source.key) :]]
                cycle = " -> ".join([*names, source.display])
                raise parent.error(loc, f"include cycle: {cycle}")
            if source.key in done:
                continue
            if len(chain) >= MAX_INCLUDE_DEPTH:
                raise parent.error(loc, f"includes nested deeper than {MAX_INCLUDE_DEPTH}")
            child = self.read(source, via=(parent, loc))
            builtin_link = source.root is not None and parent.source.root is None
            child.base = child.base or parent.base or loc == ("extends",) or builtin_link
            chain.append(child)
            pending.append(self.includes(child))
        return order

    def root_of_directory(self, directory: Path, display: str) -> Doc:
        """The one file of ``directory`` that no other file there includes."""
        files = sorted(
            p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
        )
        if not files:
            raise RulesetError("the directory holds no .yaml files", file=display)
        docs = [self.read(Source.file(p, os.path.join(display, p.name))) for p in files]
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
