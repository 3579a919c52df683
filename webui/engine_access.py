"""How views reach the cinflow engine façade given to create_app()."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app

if TYPE_CHECKING:
    from engine.services import Engine

EXTENSION_KEY = "cinflow"


class EngineNotConfigured(RuntimeError):
    """The app was built without an engine (create_app(engine=None))."""


def get_engine() -> Engine:
    """The engine façade of the current app. Call inside a request or app context."""
    engine = current_app.extensions.get(EXTENSION_KEY)
    if engine is None:
        raise EngineNotConfigured(
            "no cinflow engine configured: build the app with create_app(engine=...)"
        )
    return engine


def get_casework() -> Any:
    """Allocation, finding a child, case lists, the front door, escalations (`Engine.casework`)."""
    return get_engine().casework
