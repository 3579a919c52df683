"""The worklist asks the engine for one page, not for every task: filters, order and paging run
in SQL (Engine.worklist), counts for the team overview in one GROUP BY (Engine.worklist_counts).

The world is tests/factories.py's (clock at Monday 23 November 2026 09:00 UTC).
"""

from __future__ import annotations

import pytest
from factories import CaseSpec, add_case

from engine.services import worklist
from webui.worklist import PAGE_SIZE

TABS = ["/worklist", "/worklist/unclaimed", "/worklist/due-soon", "/worklist/overdue"]


@pytest.fixture
def no_full_task_list(engine, monkeypatch):  # noqa: ANN001, ANN201
    """engine.tasks() reads every open task of the teams: the worklist must not call it."""

    def refuse(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the worklist read every task with engine.tasks()")

    monkeypatch.setattr(engine, "tasks", refuse)


@pytest.mark.parametrize("tab", TABS)
def test_no_tab_reads_every_task(client_request, no_full_task_list, tab) -> None:  # noqa: ANN001
    client_request.sign_in("sw.north")
    assert client_request.get(tab).status == 200


def test_the_team_overview_does_not_read_every_task(new_client_request, no_full_task_list) -> None:  # noqa: ANN001
    assert new_client_request().sign_in("tm.north").get("/worklist/team").status == 200


def test_a_page_reads_at_most_a_page_of_task_rows(engine, client_request, monkeypatch) -> None:  # noqa: ANN001
    for i in range(PAGE_SIZE * 2 + 3):
        add_case(engine, CaseSpec(f"Many Child {i:02d}", "north", "portsmouth", None))
    made: list[str] = []
    task_info = worklist.task_info

    def counting(row, *args):  # noqa: ANN001, ANN002, ANN202
        made.append(row.id)
        return task_info(row, *args)

    monkeypatch.setattr(worklist, "task_info", counting)
    client_request.sign_in("sw.north")
    page = client_request.get("/worklist/unclaimed", page=2)
    assert len(page.rows()) == PAGE_SIZE
    assert page.text_of(page.testid("result-count")[0]) == "Showing 26 to 50 of 57 tasks"
    assert sorted(made) == sorted(r["id"] for r in page.rows())  # the shown rows, no more


def test_the_task_filter_offers_names_from_the_whole_tab_not_the_page(
    engine,  # noqa: ANN001
    client_request,  # noqa: ANN001
) -> None:
    for i in range(PAGE_SIZE + 2):
        add_case(engine, CaseSpec(f"Later Child {i:02d}", "north", "portsmouth", 0))
    client_request.sign_in("sw.north")
    page = client_request.get("/worklist/unclaimed")
    options = [o.strip() for o in page.xpath('//select[@name="task"]/option/text()')]
    # "Record consent" (the child with no deadline) is on the last page, still offered.
    assert options == ["All tasks", "Complete the assessment", "Record consent"]
    assert "Record consent" not in [r["task"].split(" Social")[0] for r in page.rows()]
