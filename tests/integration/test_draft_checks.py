"""Approving a draft first runs the validation and every journey of the council against the pack
with the draft in it; each failure is listed (engine/draft_checks.py)."""

from __future__ import annotations

from pathlib import Path

from engine.deployment import read_files
from engine.draft_checks import check_pack

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
