"""The managers' reports on the cohort, through HTTP as a manager would use them, checked
against counts the test makes itself from the store and the journeys."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from unittest import mock

import lxml.html
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine import clock, people
from engine.calendar import LONDON
from engine.clock import FixedClock
from engine.returns.census import la_child_id
from engine.services import NewChild
from engine.store.models import AuditEvent, Case, ProcessVersion, TaskRow
from webui import create_app

PASSWORD = "correct horse battery staple"
COUNCIL = "portsmouth"


@pytest.fixture
def now(cohort):
    """A day after the last journey's last event: every case is where its journey left it."""
    moment = cohort.last_event + timedelta(days=1)
    with clock.using(FixedClock(moment)):
        yield moment


@pytest.fixture
def site(cohort_engine, now):
    teams = sorted({t.key for t in cohort_engine.people.teams() if t.council == COUNCIL})
    with mock.patch.dict(people._SCRYPT, n=2**10):
        cohort_engine.people.add_user("pm.test", "Pat Test", PASSWORD, "practice_manager", teams)
        cohort_engine.people.add_user("tm.test", "Tam Test", PASSWORD, "team_manager", teams[:1])
        cohort_engine.people.add_user("sw.test", "Sid Test", PASSWORD, "social_worker", teams[:1])
    app = create_app({"TESTING": True, "SECRET_KEY": "test"}, engine=cohort_engine)
    return app, teams


def signed_in(app, username):
    client = app.test_client()
    page = lxml.html.fromstring(client.get("/sign-in").get_data(as_text=True))
    token = page.xpath('//input[@name="csrf_token"]/@value')[0]
    with mock.patch.dict(people._SCRYPT, n=2**10):
        done = client.post(
            "/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
    assert done.status_code == 302
    return client


def table(doc, testid):
    """A figures table as {first column: [the other columns as ints]}."""
    out = {}
    for tr in doc.xpath(f'//table[@data-testid="{testid}"]/tbody/tr'):
        cells = [c.text_content().strip() for c in tr.xpath("./th|./td")]
        if len(cells) > 1:
            out[cells[0]] = [int(re.sub(r"\D", "", c) or 0) for c in cells[1:]]
    return out


def deadline_steps(xml_texts):
    """User tasks with a deadline timer, read from the diagrams (independently of engine)."""
    steps = set()
    for text in xml_texts:
        doc = lxml.etree.fromstring(text.encode())
        for event in doc.iter("{*}boundaryEvent"):
            kinds = event.xpath('.//*[local-name()="property"][@name="timer"]/@value')
            if kinds == ["deadline"]:
                steps.add(event.get("attachedToRef"))
    return steps


def test_oversight_figures_match_the_store(site, cohort_engine, now):
    app, teams = site
    names = {t.key: t.name for t in cohort_engine.people.teams()}
    start = date(2026, 11, 1)
    end = now.astimezone(LONDON).date()
    client = signed_in(app, "pm.test")
    response = client.get(f"/reports?council={COUNCIL}&from={start}&to={end}")
    assert response.status_code == 200
    doc = lxml.html.fromstring(response.get_data(as_text=True))

    with cohort_engine.sessions() as s:
        cases = s.scalars(select(Case).where(Case.council_key == COUNCIL)).all()
        real = {c.id: c for c in cases if not c.training}
        training_open = [c for c in cases if c.training and c.status == "open"]
        tasks = s.scalars(select(TaskRow).where(TaskRow.council_key == COUNCIL)).all()
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.case_id.in_(list(real))).order_by(AuditEvent.id)
        ).all()
        versions = s.scalars(select(ProcessVersion).where(ProcessVersion.council_key == COUNCIL))
        with_deadline = {
            v.id: deadline_steps([v.xml, *(v.dependency_xml or {}).values()]) for v in versions
        }

    # Caseloads: open real cases per team; training cases never counted.
    assert training_open, "the cohort has open training cases to leave out"
    caseload = Counter(names[c.team_key] for c in real.values() if c.status == "open")
    assert {k: v[0] for k, v in table(doc, "caseload-team").items()} == dict(caseload)

    # Overdue now: open steps past their deadline on real cases, per team.
    overdue = Counter(
        names[real[t.case_id].team_key]
        for t in tasks
        if t.case_id in real and t.due_at is not None and t.due_at < now
    )
    assert {k: v[0] for k, v in table(doc, "overdue-team").items()} == dict(overdue)
    assert sum(overdue.values()) > 0

    # Deadlines met: each completed step with a deadline, late if its deadline fired first.
    met, late = Counter(), Counter()
    fired = defaultdict(set)
    for e in events:
        if e.action == "timer_fired:deadline":
            fired[e.case_id].add(e.detail.get("attached_to"))
        elif (
            e.action == "task_completed"
            and e.element_id in (with_deadline[real[e.case_id].process_version_id])
        ):
            day = e.at.astimezone(LONDON).date()
            team = names[real[e.case_id].team_key]
            was_late = e.element_id in fired[e.case_id]
            fired[e.case_id].discard(e.element_id)
            if start <= day <= end:
                (late if was_late else met)[team] += 1
    shown = table(doc, "by-team")
    assert {k: v[:2] for k, v in shown.items()} == {
        t: [met[t], late[t]] for t in set(met) | set(late)
    }
    assert sum(late.values()) > 0 and sum(met.values()) > 0
    by_rule = table(doc, "by-rule")
    assert sum(v[0] for v in by_rule.values()) == sum(met.values())
    assert sum(v[1] for v in by_rule.values()) == sum(late.values())

    # Drift: open plans by months since the plan step was first completed.
    first_plan = {}
    for e in events:
        if e.action == "task_completed" and e.detail.get("form") == "cin_plan.json":
            first_plan.setdefault(e.case_id, e.at.astimezone(LONDON).date())
    today = end

    def months(d):
        return (today.year - d.year) * 12 + today.month - d.month - (today.day < d.day)

    open_plans = [first_plan[c] for c in first_plan if real[c].status == "open"]
    summary = doc.xpath('//*[@data-testid="drift-summary"]')[0].text_content()
    six = sum(months(d) >= 6 for d in open_plans)
    twelve = sum(months(d) >= 12 for d in open_plans)
    assert re.findall(r"\d+", summary) == ["6", str(six), "12", str(twelve)]
    # Charts are SVG images with their own accessible names and the numbers in words.
    charts = doc.xpath("//svg[@role='img']")
    assert len(charts) == 4 and all(c.get("aria-labelledby") for c in charts)


def test_a_team_manager_sees_only_their_team_and_no_returns(site, cohort_engine):
    app, teams = site
    names = {t.key: t.name for t in cohort_engine.people.teams()}
    client = signed_in(app, "tm.test")
    doc = lxml.html.fromstring(client.get(f"/reports?council={COUNCIL}").get_data(as_text=True))
    assert set(table(doc, "caseload-team")) <= {names[teams[0]]}
    assert client.get(f"/reports/census?council={COUNCIL}").status_code == 403
    assert client.get(f"/reports/annex-a.csv?council={COUNCIL}").status_code == 403
    assert signed_in(app, "sw.test").get("/reports").status_code == 403
    assert client.get("/reports?council=dudley").status_code == 404


def test_heatmap_numbers_match_the_store(site, cohort_engine):
    app, _ = site
    client = signed_in(app, "pm.test")
    doc = lxml.html.fromstring(client.get(f"/reports?council={COUNCIL}").get_data(as_text=True))
    links = doc.xpath('//*[@data-testid="heatmap-links"]//a/@href')
    assert links
    with cohort_engine.sessions() as s:
        cases = s.scalars(select(Case).where(Case.council_key == COUNCIL)).all()
        tasks = s.scalars(select(TaskRow).where(TaskRow.council_key == COUNCIL)).all()
        missed = s.scalars(select(AuditEvent).where(AuditEvent.action == "timer_fired:deadline"))
        missed = list(missed)
    checked = 0
    for link in links:
        version_id = int(re.search(r"/heatmap/(\d+)", link)[1])
        page = client.get(link)
        assert page.status_code == 200
        heat = lxml.html.fromstring(page.get_data(as_text=True))
        rows = {
            tr.get("data-element"): [int(td.text_content()) for td in tr.xpath("./td")]
            for tr in heat.xpath('//table[@data-testid="heat-table"]/tbody/tr[@data-element]')
        }
        mine = {c.id for c in cases if c.process_version_id == version_id and not c.training}
        waiting = Counter(t.element_id for t in tasks if t.case_id in mine and not t.training)
        late = Counter(e.detail["attached_to"] for e in missed if e.case_id in mine)
        expected = {
            e: [waiting[e], late[e]] for e in set(waiting) | set(late) if waiting[e] or late[e]
        }
        assert rows == expected
        checked += bool(expected)
        xml = client.get(link.split("?")[0] + "/diagram.bpmn?council=" + COUNCIL)
        assert xml.status_code == 200 and b"bpmn:definitions" in xml.data
    assert checked >= 3


def test_annex_a_rows_match_the_journeys(site, cohort_engine, cohort, now):
    app, _ = site
    client = signed_in(app, "pm.test")
    response = client.get(f"/reports/annex-a.csv?council={COUNCIL}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    names = {t.key: t.name for t in cohort_engine.people.teams()}
    today = now.astimezone(LONDON).date()
    with cohort_engine.sessions() as s:
        cases = {c.id: c for c in s.scalars(select(Case).where(Case.council_key == COUNCIL))}
    expected = {}
    for m in cohort.members:
        case = cases.get(m.case_id)
        if case is None or m.training or case.status == "cancelled":
            continue
        closed = case.closed_at.astimezone(LONDON).date() if case.closed_at else None
        if case.status == "open" or (closed and closed >= today - timedelta(days=183)):
            expected[la_child_id(case.child_id)] = (m, case)
    assert {r["Child Unique ID"] for r in rows} == set(expected)
    assert len(rows) == len(expected) > 20
    sex = {"M": "Male", "F": "Female"}
    for row in rows:
        member, case = expected[row["Child Unique ID"]]
        assert row["Gender"] == sex[member.start["sex"]]
        assert row["Allocated Team"] == names[member.team]
        assert row["Case Status"] == ("Open" if case.status == "open" else "Closed")
        assert row["CIN Start Date"] == date.fromisoformat(member.start["referral_date"]).strftime(
            "%d/%m/%Y"
        )
        assert row["Does the Child have a Disability"] == (
            "No" if member.start["disabilities"] == ["NONE"] else "Yes"
        )
    book = load_workbook(io.BytesIO(client.get(f"/reports/annex-a.xlsx?council={COUNCIL}").data))
    sheet = book.active
    assert [c.value for c in sheet[1]][:3] == ["Child Unique ID", "Gender", "Ethnicity"]
    assert sheet.max_row == len(rows) + 1


def test_census_page_lists_problems_with_links_and_downloads(site, cohort_engine):
    app, _ = site
    client = signed_in(app, "pm.test")
    year = "2026-27"
    page = client.get(f"/reports/census?council={COUNCIL}&year={year}")
    doc = lxml.html.fromstring(page.get_data(as_text=True))
    assert doc.xpath('//*[@data-testid="census-download"]')
    download = client.get(f"/reports/census.xml?council={COUNCIL}&year={year}")
    assert download.status_code == 200 and b"<LAchildID>" in download.data

    with clock.using(FixedClock(clock.now())):
        case = cohort_engine.start_case(
            "portsmouth_after_assessment",
            NewChild("Ada Example", date(2015, 2, 3)),
            {
                "transfer_date": "2027-01-04",
                "cin_start_date": "2027-01-04",
                "referral_date": "2027-01-04",
            },
            "sw.test",
            council=COUNCIL,
        )
    page = client.get(f"/reports/census?council={COUNCIL}&year={year}")
    doc = lxml.html.fromstring(page.get_data(as_text=True))
    assert not doc.xpath('//*[@data-testid="census-download"]')
    items = [li for ul in doc.xpath('//*[@data-testid="census-issues"]') for li in ul.xpath("./li")]
    mine = [li for li in items if f"(case {case.id})" in li.text_content()]
    assert any("Sex: not recorded" in li.text_content() for li in mine)
    assert all(li.xpath(".//a/@href") == [f"/cases/{case.id}"] for li in mine)
    refused = client.get(f"/reports/census.xml?council={COUNCIL}&year={year}")
    assert refused.status_code == 409


def test_census_questions_open_with_what_the_case_already_knows(site, cohort_engine, cohort):
    app, _ = site
    with cohort_engine.sessions() as s:
        waiting = s.execute(
            select(TaskRow.id, TaskRow.case_id, Case.team_key, TaskRow.created_at)
            .join(Case, Case.id == TaskRow.case_id)
            .where(TaskRow.form == "assessment_outcome.json", Case.training.is_(False))
        ).first()
    assert waiting is not None, "a journey stopped at an assessment"
    task_id, case_id, team, opened = waiting
    member = next(m for m in cohort.members if m.case_id == case_id)
    with mock.patch.dict(people._SCRYPT, n=2**10):
        cohort_engine.people.add_user("sw.pre", "Pre Fill", PASSWORD, "social_worker", [team])
    # One engine call for the page: its pre-fill comes with it (a POST reads none).
    shown = cohort_engine.task_page(task_id, "sw.pre", [team], record_view=False)
    assert shown.known == {}
    shown = cohort_engine.task_page(task_id, "sw.pre", [team])
    assert shown.known["sex"] == member.start["sex"]
    client = signed_in(app, "sw.pre")
    doc = lxml.html.fromstring(client.get(f"/tasks/{task_id}").get_data(as_text=True))
    assert doc.xpath('//input[@name="sex"][@checked]/@value') == [member.start["sex"]]
    assert doc.xpath('//input[@name="ethnicity"][@checked]/@value') == [member.start["ethnicity"]]
    # The assessment starts at the referral, or (after an earlier one) the day its step opened.
    with cohort_engine.sessions() as s:
        details = s.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.case_id == case_id, AuditEvent.action == "task_completed"
            )
        ).all()
    earlier = any(d.get("form") == "assessment_outcome.json" for d in details)
    if earlier or "assessment_completed_date" in member.start:
        started = opened.astimezone(LONDON).date()
    else:
        started = date.fromisoformat(member.start["referral_date"])
    assert doc.xpath('//input[@name="assessment_start_date-day"]/@value') == [str(started.day)]
    # The group is one closed details element, under the practitioner's own questions.
    details = doc.xpath("//details[contains(@class, 'govuk-details')]")
    assert [d.xpath("string(.//summary)").strip() for d in details] == [
        "For the DfE census: the assessment",
        "For the DfE census: about the child",
    ]
    assert not any(d.get("open") is not None for d in details)


def test_a_council_without_a_known_la_code_is_asked_for_it(site, cohort_engine):
    app, _ = site
    teams = sorted(t.key for t in cohort_engine.people.teams() if t.council == "teeswide")
    with mock.patch.dict(people._SCRYPT, n=2**10):
        cohort_engine.people.add_user("pm.tees", "Pat Tees", PASSWORD, "practice_manager", teams)
    client = signed_in(app, "pm.tees")
    doc = lxml.html.fromstring(
        client.get("/reports/census?council=teeswide&year=2026-27").get_data(as_text=True)
    )
    assert "give it below" in doc.xpath('string(//*[@data-testid="census-problem"])')
    assert doc.xpath('//input[@name="la_code"]')
    doc = lxml.html.fromstring(
        client.get("/reports/census?council=teeswide&year=2026-27&la_code=808").get_data(
            as_text=True
        )
    )
    href = doc.xpath('//*[@data-testid="census-download"]/@href')[0]
    download = client.get(href)
    assert download.status_code == 200 and b"<LEA>808</LEA>" in download.data
