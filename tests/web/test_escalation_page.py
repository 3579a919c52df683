"""An escalation step's page: what was missed, by how much, who holds it; the new date."""

from __future__ import annotations


def _escalation(engine, world):  # noqa: ANN001, ANN202
    engine.fire_due_timers()  # Amelia's assessment was due Mon 16 Nov 2026
    case_id = world.task("Amelia Hughes").case_id
    (task,) = [t for t in engine.tasks(case_id=case_id) if t.lane == "Team manager"]
    return task


def test_manager_sees_the_missed_deadline_and_agrees_a_new_date(
    client_request, new_client_request, engine, world
):  # noqa: ANN001
    task = _escalation(engine, world)
    manager = client_request.sign_in("tm.north")
    page = manager.get(f"/tasks/{task.id}")
    section = page.text_of(page.testid("escalation")[0])
    assert "Late step Complete the assessment" in section
    # which deadline, and by how much, in the words every page uses
    assert "Deadline missed Mon 16 Nov 2026, overdue by 5 working days" in section
    assert "Who holds the work Sam North" in section

    refused = manager.post(
        f"/tasks/{task.id}/escalation",
        {"agreed_date-day": "31", "agreed_date-month": "11", "agreed_date-year": "2026"},
        _expected_status=400,
    )
    summary = refused.error_summary()
    assert "Enter reason for the delay" in summary
    assert "Agreed new date must be a real date" in summary
    assert refused.title.startswith("Error:")

    done = manager.post(
        f"/tasks/{task.id}/escalation",
        {
            "delay_reason": "Sam was off sick for a week.",
            "agreed_date-day": "1",
            "agreed_date-month": "12",
            "agreed_date-year": "2026",
            "oversight_note": "Agreed in supervision; Priya to cover the visit if needed.",
        },
    )
    shown = manager.follow(done)
    assert shown.banners()[0].startswith("Success New date agreed")
    assert shown.text_of(shown.testid("agreed-date")[0]) == (
        "Tue 1 Dec 2026, in 6 working days (the original deadline was Mon 16 Nov 2026)"
    )

    worker = new_client_request().sign_in("sw.north")
    late = worker.get(f"/tasks/{world.task('Amelia Hughes').id}")
    assert late.text_of(late.testid("task-deadline")[0]) == "Due Tue 1 Dec 2026, in 6 working days"
    assert (
        "New date agreed for “Complete the assessment”: Tue 1 Dec 2026" in worker.get("/inbox").text
    )


def test_a_worker_sees_the_escalation_but_cannot_decide(client_request, engine, world):  # noqa: ANN001
    task = _escalation(engine, world)
    worker = client_request.sign_in("sw.north")
    page = worker.get(f"/tasks/{task.id}")
    assert page.testid("escalation") and not page.testid("escalation-form")
    worker.post(f"/tasks/{task.id}/escalation", {}, _expected_status=403)
