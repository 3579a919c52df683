"""Training cases in the browser's shoes (issue 18): a trainer starts one on Portsmouth's step down
from a CP plan, completes steps with the example answers, moves its own clock, sees the
escalation fire, goes back and restarts; nobody else ever sees it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from web_client import ClientRequest, Page

from engine.services import Engine

TRAINING_CHILD = "Example child (training)"


def form_data(page: Page, testid: str) -> dict[str, Any]:
    """What a browser would post from the form: inputs, checked boxes, chosen options, text."""
    form = page.testid(testid)[0]
    data: dict[str, Any] = {}
    for field in form.xpath(".//input|.//textarea|.//select"):
        name = field.get("name")
        kind = (field.get("type") or "").lower()
        if not name or kind == "submit" or field.get("disabled") is not None:
            continue
        if kind in ("radio", "checkbox"):
            if field.get("checked") is None:
                continue
            value = field.get("value", "on")
        elif field.tag == "select":
            chosen = field.xpath(".//option[@selected]") or field.xpath(".//option")
            value = chosen[0].get("value", "") if chosen else ""
        elif field.tag == "textarea":
            value = field.text or ""
        else:
            value = field.get("value", "")
        data.setdefault(name, []).append(value)
    return {k: v if len(v) > 1 else v[0] for k, v in data.items()}


@pytest.fixture
def trainer(engine: Engine, client_request: ClientRequest) -> ClientRequest:
    engine.deploy_pack("portsmouth", "admin")
    return client_request.sign_in_as("trainer")


def _start(trainer: ClientRequest) -> str:
    index = trainer.get("/training")
    options = [o.get("value") for o in index.xpath('//select[@name="process"]/option')]
    assert "portsmouth:portsmouth_step_down_cp" in options
    started = trainer.post("/training", {"process": "portsmouth:portsmouth_step_down_cp"})
    return started.response.location


def _complete(trainer: ClientRequest, url: str, step: str, **answers: str) -> Page:
    page = trainer.get(url)
    assert page.testid("current-step")[0].xpath(".//h2")[0].text_content().strip() == step
    data = {**form_data(page, "step-form"), **answers}
    action = page.testid("step-form")[0].get("action")
    return trainer.post(action, data, _expected_redirect=url)


def test_trainer_walks_the_step_down_route_on_its_own_clock(
    trainer: ClientRequest,
    new_client_request,  # noqa: ANN001
    engine: Engine,
    fixed_clock,  # noqa: ANN001
) -> None:
    home = trainer.get("/home")
    assert "Amelia Hughes" not in home.text and "Ben Carter" not in home.text

    url = _start(trainer)
    page = trainer.get(url)
    assert "Training case – not a real child" in page.text
    assert "Training clock: 23 November 2026" in page.text
    step = page.testid("current-step")[0]
    assert "Conference chair / IRO" in page.text_of(page.testid("step-who")[0])
    assert "P14" in page.text_of(page.testid("step-rules")[0])
    assert page.text_of(step).count("Outline") >= 1

    first = page.testid("current-step")[0].xpath(".//h2")[0].text_content().strip()
    _complete(
        trainer,
        url,
        first,
        **{"event_date-day": "23", "event_date-month": "11", "event_date-year": "2026"},
    )
    page = trainer.get(url)
    names = [li.text_content() for li in page.testid("current-steps")[0].xpath("./li")]
    assert any("Send" in n for n in names), names
    # what was done, by whom and when, and what comes next, in words beside the diagram
    done = page.text_of(page.testid("steps-done")[0])
    assert done == f"{first} – Tess Reid, 23 November 2026 at 9am", done
    upcoming = [page.text_of(li) for li in page.testid("next-steps")[0].xpath("./li")]
    assert upcoming and all(" – " in n for n in upcoming), upcoming
    assert not any(n.startswith(first) for n in upcoming), upcoming
    send = next(
        li for li in page.testid("current-steps")[0].xpath("./li") if "Send" in li.text_content()
    )
    link = send.xpath(".//a/@href")
    if link:
        page = trainer.get(link[0])
    deadline = page.text_of(page.testid("step-deadline")[0])
    assert ", in 5 working days" in deadline, deadline

    moved = trainer.post(f"{url}/clock", {"working_days": "16", "action": "days"})
    assert moved.response.location == url
    page = trainer.get(url)
    fired = page.text_of(page.testid("fired")[0])
    assert "Escalation" in fired and "Reminder" in fired, fired
    assert "Training clock: 15 December 2026" in page.text

    # nobody else is told or shown anything
    sw = new_client_request().sign_in_as("social_worker")
    for path in ("/worklist", "/worklist/unclaimed", "/worklist/overdue", "/inbox"):
        assert TRAINING_CHILD not in sw.get(path).text, path
    tm = new_client_request().sign_in_as("team_manager")
    for path in ("/inbox", "/worklist/team"):
        assert TRAINING_CHILD not in tm.get(path).text, path
    case_id = int(url.rsplit("/", 1)[1])
    sw.get(f"/cases/{case_id}", _expected_status=404)
    sw.get(url, _expected_status=403)
    trainer.get(f"/cases/{case_id}", _expected_status=403)
    # the live sweep, however late, leaves the training case alone
    fired_before = len(engine.audit_trail(case_id))
    fixed_clock.advance(timedelta(days=200))
    engine.fire_due_timers()
    fixed_clock.advance(timedelta(days=-200))
    assert len(engine.audit_trail(case_id)) == fired_before

    # go back to before the clock moved: the escalation never happened
    page = trainer.get(url)
    back = page.xpath('//button[starts-with(@data-testid, "back-")]')
    last_back = back[-1].get("data-testid").split("-")[1]
    trainer.post(f"{url}/back", {"step": last_back}, _expected_redirect=url)
    page = trainer.get(url)
    assert not page.testid("fired")
    assert "Training clock: 23 November 2026" in page.text

    trainer.post(f"{url}/restart", {}, _expected_redirect=url)
    page = trainer.get(url)
    assert len(page.testid("step-points")[0].xpath("./li")) == 1
    trainer.post(f"{url}/delete", {}, _expected_redirect="/training")
    trainer.get(url, _expected_status=404)


def test_bad_clock_moves_are_refused_and_change_nothing(trainer: ClientRequest) -> None:
    url = _start(trainer)
    page = trainer.post(
        f"{url}/clock", {"working_days": "many", "action": "days"}, _expected_status=400
    )
    assert "Enter the number of working days as a number" in page.text
    assert "Training clock: 23 November 2026" in trainer.get(url).text
    trainer.get("/training/999999", _expected_status=404)


def test_a_trainee_follows_along_without_signing_in_until_the_link_expires(
    trainer: ClientRequest,
    app,  # noqa: ANN001
    fixed_clock,  # noqa: ANN001
) -> None:
    url = _start(trainer)
    trainer.post(f"{url}/share", {})
    page = trainer.get(url)
    link = page.testid("follow-links")[0].xpath(".//a/@href")[0]
    path = "/follow/" + link.rsplit("/follow/", 1)[1]
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 32 and token.replace("-", "").replace("_", "").isalnum()

    trainee = app.test_client()  # nobody signed in
    seen = Page(trainee.get(path))
    assert seen.status == 200 and "Training case – not a real child" in seen.text
    assert "Amelia Hughes" not in seen.text
    before = trainee.get(f"{path}/state").get_json()["signature"]
    assert trainee.get(f"{path}/diagram.bpmn").status_code == 200

    trainer.post(f"{url}/clock", {"working_days": "16", "action": "days"})
    after = trainee.get(f"{path}/state").get_json()["signature"]
    assert after != before
    assert "Training clock: 15 December 2026" in Page(trainee.get(path)).text

    # a made-up token, or a live case's id, reaches nothing
    assert trainee.get("/follow/not-a-token").status_code == 404
    assert trainee.get(f"/training/{url.rsplit('/', 1)[1]}").status_code == 302  # sign in first
    fixed_clock.advance(timedelta(hours=9))
    assert trainee.get(path).status_code == 404
    assert trainee.get(f"{path}/state").status_code == 404


def test_presenter_view_moves_the_case_on_and_back(trainer: ClientRequest) -> None:
    url = _start(trainer)
    present = f"{url}/present"
    page = trainer.get(present)
    assert page.testid("presenter") and "Training clock: 23 November 2026" in page.text
    first = page.xpath('//h2[@class="cin-present__step-name"]')[0].text_content()
    # "Next step" completes the step with its example answers
    trainer.post(f"{url}/next", {"to": "present"}, _expected_redirect=present)
    page = trainer.get(present)
    names = [h.text_content() for h in page.xpath('//h2[@class="cin-present__step-name"]')]
    assert first not in names and names
    trainer.post(
        f"{url}/clock",
        {"to": "present", "working_days": "5", "action": "days"},
        _expected_redirect=present,
    )
    assert "30 November 2026" in trainer.get(present).text
    back = trainer.get(present).xpath('//form[.//button[@data-testid="present-back"]]')[0]
    step = back.xpath('.//input[@name="step"]/@value')[0]
    trainer.post(f"{url}/back", {"to": "present", "step": step}, _expected_redirect=present)
    assert "23 November 2026" in trainer.get(present).text
