"""Where ruleset files come from: files on disk, the built-in rulesets, and include paths.

A :class:`Source` is one ruleset file, on disk or packaged with riskrules, with the name it is
shown by in messages and the key that identifies it (so that a file reached twice is read once).
It reads its bytes under a size cap and resolves the paths its ``include:`` names.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from riskrules.errors import RulesetError

__all__ = ["Source", "builtin_names", "builtin_root", "describe_size", "os_reason"]


@dataclass(frozen=True, slots=True)
class Source:
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
    def file(cls, path: Path, display: str) -> Source:
        return cls(display=display, key=os.path.realpath(path), path=path)

    @classmethod
    def builtin(cls, root: Traversable, rel: str) -> Source:
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
                f"the file is larger than the {describe_size(max_bytes)} limit for a ruleset file",
                file=self.display,
            )
        return data

    def include(self, name: str) -> Source:
        """The source ``name`` refers to when this file includes it."""
        if "\x00" in name:
            raise ValueError("an include path cannot contain a NUL character")
        if self.root is not None:
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(self.rel), name))
            if rel.startswith("../") or rel == ".." or posixpath.isabs(rel):
                raise ValueError(f"{name!r} points outside the built-in rulesets")
            return Source.builtin(self.root, rel)
        if self.path is None:  # YAML text: includes are relative to the working directory
            return Source.file(Path(name), name)
        display = os.path.normpath(os.path.join(os.path.dirname(self.display), name))
        return Source.file(self.path.parent / name, display)


def describe_size(n: int) -> str:
    """A byte count as a message shows it: ``1 MiB``, or ``1000 bytes`` when not whole MiB."""
    return f"{n >> 20} MiB" if n % (1 << 20) == 0 else f"{n} bytes"


def os_reason(exc: OSError) -> str:
    """Why a file could not be read, in plain words."""
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read the file ({exc.strerror or exc})"


def builtin_root() -> Traversable | None:
    """The built-in rulesets: package data in a wheel, else the source tree's ``rulesets/``."""
    packaged = resources.files("riskrules").joinpath("data", "rulesets")
    if packaged.is_dir():
        return packaged
    tree = Path(__file__).resolve().parents[3] / "rulesets"
    return tree if tree.is_dir() else None


def builtin_names(root: Traversable | None) -> list[str]:
    """The names of the built-in rulesets under ``root`` (``default`` for ``default.yaml``)."""
    if root is None:
        return []
    names = (item.name for item in root.iterdir() if item.is_file())
    return sorted(name[: -len(".yaml")] for name in names if name.endswith(".yaml"))
