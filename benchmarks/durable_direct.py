"""The durable engine's definitions driven directly: the baseline of the wrapper-overhead benchmark.

:func:`direct_runner` issues the same durable calls as
:class:`~riskrules.engines._durable.DurableEngine` (same definitions, facts, rounds and
retraction) from one inline loop on one session, without the engine's session pool, locking,
error translation or status bookkeeping. ``bench_scoring.py`` times the engine's ``run`` against
it and first checks that both fire the same rules.
"""

from __future__ import annotations

import importlib
import itertools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from riskrules.engines._base import Program
from riskrules.engines._durable_fields import encode
from riskrules.engines._durable_plan import compile_plan
from riskrules.engines._durable_rounds import OPTIMISTIC, PESSIMISTIC, Session, State

_ids = itertools.count()


def direct_runner(program: Program) -> tuple[Callable[[Mapping[str, Any]], list[int]], Any]:
    """``(run, close)`` for ``program``; ``run(facts)`` returns the fired rule indices.

    Not thread-safe; ``close()`` releases the session and the ruleset.
    """
    mod = importlib.import_module("durable_rules_engine")
    plan = compile_plan(program)
    n = next(_ids)
    handle = mod.create_ruleset(f"direct{n}", json.dumps(plan.definitions))
    session = Session.open(mod, handle, plan.actions, f"direct{n}")
    sid = session.sid
    assert_facts = mod.assert_facts
    start = mod.start_action_for_state
    complete = mod.complete_and_start_action
    actions, asserts, rank, rule_groups = plan.actions, plan.asserts, plan.rank, plan.rule_groups

    def drive(batch: str) -> tuple[set[int], set[int]]:
        true: set[int] = set()
        maybe: set[int] = set()
        if not batch:
            return true, maybe
        _, offset = assert_facts(handle, batch.replace("%s", sid))
        res = start(handle, offset)
        message = None if res is None else res[1]
        while message is not None:
            rule = actions[message[2 : message.index('"', 2)]]
            if PESSIMISTIC in message:
                true.add(rule)
            if OPTIMISTIC in message:
                maybe.add(rule)
            message = complete(handle, offset)
        return true, maybe

    def run(facts: Mapping[str, Any]) -> list[int]:
        state = State(plan, encode(plan.fields, facts))
        done = [False] * plan.nrules
        fired: list[int] = []
        ids: list[str] = []
        for stratum in plan.strata:
            todo: Iterable[int] = stratum.groups
            unknown: set[int] = set()
            while todo:  # definite pass
                true, maybe = drive(state.facts(plan, todo, "tn", ids))
                unknown |= maybe
                changed = []
                for i in sorted((i for i in true if not done[i]), key=rank.__getitem__):
                    done[i] = True
                    fired.append(i)
                    changed += [f for f in asserts[i] if state.confirm(f)]
                again = {i for f in changed for i in stratum.readers.get(f, ()) if not done[i]}
                todo = sorted({g for i in again for g in rule_groups[i]})
            while True:  # possible pass
                changed = [
                    f for i in unknown if not done[i] for f in asserts[i] if state.possible(f)
                ]
                again = {i for f in changed for i in stratum.readers.get(f, ()) if not done[i]}
                if not again:
                    break
                todo = sorted({g for i in again for g in rule_groups[i]})
                unknown |= drive(state.facts(plan, todo, "n", ids))[1]
        mod.retract_facts(
            handle, "[" + ",".join(f'{{"sid":"{sid}","id":"{i}"}}' for i in ids) + "]"
        )
        return fired

    def close() -> None:
        mod.delete_state(handle, sid)
        mod.delete_ruleset(handle)

    return run, close
