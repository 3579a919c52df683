"""Who may use which page: one declaration on every route, checked on every request.

Every view function carries exactly one of these decorators (under the route decorator):

    @bp.get("/worklist")
    @allow("social_worker", "team_manager", "practice_manager")
    def index(): ...

    @bp.get("/sign-in")
    @allow_public
    def sign_in(): ...

`allow(*roles)` sends a signed-out person to the sign-in page and gives anyone signed in with
another role a 403. `allow_signed_in` is `allow` with every role. A route with no declaration
is refused for everyone (403, and an error in the log) rather than left open, and
tests/web/test_access.py fails when one exists.

Beyond roles, a person sees only their own teams' cases and tasks: views pass
`teams=current_user.teams` to the engine and turn "not found" into a 404, so another team's
case looks exactly like one that does not exist. `require_case` and `require_task` do that.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from flask_login import current_user

from engine.errors import UnknownCase, UnknownTask
from engine.people import ROLES

from .engine_access import get_engine

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "cinflow_access"
PUBLIC = "public"

# Role groups used by more than one page.
# Everyone who works on steps; which steps is the engine's check (lanes are roles).
WORKER_ROLES = (
    "social_worker",
    "senior_practitioner",
    "iro",
    "business_support",
    "team_manager",
    "practice_manager",
)
MANAGER_ROLES = ("team_manager", "practice_manager")
OVERVIEW_ROLES = ("practice_manager", "trainer", "admin")


def allow(*roles: str) -> Callable[[F], F]:
    """Only signed-in people with one of `roles` may use the decorated view."""
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        raise ValueError(f"allow() needs known roles from {ROLES}; got {roles!r}")
    allowed = frozenset(roles)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        setattr(guarded, ACCESS_ATTRIBUTE, allowed)
        return guarded  # type: ignore[return-value]

    return decorate


def allow_signed_in(view: F) -> F:
    """Anyone signed in, whatever their role (signing out, the / redirect)."""
    return allow(*ROLES)(view)


def allow_public(view: F) -> F:
    """No sign-in needed: only the sign-in page, static files and the health check."""
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def access_rule(view: Callable[..., Any] | None) -> frozenset[str] | str | None:
    """PUBLIC, the set of allowed roles, or None when the view declares nothing."""
    return getattr(view, ACCESS_ATTRIBUTE, None)


def can_access(endpoint: str) -> bool:
    """Would the signed-in person be let into `endpoint`? For links in templates."""
    rule = access_rule(current_app.view_functions.get(endpoint))
    if rule == PUBLIC:
        return True
    if rule is None or not current_user.is_authenticated:
        return False
    return current_user.role in rule


def _refuse_undeclared() -> None:
    """before_request: a route without an access declaration is refused, never left open."""
    if request.endpoint is None:  # no such URL: the 404 handler answers
        return
    view = current_app.view_functions.get(request.endpoint)
    if access_rule(view) is None:
        log.error("route %s (%s) has no access rule: refused", request.endpoint, request.path)
        abort(403)


def init_app(app: Flask) -> None:
    # Flask's own static route has no decorator to carry: declare it here.
    static_view = app.view_functions.get("static")
    if static_view is not None and access_rule(static_view) is None:

        @functools.wraps(static_view)
        def static(*args: Any, **kwargs: Any) -> Any:
            return static_view(*args, **kwargs)

        app.view_functions["static"] = allow_public(static)
    app.before_request(_refuse_undeclared)
    app.add_template_global(can_access, "can_access")


# -- team-limited lookups for views ------------------------------------------------------------


def my_teams() -> tuple[str, ...]:
    return tuple(current_user.teams) if current_user.is_authenticated else ()


def require_case(case_id: int, *, with_data: bool = False, page: str = "case") -> Any:
    """The case (engine CaseInfo) if it belongs to one of the user's teams, else 404.

    Records the view in the case's audit trail ("viewed", detail {"page": page}), because who
    looked at a child's record matters as much as who changed it.
    """
    engine = get_engine()
    try:
        case = engine.get_case(case_id, with_data=with_data, teams=my_teams())
    except UnknownCase:
        abort(404)
    engine.record_view(case.id, current_user.username, page)
    return case


def require_task(task_id: str) -> Any:
    """The open task (engine TaskInfo) if it belongs to one of the user's teams, else 404.

    A task of the user's teams that was completed raises TaskAlreadyCompleted (the caller says
    so); another team's, completed or not, is a 404 like any unknown task.
    """
    try:
        return get_engine().task(task_id, teams=my_teams())
    except UnknownTask:
        abort(404)
