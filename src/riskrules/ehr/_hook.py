"""One hook call, from its checked JSON body to its cards (runs in the service's thread pool).

The request fields follow CDS Hooks 2.0, "Calling a CDS Service": ``hook``, ``hookInstance``
and ``context`` are required; both hooks answered need ``context.patientId``. The cards report
the hazards the site chose for the hook (:meth:`ServiceConfig.hazards_for`); their uuids are
unique to the ``hookInstance`` and verifiable with the service's key, so feedback can be
checked and a replayed call gets the same cards.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from riskrules.ehr._cdshooks import cards
from riskrules.ehr._prefetch import prefetched
from riskrules.ehr._serviceconfig import CLIENT_SIDE, HOOKS, ServiceConfig
from riskrules.errors import AssessmentError, ConfigError, RiskRulesError, ServiceRequestError
from riskrules.planning import next_questions
from riskrules.report import RiskReport
from riskrules.ruleset._conditions import fields_read
from riskrules.ruleset._spec import Ruleset
from riskrules.scoring._scorer import Scorer

__all__ = ["HookHandler", "client_side_hazards", "site_mappings"]

log = logging.getLogger("riskrules.service")
_MAX_ID = 256
_QUESTIONS = 3
"""How many missing inputs the incomplete-assessment card asks for, at most."""


def client_side_hazards(ruleset: Ruleset) -> tuple[str, ...]:
    """Hazards whose rules read only ``client.*`` inputs: what a patient's record can fill."""
    fields: dict[str, set[str]] = {hid: set() for hid in ruleset.hazards}
    for rule in ruleset.rules:
        fields[rule.hazard].update(fields_read(rule.when))
    return tuple(
        hid
        for hid, read in fields.items()
        if read and all(name.startswith("client.") for name in read)
    )


def site_mappings(paths: Sequence[Path]) -> tuple[Mapping[str, Any], ...]:
    """The site's FHIR mapping documents, read and checked once at start-up."""
    from riskrules.ehr._fhir_mappings import load_mappings

    documents = []
    for path in paths:
        try:
            documents.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            raise ConfigError(f"FHIR mapping {path} is unreadable") from None
    try:
        load_mappings(documents)
    except RiskRulesError as exc:
        raise ConfigError(f"FHIR mapping rejected: {exc}") from None
    return tuple(documents)


def _resolve(ruleset: Ruleset, hook: str, choice: tuple[str, ...] | str | None) -> Any:
    if choice is None or choice == "all":
        return None
    if choice == CLIENT_SIDE:
        found = client_side_hazards(ruleset)
        if not found:
            raise ConfigError(
                f"{hook}: no hazard of ruleset {ruleset.ruleset} reads only client.* inputs; "
                "name the hazards for this hook in the configuration"
            )
        return found
    unknown = sorted(set(choice) - set(ruleset.hazards))
    if unknown:
        raise ConfigError(f"{hook}: unknown hazard id(s) {', '.join(unknown)}")
    return tuple(choice)


def _mark_incomplete(report: RiskReport, gaps: Sequence[str]) -> RiskReport:
    """The report with every hazard incomplete, missing ``gaps``, able to reach the top level."""
    scale = report._ruleset.scale if report._ruleset is not None else ()
    hazards = {}
    for hid, hazard in report.hazards.items():
        top = scale[-1] if scale else hazard.possible_level
        missing = tuple(sorted({*hazard.missing, *gaps}))
        hazards[hid] = hazard.model_copy(
            update={"complete": False, "possible_level": top, "missing": missing}
        )
    reach = scale[-1] if scale and hazards else report.possible_level
    return report.model_copy(
        update={"hazards": hazards, "complete": False, "possible_level": reach}
    )


def _request_fields(data: Any) -> tuple[str, str, str]:
    """(hook, hookInstance, context.patientId) of a hook call, or a 400."""
    if not isinstance(data, dict):
        raise ServiceRequestError(400, "request body must be a JSON object")
    hook = data.get("hook")
    if hook not in HOOKS:
        raise ServiceRequestError(400, f"'hook' must be one of {', '.join(HOOKS)}")
    instance = data.get("hookInstance")
    if not isinstance(instance, str) or not instance or len(instance) > _MAX_ID:
        raise ServiceRequestError(400, f"'hookInstance' must be a string of 1-{_MAX_ID}")
    context = data.get("context")
    if not isinstance(context, dict):
        raise ServiceRequestError(400, "'context' must be a JSON object")
    patient = context.get("patientId")
    if not isinstance(patient, str) or not patient or len(patient) > _MAX_ID:
        raise ServiceRequestError(400, f"'context.patientId' must be a string of 1-{_MAX_ID}")
    return hook, instance, patient


class HookHandler:
    """Scores hook calls and renders their cards."""

    def __init__(
        self,
        scorer: Scorer,
        config: ServiceConfig,
        key: bytes,
        mappings: tuple[Mapping[str, Any], ...] = (),
    ) -> None:
        self.scorer = scorer
        self.config = config
        self.key = key
        self.mappings = mappings
        self.hazards = {
            hook: _resolve(scorer.ruleset, hook, config.hazards_for(hook)) for hook in HOOKS
        }
        self.fingerprint = scorer.ruleset.fingerprint

    def handle(self, data: Any) -> dict[str, Any]:
        """``{"cards": [...]}`` for a hook call body, or :class:`ServiceRequestError`."""
        hook, instance, patient = _request_fields(data)
        try:
            found = prefetched(
                data.get("prefetch"),
                patient_id=patient,
                mappings=self.mappings,
                partial=self.config.partial,
                selection=self.config.selection,
            )
            report = self.scorer.score(found.assessment)
        except ServiceRequestError:
            raise
        except AssessmentError as exc:
            # field and constraint only: the offending value is not echoed
            raise ServiceRequestError(
                422, f"assessment rejected: field {exc.field!r}: {exc.constraint}"
            ) from None
        except (RiskRulesError, RecursionError):
            raise ServiceRequestError(422, "assessment rejected") from None
        if found.gaps:
            report = _mark_incomplete(report, found.gaps)
        chosen = self.hazards[hook]
        questions = self._questions(found.assessment, report, chosen)
        result = cards(report, hazards=chosen, instance=instance, key=self.key, questions=questions)
        log.info(
            "ruleset=%s hook=%s overall=%s cards=%d incomplete_data=%s",
            self.fingerprint[:12],
            hook,
            report.overall_level,
            len(result),
            bool(found.gaps),
        )
        return {"cards": result}

    def _questions(
        self, assessment: Mapping[str, Any], report: RiskReport, chosen: Any
    ) -> list[str]:
        """The missing inputs worth asking for, ranked, limited to the hook's hazards."""
        shown = set(report.hazards) if chosen is None else set(chosen)
        if all(report.hazards[h].complete for h in shown):
            return []
        ranked = next_questions(self.scorer, assessment, len(self.scorer.ruleset.inputs))
        return [q.input for q in ranked if q.hazard in shown][:_QUESTIONS]
