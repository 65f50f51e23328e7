"""The native Scorer's generated code: validation, evaluation and aggregation in one source.

One source per (ruleset, parameters), compiled once (:func:`riskrules.engines._compiled.namespace`
caches code by text), holds:

* ``run(X)`` and ``evaluate(facts)``, the engine (:mod:`riskrules.engines._codegen`);
* ``nested(a)``, the nested assessment checked and unpacked to ``X``
  (:mod:`riskrules.scoring._gen_validation`), unless the ruleset's names rule it out;
* ``aggregate(X, s, v, fired)``, hazard scores, levels, possible levels and missing inputs
  (:mod:`riskrules.scoring._gen_aggregation`);
* ``score(X)``, which runs the engine and the aggregation on ``X``.

:meth:`Aggregator.assemble <riskrules.scoring._aggregation.Aggregator.assemble>` turns their
results into the report. ``riskrules compile --show`` prints the source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from riskrules.engines._base import Program
from riskrules.engines._codegen import Generated, Writer, generate, input_order
from riskrules.engines._compiled import CompiledEngine
from riskrules.ruleset._spec import Ruleset
from riskrules.scoring._gen_aggregation import write_aggregate
from riskrules.scoring._gen_validation import fast_path_possible, write_nested

__all__ = ["ScorerCode", "scorer_source"]


def scorer_source(ruleset: Ruleset, program: Program) -> Generated:
    """The whole generated source of a native Scorer (constants to bind included)."""
    engine = generate(program)
    w = Writer(program, dict(engine.constants))
    if fast_path_possible(ruleset):
        w.emit(0, "")
        w.emit(0, "")
        write_nested(w, ruleset)
    w.emit(0, "")
    w.emit(0, "")
    write_aggregate(w, ruleset, program)
    w.emit(0, "")
    w.emit(0, "")
    w.emit(0, "def score(X):")
    w.emit(1, "fired, s, v = run(X)")
    w.emit(1, "return X, fired, aggregate(X, s, v, fired)")
    w.constants.setdefault("_EMPTY", {})
    source = engine.source + "\n".join(w.lines) + "\n"
    return Generated(source, w.constants)


class ScorerCode:
    """The compiled functions of :func:`scorer_source` and the engine that shares them."""

    __slots__ = ("engine", "nested", "order", "score")

    def __init__(self, ruleset: Ruleset, program: Program) -> None:
        generated = scorer_source(ruleset, program)
        self.engine = CompiledEngine(program, generated)
        names = self.engine.names
        self.order = input_order(program)
        self.nested: Callable[[Any], tuple[Any, ...] | None] | None = names.get("nested")
        self.score: Callable[[tuple[Any, ...]], tuple[Any, ...]] = names["score"]

    def values(self, facts: Mapping[str, Any]) -> tuple[Any, ...]:
        """``X`` from validated facts: the value of each input the rules read, or None."""
        return tuple(map(facts.get, self.order))
