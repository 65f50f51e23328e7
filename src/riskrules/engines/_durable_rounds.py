"""How the durable engine runs one assessment: facts per round, matches, firings.

The definite and possible passes of :mod:`riskrules.engines._base` run in Python rounds; within a
round durable matches every pattern of the groups concerned against that round's facts (asserted in
one batch) and the matches are collected synchronously by draining the session's actions in the
calling thread. No durable ``Host``, dispatcher or timer thread is involved. After round 0 only the
groups of rules reading a finding that just changed are re-matched. Firings of a round are put in
(salience, ruleset) order here, not by durable's ``pri``.

durable answers an empty batch with an uninitialised session offset, and using an offset that is
not the session's crashes the process: empty batches are never sent and every offset is checked.

:class:`State` holds an assessment's value vectors and renders the facts of a round,
:class:`Session` asserts them and collects the matches, and :func:`evaluate` runs the rounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from riskrules.engines._base import Evaluation
from riskrules.engines._durable_plan import OPEN, Plan, Stratum
from riskrules.errors import EngineError
from riskrules.ruleset._conditions import Truth

__all__ = ["OPTIMISTIC", "PESSIMISTIC", "Session", "State", "evaluate"]

PESSIMISTIC = '"id":"t'
OPTIMISTIC = '"id":"n'
"""How a matched fact shows in an action message: fact ids begin with their kind."""

_TRUTHS = (Truth.FALSE, Truth.UNKNOWN, Truth.TRUE)


class State:
    """The value vectors of one assessment, kept up to date as findings change.

    ``fields`` and ``findings`` hold the pessimistic (index 0) and optimistic (index 1) values;
    ``heads`` caches each group's rendered head, which does not change during a run.
    """

    __slots__ = ("fields", "findings", "heads", "vals")

    def __init__(self, plan: Plan, fields: tuple[list[int], list[int]]) -> None:
        self.fields = fields
        self.findings = ([0] * (2 * plan.nfindings), [0] * (2 * plan.nfindings))
        self.vals = [0] * plan.nfindings  # 0 FALSE, 1 possible, 2 asserted
        self.heads: dict[int, str] = {}

    def confirm(self, f: int) -> bool:
        """Mark finding ``f`` asserted; False if it already was."""
        if self.vals[f] == 2:
            return False
        self.vals[f] = 2
        pess, opt = self.findings
        pess[2 * f] = pess[2 * f + 1] = opt[2 * f] = opt[2 * f + 1] = 1
        return True

    def possible(self, f: int) -> bool:
        """Mark finding ``f`` possible; False if it was already asserted or possible."""
        if self.vals[f]:
            return False
        self.vals[f] = 1
        self.findings[0][2 * f + 1] = 1
        self.findings[1][2 * f] = 1
        return True

    def facts(self, plan: Plan, groups: Iterable[int], kinds: str, ids: list[str]) -> str:
        """The JSON array of the groups' facts of the given kinds (``t``, ``n``); records ids.

        An empty string when there are no facts: durable must never see an empty batch (it
        answers with an uninitialised session offset, and using that offset crashes).
        """
        texts = []
        heads = self.heads
        for g in groups:
            group = plan.groups[g]
            for kind in kinds:
                index = kind == "n"
                key = 2 * g + index
                head = heads.get(key)
                if head is None:
                    head = heads[key] = group.head % group.head_values(self.fields[index])
                fid = f"{kind}{len(ids)}"
                ids.append(fid)
                tail = group.tail % group.tail_values(self.findings[index])
                texts.append(f'{head}{tail},"sid":"%s","id":"{fid}"}}')
        return "[" + ",".join(texts) + "]" if texts else ""


class Session:
    """One durable session serving one assessment at a time.

    :meth:`match` asserts a round's facts in one batch and drains the resulting actions in the
    calling thread; the action of every durable rule records which program rule matched which
    kind of fact. :meth:`retract` withdraws the run's facts afterwards.
    """

    __slots__ = ("actions", "handle", "ids", "mod", "offset", "sid")

    def __init__(
        self, mod: Any, handle: int, actions: Mapping[str, int], sid: str, offset: int
    ) -> None:
        self.mod = mod
        self.handle = handle
        self.actions = actions
        self.sid = sid
        self.offset = offset
        """durable's index of this session's state, fixed for the session's life."""
        self.ids: list[str] = []

    @classmethod
    def open(cls, mod: Any, handle: int, actions: Mapping[str, int], sid: str) -> Session:
        """Create a session by firing the sentinel rule (see :mod:`riskrules.engines._durable`)."""
        fact = f'{{"id":"open","sid":"{sid}","k":{OPEN}}}'
        try:
            code, offset = mod.assert_fact(handle, fact)
            if code != 0:
                raise EngineError("durable did not open a session")
            result = mod.start_action_for_state(handle, offset)
            while result is not None:
                result = mod.complete_and_start_action(handle, offset)
            mod.retract_fact(handle, fact)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"durable could not open a session: {exc}") from None
        return cls(mod, handle, actions, sid, offset)

    def match(self, batch: str) -> tuple[set[int], set[int]]:
        """Assert a batch (``%s`` left for the sid); the rules matched per kind of fact."""
        true: set[int] = set()
        maybe: set[int] = set()
        if not batch:
            return true, maybe
        mod, handle = self.mod, self.handle
        code, offset = mod.assert_facts(handle, batch.replace("%s", self.sid))
        if code == 2:
            raise EngineError("durable reported a fact as already observed")
        if offset != self.offset:  # never hand durable an offset it did not mean
            raise EngineError("durable answered for another session")
        actions = self.actions
        errors: list[str] = []
        result = mod.start_action_for_state(handle, offset)
        message: str | None = None if result is None else result[1]
        while message is not None:
            # One message per matched durable rule: ``cap`` batches all its frames (facts).
            try:
                rule = actions[message[2 : message.index('"', 2)]]
                hit = False
                if PESSIMISTIC in message:
                    true.add(rule)
                    hit = True
                if OPTIMISTIC in message:
                    maybe.add(rule)
                    hit = True
                if not hit:
                    raise ValueError("no fact of this run")
            except (ValueError, KeyError) as exc:
                errors.append(f"unexpected match message ({type(exc).__name__})")
            message = mod.complete_and_start_action(handle, offset)
        if errors:
            raise EngineError(f"durable actions failed: {errors[0]}")
        return true, maybe

    def retract(self) -> None:
        """Withdraw every fact asserted since the last retract."""
        if self.ids:
            sid = self.sid
            self.mod.retract_facts(
                self.handle,
                "[" + ",".join(f'{{"sid":"{sid}","id":"{i}"}}' for i in self.ids) + "]",
            )
            self.ids = []


def evaluate(session: Session, plan: Plan, fields: tuple[list[int], list[int]]) -> Evaluation:
    """The semantics of :mod:`riskrules.engines._base`, with durable doing every match.

    Within a stratum, same-stratum findings are read positively only and finding values only
    grow, so a rule that matched stays matched: sets of matches simply accumulate.
    """
    state = State(plan, fields)
    status = [0] * plan.nrules
    fired: list[int] = []
    ids = session.ids
    asserts, rank, rule_groups = plan.asserts, plan.rank, plan.rule_groups
    for stratum in plan.strata:
        if not stratum.groups:
            continue
        groups: Iterable[int] = stratum.groups
        unknown: set[int] = set()
        # Definite pass: each round matches both facts; the optimistic matches of the last
        # round are where the possible pass starts.
        while True:
            true, maybe = session.match(state.facts(plan, groups, "tn", ids))
            unknown |= maybe
            changed: list[int] = []
            for i in sorted((i for i in true if status[i] != 2), key=rank.__getitem__):
                status[i] = 2
                fired.append(i)
                changed += [f for f in asserts[i] if state.confirm(f)]
            again = _affected(stratum, changed, status)
            if not again:
                break
            groups = sorted({g for i in again for g in rule_groups[i]})
        # Possible pass: rules not FALSE make their findings possible, to a fixpoint.
        while True:
            changed = [
                f for i in unknown if status[i] != 2 for f in asserts[i] if state.possible(f)
            ]
            again = _affected(stratum, changed, status)
            if not again:
                break
            groups = sorted({g for i in again for g in rule_groups[i]})
            unknown |= session.match(state.facts(plan, groups, "n", ids))[1]
        for i in unknown:
            if status[i] != 2:
                status[i] = 1
    truths = _TRUTHS
    return Evaluation(fired=tuple(fired), status=tuple([truths[s] for s in status]))


def _affected(stratum: Stratum, changed: list[int], status: list[int]) -> set[int]:
    """Rules of the stratum, not fired yet, that read a finding that just changed."""
    readers = stratum.readers
    return {i for f in changed for i in readers.get(f, ()) if status[i] != 2}
