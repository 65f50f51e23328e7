"""CDS Hooks cards from a RiskReport: what an EHR shows a clinician, with the reasons.

:func:`cards` turns a report into CDS Hooks 2.0 cards (plain dicts, ready for JSON). It needs no
web framework; the optional HTTP service lives in :mod:`riskrules.service`.

Decisions (see docs/cds-hooks.md):

- One card per hazard whose level is at the second level of the scale or above (``moderate``
  in the default scale). Hazards below that level that are *incomplete* and could reach it
  (``possible_level``) share one last ``info`` card listing their missing inputs, so missing
  information is never shown as low risk and unassessed hazards do not crowd the screen. That
  card opens with the report's overall level and the level it could still reach ("Overall
  level: low so far; incomplete, could reach critical.").
- ``indicator`` by level: the top level of the scale is ``critical``, the one below it is
  ``warning``, every other level (and an incomplete hazard's card) is ``info``. In the default
  scale: moderate -> info, high -> warning, critical -> critical.
- Order: hazard ``priority`` (highest first, so crisis comes first), then level (highest first),
  then the ruleset's hazard order; the incomplete-hazards card comes last.
- Every ``uuid`` is derived from the ruleset fingerprint, the hazard, (for suggestions) the
  protocol and, when given, the call's ``instance`` (the CDS Hooks ``hookInstance``): cards of
  different calls get different uuids, and the same call replayed gets the same ones. With a
  ``key`` the uuids are also *verifiable*: :func:`issued` tells, from the uuid alone, whether a
  holder of the key made it (the service uses this to accept feedback only on its own cards).
- Our own URLs (hazard topics, override reasons) live in the one namespace that the FHIR output
  uses, ``https://riskrules.example/fhir/``.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from riskrules.ehr._fhir_out import BASE_URL, HAZARD_SYSTEM, overall_text
from riskrules.report import RiskReport

if TYPE_CHECKING:
    from riskrules.ruleset._spec import Ruleset

__all__ = ["OVERRIDE_REASONS", "OVERRIDE_SYSTEM", "SUMMARY_LIMIT", "cards", "issued"]

SUMMARY_LIMIT = 140
"""CDS Hooks asks for summaries shorter than 140 characters."""

OVERRIDE_SYSTEM = f"{BASE_URL}/CodeSystem/override-reason"
"""The code system of :data:`OVERRIDE_REASONS`."""

OVERRIDE_REASONS: tuple[tuple[str, str], ...] = (
    ("already-addressed", "Already addressed (plan or referral in place)"),
    ("information-outdated", "Assessment information is outdated"),
    ("clinical-judgement", "Clinical judgement differs"),
    ("not-applicable", "Not applicable to this situation"),
)
"""The coded reasons a clinician may give for dismissing a card (code, display)."""

_NAMESPACE = uuid.UUID("0f4d6c1e-7a35-5c2e-9a8b-3d1f2b6e4c70")


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def _keyed_uid(key: bytes, *parts: str) -> str:
    """A version-8 UUID whose first half names ``parts`` and whose second half is a MAC of the
    first under ``key``: :func:`issued` checks it without remembering anything."""
    head = bytearray(hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()[:8])
    head[6] = (head[6] & 0x0F) | 0x80  # version 8: custom layout (RFC 9562)
    return str(uuid.UUID(bytes=bytes(head) + _tag(key, bytes(head))))


def _tag(key: bytes, head: bytes) -> bytes:
    tag = bytearray(hmac.new(key, head, hashlib.sha256).digest()[:8])
    tag[0] = (tag[0] & 0x3F) | 0x80  # the RFC 4122 variant
    return bytes(tag)


def issued(value: object, key: bytes) -> bool:
    """Whether ``value`` is a card or suggestion uuid made by :func:`cards` with ``key``.

    Only the canonical lowercase form counts; anything else (other uuids, other strings, other
    types) is False.
    """
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    if str(parsed) != value:
        return False
    raw = parsed.bytes
    return hmac.compare_digest(raw[8:], _tag(key, raw[:8]))


def _uuid_maker(fingerprint: str, instance: str | None, key: bytes | None) -> Callable[..., str]:
    tail = () if instance is None else (instance,)
    if key is None:
        return lambda *parts: _uid(fingerprint, *parts, *tail)
    return lambda *parts: _keyed_uid(key, fingerprint, *parts, *tail)


def _clip(text: str) -> str:
    if len(text) < SUMMARY_LIMIT:
        return text
    return text[: SUMMARY_LIMIT - 2].rstrip() + "…"


def _indicator(rank: int, top: int) -> str:
    if rank >= top:
        return "critical"
    if rank == top - 1:
        return "warning"
    return "info"


def _scale(report: RiskReport, ruleset: Ruleset | None) -> tuple[str, ...]:
    if ruleset is not None:
        return ruleset.scale
    seen: list[str] = []
    for hazard in report.hazards.values():
        for level in (hazard.level, hazard.possible_level):
            if level not in seen:
                seen.append(level)
    return ("low", "moderate", "high", "critical") if len(seen) <= 4 else tuple(seen)


def cards(
    report: RiskReport,
    *,
    ruleset: Ruleset | None = None,
    source_label: str | None = None,
    links_base: str | None = None,
    hazards: Iterable[str] | None = None,
    instance: str | None = None,
    key: bytes | None = None,
    questions: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """CDS Hooks cards for ``report``: one per hazard at moderate or above, then one for the
    incomplete hazards below it (if any).

    ``ruleset`` defaults to the ruleset the report was scored with (a report rebuilt from JSON
    carries none: then titles and citations come from the report alone). ``source_label``
    replaces the default "<ruleset title> <version>". ``links_base`` makes protocol links
    absolute (``<links_base>/protocols/<id>``); without it, no protocol links are given.
    ``hazards`` limits the cards to those hazard ids (unknown ids raise ``ValueError``).
    ``instance`` (the ``hookInstance``) makes the uuids unique to one call; ``key`` makes them
    verifiable with :func:`issued`. ``questions`` (input names, e.g. from
    :func:`riskrules.planning.next_questions`) add a section "to complete this assessment, ask"
    to the card of the incomplete hazards.
    """
    rs = ruleset if ruleset is not None else report._ruleset
    chosen_ids = _chosen_hazards(report, hazards)
    uid = _uuid_maker(report.ruleset.fingerprint, instance, key)
    scale = _scale(report, rs)
    rank = {level: i for i, level in enumerate(scale)}
    top = len(scale) - 1
    threshold = 1
    info = report.ruleset
    label = source_label or (f"{rs.title} {info.version}" if rs else f"{info.id} {info.version}")
    hazard_of = {f.rule: f.hazard for f in report.fired}

    chosen: list[tuple[tuple[int, int, int], str]] = []
    pending: list[str] = []
    for position, (hid, result) in enumerate(report.hazards.items()):
        if hid not in chosen_ids:
            continue
        level_rank = rank.get(result.level, 0)
        if level_rank >= threshold:
            priority = rs.hazards[hid].priority if rs and hid in rs.hazards else 0
            chosen.append(((-priority, -level_rank, position), hid))
        elif not result.complete and rank.get(result.possible_level, 0) >= threshold:
            pending.append(hid)
    chosen.sort()

    out: list[dict[str, Any]] = []
    for _, hid in chosen:
        result = report.hazards[hid]
        level_rank = rank.get(result.level, 0)
        firings = [f for f in report.fired if f.hazard == hid]
        recs = [
            r for r in report.recommendations if any(hazard_of.get(b) == hid for b in r.because)
        ]
        summary = f"{result.title}: {result.level} risk"
        if not result.complete:
            summary += f" (incomplete, could reach {result.possible_level})"
        card: dict[str, Any] = {
            "uuid": uid("card", hid),
            "summary": _clip(summary),
            "indicator": _indicator(level_rank, top),
            "detail": _detail(report, hid, firings, recs, rs),
            "source": _source(label, hid, firings, rs),
        }
        if recs:
            _add_suggestions(card, hid, recs, uid, links_base)
        card["overrideReasons"] = _override_reasons()
        out.append(card)
    asks = list(questions)
    if pending or asks:
        card = _incomplete_card(report, pending, label, uid("incomplete", *pending))
        if asks:
            card["detail"] = _ask(card["detail"], asks, bool(pending))
        if not pending:
            card["summary"] = "Incomplete assessment: some inputs are missing"
        out.append(card)
    return out


def _add_suggestions(
    card: dict[str, Any],
    hid: str,
    recs: list[Any],
    uid: Callable[..., str],
    links_base: str | None,
) -> None:
    """One suggestion per recommended protocol, and links to them under ``links_base``."""
    card["suggestions"] = [
        {
            "label": _clip(f"{rec.title} ({rec.urgency})"),
            "uuid": uid("suggestion", hid, rec.protocol),
            "isRecommended": True,
        }
        for rec in recs
    ]
    card["selectionBehavior"] = "any"
    if links_base:
        base = links_base.rstrip("/")
        card["links"] = [
            {
                "label": _clip(rec.title),
                "url": f"{base}/protocols/{rec.protocol}",
                "type": "absolute",
            }
            for rec in recs
        ]


def _chosen_hazards(report: RiskReport, hazards: Iterable[str] | None) -> frozenset[str]:
    if hazards is None:
        return frozenset(report.hazards)
    chosen = frozenset(hazards)
    unknown = sorted(chosen - set(report.hazards))
    if unknown:
        raise ValueError(f"unknown hazard id(s): {', '.join(unknown)}")
    return chosen


def _override_reasons() -> list[dict[str, str]]:
    return [
        {"code": code, "system": OVERRIDE_SYSTEM, "display": display}
        for code, display in OVERRIDE_REASONS
    ]


def _incomplete_card(
    report: RiskReport, pending: list[str], label: str, card_uuid: str
) -> dict[str, Any]:
    """One info card for the hazards below moderate that missing inputs keep from being ruled
    out: an unassessed hazard is shown as unknown, never as low."""
    info = report.ruleset
    lines = [
        overall_text(report),
        "",
        "Not ruled out: these hazards lack inputs and could reach a higher level.",
        "",
    ]
    for hid in pending:
        result = report.hazards[hid]
        missing = ", ".join(f"`{name}`" for name in result.missing)
        lines.append(
            f"- **{result.title}**: {result.level} so far, could reach "
            f"**{result.possible_level}**; missing: {missing}"
        )
    lines += ["", f"Ruleset {info.id} {info.version} ({info.fingerprint[:12]}).", ""]
    lines.append(f"_{report.disclaimer}_")
    return {
        "uuid": card_uuid,
        "summary": _clip(f"Incomplete assessment: {len(pending)} hazard(s) not ruled out"),
        "indicator": "info",
        "detail": "\n".join(lines),
        "source": {"label": label},
        "overrideReasons": _override_reasons(),
    }


def _ask(detail: str, questions: list[str], pending: bool) -> str:
    """The detail with a "to complete this assessment, ask" section before its footer."""
    body, _, footer = detail.rpartition("\n\nRuleset ")
    if not pending:
        body = "Some inputs are missing."
    section = "To complete this assessment, ask: " + ", ".join(f"`{q}`" for q in questions)
    return f"{body}\n\n{section}\n\nRuleset {footer}"


def _citations(hid: str, firings: list[Any], rs: Ruleset | None) -> list[tuple[str, str | None]]:
    """(citation, url) of the references cited by the hazard's fired rules, in firing order."""
    if rs is None:
        return []
    source_of = {rule.id: rule.source for rule in rs.rules}
    seen: list[str] = []
    for firing in firings:
        ref = source_of.get(firing.rule)
        if ref and ref in rs.references and ref not in seen:
            seen.append(ref)
    return [(rs.references[r].citation.strip(), rs.references[r].url) for r in seen]


def _source(label: str, hid: str, firings: list[Any], rs: Ruleset | None) -> dict[str, Any]:
    source: dict[str, Any] = {"label": label}
    cited = _citations(hid, firings, rs)
    url = next((u for _, u in cited if u), None)
    if url:
        source["url"] = url
    source["topic"] = {"system": HAZARD_SYSTEM, "code": hid}
    return source


def _detail(
    report: RiskReport, hid: str, firings: list[Any], recs: list[Any], rs: Ruleset | None
) -> str:
    result = report.hazards[hid]
    info = report.ruleset
    lines = [
        f"**{result.title}**: level **{result.level}** (score {result.score})",
        "",
    ]
    if firings:
        lines.append("Reasons:")
        for firing in firings:
            read = ", ".join(sorted(firing.reads)) or "findings only"
            lines.append(f"- {firing.because} _(rule `{firing.rule}`; reads: {read})_")
        lines.append("")
    if not result.complete:
        lines.append(
            f"Incomplete: could reach **{result.possible_level}**. Missing inputs: "
            + ", ".join(f"`{name}`" for name in result.missing)
        )
        lines.append("")
    if recs:
        lines.append("Recommended protocols:")
        lines.extend(f"- {rec.title} ({rec.urgency})" for rec in recs)
        lines.append("")
    cited = _citations(hid, firings, rs)
    if cited:
        lines.append("Sources:")
        lines.extend(f"- {citation}" for citation, _ in cited)
        lines.append("")
    lines.append(f"Ruleset {info.id} {info.version} ({info.fingerprint[:12]}).")
    lines.append("")
    lines.append(f"_{report.disclaimer}_")
    return "\n".join(lines)
