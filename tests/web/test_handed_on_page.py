"""P12 (Portsmouth 4): later Team Around the Child reviews happen after children's social care
has closed the case, so at the step-down hand-over the case record gives the new lead
professional the date after which the last assessment is over 6 months old (a new CAF is then
needed). The engine works it out from the hand-over's answer and the council's timescale."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine.scenario import Cast, run_file
from engine.services import Engine
from engine.store.models import Case

ROOT = Path(__file__).resolve().parents[2]
JOURNEY = ROOT / "processes" / "portsmouth" / "scenarios" / "review_close_step_down.yaml"


def test_the_case_record_gives_the_date_a_new_caf_is_needed(
    client_request,
    engine: Engine,
    fixed_clock,  # noqa: ANN001
) -> None:
    engine.deploy_pack("portsmouth", "factory")
    report = run_file(JOURNEY, engine=engine, deployed=True, cast=Cast("factory", team="north"))
    assert report.ok, report
    with engine.context.sessions() as s:
        case_id = s.scalar(select(Case.id).order_by(Case.id.desc()).limit(1))

    page = client_request.sign_in("sw.north").get(f"/cases/{case_id}")
    summary = page.text_of(page.testid("case-summary")[0])
    # the hand-over recorded the last assessment on Sun 10 Jan 2027: 6 months on is Sat 10 Jul
    assert (
        "For the new lead professional A new CAF (Common Assessment Framework) is needed if "
        "the Team Around the Child reviews progress after Sat 10 Jul 2027" in summary
    )
