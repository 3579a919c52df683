"""Hostile input over HTTP: stored XML served inert, strict headers, request size, huge ids."""

from __future__ import annotations

import io
import re

import pytest
from hostile import SCRIPT, plant
from test_tasks import start_plan

from webui import create_app


@pytest.fixture
def sw(client_request):  # noqa: ANN001, ANN201
    return client_request.sign_in("sw.north")


def test_stored_diagram_xml_is_a_sandboxed_plain_text_download(engine, sw) -> None:  # noqa: ANN001
    case = start_plan(engine)
    xml = plant(engine, case.id)
    response = sw.client.get(f"/cases/{case.id}/diagram.bpmn")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == xml and SCRIPT in xml  # served as it is stored...
    # ...but never as a document a browser would render and run.
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == f'attachment; filename="case-{case.id}.bpmn"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    # Downloading the diagram is a view of the case, and is recorded as one.
    views = [e for e in engine.audit_trail(case.id) if e.action == "viewed"]
    assert [(e.actor, e.detail) for e in views] == [("sw.north", {"page": "diagram"})]


def test_every_page_has_a_strict_policy_and_the_template_script_its_nonce(
    engine,
    client_request,
    new_client_request,  # noqa: ANN001
) -> None:
    case = start_plan(engine)
    signed_out = new_client_request()
    sw = client_request.sign_in("sw.north")
    pages = [
        signed_out.get("/sign-in"),
        sw.get("/worklist"),
        sw.get(f"/cases/{case.id}"),
        sw.get(f"/tasks/{case.tasks[0].id}"),
        sw.get("/no-such-page", _expected_status=404),
    ]
    for page in pages:
        policy = page.response.headers["Content-Security-Policy"]
        scripts = re.search(r"script-src ([^;]*)", policy).group(1).split()
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        nonces = [s for s in scripts if s.startswith("'nonce-")]
        assert scripts[0] == "'self'" and len(nonces) == 1
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        # Only GOV.UK's one-line body script is inline, and it carries this response's nonce.
        inline = page.xpath("//script[not(@src)]")
        assert len(inline) == 1
        assert f"'nonce-{inline[0].get('nonce')}'" == nonces[0]
        assert not page.xpath("//style|//*[@style]")
        assert page.response.headers["Permissions-Policy"].startswith("accelerometer=()")


def test_hsts_unless_debug(engine) -> None:  # noqa: ANN001
    live = create_app({"SECRET_KEY": "x"}, engine=engine).test_client().get("/sign-in")
    assert live.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    debug = create_app({"SECRET_KEY": "x", "DEBUG": True}, engine=engine)
    assert "Strict-Transport-Security" not in debug.test_client().get("/sign-in").headers


class HugeBody(io.RawIOBase):
    """A 300 MB request body that counts how much of it the server reads."""

    size = 300 * 1024 * 1024

    def __init__(self) -> None:
        self.read_bytes = self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:  # the test client measures the body
        self.position = self.size if whence == 2 else offset
        return self.position

    def readinto(self, buffer) -> int:  # noqa: ANN001
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"a" * n
        self.read_bytes += n
        return n


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_300_mb_post_is_refused_unread_with_a_gov_uk_page(client_request, signed_in) -> None:  # noqa: ANN001
    if signed_in:
        client_request.sign_in("sw.north")
    body = HugeBody()
    response = client_request.client.post(
        "/sign-in" if not signed_in else "/worklist/tasks/x/claim",
        input_stream=body,
        content_length=HugeBody.size,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert body.read_bytes == 0
    text = response.get_data(as_text=True)
    assert "What you sent is too large" in text and "govuk-heading-l" in text
    assert "Traceback" not in text


def test_a_multipart_form_with_too_many_parts_is_refused(client_request) -> None:  # noqa: ANN001
    token = client_request.csrf_token()
    data = {f"f{i}": "x" for i in range(5000)} | {"csrf_token": token}
    data["file"] = (io.BytesIO(b"x"), "x.txt")  # multipart, where parts are counted
    response = client_request.client.post("/sign-in", data=data)
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/cases/99999999999999999999999"),
        ("get", "/cases/2147483648"),
        ("get", "/cases/99999999999999999999999/diagram.bpmn"),
        ("post", "/inbox/99999999999999999999999/read"),
        ("get", "/tasks/x?case=99999999999999999999999"),
    ],
)
def test_huge_ids_are_not_found_not_a_server_error(sw, method, path) -> None:  # noqa: ANN001
    if method == "get":
        page = sw.get(path, _expected_status=404)
    else:
        page = sw.post(path, _expected_status=404)
    assert page.h1 == "Page not found"


def _cookie_contents(app, response) -> str:  # noqa: ANN001
    """What anyone holding the session cookie can read (it is signed, not encrypted)."""
    from flask.sessions import SecureCookieSessionInterface

    (value,) = [c.split(";")[0].split("=", 1)[1] for c in response.headers.getlist("Set-Cookie")
                if c.startswith("session=")]  # fmt: skip
    return str(SecureCookieSessionInterface().get_signing_serializer(app).loads(value))


def test_banners_keep_names_out_of_the_cookie(app, engine, world, client_request) -> None:  # noqa: ANN001
    sw = client_request.sign_in("sw.north")
    ben = world.task("Ben Carter")
    claimed = sw.post(f"/worklist/tasks/{ben.id}/claim")
    cookie = _cookie_contents(app, claimed.response)
    assert ben.id in cookie  # ids only...
    assert "Ben" not in cookie and "Complete the assessment" not in cookie
    page = sw.follow(claimed)  # ...the words are made on the server
    assert page.banners() == [
        "Success You have claimed Complete the assessment for Ben Carter Go to the task"
    ]


def test_the_completed_page_keeps_the_step_name_out_of_the_cookie_and_is_audited(
    app,
    engine,
    client_request,  # noqa: ANN001
) -> None:
    from test_tasks import example, form_data, start_sample

    sw = client_request.sign_in("sw.north")
    case = start_sample(engine)
    (task,) = engine.tasks(case_id=case.id)
    done = sw.post(f"/tasks/{task.id}", form_data(task, case, example("consent")))
    cookie = _cookie_contents(app, done.response)
    assert "Record consent" not in cookie and "Ada" not in cookie
    page = sw.follow(done)
    assert "Record consent" in page.text and "Ada Example" in page.text
    views = [e.detail["page"] for e in engine.audit_trail(case.id) if e.action == "viewed"]
    assert views[-1] == "done"
