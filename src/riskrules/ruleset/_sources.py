"""Where ruleset files come from: files on disk, the built-in rulesets, and include paths.

A :class:`Source` is one ruleset file, on disk or packaged with riskrules, with the name it is
shown by in messages and the key that identifies it (so that a file reached twice is read once).
It reads its bytes under a size cap and resolves the paths its ``include:`` names.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import stat
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final

from riskrules.errors import RulesetError

BUILTIN_NAME: Final = re.compile(r"^[a-z][a-z0-9_]*$")
"""What a built-in ruleset's name looks like (``default``): no dot, no slash."""

__all__ = [
    "BUILTIN_NAME",
    "NOT_REGULAR",
    "Source",
    "builtin_names",
    "builtin_root",
    "describe_size",
    "inside",
    "os_reason",
]

NOT_REGULAR: Final = "not a regular file (a pipe, device or socket is never read)"
"""Why a FIFO, a device or a socket named as a ruleset file is refused."""


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
            data = _read_regular(self.path, max_bytes + 1)
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
        if BUILTIN_NAME.match(name):  # a bare name such as ``default``: a built-in ruleset
            root = builtin_root()
            if name in builtin_names(root):
                assert root is not None
                return Source.builtin(root, name + ".yaml")
        if self.path is None:  # YAML text: includes are relative to the working directory
            return Source.file(Path(name), name)
        display = os.path.normpath(os.path.join(os.path.dirname(self.display), name))
        return Source.file(self.path.parent / name, display)


def _read_regular(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of ``path``, which must be a regular file.

    The file is opened without blocking (a FIFO with no writer would otherwise hang the open) and
    checked on the open descriptor, so a FIFO, a device such as ``/dev/zero`` or a directory is
    refused before anything is read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"{path} is a directory")
        if not stat.S_ISREG(mode):
            raise OSError(errno.ENODEV, NOT_REGULAR)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks: list[bytes] = []
        left = limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def inside(path: str, roots: tuple[str, ...]) -> bool:
    """Whether the real path ``path`` lies in one of the real directories ``roots``."""
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def describe_size(n: int) -> str:
    """A byte count as a message shows it: ``1 MiB``, or ``1000 bytes`` when not whole MiB."""
    return f"{n >> 20} MiB" if n % (1 << 20) == 0 else f"{n} bytes"


def os_reason(exc: OSError) -> str:
    """Why a file could not be read, in plain words."""
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if exc.strerror == NOT_REGULAR:
        return NOT_REGULAR
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
