"""Dates typed on a task page: a thing that has happened cannot be dated after today."""

from __future__ import annotations

import json

from factories import CONSENT_ANSWERS


def test_consent_cannot_be_dated_in_the_future(client_request, world):  # noqa: ANN001
    """Dates of things that have happened are refused when after today, and named."""
    task = world.task(next(iter(w for w in world.tasks if "Finn" in w)))
    answers = json.loads(CONSENT_ANSWERS.read_text())
    user = client_request.sign_in("sw.north")
    page = user.get(f"/tasks/{task.id}")
    form = {
        "action": "complete",
        "case_id": str(task.case_id),
        "revision": page.xpath('//input[@name="revision"]/@value')[0],
        "given_by_name": answers["given_by_name"],
        "given_by_relationship": answers["given_by_relationship"],
        "consent_for": answers["consent_for"],
        "consent_method": answers["consent_method"],
        "consent_given": "yes",
        "consent_date-day": "24",
        "consent_date-month": "11",
        "consent_date-year": "2026",
    }
    refused = user.post(f"/tasks/{task.id}", form, _expected_status=400)
    assert "Date consent was given or refused must be today or in the past" in (
        refused.error_summary()
    )
