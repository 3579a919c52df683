"""GOV.UK pattern error pages: 403, 404 and 500."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import Forbidden, InternalServerError, NotFound


def forbidden(_error: Forbidden) -> tuple[str, int]:
    return render_template("errors/403.html"), 403


def not_found(_error: NotFound) -> tuple[str, int]:
    return render_template("errors/404.html"), 404


def server_error(_error: InternalServerError) -> tuple[str, int]:
    return render_template("errors/500.html"), 500


def register(app: Flask) -> None:
    app.register_error_handler(Forbidden, forbidden)
    app.register_error_handler(NotFound, not_found)
    app.register_error_handler(InternalServerError, server_error)
