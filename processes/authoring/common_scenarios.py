"""Write the journeys of the common blocks: processes/common/scenarios/*.yaml.

    .venv/bin/python processes/authoring/common_scenarios.py

Each journey starts one block directly (or a harness caller in processes/authoring/harness/
that calls the blocks with a council's timescales on its call activities) and checks what the
worker sees: tasks, lanes, due dates, escalations. They run in tests/integration/.
Dates in answers are strings: a bare YAML date would reach the form as a date, not text.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "processes" / "common" / "scenarios"
CHILD = {"name": "Sam Sample", "date_of_birth": "2016-05-04"}
START = "2026-11-23T09:00:00Z"  # a Monday

PEOPLE = [{"name": "Karen Whitlow", "role": "Mother"}]


def consent(given: bool, harm: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "given_by_name": "Karen Whitlow",
        "given_by_relationship": "parent_with_pr",
        "consent_for": "assessment",
        "consent_method": "verbal",
        "consent_date": "2026-11-23",
        "consent_given": given,
    }
    if not given:
        answer |= {
            "refusal_reason": "Does not want social care involved.",
            "significant_harm_suspected": harm,
        }
    return answer


def decision(approve: bool) -> dict[str, Any]:
    if approve:
        return {"decision": "approve"}
    return {"decision": "return", "return_reason": "Try again with the grandmother present."}


def arrangement(
    day: str,
    chair_role: str | None = None,
    kind: str = "planning",
    cancelled_new_date: str | None = None,
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "meeting_type": kind,
        "meeting_date": day,
        "venue": "Family centre",
        "invitees": PEOPLE,
        "cancelled": cancelled_new_date is not None,
    }
    if chair_role:
        answer["chair_role"] = chair_role
    if cancelled_new_date:
        answer |= {
            "cancellation_reason": "The chair is unwell.",
            "family_and_agencies_told": True,
            "new_date": cancelled_new_date,
        }
    return answer


def record(day: str, chair_role: str = "senior_practitioner", kind: str = "planning"):
    return {
        "meeting_type": kind,
        "meeting_date": day,
        "chair_name": "Ruth Okafor",
        "chair_role": chair_role,
        "attendees": PEOPLE,
        "child_attended": False,
        "childs_views": "Sam said mornings are calmer.",
        "parents_views": "Karen agrees with the plan.",
        "decisions": "Plan agreed.",
    }


PLAN = {
    "plan_stage": "initial",
    "items": [
        {
            "assessed_need": "School every day",
            "outcome": "95% attendance",
            "actions": "Walk Sam to school",
            "who": "Karen",
            "by_when": "2027-03-01",
        }
    ],
    "contingency_plan": "Early review if attendance falls.",
    "visiting_frequency_weeks": 4,
    "child_involved": True,
    "childs_views": "Sam wants his mum at assembly.",
    "signed_by_child": True,
    "signed_by_parents": True,
    "next_review_date": "2027-01-04",
}


def visit(day: str, next_day: str | None = None, change: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "visit_date": day,
        "visit_type": "cin_visit",
        "child_seen": True,
        "child_seen_alone": True,
        "childs_views": "Happy at school.",
        "observations": "Home warm and tidy.",
        "concerns_raised": False,
        "significant_change": change,
    }
    if change:
        answer["significant_change_details"] = "Mother's new partner has moved in."
    if next_day:
        answer["next_visit_date"] = next_day
    return answer


def sent(document: str, day: str) -> dict[str, Any]:
    return {"document": document, "sent_date": day, "recipients": ["child", "parents", "agencies"]}


SUPERVISION = {
    "supervision_date": "2027-01-06",
    "supervisor_name": "Ruth Okafor",
    "visiting_frequency_weeks": 4,
    "frequency_changed": False,
    "rationale": "Four-weekly visits are still right.",
}


def review_outcome(outcome: str, day: str) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "review_date": day,
        "outcome": outcome,
        "reasons": "Attendance is up to 96%.",
        "child_seen_alone_before_review": True,
    }
    if outcome in ("continue", "continue_amended_plan"):
        answer["next_review_date"] = "2027-03-01"
    if outcome == "continue_amended_plan":
        answer["plan_changes"] = "New housing action."
    return answer


def closure(after_review: bool, step_down: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "closure_date": "2026-11-23",
        "reason_code": "RC7",
        "closed_after_review_meeting": after_review,
        "step_down_to_early_help": step_down,
        "closing_summary": "Needs met.",
        "childs_views": "Things are better.",
        "parents_views": "Agrees with closure.",
        "professionals_views": "School agrees.",
    }
    if not after_review:
        answer["closure_without_review_reason"] = "Financial assistance only."
    return answer


def step_down(consented: bool, taf: str = "2026-12-03") -> dict[str, Any]:
    return {
        "consent_to_step_down": consented,
        "lead_professional_name": "Anita Patel",
        "lead_professional_agency": "Hillside Primary School",
        "lead_professional_agency_type": "education",
        "first_taf_meeting_date": taf,
        "caf_needed": False,
    }


STRATEGY = {
    "discussion_date": "2026-11-23",
    "reason": "Bruising seen at school.",
    "outcome_s47": True,
    "s47_type": "joint_with_police",
    "decisions": "Joint section 47 enquiry.",
}


def journeys() -> dict[str, dict[str, Any]]:
    j: dict[str, dict[str, Any]] = {}

    def add(name: str, title: str, process: str, steps: list[dict[str, Any]], **extra: Any):
        j[name] = {
            "name": title,
            "process": process,
            "child": CHILD,
            "start": START,
            **extra,
            "steps": steps,
        }

    add(
        "consent_given",
        "Consent: given at the first ask",
        "common_consent",
        [
            {
                "expect": {
                    "tasks": ["seek_consent"],
                    "lane": {"seek_consent": "Social worker"},
                    "rule": {"seek_consent": "D1"},
                    "timers": [],
                }
            },
            {"complete": "seek_consent", "data": {"consent_given": True}, "refused": "invalid"},
            {"complete": "seek_consent", "data": consent(True)},
            {"expect": {"finished": True, "status": "completed"}},
        ],
    )
    add(
        "consent_refused_harm",
        "Consent: refused, harm suspected, manager agrees to a strategy discussion without consent",
        "common_consent",
        [
            {"complete": "seek_consent", "data": consent(False, harm=True)},
            {"expect": {"tasks": ["decide_refusal"], "lane": {"decide_refusal": "Team manager"}}},
            {"complete": "decide_refusal", "data": decision(True)},
            {"expect": {"finished": True, "status": "completed"}},
        ],
    )
    add(
        "consent_refused_try_again",
        "Consent: refused, manager returns it, consent given the second time",
        "common_consent",
        [
            {"complete": "seek_consent", "data": consent(False)},
            {"complete": "decide_refusal", "data": decision(False)},
            {"expect": {"tasks": ["seek_consent"], "finished": False}},
            {"complete": "seek_consent", "data": consent(True)},
            {"expect": {"finished": True}},
        ],
    )
    add(
        "meeting_chair",
        "Meeting: chaired by a senior practitioner, reminded on the day, recorded",
        "common_meeting",
        [
            {
                "expect": {
                    "tasks": ["arrange_meeting"],
                    "lane": {"arrange_meeting": "Social worker"},
                }
            },
            {
                "complete": "arrange_meeting",
                "data": arrangement("2026-12-03", "senior_practitioner"),
            },
            {
                "expect": {
                    "tasks": ["record_by_chair"],
                    "lane": {"record_by_chair": "Chair"},
                    "timers": ["meeting_day", "meeting_not_recorded"],
                    "due": {"meeting_day": "2026-12-02", "meeting_not_recorded": "2026-12-04"},
                }
            },
            {"advance_to": "2026-12-03T09:00:00Z"},
            {"expect": {"fired": ["meeting_day"], "timers": ["meeting_not_recorded"]}},
            {"complete": "record_by_chair", "data": record("2026-12-03")},
            {"expect": {"finished": True, "status": "completed"}},
        ],
    )
    add(
        "meeting_roles",
        "Meeting: the chair's role decides the worklist (manager, IRO)",
        "common_meeting",
        [
            {"complete": "arrange_meeting", "data": arrangement("2026-12-03", "team_manager")},
            {
                "expect": {
                    "tasks": ["record_by_manager"],
                    "lane": {"record_by_manager": "Team manager"},
                }
            },
            {"message": "meeting_cancelled"},
            {
                "complete": "rearrange_meeting",
                "data": arrangement(
                    "2026-12-03", "conference_chair_iro", cancelled_new_date="2026-12-08"
                ),
            },
            {
                "expect": {
                    "tasks": ["record_by_iro"],
                    "lane": {"record_by_iro": "Conference chair / IRO"},
                    "due": {"meeting_not_recorded": "2026-12-09"},
                }
            },
            {"complete": "record_by_iro", "data": record("2026-12-08", "conference_chair_iro")},
            {"expect": {"finished": True}},
        ],
    )
    add(
        "meeting_cancelled_escalates",
        "Meeting: cancelled, rearranged, not recorded in time, the team manager checks",
        "common_meeting",
        [
            {"complete": "arrange_meeting", "data": arrangement("2026-12-03", "social_worker")},
            {
                "expect": {
                    "tasks": ["record_by_social_worker"],
                    "lane": {"record_by_social_worker": "Social worker"},
                }
            },
            {"advance_to": "2026-12-02T09:00:00Z"},
            {"message": "meeting_cancelled"},
            {
                "expect": {
                    "tasks": ["rearrange_meeting"],
                    "timers": [],
                    "rule": {"rearrange_meeting": "T7"},
                }
            },
            {
                "complete": "rearrange_meeting",
                "data": arrangement("2026-12-03", "social_worker", cancelled_new_date="2026-12-10"),
            },
            {
                "expect": {
                    "tasks": ["record_by_social_worker"],
                    "due": {"meeting_day": "2026-12-09", "meeting_not_recorded": "2026-12-11"},
                }
            },
            {"advance_to": "2026-12-12T09:00:00Z"},
            {
                "expect": {
                    "tasks": ["check_meeting", "record_by_social_worker"],
                    "lane": {"check_meeting": "Team manager"},
                    "fired": ["meeting_day", "meeting_not_recorded"],
                }
            },
            {"complete": "check_meeting", "data": decision(True)},
            {"complete": "record_by_social_worker", "data": record("2026-12-10", "social_worker")},
            {"expect": {"finished": True, "status": "completed"}},
        ],
    )
    add(
        "planning_meeting",
        "Planning meeting: arranged, held by the chair, plan recorded",
        "common_planning_meeting",
        [
            {"expect": {"tasks": ["arrange_meeting"]}},
            {"complete": "arrange_meeting", "data": arrangement("2026-12-03")},
            {"expect": {"tasks": ["record_by_chair"], "lane": {"record_by_chair": "Chair"}}},
            {"complete": "record_by_chair", "data": record("2026-12-03")},
            {"expect": {"tasks": ["record_plan"], "lane": {"record_plan": "Social worker"}}},
            {"complete": "record_plan", "data": PLAN},
            {"expect": {"finished": True, "status": "completed"}},
        ],
    )
    add(
        "plan_distribution",
        "Plan distribution: the plan is sent",
        "common_plan_distribution",
        [
            {"expect": {"tasks": ["send_plan"], "lane": {"send_plan": "Social worker"}}},
            {"complete": "send_plan", "data": sent("cin_plan", "2026-11-24")},
            {"expect": {"finished": True}},
        ],
    )
    add(
        "visit_cycle",
        "Visits: unbooked visit, booked visit overdue escalates to supervision, "
        "significant change ends the round",
        "common_visit_cycle",
        [
            {"expect": {"tasks": ["visit"], "timers": [], "lane": {"visit": "Social worker"}}},
            {"complete": "visit", "data": visit("2026-11-23", "2026-12-21")},
            {
                "expect": {
                    "tasks": ["booked_visit"],
                    "due": {"booked_visit": "2026-12-22", "booked_visit_reminder": "2026-12-20"},
                }
            },
            {"advance_to": "2026-12-23T09:00:00Z"},
            {
                "expect": {
                    "tasks": ["booked_visit", "visit_overdue"],
                    "lane": {"visit_overdue": "Team manager"},
                    "fired": ["booked_visit_reminder", "booked_visit_deadline"],
                }
            },
            {"complete": "visit_overdue", "data": SUPERVISION},
            {"complete": "booked_visit", "data": visit("2026-12-23")},
            {"expect": {"tasks": ["visit"], "timers": []}},
            {"complete": "visit", "data": visit("2027-01-12", change=True)},
            {"expect": {"finished": True, "status": "completed"}},
        ],
    )
    # 26 four-weekly visits, each booked at the one before, then a significant change
    steps: list[dict[str, Any]] = [{"complete": "visit", "data": visit("2026-11-23", "2026-12-21")}]
    day = date(2026, 12, 21)
    for n in range(2, 27):
        nxt = day + timedelta(weeks=4)
        steps.append({"advance_to": f"{day.isoformat()}T10:00:00Z"})
        steps.append(
            {
                "expect": {
                    "tasks": ["booked_visit"],
                    "due": {"booked_visit": _next_working(day).isoformat()},
                }
            }
        )
        steps.append(
            {
                "complete": "booked_visit",
                "data": visit(
                    day.isoformat(), None if n == 26 else nxt.isoformat(), change=n == 26
                ),
            }
        )
        day = nxt
    steps.append(
        {"expect": {"finished": True, "status": "completed", "fired": ["booked_visit_reminder"]}}
    )
    add(
        "visit_cycle_26_visits",
        "Visits: 26 four-weekly visits over two years",
        "common_visit_cycle",
        steps,
    )
    add(
        "review_continue",
        "Review: meeting held, plan continues",
        "common_review",
        [
            {"complete": "arrange_meeting", "data": arrangement("2026-12-03", kind="review")},
            {"complete": "record_by_chair", "data": record("2026-12-03", kind="review")},
            {"expect": {"tasks": ["record_review_outcome"]}},
            {
                "complete": "record_review_outcome",
                "data": {"outcome": "continue"},
                "refused": "invalid",
            },
            {"complete": "record_review_outcome", "data": review_outcome("continue", "2026-12-03")},
            {"expect": {"finished": True}},
        ],
    )
    add(
        "review_step_up",
        "Review: late meeting escalates, outcome is a strategy discussion",
        "common_review",
        [
            {"complete": "arrange_meeting", "data": arrangement("2026-12-03", kind="review")},
            {"advance_to": "2026-12-05T09:00:00Z"},
            {"expect": {"tasks": ["check_meeting", "record_by_chair"]}},
            {"complete": "check_meeting", "data": decision(True)},
            {"complete": "record_by_chair", "data": record("2026-12-03", kind="review")},
            {
                "complete": "record_review_outcome",
                "data": review_outcome("strategy_discussion", "2026-12-03"),
            },
            {"expect": {"finished": True}},
        ],
    )
    add(
        "closure_after_review",
        "Closure: after a review, notice sent",
        "common_closure",
        [
            {
                "expect": {
                    "tasks": ["write_closing_summary"],
                    "rule": {"write_closing_summary": "P11/T9"},
                }
            },
            {"complete": "write_closing_summary", "data": closure(True)},
            {"expect": {"tasks": ["send_closure_notice"]}},
            {"complete": "send_closure_notice", "data": sent("closure_notice", "2026-11-24")},
            {"expect": {"finished": True}},
        ],
    )
    add(
        "closure_without_review",
        "Closure: no review meeting, the manager returns it once",
        "common_closure",
        [
            {"complete": "write_closing_summary", "data": closure(False)},
            {
                "expect": {
                    "tasks": ["approve_closure_without_review"],
                    "lane": {"approve_closure_without_review": "Team manager"},
                }
            },
            {"complete": "approve_closure_without_review", "data": decision(False)},
            {"complete": "write_closing_summary", "data": closure(False)},
            {"complete": "approve_closure_without_review", "data": decision(True)},
            {"complete": "send_closure_notice", "data": sent("closure_notice", "2026-11-24")},
            {"expect": {"finished": True}},
        ],
    )
    add(
        "step_down",
        "Step down: hand-over, first TAF meeting late, manager checks",
        "common_step_down_early_help",
        [
            {"complete": "hand_over", "data": step_down(True)},
            {
                "expect": {
                    "tasks": ["first_taf_meeting"],
                    "due": {"first_taf_meeting": "2026-12-04"},
                }
            },
            {"advance_to": "2026-12-05T09:00:00Z"},
            {
                "expect": {
                    "tasks": ["check_taf_meeting", "first_taf_meeting"],
                    "lane": {"check_taf_meeting": "Team manager"},
                    "fired": ["first_taf_meeting_reminder", "first_taf_meeting_deadline"],
                }
            },
            {"complete": "check_taf_meeting", "data": decision(True)},
            {
                "complete": "first_taf_meeting",
                "data": record("2026-12-07", "social_worker", kind="team_around_family"),
            },
            {"expect": {"finished": True}},
        ],
    )
    add(
        "step_down_no_consent",
        "Step down: the family does not consent",
        "common_step_down_early_help",
        [
            {"complete": "hand_over", "data": step_down(False)},
            {"expect": {"finished": True, "tasks": []}},
        ],
    )
    add(
        "step_up",
        "Step up: strategy discussion, section 47 follows",
        "common_step_up",
        [
            {"complete": "hold_strategy_discussion", "data": STRATEGY},
            {"complete": "share_strategy_minutes", "data": sent("strategy_minutes", "2026-11-23")},
            {"expect": {"finished": True}},
        ],
    )
    harness = {
        "deploy": ["processes/common", "processes/authoring/harness"],
        "council": "portsmouth",
    }
    add(
        "harness_plan",
        "Harness (Portsmouth timescales on the calls): consent late, plan, "
        "visits, early review, plan ceases",
        "harness_portsmouth",
        [
            {
                "expect": {
                    "tasks": ["seek_consent"],
                    "timers": ["consent_deadline", "consent_reminder"],
                    "due": {"consent_deadline": "2026-12-14", "consent_reminder": "2026-12-09"},
                }
            },
            {"advance_to": "2026-12-15T09:00:00Z"},
            {
                "expect": {
                    "tasks": ["chase_consent", "seek_consent"],
                    "lane": {"chase_consent": "Team manager"},
                    "fired": ["consent_reminder", "consent_deadline"],
                }
            },
            {"complete": "chase_consent", "data": decision(True)},
            {"complete": "seek_consent", "data": consent(True)},
            {
                "expect": {
                    "tasks": ["arrange_meeting"],
                    "timers": ["planning_deadline", "planning_reminder"],
                }
            },
            {"complete": "arrange_meeting", "data": arrangement("2026-12-17")},
            {"complete": "record_by_chair", "data": record("2026-12-17")},
            {"complete": "record_plan", "data": PLAN},
            {"expect": {"tasks": ["send_plan"], "due": {"distribute_deadline": "2026-12-24"}}},
            {"complete": "send_plan", "data": sent("cin_plan", "2026-12-18")},
            {"complete": "visit", "data": visit("2026-12-18", "2027-01-14")},
            {"advance_to": "2027-01-14T10:00:00Z"},
            {"complete": "booked_visit", "data": visit("2027-01-14", change=True)},
            {"expect": {"tasks": ["arrange_meeting"]}},
            {"complete": "arrange_meeting", "data": arrangement("2027-01-20", kind="review")},
            {"complete": "record_by_chair", "data": record("2027-01-20", kind="review")},
            {"complete": "record_review_outcome", "data": review_outcome("continue", "2027-01-20")},
            {"expect": {"tasks": ["visit"]}},
            {"message": "plan_ceased"},
            {"expect": {"finished": True, "status": "completed", "tasks": []}},
        ],
        **harness,
    )
    add(
        "harness_close",
        "Harness (Portsmouth): review closes, closure notice late, no consent to step down",
        "harness_portsmouth",
        [
            {"complete": "seek_consent", "data": consent(True)},
            {"complete": "arrange_meeting", "data": arrangement("2026-11-26")},
            {"complete": "record_by_chair", "data": record("2026-11-26")},
            {"complete": "record_plan", "data": PLAN},
            {"complete": "send_plan", "data": sent("cin_plan", "2026-11-27")},
            {"complete": "visit", "data": visit("2026-11-27", change=True)},
            {"complete": "arrange_meeting", "data": arrangement("2026-11-30", kind="review")},
            {"complete": "record_by_chair", "data": record("2026-11-30", kind="review")},
            {
                "complete": "record_review_outcome",
                "data": review_outcome("close_step_down", "2026-11-30"),
            },
            {"complete": "write_closing_summary", "data": closure(True, step_down=True)},
            {
                "expect": {
                    "tasks": ["send_closure_notice"],
                    "timers": ["closure_deadline", "closure_reminder"],
                    "due": {"closure_deadline": "2026-12-07"},
                }
            },
            {"advance": "11 working days"},
            {
                "expect": {
                    "tasks": ["chase_closure", "send_closure_notice"],
                    "lane": {"chase_closure": "Team manager"},
                    "fired": ["closure_reminder", "closure_deadline"],
                }
            },
            {"complete": "chase_closure", "data": decision(True)},
            {"complete": "send_closure_notice", "data": sent("closure_notice", "2026-12-09")},
            {"expect": {"tasks": ["hand_over"]}},
            {"complete": "hand_over", "data": step_down(False)},
            {"expect": {"finished": True, "status": "completed"}},
        ],
        **harness,
    )
    add(
        "harness_step_up",
        "Harness (Portsmouth): refusal with harm suspected goes to a strategy discussion",
        "harness_portsmouth",
        [
            {"complete": "seek_consent", "data": consent(False, harm=True)},
            {"complete": "decide_refusal", "data": decision(True)},
            {"expect": {"tasks": ["hold_strategy_discussion"]}},
            {"complete": "hold_strategy_discussion", "data": STRATEGY},
            {"complete": "share_strategy_minutes", "data": sent("strategy_minutes", "2026-11-24")},
            {"expect": {"finished": True, "status": "completed"}},
        ],
        **harness,
    )
    return j


def _next_working(day: date) -> date:
    """The working day after `day` (the scenarios avoid bank holidays except where noted)."""
    from engine.calendar import WorkingCalendar

    return WorkingCalendar().add_working_days(day, 1)


def main() -> None:
    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    OUT.mkdir(parents=True, exist_ok=True)
    for name, spec in journeys().items():
        for step in spec["steps"]:
            if "complete" in step:
                step["exact"] = True
        text = "# Generated by processes/authoring/common_scenarios.py\n" + yaml.safe_dump(
            spec, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
        )
        (OUT / f"{name}.yaml").write_text(text, encoding="utf-8")
    print(f"wrote {len(journeys())} journeys to {OUT}")


if __name__ == "__main__":
    main()
