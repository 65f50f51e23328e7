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
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from riskrules.errors import RulesetError
from riskrules.ruleset import _safeyaml as safeyaml
from riskrules.ruleset._dump import SCHEMA_COMMENT, dump_ruleset, ruleset_json_schema
from riskrules.ruleset._includes import Reader
from riskrules.ruleset._locations import SourceLocation, source_files, source_location
from riskrules.ruleset._merge import merge
from riskrules.ruleset._model import did_you_mean
from riskrules.ruleset._sources import BUILTIN_NAME, Source, builtin_names, builtin_root
from riskrules.ruleset._spec import Ruleset

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_SOURCE_NAME",
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
MAX_SOURCE_NAME: Final = 4096
"""The longest path or built-in name :func:`load_ruleset` accepts (longer is neither)."""
_STRING_FILE: Final = "<string>"
_LOOKS_LIKE_YAML = re.compile(r"^\s*(?:[{\[#%]|---|[^\s:#/\\]+:(?:\s|$))")


def load_ruleset(
    source: Ruleset | str | os.PathLike[str],
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_nodes: int = safeyaml.MAX_NODES,
    max_depth: int = safeyaml.MAX_DEPTH,
    include_roots: Iterable[str | os.PathLike[str]] = (),
) -> Ruleset:
    """Load and validate a ruleset.

    ``source`` is a :class:`Ruleset` (returned as is); a path to a YAML file, possibly a manifest
    with ``include:``; a directory (its one file that no other file there includes is the top
    file); YAML text (a string with a newline, or one that starts like a YAML mapping); or the
    name of a built-in ruleset such as ``"default"``. The caps bound the size of each file, the
    nodes one file may expand to (aliases included) and the nesting depth.

    Included files must lie under the folder of the top file (the directory itself when one is
    loaded, the working directory for YAML text), or under one of ``include_roots``; an include
    that leaves them, by an absolute path, ``..`` or a symbolic link, is an error. A bare name
    such as ``default`` in ``include:`` names a built-in ruleset. Only regular files are read.

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
        reader = Reader(max_bytes, max_nodes, max_depth)
        extra = tuple(os.path.realpath(root) for root in include_roots)
        return _load(reader, source, extra)
    except RecursionError:
        raise RulesetError(
            "the ruleset is nested too deeply to load",
            file=source if isinstance(source, str) and "\n" not in source else _STRING_FILE,
        ) from None


def _load(reader: Reader, source: str | os.PathLike[str], extra: tuple[str, ...]) -> Ruleset:
    """Tell a path, YAML text and a built-in name apart, and load what ``source`` names."""
    if isinstance(source, os.PathLike):
        return _load_path(reader, Path(source), os.fspath(source), extra)
    if "\n" in source or not source.strip() or _LOOKS_LIKE_YAML.match(source):
        reader.roots = (os.path.realpath(os.getcwd()), *extra)
        doc = reader.read_text(source, Source(display=_STRING_FILE, key=_STRING_FILE))
        return merge(reader.ordered(doc))
    if len(source) > MAX_SOURCE_NAME:
        raise RulesetError(
            f"not YAML text, and at {len(source)} characters too long to be a file name or a "
            f"built-in name (at most {MAX_SOURCE_NAME})",
            file=_STRING_FILE,
        )
    if BUILTIN_NAME.match(source):
        root = builtin_root()
        if source in builtin_names(root):
            assert root is not None
            return merge(reader.ordered(reader.read(Source.builtin(root, source + ".yaml"))))
        if not _exists(source):
            names = builtin_names(root)
            listed = ", ".join(names) if names else "none found"
            hint = did_you_mean(source, names)
            raise RulesetError(
                f"unknown built-in ruleset {source!r}{hint} (built-in: {listed}); "
                "a path to a file or directory is also accepted",
                file=source,
            )
    return _load_path(reader, Path(source), source, extra)


def _exists(name: str) -> bool:
    """Whether ``name`` names something on disk (a name the system refuses names nothing)."""
    try:
        return Path(name).exists()
    except (OSError, ValueError):
        return False


def _load_path(reader: Reader, path: Path, display: str, extra: tuple[str, ...]) -> Ruleset:
    """The ruleset in a file, or in a directory (whose top file is found)."""
    try:
        is_dir = path.is_dir()
    except (OSError, ValueError):
        is_dir = False
    try:
        folder = os.path.realpath(path if is_dir else path.parent)
    except (OSError, ValueError):
        folder = os.path.realpath(os.getcwd())
    reader.roots = (folder, *extra)
    if is_dir:
        doc = reader.root_of_directory(path, display)
    else:
        try:
            doc = reader.read(Source.file(path, display))
        except ValueError:  # e.g. a NUL character in the path
            raise RulesetError("not a valid file name", file=display) from None
    return merge(reader.ordered(doc))
