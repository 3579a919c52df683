"""Who may use which route: every route declares a rule, and the rules hold for every role.

Three layers:
1. Every rule in app.url_map has an access declaration (a new route without one fails here).
2. For EVERY route (other engineers' included): signed out -> sent to sign in; a role outside
   the rule -> 403; another team's task or case in the URL -> 404 (or 403), never the page.
3. For the routes of this module's pages, the exact status per role and own/other team.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import BY_ROLE, NOW, World
from web_client import ClientRequest, Page

from engine import clock
from engine.clock import FixedClock
from engine.people import ROLES
from engine.services import Engine
from webui import create_app
from webui.access import PUBLIC, access_rule, allow, allow_public, allow_signed_in

_APP = create_app({"TESTING": True, "SECRET_KEY": "url-map"})
RULES = sorted(
    (
        (rule.endpoint, rule.rule, method)
        for rule in _APP.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ),
)
MY_ENDPOINTS = {
    "static",
    "auth.sign_in",
    "auth.sign_out",
    "home.index",
    "home.dashboard",
    "home.health",
    "worklist.index",
    "worklist.team_overview",
    "worklist.claim",
    "worklist.unclaim",
    "worklist.reassign",
}


def _rule_of(endpoint: str):  # noqa: ANN202
    return access_rule(_APP.view_functions[endpoint])


# -- 1. every route declares who may use it ------------------------------------------------------


def test_every_route_declares_who_may_use_it() -> None:
    undeclared = sorted(
        f"{endpoint} {path}"
        for endpoint, path, _ in RULES
        if access_rule(_APP.view_functions[endpoint]) is None
    )
    assert not undeclared, (
        "routes without an access rule (add @allow(...) or @allow_public from webui.access): "
        + ", ".join(undeclared)
    )


def test_only_sign_in_static_health_and_follow_along_are_public() -> None:
    public = {endpoint for endpoint, _, _ in RULES if _rule_of(endpoint) == PUBLIC}
    # follow.*: a trainee's read-only view of one training case, keyed by a random token that
    # expires (tests/web/test_training.py)
    follow = {"follow.follow", "follow.follow_state", "follow.follow_diagram"}
    assert public == {"auth.sign_in", "static", "home.health"} | follow


def test_my_routes_are_all_there() -> None:
    assert {endpoint for endpoint, _, _ in RULES} >= MY_ENDPOINTS


def test_allow_refuses_unknown_roles() -> None:
    with pytest.raises(ValueError, match="known roles"):
        allow("wizard")
    with pytest.raises(ValueError):
        allow()


def test_a_route_without_a_rule_is_refused_even_when_signed_in(app, client_request) -> None:  # noqa: ANN001
    @app.get("/undeclared-for-test")
    def undeclared():  # noqa: ANN202
        return "should never be seen"

    client_request.get("/undeclared-for-test", _expected_status=403)  # signed out
    client_request.sign_in_as("admin")
    page = client_request.get("/undeclared-for-test", _expected_status=403)
    assert "should never be seen" not in page.html


# -- the shared world for the matrix: one database for the module, one client per role ----------


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory, world_db) -> Iterator[dict[str, Any]]:  # noqa: ANN001
    """A module-wide app on a copy of the world. Statuses do not depend on earlier claims."""
    import shutil

    template, world = world_db
    db: Path = tmp_path_factory.mktemp("matrix") / "cinflow.db"
    shutil.copy(template, db)
    with clock.using(FixedClock(NOW)):
        engine = Engine(f"sqlite:///{db}")
        app = create_app({"TESTING": True, "SECRET_KEY": "matrix"}, engine=engine)
        clients: dict[str, ClientRequest] = {}

        def client_for(role: str | None) -> ClientRequest:
            key = role or "anonymous"
            if key not in clients:
                client = ClientRequest(app)
                if role:
                    client.sign_in_as(role)
                clients[key] = client
            return clients[key]

        yield {"app": app, "engine": engine, "world": world, "client_for": client_for}
        engine.dispose()


def _ids(world: World, team: str) -> dict[str, Any]:
    """Values for URL arguments: a task and its case in our team ("own") or another ("other")."""
    ref = world.task("Ben Carter" if team == "own" else "Grace Miller")
    return {"task_id": ref.id, "case_id": ref.case_id, "id": ref.case_id}


def _url(path: str, values: dict[str, Any]) -> str:
    """The rule's path with its <arguments> filled in (ids from `values`, else a dummy)."""

    def fill(match: re.Match) -> str:
        converter, name = match.group(1) or "", match.group(2)
        if name in values:
            return str(values[name])
        if name == "filename":
            return "favicon.svg"
        if converter.startswith("any("):
            return re.findall(r"[\w-]+", converter[4:])[0]
        return "1" if converter.startswith("int") else "x"

    return re.sub(r"<(?:([^<>]*):)?(\w+)>", fill, path)


def _request(client: ClientRequest, method: str, url: str, data: dict | None = None) -> Page:
    if method == "GET":
        return Page(client.client.get(url))
    form = {"csrf_token": client.csrf_token(), **(data or {})}
    return Page(client.client.open(url, method=method, data=form))


# -- 2. properties that hold for every route, whoever wrote it ---------------------------------


def _arguments(path: str) -> set[str]:
    return set(re.findall(r"<(?:[^<>]*:)?(\w+)>", path))


NOT_PUBLIC = [r for r in RULES if _rule_of(r[0]) != PUBLIC]
OUTSIDE_RULE = [
    pytest.param(*r, role, id=f"{r[2]} {r[1]} {role}")
    for r in NOT_PUBLIC
    for role in ROLES
    if role not in _rule_of(r[0])
]
WITH_IDS_INSIDE_RULE = [
    pytest.param(*r, role, id=f"{r[2]} {r[1]} {role}")
    for r in RULES
    if _arguments(r[1]) & {"task_id", "case_id"}
    for role in ROLES
    if _rule_of(r[0]) == PUBLIC or role in _rule_of(r[0])
]


@pytest.mark.parametrize(("endpoint", "path", "method"), NOT_PUBLIC)
def test_signed_out_people_are_sent_to_sign_in(matrix, endpoint, path, method) -> None:  # noqa: ANN001
    client = matrix["client_for"](None)
    url = _url(path, _ids(matrix["world"], "own"))
    page = _request(client, method, url)
    assert page.status == 302, f"{method} {url}: {page.status}"
    assert page.response.location.startswith("/sign-in")


@pytest.mark.parametrize(("endpoint", "path", "method", "role"), OUTSIDE_RULE)
def test_roles_outside_a_rule_get_403(matrix, endpoint, path, method, role) -> None:  # noqa: ANN001
    client = matrix["client_for"](role)
    url = _url(path, _ids(matrix["world"], "own"))
    page = _request(client, method, url)
    assert page.status == 403, f"{role} {method} {url}: {page.status}"
    assert "You do not have permission to view this page" in page.text


@pytest.mark.parametrize(("endpoint", "path", "method", "role"), WITH_IDS_INSIDE_RULE)
def test_another_teams_task_or_case_is_not_found(matrix, endpoint, path, method, role) -> None:  # noqa: ANN001
    client = matrix["client_for"](role)
    url = _url(path, _ids(matrix["world"], "other"))
    page = _request(client, method, url, {"to": "sw.south"})
    assert page.status in (403, 404), f"{role} {method} {url}: {page.status}"
    assert "Grace Miller" not in page.html
    engine = matrix["engine"]
    assert engine.task(_ids(matrix["world"], "other")["task_id"]).claimed_by is None


# -- 3. the exact matrix for this module's routes -------------------------------------------


def _expect(default: int, **per_role: int) -> dict[str, int]:
    return {role: per_role.get(role, default) for role in ROLES}


# Everyone who works on steps (which steps: the engine's lane check, tests/web/test_lanes_web.py)
WORKERS = (
    "social_worker",
    "senior_practitioner",
    "iro",
    "business_support",
    "team_manager",
    "practice_manager",
)
WORKERS_200 = _expect(403, **dict.fromkeys(WORKERS, 200))
# (method, endpoint, url builder, {team: {role: status}})
MATRIX = [
    ("GET", "home.index", lambda ids: "/", {"own": _expect(302)}),
    (
        "GET",
        "home.dashboard",
        lambda ids: "/home",
        {"own": _expect(403, practice_manager=200, trainer=200, admin=200)},
    ),
    ("GET", "home.health", lambda ids: "/health", {"own": _expect(200)}),
    ("GET", "auth.sign_in", lambda ids: "/sign-in", {"own": _expect(302)}),
    ("GET", "static", lambda ids: "/static/favicon.svg", {"own": _expect(200)}),
    ("GET", "worklist.index", lambda ids: "/worklist", {"own": WORKERS_200}),
    ("GET", "worklist.index", lambda ids: "/worklist/unclaimed", {"own": WORKERS_200}),
    ("GET", "worklist.index", lambda ids: "/worklist/due-soon", {"own": WORKERS_200}),
    ("GET", "worklist.index", lambda ids: "/worklist/overdue", {"own": WORKERS_200}),
    (
        "GET",
        "worklist.team_overview",
        lambda ids: "/worklist/team",
        {"own": _expect(403, team_manager=200, practice_manager=200)},
    ),
    *[
        (
            "POST",
            f"worklist.{action}",
            lambda ids, action=action: f"/worklist/tasks/{ids['task_id']}/{action}",
            {
                "own": _expect(403, **dict.fromkeys(WORKERS, 302)),
                "other": _expect(403, **dict.fromkeys(WORKERS, 404)),
            },
        )
        for action in ("claim", "unclaim")
    ],
    (
        "POST",
        "worklist.reassign",
        lambda ids: f"/worklist/tasks/{ids['task_id']}/reassign",
        {
            "own": _expect(403, team_manager=302, practice_manager=302),
            "other": _expect(403, team_manager=404, practice_manager=404),
        },
    ),
    ("POST", "auth.sign_out", lambda ids: "/sign-out", {"own": _expect(302)}),
]

CASES = [
    pytest.param(
        method,
        endpoint,
        url_for,
        team,
        role,
        expected[role],
        id=f"{method} {endpoint} {team} {role}",
    )
    for method, endpoint, url_for, by_team in MATRIX
    for team, expected in by_team.items()
    for role in ROLES
]


@pytest.mark.parametrize(("method", "endpoint", "url_for", "team", "role", "status"), CASES)
def test_access_matrix(matrix, method, endpoint, url_for, team, role, status) -> None:  # noqa: ANN001
    if endpoint == "auth.sign_out":  # would end the shared session: use a client of its own
        client = ClientRequest(matrix["app"]).sign_in_as(role)
    else:
        client = matrix["client_for"](role)
    url = url_for(_ids(matrix["world"], team))
    page = _request(client, method, url, {"to": "sw2.north"})
    assert page.status == status, f"{role} {method} {url} ({team} team): {page.status}"
    if status == 404:
        assert "Page not found" in page.text


def test_matrix_covers_every_route_of_mine() -> None:
    assert {endpoint for _, endpoint, _, _ in MATRIX} == MY_ENDPOINTS


def test_decorators_record_the_rule() -> None:
    def view() -> str:
        return ""

    assert access_rule(allow_public(view)) == PUBLIC
    assert access_rule(allow("team_manager")(view)) == frozenset({"team_manager"})
    assert access_rule(allow_signed_in(view)) == frozenset(ROLES)
    assert access_rule(view) is None or access_rule(view) == PUBLIC  # allow_public marks in place
    assert BY_ROLE.keys() == set(ROLES)
