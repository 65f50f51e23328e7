"""A site mapping for a local form: a DAST-10 whose item 3 is worded the other way round.

Run from the repository root:

    python examples/ehr/site_mapping.py

``site_dast10_response.json`` is a response to a DAST-10 form built with LHC-Forms: group
``/82666-9``, local linkIds ``/ic-dast-1`` ... ``/ic-dast-10``, answers LA33-6 (yes) and
LA32-8 (no) without a system. The form asks item 3 as "unable to stop" instead of the published
"able to stop", so its yes scores 1. ``site_dast10_mapping.json`` says so with
``"reverse": true`` on that item; without it the total would be one point short.
"""

from __future__ import annotations

import json
from pathlib import Path

from riskrules import fhir

HERE = Path(__file__).resolve().parent


def main() -> None:
    response = json.loads((HERE / "site_dast10_response.json").read_text(encoding="utf-8"))
    mapping = HERE / "site_dast10_mapping.json"
    fhir.load_mappings([mapping])  # validates the file against schemas/fhir-mapping.schema.json
    with_reverse = fhir.assessment_from_questionnaire_responses(response, mappings=[mapping])
    naive = json.loads(mapping.read_text(encoding="utf-8"))
    naive["items"]["/ic-dast-3"] = 3  # as if the item were worded as published
    without = fhir.assessment_from_questionnaire_responses(response, mappings=[naive])
    print(
        json.dumps(
            {
                "with_site_mapping": with_reverse,
                "if_item_3_were_mapped_as_published": without,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
