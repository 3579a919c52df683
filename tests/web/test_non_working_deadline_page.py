"""A calendar-day deadline that falls on a Sunday, as a social worker reads it: the worklist and
the task page say it is not a working day and give the last working day before it."""

from __future__ import annotations

from factories import planned_return_home

from engine.services import Engine

SAYS = "Not a working day: last working day before it is Thu 31 Dec 2026"


def test_a_sunday_deadline_says_so_on_the_worklist_and_the_task_page(
    client_request,
    engine: Engine,
    fixed_clock,  # noqa: ANN001
) -> None:
    # P16 (Portsmouth): a planned return home on Christmas Eve; the first planning meeting is
    # due within 10 calendar days, Sunday 3 January 2027. Portsmouth keeps such deadlines.
    case_id = planned_return_home(engine, fixed_clock, team="north")
    (arrange,) = [t for t in engine.get_case(case_id).tasks if t.element_id == "arrange_meeting"]

    sw = client_request.sign_in("sw.north")
    worklist = sw.get("/worklist/unclaimed")
    (row,) = [r for r in worklist.rows() if r["child"] == "Ella Short"]
    assert arrange.name in row["task"]
    assert SAYS in row["due"]
    assert [worklist.text_of(n) for n in worklist.testid("deadline-note")] == [SAYS]

    page = sw.get(f"/tasks/{arrange.id}")
    assert [page.text_of(n) for n in page.testid("deadline-note")] == [SAYS]
    # a working-day deadline on the same list has no such note
    assert "not a working day" not in " ".join(
        r["due"] for r in worklist.rows() if r["child"] != "Ella Short"
    )
