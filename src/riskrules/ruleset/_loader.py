"""Load rulesets from YAML: files, manifests with includes, directories, text and built-ins.

:func:`load_ruleset` decides what its argument names and hands the files to the parts that do
the work: every file is parsed safely and validated on its own as a
:class:`~riskrules.ruleset._spec.RulesetDocument` (:mod:`riskrules.ruleset._includes`), so shape
errors point into the file that has them; the files are then merged and validated as one
:class:`~riskrules.ruleset._spec.Ruleset` (:mod:`riskrules.ruleset._merge`), and a broken
invariant is mapped back to the file, line, column and YAML path where it was written
(:mod:`riskrules.ruleset._locations`). Whatever goes wrong, the caller gets one
:class:`~riskrules.errors.RulesetError`: the first problem in document order, in plain words.

The names that go with loading (source locations, the canonical dump and the JSON Schema) are
re-exported here from the modules that hold them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

from riskrules.errors import RulesetError
from riskrules.ruleset import _safeyaml as safeyaml
from riskrules.ruleset._dump import SCHEMA_COMMENT, dump_ruleset, ruleset_json_schema
from riskrules.ruleset._includes import Reader
from riskrules.ruleset._locations import SourceLocation, source_files, source_location
from riskrules.ruleset._merge import merge
from riskrules.ruleset._model import did_you_mean
from riskrules.ruleset._sources import Source, builtin_names, builtin_root
from riskrules.ruleset._spec import Ruleset

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
_STRING_FILE: Final = "<string>"
_BUILTIN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LOOKS_LIKE_YAML = re.compile(r"^\s*(?:[{\[#%]|---|[^\s:#/\\]+:(?:\s|$))")


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
        return _load(Reader(max_bytes, max_nodes, max_depth), source)
    except RecursionError:
        raise RulesetError(
            "the ruleset is nested too deeply to load",
            file=source if isinstance(source, str) and "\n" not in source else _STRING_FILE,
        ) from None


def _load(reader: Reader, source: str | os.PathLike[str]) -> Ruleset:
    """Tell a path, YAML text and a built-in name apart, and load what ``source`` names."""
    if isinstance(source, os.PathLike):
        return _load_path(reader, Path(source), os.fspath(source))
    if "\n" in source or not source.strip() or _LOOKS_LIKE_YAML.match(source):
        doc = reader.read_text(source, Source(display=_STRING_FILE, key=_STRING_FILE))
        return merge(reader.ordered(doc))
    if _BUILTIN_NAME.match(source):
        root = builtin_root()
        if source in builtin_names(root):
            assert root is not None
            return merge(reader.ordered(reader.read(Source.builtin(root, source + ".yaml"))))
        if not Path(source).exists():
            names = builtin_names(root)
            listed = ", ".join(names) if names else "none found"
            hint = did_you_mean(source, names)
            raise RulesetError(
                f"unknown built-in ruleset {source!r}{hint} (built-in: {listed}); "
                "a path to a file or directory is also accepted",
                file=source,
            )
    return _load_path(reader, Path(source), source)


def _load_path(reader: Reader, path: Path, display: str) -> Ruleset:
    """The ruleset in a file, or in a directory (whose top file is found)."""
    try:
        is_dir = path.is_dir()
    except (OSError, ValueError):
        is_dir = False
    if is_dir:
        doc = reader.root_of_directory(path, display)
    else:
        try:
            doc = reader.read(Source.file(path, display))
        except ValueError:  # e.g. a NUL character in the path
            raise RulesetError("not a valid file name", file=display) from None
    return merge(reader.ordered(doc))
