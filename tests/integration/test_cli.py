"""The `cinflow` command as an operator uses it: output people read, exit codes scripts read."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from webui.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "processes" / "sample"
CONSENT = (ROOT / "forms" / "examples" / "consent.valid.json").read_text()


@pytest.fixture
def run(db_url: str, fixed_clock):  # noqa: ANN001, ANN201
    runner = CliRunner()

    def invoke(*args: str):  # noqa: ANN202
        return runner.invoke(cli, ["--database", db_url, *args], obj={}, catch_exceptions=False)

    return invoke


def test_deploy_start_tasks_complete(run) -> None:  # noqa: ANN001
    result = run("deploy", str(SAMPLE), "--by", "pm1", "--comment", "first")
    assert result.exit_code == 0, result.output
    assert "any/sample_referral version 1" in result.output
    assert "sample_referral" in run("processes").output

    started = run(
        "start",
        "sample_referral",
        "--child",
        "Ada Example",
        "--dob",
        "2016-05-04",
        "--data",
        '{"referral_date": "2026-11-23"}',
    )
    assert started.exit_code == 0, started.output
    assert "Case 1 started for Ada Example" in started.output
    task_id = re.search(r"^(\S+)\s+case 1\s+record_consent", started.output, re.M).group(1)

    listed = run("tasks", "--case", "1")
    assert "record_consent: Record consent (Social worker) no deadline" in listed.output

    done = run("complete", task_id, "--data", CONSENT, "--by", "sw1")
    assert done.exit_code == 0, done.output
    assert "Now ready:" in done.output
    assert (
        "complete_assessment: Complete the assessment (Social worker) due 14/12/2026" in done.output
    )


def test_refusals_exit_1_with_the_reasons(run) -> None:  # noqa: ANN001
    run("deploy", str(SAMPLE))
    started = run("start", "sample_referral", "--child", "Bo Example", "--data", "{}")
    task_id = started.output.split("\n")[1].split()[0]
    bad = json.loads(CONSENT)
    bad["consent_date"] = "yesterday"
    refused = run("complete", task_id, "--data", json.dumps(bad))
    assert refused.exit_code == 1
    assert "consent_date: Enter a real date" in refused.output
    assert "nothing was saved" in refused.output
    missing = run("start", "no_such_process", "--child", "Cy")
    assert missing.exit_code == 1 and 'no deployed process "no_such_process"' in missing.output
    unknown = run("complete", "00000000-0000-0000-0000-000000000000")
    assert unknown.exit_code == 1 and "no open task" in unknown.output
    not_json = run("complete", task_id, "--data", "{oops")
    assert not_json.exit_code == 2 and "not JSON" in not_json.output


def test_an_invalid_diagram_is_refused_with_every_problem(run, tmp_path: Path) -> None:  # noqa: ANN001
    text = (
        (SAMPLE / "sample_referral.bpmn")
        .read_text()
        .replace('value="assessment_outcome.json"', 'value="nope.json"')
    )
    (tmp_path / "bad.bpmn").write_text(text)
    (tmp_path / "sample_consent.bpmn").write_text((SAMPLE / "sample_consent.bpmn").read_text())
    result = run("deploy", str(tmp_path / "bad.bpmn"), str(tmp_path / "sample_consent.bpmn"))
    assert result.exit_code == 1
    assert "nothing was deployed" in result.output
    assert re.search(r"bad\.bpmn:\d+ \[complete_assessment\]: form \"nope.json\"", result.output)
    assert "No processes deployed" in run("processes").output


def test_scenario_command_prints_each_expectation_and_fails_by_step(run, tmp_path: Path) -> None:  # noqa: ANN001
    good = run("scenario", str(SAMPLE / "scenarios" / "closed_after_assessment.yaml"))
    assert good.exit_code == 0, good.output
    assert "PASS step 2: complete_assessment due 2027-04-16" in good.output
    wrong = (
        (SAMPLE / "scenarios" / "closed_after_assessment.yaml")
        .read_text()
        .replace("complete_assessment: 2027-04-16", "complete_assessment: 2027-04-15")
    )
    (tmp_path / "scenarios").mkdir()
    path = tmp_path / "scenarios" / "wrong.yaml"
    path.write_text(wrong.replace("steps:", f"deploy: [{SAMPLE}]\nsteps:", 1))
    bad = run("scenario", str(path))
    assert bad.exit_code == 1
    assert "FAIL step 2: complete_assessment due 2027-04-15 — got 2027-04-16" in bad.output
    assert "0 passed, 1 failed" in bad.output


def test_worker_once_fires_what_is_due(run) -> None:  # noqa: ANN001
    run("deploy", str(SAMPLE))
    result = run("worker", "--once")
    assert result.exit_code == 0 and "fired 0 timer(s)" in result.output


def test_demo_seeds_once(run) -> None:  # noqa: ANN001
    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "Demo case:" in first.output
    again = run("demo")
    assert "already seeded" in again.output


def test_users_add_list_set_role(run) -> None:  # noqa: ANN001
    assert (
        run(
            "users", "add-team", "north", "--council", "portsmouth", "--name", "North CIN team"
        ).exit_code
        == 0
    )
    added = run(
        "users",
        "add",
        "amira.khan",
        "--name",
        "Amira Khan",
        "--role",
        "social_worker",
        "--team",
        "north",
        "--password",
        "correct horse battery",
    )
    assert added.exit_code == 0, added.output
    assert "Added amira.khan (Social worker) in north" in added.output
    weak = run(
        "users", "add", "bo", "--name", "Bo", "--role", "social_worker", "--password", "short"
    )
    assert weak.exit_code == 1 and "at least 12 characters" in weak.output
    assert run("users", "set-role", "amira.khan", "team_manager").output.strip() == (
        "amira.khan is now Team manager"
    )
    listed = run("users", "list").output
    assert "amira.khan" in listed and "Team manager" in listed and "north" in listed
    bad_role = run("users", "set-role", "amira.khan", "wizard")
    assert bad_role.exit_code == 2


def test_closure_day_moves_pending_deadlines(run) -> None:  # noqa: ANN001
    run("deploy", str(SAMPLE))
    started = run(
        "start",
        "sample_referral",
        "--child",
        "Gil Example",
        "--data",
        '{"referral_date": "2026-12-14"}',
    )
    task_id = started.output.split("\n")[1].split()[0]
    run("complete", task_id, "--data", CONSENT)
    assert "due 07/01/2027" in run("tasks").output
    added = run("closure-day", "any", "2026-12-24", "--reason", "Christmas Eve")
    assert added.exit_code == 0, added.output
    assert "24 December 2026 is a closure day for any; 2 pending deadline(s) moved." in added.output
    assert "due 08/01/2027" in run("tasks").output
    bad = run("closure-day", "any", "24/12/2026")
    assert bad.exit_code == 2 and "is not a date" in bad.output
    assert "0 pending deadline(s) moved" in run("recompute-deadlines", "any").output


def test_users_set_password_deactivate_activate_unlock(run, db_url) -> None:  # noqa: ANN001
    from engine.services import Engine

    run("users", "add-team", "north", "--council", "portsmouth", "--name", "North CIN team")
    run("users", "add", "amira.khan", "--name", "Amira Khan", "--role", "social_worker",
        "--team", "north", "--password", "first long passphrase")  # fmt: skip
    engine = Engine(db_url)
    try:
        people = engine.people
        token = people.sign_in("amira.khan", "first long passphrase").token
        assert people.session_user(token) is not None

        out = run("users", "set-password", "amira.khan", "--password", "second long passphrase")
        assert out.exit_code == 0 and "signed out everywhere" in out.output
        assert people.session_user(token) is None
        token = people.sign_in("amira.khan", "second long passphrase").token

        out = run("users", "deactivate", "amira.khan")
        assert out.output.strip() == "amira.khan is deactivated and signed out everywhere"
        assert people.session_user(token) is None
        assert people.sign_in("amira.khan", "second long passphrase").user is None
        assert "(disabled)" in run("users", "list").output
        assert run("users", "activate", "amira.khan").exit_code == 0
        assert people.sign_in("amira.khan", "second long passphrase").user is not None

        for _ in range(20):
            people.sign_in("amira.khan", "wrong")
        assert people.sign_in("amira.khan", "second long passphrase").locked_for is not None
        assert "(locked)" in run("users", "list").output
        assert run("users", "unlock", "amira.khan").output.strip() == "amira.khan is unlocked"
        assert people.sign_in("amira.khan", "second long passphrase").user is not None

        missing = run("users", "unlock", "nobody")
        assert missing.exit_code == 1 and "nobody" in missing.output
    finally:
        engine.dispose()


def test_export_writes_the_current_versions_and_deploying_them_again_is_a_no_op(
    run,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    assert run("deploy", str(ROOT / "processes" / "teeswide"), "--by", "pm1").exit_code == 0
    before = run("processes", "--all-versions").output
    out = tmp_path / "teeswide-export"
    exported = run("export", "teeswide", str(out))
    assert exported.exit_code == 0, exported.output
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.bpmn"))
    shipped = sorted(
        p.relative_to(ROOT / "processes").as_posix()
        for folder in ("common", "teeswide")
        for p in (ROOT / "processes" / folder).glob("*.bpmn")
    )
    assert written == shipped
    for name in written:  # byte-identical, so a council's own copy diffs cleanly
        assert (out / name).read_bytes() == (ROOT / "processes" / name).read_bytes(), name

    again = run("deploy", str(out / "common"), str(out / "teeswide"), "--council", "teeswide")
    assert again.exit_code == 0, again.output
    assert "version 2" not in again.output
    assert run("processes", "--all-versions").output == before

    edited = out / "teeswide" / "teeswide_review.bpmn"
    edited.write_text(edited.read_text(encoding="utf-8").replace(' name="', ' name="Edited: ', 1))
    changed = run("deploy", str(out / "common"), str(out / "teeswide"), "--council", "teeswide")
    assert "teeswide/teeswide_review version 2" in changed.output
    assert run("export", "nowhere", str(tmp_path / "x")).exit_code == 1


def test_diff_between_two_deployed_versions_and_files(run, tmp_path: Path) -> None:  # noqa: ANN001
    folder = tmp_path / "sample"
    folder.mkdir()
    old = (SAMPLE / "sample_referral.bpmn").read_text(encoding="utf-8")
    (folder / "sample_consent.bpmn").write_text((SAMPLE / "sample_consent.bpmn").read_text())
    (folder / "sample_referral.bpmn").write_text(old)
    assert run("deploy", str(folder)).exit_code == 0
    new = old.replace('name="Complete the assessment"', 'name="Finish the assessment"')
    (folder / "sample_referral.bpmn").write_text(new)
    assert "sample_referral version 2" in run("deploy", str(folder)).output

    shown = run("diff", "any/sample_referral@1", "any/sample_referral@2")
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines() == [
        'changed userTask complete_assessment "Finish the assessment": '
        'name "Complete the assessment" -> "Finish the assessment"'
    ]
    as_data = json.loads(run("diff", str(SAMPLE / "sample_referral.bpmn"),
                             str(folder / "sample_referral.bpmn"), "--json").output)  # fmt: skip
    assert as_data["changed"] == {
        "complete_assessment": {
            "name": {"before": "Complete the assessment", "after": "Finish the assessment"}
        }
    }
    missing = run("diff", "any/sample_referral@1", "any/sample_referral@9")
    assert missing.exit_code == 1 and "has no version 9" in missing.output


def test_draft_approve_go_live_migrate_and_document_control(run, tmp_path: Path) -> None:  # noqa: ANN001
    for user in ("pm1", "pm2"):
        added = run("users", "add", user, "--name", user.upper(), "--role", "practice_manager",
                    "--password", "correct horse battery")  # fmt: skip
        assert added.exit_code == 0, added.output
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("scenarios"))
    assert run("deploy", str(folder), "--by", "pm1").exit_code == 0
    started = run("start", "sample_referral", "--child", "Ada Example",
                  "--data", '{"referral_date": "2026-11-23"}')  # fmt: skip
    assert started.exit_code == 0, started.output
    referral = folder / "sample_referral.bpmn"
    referral.write_text(
        referral.read_text().replace("Complete the assessment", "Complete the single assessment")
    )
    drafted = run("deploy", str(folder), "--by", "pm1", "--comment", "clearer name")
    assert "any/sample_referral version 2 draft" in drafted.output
    assert "Drafts: new cases stay on the live versions" in drafted.output

    unsent = run("approve", "any", "--by", "pm2")
    assert unsent.exit_code == 1 and "has not been sent for approval" in unsent.output
    assert "cinflow send-for-approval" in unsent.output
    sent = run("send-for-approval", "any", "--by", "pm1")
    assert sent.output.strip() == "any/sample_referral version 2 sent for approval by pm1"
    own = run("approve", "any", "--by", "pm1")
    assert own.exit_code == 1 and "pm1 made the draft" in own.output
    early = run("go-live", "any", "--by", "pm2")
    assert early.exit_code == 1 and "approve the drafts first" in early.output
    approved = run("approve", "any", "--by", "pm2", "--comment", "fine")
    assert approved.output.strip() == "any/sample_referral version 2 approved by pm2"
    assert run("go-live", "any", "--by", "pm2").output.strip() == (
        "any/sample_referral version 2 is live"
    )

    shelf = run("library", "any").output
    assert re.search(r"v2\s+live\s+deployed by pm1 .* approved by pm2 .* open cases 0", shelf)
    assert re.search(r"v1\s+retired .* open cases 1", shelf)

    preview = run("migrate", "any", "sample_referral", "--preview")
    assert preview.exit_code == 0, preview.output
    assert preview.output.startswith("case 1: version 1 -> 2: can migrate; on record_consent")
    assert re.search(r"v1\s+retired .* open cases 1", run("library", "any").output)  # unchanged
    moved = run("migrate", "any", "sample_referral", "--by", "pm2")
    assert moved.output.startswith("case 1: version 1 -> 2: migrated")
    assert run("migrate", "any", "sample_referral").output.strip() == (
        "No open case is on another version."
    )

    dc = run("document-control", "any", "sample_referral", "2", "--owner",
             "Head of Service", "--next-review", "2026-06-30", "--by", "pm2")  # fmt: skip
    assert dc.exit_code == 0, dc.output
    assert "owner Head of Service" in dc.output and "next review 30 June 2026" in dc.output
    assert "next review 30 June 2026  REVIEW OVERDUE" in run("library", "any").output
