"""cinflow's web UI: the Flask worklist social workers use.

`create_app()` is the application factory (the Flask tutorial pattern). The web layer never
reaches into SpiffWorkflow or the database: every view asks the engine façade, which is passed
in (`create_app(engine=...)`) and fetched in views with `webui.engine_access.get_engine()`.
Every route declares who may use it (webui/access.py); sign-in, sessions, CSRF and response
headers are set up in webui/security.py.
"""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, MemcachedBytecodeCache, PackageLoader, PrefixLoader

from . import access, errors, filters, security
from .engine_access import EXTENSION_KEY

log = logging.getLogger(__name__)


class _CompiledTemplates(dict):
    """Compiled templates shared by every app this process builds (tests build hundreds).

    Keyed by template name and source checksum, so an edited template is compiled afresh.
    """

    def get(self, key: str) -> Any:  # type: ignore[override]
        return super().get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        self[key] = value


_COMPILED_TEMPLATES = MemcachedBytecodeCache(_CompiledTemplates(), prefix="cinflow/")

DEFAULT_COUNCIL_NAME = "Example Borough Council"


def _default_config() -> dict[str, Any]:
    """Settings read from the environment; anything passed to create_app() wins."""
    secret = os.environ.get("SECRET_KEY") or os.environ.get("CINFLOW_SECRET_KEY")
    return {
        "SECRET_KEY": secret,
        "DATABASE_URL": os.environ.get("CINFLOW_DATABASE_URL"),
        "COUNCIL_NAME": os.environ.get("CINFLOW_COUNCIL_NAME", DEFAULT_COUNCIL_NAME),
        "SERVICE_NAME": "cinflow",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # None: decided in security.init_app (Secure unless debug, testing or
        # CINFLOW_INSECURE_COOKIES=1; see the reasoning there).
        "SESSION_COOKIE_SECURE": None,
        # Working days ahead that the worklist's "Due soon" covers.
        "DUE_SOON_DAYS": os.environ.get("CINFLOW_DUE_SOON_DAYS"),
    }


def create_app(config: dict | None = None, engine: object | None = None) -> Flask:
    """Build the Flask app.

    config: overrides for the environment-derived defaults (tests pass TESTING etc.).
    engine: the cinflow engine façade; stored in ``app.extensions["cinflow"]``.
    """
    app = Flask(__name__)
    app.config.from_mapping(_default_config())
    if config:
        app.config.from_mapping(config)
    if not app.config.get("SECRET_KEY"):
        # Development: a fresh key per process, so sessions do not survive a restart.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        log.warning("SECRET_KEY not set: using a random key for this process only")

    app.extensions[EXTENSION_KEY] = engine

    # Our templates first, then the GOV.UK Frontend Jinja macros under their own prefix:
    # {% from "govuk_frontend_jinja/components/table/macro.html" import govukTable %}
    app.jinja_loader = ChoiceLoader(
        [
            app.jinja_loader,  # webui/templates
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    filters.register(app)

    @app.context_processor
    def _service_names() -> dict[str, str]:
        # A signed-in person sees their own council's name; the configured one otherwise.
        from flask_login import current_user

        own = getattr(current_user, "council_name", "") if current_user else ""
        return {
            "service_name": app.config["SERVICE_NAME"],
            "council_name": own or app.config["COUNCIL_NAME"],
        }

    security.init_app(app)  # sessions, sign-in, CSRF, headers: before any view

    from . import auth, home, worklist

    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(worklist.bp)
    from . import admin, inbox

    app.register_blueprint(admin.bp)

    app.register_blueprint(inbox.bp)
    app.jinja_env.globals["inbox_unread"] = inbox.unread_count
    from .flashes import banners

    app.jinja_env.globals["flashed_banners"] = banners

    from . import modeler, processes

    app.register_blueprint(processes.bp)
    from . import journeys  # testing a draft, sending it for approval

    app.register_blueprint(journeys.bp)
    app.register_blueprint(modeler.bp)
    from . import tasks  # the task and case pages

    tasks.register(app)
    from . import reports  # oversight, heatmap, census, Annex A

    app.register_blueprint(reports.bp)

    from . import training

    app.register_blueprint(training.bp)
    app.register_blueprint(training.follow_bp)
    from . import library

    app.register_blueprint(library.bp)
    errors.register(app)
    access.init_app(app)  # after every blueprint: declares static, refuses undeclared routes
    return app
