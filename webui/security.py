"""Sessions, sign-in plumbing, CSRF and response headers: everything that keeps the web app safe
before a view runs. `init_app(app)` is called once by `create_app()`.

Session cookie
  HttpOnly and SameSite=Lax always. Secure (sent over HTTPS only) unless the app runs in debug
  or testing mode, or CINFLOW_INSECURE_COOKIES=1 is set. `cinflow serve` and `cinflow demo
  --serve` serve plain http on 127.0.0.1 and still work with the Secure flag: browsers treat
  http://127.0.0.1 and http://localhost as secure origins and keep Secure cookies for them
  (Chromium and Firefox do; tests/browser proves it for Chromium, which signs in over plain
  http with SESSION_COOKIE_SECURE on). Anyone serving plain http on another address, such as a
  VM reached by its IP, sets CINFLOW_INSECURE_COOKIES=1 knowingly; production is HTTPS only.

CSRF
  Flask-WTF's CSRFProtect checks every POST (and PUT, PATCH, DELETE), the sign-in form
  included. Templates put `{{ csrf_token() }}` in a hidden field named `csrf_token`. A token
  lasts as long as the session (signing out ends both), so a worklist left open over lunch
  still claims. A missing or stale token is a 400 with a calm page; nothing is changed.
"""

from __future__ import annotations

import os

from flask import Flask, render_template, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()


def insecure_cookies_allowed(app: Flask) -> bool:
    """True when the session cookie may travel over plain http (see the module docstring)."""
    return bool(app.debug or app.testing or os.environ.get("CINFLOW_INSECURE_COOKIES", "") == "1")


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = not insecure_cookies_allowed(app)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's lifetime

    csrf.init_app(app)

    login_manager.init_app(app)
    # A session that appears from another browser or address is dropped, not trusted.
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = None  # the sign-in page says what to do on its own

    app.register_error_handler(CSRFError, _csrf_error)
    app.after_request(_security_headers)


def _csrf_error(_error: CSRFError) -> tuple[str, int]:
    return render_template("auth/csrf_error.html"), 400


def _security_headers(response):  # noqa: ANN001, ANN202 - a Flask response in, the same out
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages show children's details: never keep them in a shared computer's cache, and
        # make "Back" after signing out ask the server again (which asks for a sign-in).
        headers["Cache-Control"] = "no-store"
    return response
