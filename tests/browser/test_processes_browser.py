"""A practice manager's procedure pages in a real browser: the library, a draft's diagram with
its changes marked, a refused approval, approving and going live, the migration preview; axe
(WCAG 2.2 AA tags) on each page."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "processes" / "sample"


def test_library_diff_approval_and_migration_preview(
    page,
    sign_in,
    axe,
    shot,
    live_world,
    tmp_path,
    monkeypatch,  # noqa: ANN001
) -> None:
    files = {p.name: p.read_text() for p in SAMPLE.glob("*.bpmn")}
    files["sample_referral.bpmn"] = files["sample_referral.bpmn"].replace(
        'name="Complete the assessment"', 'name="Complete the single assessment"'
    )
    live_world.engine.deploy(files, "pm.dudley.author", "clearer name", council="dudley")

    sign_in(page, "pm.north")
    page.goto("/processes/dudley")
    assert page.locator("h1").inner_text() == "Procedures: Dudley"
    row = page.locator("tr[data-process='sample_referral']")
    assert "Version 2" in row.inner_text() and "Draft" in row.inner_text()
    shot(page, "procedures-library")
    axe.assert_no_violations(page)

    row.get_by_role("link", name="Version 2").click()
    page.wait_for_selector("#process-diagram[data-ready='true']")
    assert page.locator(".djs-element.cin-changed").count() == 1
    assert "Complete the single assessment" in page.get_by_test_id("changes").inner_text()
    shot(page, "procedures-version-diff")
    axe.assert_no_violations(page)

    # a draft is approved only once sent for approval (here by admin, for its author)
    page.goto("/processes/dudley")
    page.get_by_test_id("approve").click()
    assert "has not been sent for approval" in page.get_by_test_id("refusal").inner_text()
    live_world.engine.send_drafts("dudley", "admin")

    # Dudley's journeys need its whole pack, not deployed in this world: refused, listed
    page.goto("/processes/dudley")
    page.set_default_timeout(120_000)  # approving runs every Dudley journey first
    page.get_by_test_id("approve").click()
    refusal = page.get_by_test_id("refusal")
    assert "Nothing was changed" in refusal.inner_text()
    assert "scenario " in refusal.inner_text()
    shot(page, "procedures-refused")
    axe.assert_no_violations(page)

    # with a pack that has no journeys yet, only the validation runs: approved, then live
    pack = tmp_path / "processes" / "dudley"
    pack.mkdir(parents=True)
    shutil.copy(ROOT / "processes" / "dudley" / "timescales.yaml", pack)
    monkeypatch.setattr(live_world.engine.context, "processes_dir", pack.parent)
    page.goto("/processes/dudley")
    page.get_by_test_id("approve").click()
    assert "Approved 1 draft version(s)" in page.get_by_test_id("notification-banner").inner_text()
    axe.assert_no_violations(page)
    page.get_by_test_id("go-live").click()
    row = page.locator("tr[data-process='sample_referral']")
    assert "Live" in row.inner_text() and "Retired" in row.inner_text()

    page.goto("/processes/dudley/sample_referral/migration")
    assert page.locator("h1").inner_text().startswith("Moving running cases")
    shot(page, "procedures-migration")
    axe.assert_no_violations(page)
