"""The worklist bench's server time, in process (bench/worklist.py): each page through the Flask
test client and each engine call behind it, the two database sizes interleaved.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from worklist_build import CSRF, MANAGER, MISSPELT, PASSWORD, TEAM, WORKERS

from engine.services import Engine


def pages() -> list[tuple[str, str, str]]:
    """(label, who, path) of every page timed; the case page rotates over the real cases."""
    sw = WORKERS[0]
    return [
        ("worklist: my tasks", sw, "/worklist"),
        ("worklist: unclaimed", sw, "/worklist/unclaimed"),
        ("worklist: unclaimed, page 3", sw, "/worklist/unclaimed?page=3"),
        ("worklist: due soon", sw, "/worklist/due-soon"),
        ("worklist: overdue", sw, "/worklist/overdue"),
        ("worklist: child name filter", sw, "/worklist/unclaimed?" + urlencode({"child": "son"})),
        ("worklist: team overview", MANAGER, "/worklist/team"),
        ("case page", sw, "/cases/{case}"),
        ("cases: my cases", sw, "/cases"),
        ("cases: team's cases", sw, "/cases/team"),
        ("cases: find a child, misspelt", sw, "/cases/search?" + urlencode({"q": MISSPELT})),
        ("cases: find by date of birth", sw, "/cases/search?q=2016-05-04"),
    ]


def test_clients(engine: Engine) -> dict[str, Any]:
    from webui import create_app

    app = create_app(
        {"SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False, "DUE_SOON_DAYS": 2},
        engine=engine,
    )
    clients = {}
    for who in (WORKERS[0], MANAGER):
        client = app.test_client()
        token = CSRF.search(client.get("/sign-in").get_data(as_text=True)).group(1)
        signed = client.post(
            "/sign-in", data={"username": who, "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 302, signed.status_code
        clients[who] = client
    return clients


def server_times(
    sides: list[tuple[dict[str, Any], list[int]]], repeat: int, warmup: int
) -> list[dict[str, list[float]]]:
    """Milliseconds per page on each side (database size): pages interleaved, the sides taking
    turns to go first, so background noise on the machine hits every page and size alike."""
    labels = [label for label, _, _ in pages()]
    timed: list[dict[str, list[float]]] = [{label: [] for label in labels} for _ in sides]
    for run in range(warmup + repeat):
        for label, who, path in pages():
            order = list(range(len(sides)))
            if run % 2:
                order.reverse()
            for side in order:
                clients, case_ids = sides[side]
                url = path.format(case=case_ids[run % len(case_ids)])
                start = time.perf_counter()
                response = clients[who].get(url)
                elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status_code}")
                if run >= warmup:
                    timed[side][label].append(elapsed)
    return timed


def engine_calls(engine: Engine, case_ids: list[int]) -> list[tuple[str, Callable[[], Any]]]:
    """What the pages ask of the engine, one call at a time (for the breakdown table)."""
    team = [TEAM]
    user = engine.people.get(WORKERS[0])
    casework = engine.casework  # as the pages use it (its reads outside a transaction)
    return [
        ("Engine.worklist: unclaimed", lambda: engine.worklist(teams=team, unclaimed_only=True)),
        ("Engine.worklist: due soon", lambda: engine.worklist(teams=team, due_soon_days=2)),
        (
            "Engine.worklist: child name",
            lambda: engine.worklist(teams=team, unclaimed_only=True, child_name_contains="son"),
        ),
        ("Engine.worklist_counts", lambda: engine.worklist_counts(teams=team)),
        ("Engine.worklist_task_names", lambda: engine.worklist_task_names(teams=team)),
        ("Engine.worklist_teams", lambda: engine.worklist_teams(team)),
        ("people.teams() (every team)", lambda: engine.people.teams()),
        ("Engine.get_case(with_data)", lambda: engine.get_case(case_ids[0], with_data=True)),
        ("Engine.case_diagram", lambda: engine.case_diagram(case_ids[0])),
        ("Engine.audit_trail(case)", lambda: engine.audit_trail(case_ids[0])),
        ("casework.my_cases", lambda: casework.my_cases(WORKERS[0], team)),
        ("casework.search (misspelt)", lambda: casework.search(team, MISSPELT)),
        (
            "Engine.notifications (header)",
            lambda: engine.notifications(user.username, user.teams, user.role, unread_only=True),
        ),
    ]


def call_times(engines: list[Engine], case_ids: list[list[int]], repeat: int, warmup: int):  # noqa: ANN201
    calls = [engine_calls(e, ids) for e, ids in zip(engines, case_ids, strict=True)]
    timed: list[dict[str, list[float]]] = [{label: [] for label, _ in c} for c in calls]
    for run in range(warmup + repeat):
        for index in range(len(calls[0])):
            order = list(range(len(engines)))
            if run % 2:
                order.reverse()
            for side in order:
                label, call = calls[side][index]
                start = time.perf_counter()
                call()
                if run >= warmup:
                    timed[side][label].append((time.perf_counter() - start) * 1000)
    return timed
