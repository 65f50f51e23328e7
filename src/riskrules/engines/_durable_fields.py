"""How the durable engine encodes an assessment's inputs as small integers on fact properties.

durable compares only what it is given, so every input becomes its *rank* among the constants
the rules compare it with (numeric inputs: ``2i`` between constants, ``2i+1`` on constant i;
enums: the position of the declared value; booleans: 0 or 1). A :class:`Field` holds that rank
space and the three properties an input uses: ``a`` and ``b`` (the rank; lower bounds test
``a``, upper bounds ``b``) and ``e`` (present or not). A missing input is ``a=-1, b=TOP`` in the
pessimistic fact, where every comparison fails, and ``a=TOP, b=-1`` in the optimistic one, where
every comparison holds (:func:`encode`). :class:`Names` hands out short property names whose
durable hashes never collide.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from riskrules.errors import EngineError

__all__ = ["Field", "Names", "encode"]

_RESERVED = ("sid", "id", "$s", "k", "j", "$forward")
"""Property names durable or the guards use; generated names must not collide with their hash."""


@dataclass(frozen=True, slots=True)
class Field:
    """How one input is encoded: its rank space and the fact properties it uses."""

    name: str
    kind: str  # "numeric" | "enum" | "boolean"
    consts: tuple[Any, ...]
    """numeric: the sorted constants rules compare it with; enum: declared values; boolean."""
    top: int
    """One above the highest rank a present value can take."""
    a: str
    b: str
    e: str

    def rank(self, value: Any) -> int:
        """Rank of a present value: numeric ``2i`` between constants, ``2i+1`` on constant i."""
        if self.kind == "numeric":
            if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
                raise EngineError(f"input {self.name!r} needs a number")
            consts = self.consts
            i = bisect.bisect_left(consts, value)
            return 2 * i + 1 if i < len(consts) and consts[i] == value else 2 * i
        if self.kind == "boolean":
            if value is True:
                return 1
            if value is False:
                return 0
            raise EngineError(f"input {self.name!r} needs true or false")
        for i, known in enumerate(self.consts):
            if known == value and isinstance(value, str):
                return i
        raise EngineError(f"input {self.name!r} needs one of its declared values")

    def const_rank(self, value: Any) -> int:
        if self.kind == "numeric":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise EngineError(f"a test of {self.name!r} compares with {value!r}, not a number")
            return 2 * self.consts.index(value) + 1
        if self.kind == "boolean":
            if not isinstance(value, bool):
                raise EngineError(f"a test of {self.name!r} compares with {value!r}, not a bool")
            return int(value)
        if value not in self.consts or not isinstance(value, str):
            raise EngineError(f"a test of {self.name!r} compares with undeclared {value!r}")
        return self.consts.index(value)


def _fnv1a(name: str) -> int:
    """durable's property hash (32-bit FNV-1a)."""
    h = 2166136261
    for byte in name.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


class Names:
    """Short property names whose durable hashes never collide."""

    def __init__(self) -> None:
        self._hashes = {_fnv1a(name) for name in _RESERVED}
        self._hashes.add(739185624)  # durable's hash for the $forward nodes of $or

    def new(self, stem: str) -> str:
        for suffix in itertools.chain([""], (f"_{i}" for i in itertools.count())):
            name = stem + suffix
            h = _fnv1a(name)
            if h not in self._hashes:
                self._hashes.add(h)
                return name
        raise AssertionError("unreachable")


def encode(fields: Sequence[Field], facts: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """The field part of the pessimistic and optimistic value vectors."""
    pess: list[int] = []
    opt: list[int] = []
    for field in fields:
        if field.name in facts:
            r = field.rank(facts[field.name])
            pess += (r, r, 1)
            opt += (r, r, 1)
        else:
            pess += (-1, field.top, 0)
            opt += (field.top, -1, 0)
    return pess, opt
