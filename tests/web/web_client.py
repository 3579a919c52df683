"""Reading pages and signing in with Flask's test client (see tests/web/conftest.py).

Its own module, not conftest.py: tests/web and tests/browser each have a conftest, and only one
module can be called `conftest` when both folders run together.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html
from factories import BY_ROLE, PASSWORD

# -- reading pages ---------------------------------------------------------------------------------


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class Page:
    """A response parsed with lxml, with the few look-ups tests need."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.status = response.status_code
        self.html = response.get_data(as_text=True)
        self.doc = lxml.html.fromstring(self.html) if self.html.strip() else None

    @property
    def text(self) -> str:
        return squash(self.doc.text_content()) if self.doc is not None else ""

    def xpath(self, query: str) -> list[Any]:
        return self.doc.xpath(query)

    def testid(self, name: str) -> list[Any]:
        return self.doc.xpath(f'//*[@data-testid="{name}"]')

    def text_of(self, element: Any) -> str:
        return squash(element.text_content())

    @property
    def h1(self) -> str:
        return self.text_of(self.xpath("//h1")[0])

    @property
    def title(self) -> str:
        return squash(self.xpath("//title")[0].text_content())

    def banners(self) -> list[str]:
        return [self.text_of(b) for b in self.testid("notification-banner")]

    def error_summary(self) -> str:
        found = self.xpath('//*[contains(@class, "govuk-error-summary")]')
        return self.text_of(found[0]) if found else ""

    def csrf_token(self) -> str | None:
        found = self.xpath('//input[@name="csrf_token"]/@value')
        return found[0] if found else None

    def rows(self) -> list[dict[str, Any]]:
        """The worklist table: child, task, due, claimed_by, actions (button texts), id."""
        out = []
        for tr in self.testid("task-row"):
            cells = tr.xpath("./th|./td")
            out.append(
                {
                    "id": tr.get("data-task-id"),
                    "child": self.text_of(cells[0]),
                    "task": self.text_of(cells[1]),
                    "due": self.text_of(cells[2]),
                    "claimed_by": self.text_of(cells[3]),
                    "actions": [
                        squash(b.xpath("string(./text())")) for b in cells[4].xpath(".//button")
                    ],
                    "reassign_to": cells[4].xpath(".//select/option/@value"),
                }
            )
        return out

    def children(self) -> list[str]:
        return [r["child"] for r in self.rows()]


class ClientRequest:
    """A test client that signs in as someone and checks every status it gets back."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.test_client()
        self.username: str | None = None
        self._token: tuple[str, str] | None = None  # (the session's raw token, the signed one)

    def sign_in(self, username: str, password: str = PASSWORD) -> ClientRequest:
        response = self.client.post(
            "/sign-in",
            data={"username": username, "password": password, "csrf_token": self.csrf_token()},
        )
        assert response.status_code == 302, Page(response).error_summary()
        self.username = username
        return self

    def sign_in_as(self, role: str) -> ClientRequest:
        return self.sign_in(BY_ROLE[role])

    def csrf_token(self) -> str:
        """A valid token for this client's session (from a page that carries one)."""
        with self.client.session_transaction() as session:
            signed_in = "_user_id" in session
            raw = session.get("csrf_token")
        if self._token and self._token[0] == raw:
            return self._token[1]
        page = Page(self.client.get("/no-such-page" if signed_in else "/sign-in"))
        token = page.csrf_token()
        if not token and signed_in:  # the session has ended (signed out, timed out)
            token = Page(self.client.get("/sign-in")).csrf_token()
        assert token, "no CSRF token on the page"
        with self.client.session_transaction() as session:
            self._token = (session.get("csrf_token"), token)
        return token

    def get(
        self,
        path: str,
        *,
        _expected_status: int = 200,
        _expected_redirect: str | None = None,
        **query: Any,
    ) -> Page:
        response = self.client.get(path, query_string=query or None)
        assert response.status_code == _expected_status, (
            f"GET {path}: {response.status_code}, wanted {_expected_status}"
        )
        if _expected_redirect is not None:
            assert response.location == _expected_redirect, response.location
        return Page(response)

    def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        _expected_status: int = 302,
        _expected_redirect: str | None = None,
        _csrf: bool = True,
    ) -> Page:
        form = dict(data or {})
        if _csrf:
            form.setdefault("csrf_token", self.csrf_token())
        response = self.client.post(path, data=form)
        assert response.status_code == _expected_status, (
            f"POST {path}: {response.status_code}, wanted {_expected_status}"
        )
        if _expected_redirect is not None:
            assert response.location == _expected_redirect, response.location
        return Page(response)

    def follow(self, page: Page) -> Page:
        """GET where a redirect pointed (to read the banner it flashed)."""
        return self.get(page.response.location)
