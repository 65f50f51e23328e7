"""Rule engines behind one small interface.

A :class:`Program` is a ruleset with its parameters bound, compiled to engine-neutral rules; an
engine turns it into an :class:`Engine` whose ``evaluate`` runs one assessment's facts to the
fixpoint and returns an :class:`Evaluation`. The semantics (strata, refraction, three-valued
matching) are written down once, in ``_base``. ``_compiled`` (what ``engine="native"`` runs)
compiles generated Python source for a program (written by ``_codegen``; the native Scorer appends
its validation and aggregation to it); ``_native`` compiles rules to Python closures (built by
``_native_conditions``) and is the reference interpreter the generated code is tested against;
``_durable`` runs the same program on durable-rules' Rete network (with the ``_durable_*`` modules;
imported only when used).
"""

from riskrules.engines._base import (
    CompiledRule,
    Engine,
    Evaluation,
    Program,
    stratify,
)

__all__ = [
    "CompiledRule",
    "Engine",
    "Evaluation",
    "Program",
    "stratify",
]
