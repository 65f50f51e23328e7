"""Instrument scoring: from item-level answers to the totals and subscales the rulesets read.

EHRs store questionnaires item by item; the default input contract holds scores. Each
``score_*`` function takes one instrument's answers and returns the contract fields it yields
(dotted names such as ``clinician.proqol.burnout``), ready to pass to :class:`riskrules.Scorer`.
:func:`assessment_from_items` does the same for several instruments at once.

Answers are keyed by item number (``int``, 1-based, as printed on the published form); the
C-SSRS screener is keyed by question name (``q1`` ... ``q5``, ``q6_lifetime``,
``q6_past_3_months``). Numbered instruments take the item's response code or score as an
``int``; yes/no instruments take ``bool``. ``None`` means "not answered". Anything else is an
:class:`~riskrules.AssessmentError` located at ``<instrument>.item<n>`` (or
``cssrs_screener.<question>``). Missing-item policies are in ``docs/instruments.md``; with
``partial=True`` a score that cannot be computed is left out (the scorer then treats that input
as missing, so the rules that read it are indeterminate) instead of raising.

Only item numbers and their scoring keys live here, never item wording.

>>> from riskrules.instruments import score_cage_aid
>>> score_cage_aid({1: True, 2: False, 3: False, 4: True})
{'client.cage_aid.total': 2}
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeAlias

from riskrules.ehr._instrument_answers import (
    Score,
    Scores,
    items_text,
    numbered,
    require,
    scale_sums,
    unanswered,
)
from riskrules.errors import AssessmentError

__all__ = [
    "INSTRUMENTS",
    "Score",
    "Scores",
    "assessment_from_items",
    "score_audit",
    "score_audit_c",
    "score_cage_aid",
    "score_cbi",
    "score_cssrs_screener",
    "score_dast10",
    "score_proqol",
    "score_stss",
    "stss_subscales",
]

InstrumentScorer: TypeAlias = Callable[..., Mapping[str, Score]]

_LIKERT_1_5 = frozenset(range(1, 6))
_AUDIT_0_4 = frozenset(range(5))
_AUDIT_0_2_4 = frozenset({0, 2, 4})


_PROQOL_ITEMS = dict.fromkeys(range(1, 31), _LIKERT_1_5)
_PROQOL_SCALES: dict[str, tuple[int, ...]] = {
    "clinician.proqol.compassion_satisfaction": (3, 6, 12, 16, 18, 20, 22, 24, 27, 30),
    "clinician.proqol.burnout": (1, 4, 8, 10, 15, 17, 19, 21, 26, 29),
    "clinician.proqol.secondary_traumatic_stress": (2, 5, 7, 9, 11, 13, 14, 23, 25, 28),
}
_PROQOL_REVERSED = frozenset({1, 4, 15, 17, 29})


def score_proqol(answers: Mapping[int, int | None], *, partial: bool = False) -> Scores:
    """ProQOL 5 (Stamm 2010): three 10-item raw subscale sums (10-50).

    Items 1-30 answered 1 (never) to 5 (very often). Burnout items 1, 4, 15, 17 and 29 are
    reverse-scored (6 - x). No imputation: a subscale needs all ten of its items.
    """
    answered = numbered("proqol5", answers, _PROQOL_ITEMS)
    return scale_sums(
        "proqol5", answered, _PROQOL_SCALES, partial=partial, reverse=_PROQOL_REVERSED
    )


_STSS_ITEMS = dict.fromkeys(range(1, 18), _LIKERT_1_5)
_STSS_SUBSCALES: dict[str, tuple[int, ...]] = {
    "intrusion": (2, 3, 6, 10, 13),
    "avoidance": (1, 5, 7, 9, 12, 14, 17),
    "arousal": (4, 8, 11, 15, 16),
}


def score_stss(answers: Mapping[int, int | None], *, partial: bool = False) -> Scores:
    """Secondary Traumatic Stress Scale (Bride 2004): total of the 17 items (17-85).

    Items answered 1 (never) to 5 (very often); all 17 are required for the total. The
    subscales are not part of the input contract: see :func:`stss_subscales`.
    """
    answered = numbered("stss", answers, _STSS_ITEMS)
    return scale_sums(
        "stss", answered, {"clinician.stss.total": tuple(range(1, 18))}, partial=partial
    )


def stss_subscales(answers: Mapping[int, int | None], *, partial: bool = False) -> dict[str, int]:
    """STSS subscale sums: ``intrusion`` (5-25), ``avoidance`` (7-35) and ``arousal`` (5-25).

    Each subscale needs all of its items. The keys are plain names, not contract fields, as the
    default rulesets read only the total.
    """
    answered = numbered("stss", answers, _STSS_ITEMS)
    sums = scale_sums("stss", answered, _STSS_SUBSCALES, partial=partial)
    return {name: int(value) for name, value in sums.items()}


_CBI_ITEMS = dict.fromkeys(range(1, 20), _LIKERT_1_5)
_CBI_SCALES: dict[str, tuple[tuple[int, ...], int | None]] = {
    # contract field: (items, fewest answered items for a scale score; None = all)
    "clinician.cbi.personal": (tuple(range(1, 7)), 3),
    "clinician.cbi.work": (tuple(range(7, 14)), 4),
    "clinician.cbi.client": (tuple(range(14, 20)), None),
}
_CBI_REVERSED = frozenset({13})


def _cbi_item_score(item: int, code: int) -> int:
    """Response code 1-5 (first to last printed option) to the published 100/75/50/25/0."""
    score = 100 - 25 * (code - 1)
    return 100 - score if item in _CBI_REVERSED else score


def score_cbi(answers: Mapping[int, int | None], *, partial: bool = False) -> Scores:
    """Copenhagen Burnout Inventory (Kristensen et al. 2005): three scale means (0-100).

    Items 1-19 as numbered in the published inventory (personal 1-6, work-related 7-13,
    client-related 14-19), each answered with its response code: 1 for the first printed option
    ("always" / "to a very high degree") to 5 for the last ("never/almost never" / "to a very
    low degree"), scored 100, 75, 50, 25, 0; item 13 is reverse-scored (0 ... 100).
    A scale is the mean of its answered items. The published minimums apply: at least 3 of the
    6 personal items and 4 of the 7 work-related items; all 6 client-related items are required.
    """
    answered = numbered("cbi", answers, _CBI_ITEMS)
    result: Scores = {}
    for field, (items, minimum) in _CBI_SCALES.items():
        present = [i for i in items if i in answered]
        needed = len(items) if minimum is None else minimum
        if len(present) < needed:
            if partial:
                continue
            missing = unanswered(answered, items)
            at_least = "all" if minimum is None else f"at least {minimum}"
            raise AssessmentError(
                f"cbi.item{missing[0]}",
                None,
                f"missing answer: {field} needs {at_least} of items {items_text(items)}"
                f" (unanswered: {items_text(tuple(missing))})",
            )
        total = sum(_cbi_item_score(i, answered[i]) for i in present)
        result[field] = total / len(present)
    return result


_AUDIT_ITEMS = {item: (_AUDIT_0_2_4 if item in (9, 10) else _AUDIT_0_4) for item in range(1, 11)}
_AUDIT_C_ITEMS = dict.fromkeys(range(1, 4), _AUDIT_0_4)


def score_audit(answers: Mapping[int, int | None], *, partial: bool = False) -> Scores:
    """AUDIT (Babor et al. 2001): total (0-40), items 9 and 10, and AUDIT-C (items 1-3, 0-12).

    Answers are item scores: items 1-8 score 0-4, items 9 and 10 score 0, 2 or 4. The total
    needs all ten items; AUDIT-C, being AUDIT items 1-3, is derived from the same answers.
    With ``partial=True`` answered items 9 and 10 are reported even when the total is not.
    """
    answered = numbered("audit", answers, _AUDIT_ITEMS)
    if not partial:
        require("audit", answered, tuple(range(1, 11)), "client.audit.total")
    result: Scores = {}
    if all(i in answered for i in (1, 2, 3)):
        result["client.audit_c.total"] = answered[1] + answered[2] + answered[3]
    if len(answered) == 10:
        result["client.audit.total"] = sum(answered.values())
    for item in (9, 10):
        if item in answered:
            result[f"client.audit.item{item}"] = answered[item]
    return dict(sorted(result.items()))


def score_audit_c(answers: Mapping[int, int | None], *, partial: bool = False) -> Scores:
    """AUDIT-C (Bush et al. 1998): AUDIT items 1-3 scored 0-4 each, total 0-12; all required."""
    answered = numbered("audit_c", answers, _AUDIT_C_ITEMS)
    return scale_sums("audit_c", answered, {"client.audit_c.total": (1, 2, 3)}, partial=partial)


_DAST_ITEMS: dict[int, frozenset[int] | None] = dict.fromkeys(range(1, 11))
_DAST_REVERSED = 3
_CAGE_ITEMS: dict[int, frozenset[int] | None] = dict.fromkeys(range(1, 5))


def _yes_no_total(
    instrument: str,
    answers: Any,
    items: Mapping[int, frozenset[int] | None],
    field: str,
    *,
    partial: bool,
    reversed_item: int | None = None,
) -> Scores:
    answered = numbered(instrument, answers, items)
    numbers = tuple(items)
    if unanswered(answered, numbers):
        if partial:
            return {}
        require(instrument, answered, numbers, field)
    return {field: sum(int(answer != (item == reversed_item)) for item, answer in answered.items())}


def score_dast10(answers: Mapping[int, bool | None], *, partial: bool = False) -> Scores:
    """DAST-10 (Skinner 1982): 10 yes/no items, yes = 1 except item 3 where no = 1; total 0-10.

    All ten items are required.
    """
    return _yes_no_total(
        "dast10",
        answers,
        _DAST_ITEMS,
        "client.dast10.total",
        partial=partial,
        reversed_item=_DAST_REVERSED,
    )


def score_cage_aid(answers: Mapping[int, bool | None], *, partial: bool = False) -> Scores:
    """CAGE-AID (Brown & Rounds 1995): 4 yes/no items, yes = 1; total 0-4; all required."""
    return _yes_no_total("cage_aid", answers, _CAGE_ITEMS, "client.cage_aid.total", partial=partial)


_CSSRS_QUESTIONS = ("q1", "q2", "q3", "q4", "q5", "q6_lifetime", "q6_past_3_months")
_CSSRS_GATES = {
    "q3": "q2",
    "q4": "q2",
    "q5": "q2",
    "q6_past_3_months": "q6_lifetime",
}


def score_cssrs_screener(
    answers: Mapping[str, bool | None],
    *,
    partial: bool = False,
    not_asked: Collection[str] = (),
) -> Scores:
    """C-SSRS screener: the asked questions' yes/no answers under ``client.cssrs.<question>``.

    Q1, Q2 and Q6 (lifetime) are always asked; Q3-Q5 only after a yes to Q2, and the Q6
    past-three-months follow-up only after a lifetime yes. A skipped question is left out, never
    filled in (the default ruleset reads a follow-up skipped after a "no" as no). An answer to
    a question the skip pattern excludes is an error, as is a missing answer to one it asks
    (unless ``partial=True``, which leaves the missing question out). ``not_asked`` names
    questions a short form never asks: their absence is not an error and they are left out, so
    the rules that read them stay indeterminate.
    """
    unknown = sorted(set(not_asked) - set(_CSSRS_QUESTIONS))
    if unknown:
        raise AssessmentError(
            "cssrs_screener", unknown[0], "not_asked takes " + ", ".join(_CSSRS_QUESTIONS)
        )
    if not isinstance(answers, Mapping):
        raise AssessmentError(
            "cssrs_screener", answers, "a mapping of question name to yes/no answer was expected"
        )
    answered: dict[str, bool] = {}
    for key, value in answers.items():
        if key not in _CSSRS_QUESTIONS or type(key) is not str:
            raise AssessmentError(
                "cssrs_screener",
                key,
                "question keys are " + ", ".join(_CSSRS_QUESTIONS),
            )
        if value is None:
            continue
        if type(value) is not bool:
            raise AssessmentError(
                f"cssrs_screener.{key}", value, "a yes/no answer (true or false) is expected"
            )
        answered[key] = value
    for question in _CSSRS_QUESTIONS:
        gate = _CSSRS_GATES.get(question)
        asked = gate is None or answered.get(gate) is True
        if question in answered and not asked:
            assert gate is not None
            state = "no" if gate in answered else "unanswered"
            raise AssessmentError(
                f"cssrs_screener.{question}",
                answered[question],
                f"breaks the skip pattern: {question} is asked only after a yes to {gate},"
                f" and {gate} is {state}",
            )
        if question not in answered and asked and not partial and question not in not_asked:
            after = "" if gate is None else f" (asked because {gate} is yes)"
            raise AssessmentError(f"cssrs_screener.{question}", None, f"missing answer{after}")
    return {f"client.cssrs.{q}": answered[q] for q in _CSSRS_QUESTIONS if q in answered}


INSTRUMENTS: Mapping[str, InstrumentScorer] = {
    "audit": score_audit,
    "audit_c": score_audit_c,
    "cage_aid": score_cage_aid,
    "cbi": score_cbi,
    "cssrs_screener": score_cssrs_screener,
    "dast10": score_dast10,
    "proqol5": score_proqol,
    "stss": score_stss,
}
"""Instrument name -> scoring function, as :func:`assessment_from_items` dispatches them."""


def assessment_from_items(
    items: Mapping[str, Mapping[Any, Any]], *, partial: bool = False
) -> Scores:
    """One assessment (dotted contract names -> scores) from several instruments' answers.

    ``items`` maps an instrument name (see :data:`INSTRUMENTS`) to its answers. When two
    instruments yield the same field (AUDIT and AUDIT-C both give ``client.audit_c.total``)
    their values must agree. Keys are sorted, so equal input gives equal output.
    """
    if not isinstance(items, Mapping):
        raise AssessmentError("", items, "a mapping of instrument name to answers was expected")
    result: Scores = {}
    source: dict[str, str] = {}
    for name, answers in items.items():
        scorer = INSTRUMENTS.get(name) if isinstance(name, str) else None
        if scorer is None:
            raise AssessmentError(
                str(name), None, "unknown instrument: expected one of " + ", ".join(INSTRUMENTS)
            )
        for field, value in scorer(answers, partial=partial).items():
            if field in result and result[field] != value:
                raise AssessmentError(
                    field,
                    value,
                    f"{name} gives {value!r} but {source[field]} gave {result[field]!r}",
                )
            result[field] = value
            source.setdefault(field, name)
    return dict(sorted(result.items()))
