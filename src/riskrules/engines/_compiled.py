"""The compiled native engine: a program turned into generated Python source, compiled once.

:mod:`riskrules.engines._codegen` writes the source of ``run(X)`` and ``evaluate(facts)``; this
module compiles it once (code objects are cached by source text, which is fully determined by the
ruleset's semantics and the bound parameters, so Scorers of the same ruleset and parameters share
one compilation), runs the later rounds of the strata the source does not write out
(:func:`finish_stratum`: strata with cycles of findings) and wraps ``evaluate`` in the
:class:`~riskrules.engines._base.Engine` interface. The native Scorer compiles its own functions
with the engine's in one source (:func:`namespace`). The closure engine of
:mod:`riskrules.engines._native` stays the reference interpreter that the differential tests
compare this one with.
"""

from __future__ import annotations

import builtins
import functools
import threading
from collections.abc import Mapping
from types import CodeType
from typing import Any, ClassVar

from riskrules.engines._base import Evaluation, Program
from riskrules.engines._codegen import Generated, generate
from riskrules.errors import EngineError
from riskrules.ruleset._conditions import Truth

__all__ = ["CompiledEngine", "compile", "finish_stratum", "namespace"]

_TRUTHS = (Truth.FALSE, Truth.UNKNOWN, Truth.TRUE)


def _at_least(n: int, values: tuple[int, ...]) -> int:
    """Kleene k-of-n: TRUE when ``n`` values are TRUE, FALSE when too many are FALSE."""
    true = values.count(2)
    if true >= n:
        return 2
    return 0 if len(values) - values.count(0) < n else 1


def finish_stratum(
    table: tuple[
        tuple[tuple[int, Any, tuple[int, ...]], ...],
        Mapping[int, tuple[int, ...]],
        tuple[tuple[int, tuple[int, ...]], ...],
    ],
    X: tuple[Any, ...],
    v: list[int],
    s: list[int],
    fired: list[int],
    pending: list[int],
) -> None:
    """The later definite rounds and the possible pass of a stratum whose rules read its own
    findings, after the generated code ran its first round (same loop as the closure engine's,
    see :mod:`riskrules.engines._base`).

    ``table`` holds the stratum's rules in firing order as (rule index, condition function,
    findings asserted), the positions of the rules reading each finding, and (rule index,
    findings asserted) of the rules asserting any. ``pending`` lists the findings the first
    round asserted.
    """
    rules, readers, asserting = table
    while pending:
        candidates: set[int] = set()
        for f in pending:
            if v[f] != 2:
                v[f] = 2
                reading = readers.get(f)
                if reading:
                    candidates.update(reading)
        pending = []
        for k in sorted(candidates):
            i, cond, found = rules[k]
            if s[i] == 2:  # fired in an earlier round (refraction)
                continue
            t = cond(X, v)
            s[i] = t
            if t == 2:
                fired.append(i)
                pending += found
    work: list[int] = []
    for i, found in asserting:
        if s[i] == 1:
            for f in found:
                if not v[f]:
                    v[f] = 1
                    work.append(f)
    while work:
        for r in readers.get(work.pop(), ()):
            i, cond, found = rules[r]
            if not s[i]:
                t = cond(X, v)
                if t:
                    s[i] = t
                    for g in found:
                        if not v[g]:
                            v[g] = 1
                            work.append(g)


@functools.lru_cache(maxsize=64)
def _code(text: str) -> CodeType:
    return builtins.compile(text, "<riskrules generated>", "exec")


def namespace(generated: Generated) -> dict[str, Any]:
    """The module namespace of ``generated`` source, executed (its code compiled once per text).

    The generated code sees only a few builtins (``min``, ``max`` and the types it checks
    values against), its helpers and its bound constants.
    """
    names: dict[str, Any] = {
        "__builtins__": {
            "min": min,
            "max": max,
            "type": type,
            "dict": dict,
            "int": int,
            "float": float,
            "str": str,
            "len": len,
        },
        "_at_least": _at_least,
        "finish_stratum": finish_stratum,
        **generated.constants,
    }
    exec(_code(generated.source), names)
    return names


class CompiledEngine:
    """A :class:`~riskrules.engines._base.Program` as one generated function. Thread-safe."""

    name: ClassVar[str] = "native"

    __slots__ = ("_closed", "_evaluate", "_lock", "_statuses", "names")

    def __init__(self, program: Program, generated: Generated | None = None) -> None:
        """Compile ``program``, or ``generated``: source that :func:`generate` wrote for it,
        perhaps with more functions appended (the native Scorer's)."""
        if generated is None:
            generated = generate(program)
        self.names = namespace(generated)
        self._evaluate = self.names["evaluate"]
        self._statuses: dict[tuple[int, ...], tuple[Truth, ...]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def run(self, facts: Mapping[str, Any]) -> Evaluation:
        """Run one assessment's facts to the fixpoint; see :mod:`riskrules.engines._base`."""
        if self._closed:
            raise EngineError("the native engine was closed and cannot score any more")
        try:
            fired, status, _ = self._evaluate(facts)
        except (TypeError, ValueError, AttributeError) as exc:
            raise EngineError(
                f"the native engine could not evaluate the facts ({type(exc).__name__}); "
                "facts must be validated input values"
            ) from None
        key = tuple(status)
        truths = self._statuses.get(key)
        if truths is None:
            truths = tuple([_TRUTHS[x] for x in key])
            if len(self._statuses) < 4096:
                with self._lock:
                    self._statuses[key] = truths
        return Evaluation(fired=tuple(fired), status=truths)

    def close(self) -> None:
        """Mark the engine closed; it holds no external resources."""
        self._closed = True


def compile(program: Program) -> CompiledEngine:
    """Compile ``program`` to a generated function."""
    return CompiledEngine(program)
