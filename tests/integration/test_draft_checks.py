"""Approving a draft first runs the validation and every journey of the council against the pack
with the draft in it; each failure is listed (engine/draft_checks.py)."""

from __future__ import annotations

from pathlib import Path

from engine.deployment import read_files
from engine.draft_checks import check_pack, run_journeys

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
REFERRAL = "teeswide/teeswide_referral.bpmn"


def teeswide(old: str, new: str) -> dict[str, str]:
    files = read_files([PROCESSES / "common", PROCESSES / "teeswide"])
    assert old in files[REFERRAL]
    files[REFERRAL] = files[REFERRAL].replace(old, new)
    return files


def test_a_draft_that_breaks_a_rule_is_listed_without_running_journeys() -> None:
    files = teeswide('value="assessment_outcome.json"', 'value="gone.json"')
    failures = check_pack(files, "teeswide", forms_dir=ROOT / "forms", processes_dir=PROCESSES)
    assert failures and all(f.startswith("validation: ") for f in failures)
    assert any('form "gone.json" does not exist' in f for f in failures)


def test_a_draft_with_a_shorter_timescale_fails_the_journeys_that_check_its_dates() -> None:
    # the assessment due in meeting_rearrangement's 10 working days instead of 45
    files = teeswide(
        'deadline("assessment_completion", from_=case.opened)',
        'deadline("meeting_rearrangement", from_=case.opened)',
    )
    failures = check_pack(files, "teeswide", forms_dir=ROOT / "forms", processes_dir=PROCESSES)
    assert failures
    assert all(f.startswith("scenario ") for f in failures)
    assert any("assess" in f for f in failures), failures


def test_the_journeys_run_within_a_time_limit_and_say_what_was_not_run() -> None:
    files = read_files([PROCESSES / "common", PROCESSES / "teeswide"])
    results = run_journeys(
        files, "teeswide", forms_dir=ROOT / "forms", processes_dir=PROCESSES, time_limit=1e-9
    )
    assert results and all(not r.ok for r in results)
    assert all(
        r.error == "not run: the time limit was reached"
        or r.outcomes[-1].detail == "not run: the time limit was reached"
        for r in results
    )


def test_a_saved_journey_replaces_the_shipped_one_of_its_name(tmp_path: Path) -> None:
    files = read_files([PROCESSES / "sample"])
    pack = tmp_path / "sample"
    (pack / "scenarios").mkdir(parents=True)
    (pack / "timescales.yaml").write_text("council: sample\ntimescales: {}\n")
    shipped = (PROCESSES / "sample" / "scenarios" / "cin_plan_route.yaml").read_text()
    (pack / "scenarios" / "cin_plan_route.yaml").write_text(shipped)
    wrong = shipped.replace("complete_assessment: 2027-01-07", "complete_assessment: 2027-01-08")
    kwargs = {"forms_dir": ROOT / "forms", "processes_dir": tmp_path}
    (passed,) = run_journeys(files, "sample", **kwargs)
    assert passed.ok and not passed.saved
    (failed,) = run_journeys(files, "sample", saved={"cin_plan_route.yaml": wrong}, **kwargs)
    assert failed.saved and not failed.ok
    (line,) = [o for o in failed.outcomes if not o.ok]
    assert (line.element, line.expected, line.got) == (
        "complete_assessment",
        "due 8 January 2027",
        "due 7 January 2027",
    )
    assert check_pack(files, "sample", saved={"cin_plan_route.yaml": wrong}, **kwargs) == [
        "scenario cin_plan_route.yaml: FAIL step 4: complete_assessment due 2027-01-08 — "
        "got 2027-01-07"
    ]
