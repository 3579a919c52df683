"""cinflow's web UI: the Flask worklist social workers use.

`create_app()` is the application factory (the Flask tutorial pattern). The web layer never
reaches into SpiffWorkflow or the database: every view asks the engine façade, which is passed
in (`create_app(engine=...)`) and fetched in views with `webui.engine_access.get_engine()`.
"""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from . import errors, filters
from .engine_access import EXTENSION_KEY

log = logging.getLogger(__name__)

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
    filters.register(app)

    @app.context_processor
    def _service_names() -> dict[str, str]:
        return {
            "service_name": app.config["SERVICE_NAME"],
            "council_name": app.config["COUNCIL_NAME"],
        }

    from . import home

    app.register_blueprint(home.bp)
    errors.register(app)
    return app
