"""Sessions, sign-in plumbing, CSRF, request limits and response headers: everything that keeps
the web app safe before a view runs. `init_app(app)` is called once by `create_app()`.

Session cookie
  HttpOnly and SameSite=Lax always. Secure (sent over HTTPS only) unless the app runs in debug
  or testing mode, or CINFLOW_INSECURE_COOKIES=1 is set. `cinflow serve` and `cinflow demo
  --serve` serve plain http on 127.0.0.1 and still work with the Secure flag: browsers treat
  http://127.0.0.1 and http://localhost as secure origins and keep Secure cookies for them
  (Chromium and Firefox do; tests/browser proves it for Chromium, which signs in over plain
  http with SESSION_COOKIE_SECURE on). Anyone serving plain http on another address, such as a
  VM reached by its IP, sets CINFLOW_INSECURE_COOKIES=1 knowingly; production is HTTPS only.
  The cookie carries only a random sign-in id (webui/auth.py); the server can end it.

CSRF
  Flask-WTF's CSRFProtect checks every POST (and PUT, PATCH, DELETE), the sign-in form
  included. Templates put `{{ csrf_token() }}` in a hidden field named `csrf_token`. A token
  lasts as long as the session (signing out ends both), so a worklist left open over lunch
  still claims. A missing or stale token is a 400 with a calm page; nothing is changed.

Request size
  MAX_CONTENT_LENGTH (1 MB, far above the largest form) refuses a bigger body before it is read
  (413 with a GOV.UK page); MAX_FORM_MEMORY_SIZE and MAX_FORM_PARTS bound what a form may hold.

Headers
  A strict Content-Security-Policy on every response: scripts and styles from our own origin
  only, plus GOV.UK's one-line inline script by a per-request nonce (`cspNonce` in templates);
  no frames, plugins or foreign form targets. HSTS unless debug; a Permissions-Policy switching
  off what the app never uses; no Server header naming the software.
"""

from __future__ import annotations

import os
import re
import secrets

from flask import Flask, Response, abort, current_app, g, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

csrf = CSRFProtect()
login_manager = LoginManager()

MAX_REQUEST_BYTES = 1024 * 1024
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"


def insecure_cookies_allowed(app: Flask) -> bool:
    """True when the session cookie may travel over plain http (see the module docstring)."""
    return bool(app.debug or app.testing or os.environ.get("CINFLOW_INSECURE_COOKIES", "") == "1")


def init_app(app: Flask) -> None:
    # Before any blueprint adds its rules: converters are bound when a rule is added.
    app.url_map.converters["int"] = DatabaseInteger
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = not insecure_cookies_allowed(app)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's lifetime
    # Flask's defaults are None (no limit), 500 kB and 1,000 parts: bound the body as well.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    csrf.init_app(app)

    # Sign-in throttling (webui/auth.py): one limiter, and so one store, per app.
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", os.environ.get("CINFLOW_RATELIMIT_STORAGE", "memory://")
    )
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.extensions["cinflow_limiter"] = Limiter(get_remote_address, app=app)
    hops = int(os.environ.get("CINFLOW_PROXY_HOPS", "0") or 0)
    if hops:  # behind a reverse proxy: the client's address is in X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    login_manager.init_app(app)
    # A session that appears from another browser or address is dropped, not trusted.
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = None  # the sign-in page says what to do on its own

    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.after_request(_security_headers)
    app.context_processor(lambda: {"cspNonce": csp_nonce()})


def csp_nonce() -> str:
    """This request's script nonce (GOV.UK's template puts it on its inline script)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str | None) -> str:
    scripts = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return (
        "default-src 'self'; "
        f"script-src {scripts}; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _csrf_error(_error: CSRFError) -> tuple[str, int]:
    return render_template("auth/csrf_error.html"), 400


def _too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
    return render_template("errors/413.html"), 413


def _security_headers(response):  # noqa: ANN001, ANN202 - a Flask response in, the same out
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    # A view may set a stricter policy of its own (stored XML: sandboxed, nothing allowed).
    headers.setdefault("Content-Security-Policy", content_security_policy(g.get("csp_nonce")))
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if not _debug():
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        # Pages show children's details: never keep them in a shared computer's cache, and
        # make "Back" after signing out ask the server again (which asks for a sign-in).
        headers["Cache-Control"] = "no-store"
    return response


def _debug() -> bool:
    return bool(current_app.debug)


class DatabaseInteger(IntegerConverter):
    """`<int:...>` in every route: at most the largest id a database column holds (32-bit on
    PostgreSQL), so /cases/99999999999999999999999 is a 404 like any unknown case, not a 500."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002, ANN001, ANN002, ANN003
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def stored_text(text: str, filename: str) -> Response:
    """Stored data (diagram XML) as a download that no browser renders or runs as a page."""
    response = Response(text, mimetype="text/plain")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


_CALL_PATH = re.compile(r"[A-Za-z_][\w.-]{0,199}(/[A-Za-z_][\w.-]{0,199}){0,7}")


def call_path() -> str:
    """The `?call=` of a diagram's XML route: call activity ids joined with "/", or "" for the
    case's own diagram; anything else is a 404 (nothing read, no id echoed)."""
    value = request.args.get("call", "")
    if value and not _CALL_PATH.fullmatch(value):
        abort(404)
    return value
