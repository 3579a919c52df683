"""Pathway parts that several councils draw the same way, each with its own docs and rule ids.

A council script adds its nodes first and its flows after them, and both orders are the
diagram's: the layout places nodes in the order they were added and the file lists flows in
theirs. So a part with flows of its own comes as a pair: `part(p, ...)` adds the nodes where the
council's nodes go, `wire_part(p, ...)` the flows where its flows go. The ids are fixed
(scenarios and coverage files name them); a docstring names the ids the council adds itself.

    from processes.authoring import pathway_parts as parts

    parts.close_or_step_down(p, close_doc="... D1 · Dudley Consent", step_down_doc="...")
    ...  # the council's other nodes, then its flows
    parts.wire_close_or_step_down(p)
"""

from __future__ import annotations

from processes.authoring.bpmn_builder import Process, SubProcessBuilder
from processes.authoring.vocabulary import (
    CEASING_EVENTS,
    CLOSING,
    MOVING_OUT,
    SIGNIFICANT_CHANGE,
    SW,
    TM,
)

#: where a part is drawn: a process, or the embedded subprocess of the plan in force
Builder = Process | SubProcessBuilder

#: common_consent's answers
CONSENT_GIVEN = "consent.consent_given == True"
HARM_SUSPECTED = 'consent.get("significant_harm_suspected") == True'
#: common_step_up's answer
S47_FOLLOWS = "strategy_discussion.outcome_s47 == True"

#: the ceasing events after which the case closes, and those after which another plan takes over
CLOSING_EVENTS = {m: CEASING_EVENTS[m] for m in CLOSING}
CONTINUING_EVENTS = {m: label for m, label in CEASING_EVENTS.items() if m not in CLOSING}


# -- entry routes: consent, the assessment's decision, closing at the door -----------------------
# route_consent .. close_or_step_down: Dudley and Teeswide (consent before the assessment, one
# gateway for its answer); consent_to_plan: Portsmouth and Waltham Forest (consent to the plan
# after the assessment, harm tested on a refusal).


def route_consent(
    p: Builder, gateway: str, *, given: str, refused: str, refusal: str = "Refused"
) -> None:
    """Follow common_consent's answer from `gateway`: given, refused with significant harm
    suspected (to the council's `strategy` call: the enquiry goes ahead without consent), or
    refused. `refusal` is the council's word for it ("Refused", "Withheld")."""
    p.flow(gateway, given, "Given", condition=CONSENT_GIVEN)
    p.flow(gateway, "strategy", f"{refusal}, significant harm", condition=HARM_SUSPECTED)
    p.flow(gateway, refused, refusal)


def route_assessment_decision(p: Builder, gateway: str, *, plan: str, plan_label: str) -> None:
    """Follow the assessment's decision from `gateway`: a CIN plan to `plan` (labelled
    `plan_label`), a strategy discussion to the council's `strategy` call, anything else (no
    further action, early help) to `close_case`."""
    p.flow(gateway, plan, plan_label, condition='assessment_outcome.decision == "cin_plan"')
    p.flow(
        gateway,
        "strategy",
        "Strategy discussion",
        condition='assessment_outcome.decision == "strategy_discussion"',
    )
    p.flow(gateway, "close_case", "Close")


def referral_strategy(p: Builder, *, doc: str) -> None:
    """A strategy discussion before the plan, in the Team manager's lane: a section 47 enquiry
    ends the route; otherwise the social worker decides the next step at `assess`."""
    p.call("strategy", "Strategy discussion", "common_step_up", TM, doc=doc)
    p.xor("s47_gw", "Section 47 enquiry?", TM, default="assess")
    p.end("s47", "Section 47 enquiry", TM)


def wire_referral_strategy(p: Builder) -> None:
    """The flows of `referral_strategy`."""
    p.chain("strategy", "s47_gw")
    p.flow("s47_gw", "s47", "Yes", condition=S47_FOLLOWS)
    p.flow("s47_gw", "assess", "No")


def close_or_step_down(p: Builder, *, close_doc: str, step_down_doc: str) -> None:
    """Close the case (common_closure), stepping down to early help first when the closure
    says so: one shared ending for every "no CIN plan" branch of an entry route."""
    p.call("close_case", "Close the case", "common_closure", SW, doc=close_doc)
    p.xor("early_help_gw", "Step down?", SW, default="closed")
    p.call(
        "step_down", "Step down to early help", "common_step_down_early_help", SW, doc=step_down_doc
    )
    p.end("closed", "Case closed", SW)


def wire_close_or_step_down(p: Builder) -> None:
    """The flows of `close_or_step_down`."""
    p.chain("close_case", "early_help_gw")
    p.flow("early_help_gw", "step_down", "Yes", condition="closure.step_down_to_early_help == True")
    p.flow("early_help_gw", "closed", "No")
    p.flow("step_down", "closed")


def consent_to_plan(p: Builder, *, consent_doc: str, strategy_doc: str) -> None:
    """Consent to the plan once the assessment says CIN; a refusal is tested for significant
    harm (a strategy discussion without consent) before the case closes. The council adds its
    refusal step `close_refused` and then the end `closed_refused` next."""
    p.call(
        "consent", "Seek consent to the Child in Need plan", "common_consent", SW, doc=consent_doc
    )
    p.xor("consent_gw", "Consent given?", SW, default="harm_gw")
    p.xor("harm_gw", "Significant harm suspected?", SW, default="close_refused")
    p.call(
        "strategy_without_consent",
        "Strategy discussion without consent",
        "common_step_up",
        SW,
        doc=strategy_doc,
    )
    p.xor("s47_gw", "Section 47 enquiry?", SW, default="close_refused")
    p.end("stepped_up", "Section 47 enquiry", SW)


def wire_consent_to_plan(p: Builder, *, after: str, given: str) -> None:
    """The flows of `consent_to_plan`, from `after` to `given` (the first step of the plan) or
    to the council's `close_refused`; no section 47 enquiry means the refusal stands."""
    p.chain(after, "consent", "consent_gw")
    p.flow("consent_gw", given, "Yes", condition=CONSENT_GIVEN)
    p.flow("consent_gw", "harm_gw", "No")
    p.flow(
        "harm_gw",
        "strategy_without_consent",
        "Yes",
        condition="consent.significant_harm_suspected == True",
    )
    p.flow("harm_gw", "close_refused", "No")
    p.chain("strategy_without_consent", "s47_gw")
    p.flow("s47_gw", "stepped_up", "Yes", condition=S47_FOLLOWS)
    p.flow("s47_gw", "close_refused", "No")


# -- the plan in force ---------------------------------------------------------------------------
# plan_in_force: every council. bring_review_forward: Dudley and Teeswide (a review process of
# their own, brought forward); the others: Portsmouth and Waltham Forest (the reviews are calls
# in the plan box that meet again at `early_review_merge` and `next_review_merge`).


def plan_in_force(p: Process, id: str, name: str) -> SubProcessBuilder:
    """The plan in force as one box, so that a ceasing event or a move interrupts all of it;
    its parts (visits, reviews, ...) start together from `plan_fork`."""
    plan = p.subprocess(id, name)
    plan.start("plan_starts", "Plan starts", SW)
    plan.parallel("plan_fork", "", SW)
    return plan


def bring_review_forward(p: Builder, host: str, *, label: str, rule: str, doc: str) -> None:
    """A significant change while the review `host` waits brings it forward: a non-interrupting
    message and the task to rearrange it. The council chains `early_review`,
    `bring_review_forward` and `review_brought_forward` with its flows."""
    p.boundary_message(
        "early_review",
        label,
        host,
        SIGNIFICANT_CHANGE,
        interrupting=False,
        variable="significant_change_event",
    )
    p.user_task(
        "bring_review_forward",
        "Bring the review forward",
        SW,
        form="meeting_arrangement.json",
        rule=rule,
        doc=doc,
    )
    p.end("review_brought_forward", "Early review arranged", SW)


def early_review_on_change(plan: Builder, hosts: tuple[str, ...]) -> None:
    """A significant change interrupts the review each of `hosts` waits for and leads to the
    council's `early_review_merge` instead (the early review, and the reviews after it)."""
    for host in hosts:
        plan.boundary_message(
            f"{host}_significant_change",
            "Significant change",
            host,
            "significant_change",
            variable="significant_change",
        )
        plan.flow(f"{host}_significant_change", "early_review_merge")


def route_review_outcome(
    plan: Builder,
    *,
    amended: str,
    close: str,
    step_up: str,
    updated_assessment: str | None = None,
) -> None:
    """Follow the review outcome from `outcome_gw`: each outcome common_review records to the
    council's step for it; an unchanged plan goes on to `next_review_merge`."""
    plan.flow(
        "outcome_gw",
        amended,
        "Continue, amended",
        condition='review_outcome.outcome == "continue_amended_plan"',
    )
    if updated_assessment:
        plan.flow(
            "outcome_gw",
            updated_assessment,
            "Updated assessment",
            condition='review_outcome.outcome == "updated_assessment"',
        )
    plan.flow(
        "outcome_gw",
        close,
        "Close",
        condition='review_outcome.outcome in ("close_step_down", "close")',
    )
    plan.flow(
        "outcome_gw",
        step_up,
        "Strategy discussion",
        condition='review_outcome.outcome == "strategy_discussion"',
    )
    plan.flow("outcome_gw", "next_review_merge", "Continue", id="continue_unchanged")


def step_up_or_plan_ends(plan: Builder, *, step_up_doc: str, stop_visits: str) -> None:
    """A strategy discussion from a review; a section 47 enquiry ends the plan, otherwise it
    goes on to `next_review_merge`. Every ending meets at `plan_ends`, which stops the visits
    (message plan_ending, `stop_visits` names it) before the plan ends."""
    plan.call("step_up", "Strategy discussion", "common_step_up", SW, doc=step_up_doc)
    plan.xor("s47_gw", "Section 47 enquiry?", SW, default="next_review_merge")
    plan.xor("plan_ends", "", SW)
    plan.message_throw("end_visits", stop_visits, SW, "plan_ending")
    plan.end("plan_closed", "Plan ended", SW)


def wire_step_up_or_plan_ends(plan: Builder) -> None:
    """The flows of `step_up_or_plan_ends`."""
    plan.chain("step_up", "s47_gw")
    plan.flow("s47_gw", "plan_ends", "Yes: child protection", condition=S47_FOLLOWS)
    plan.flow("s47_gw", "next_review_merge", "No: plan continues", id="no_s47")
    plan.chain("plan_ends", "end_visits", "plan_closed")


# -- the plan ends from outside: ceasing events, a move ---------------------------------------
# close_on_ceasing_events: Dudley and Teeswide (every event closes the case, message
# family_moving_out); the rest: Portsmouth and Waltham Forest (CP or LAC plans take over, message
# family_moved).


def close_on_ceasing_events(p: Builder, *, close: str, plan: str = "plan") -> None:
    """Every ceasing event (18th birthday, death, ...) interrupts `plan` and goes to the
    council's closing step `close`, which leads to "Plan ceased"; the family moving away
    interrupts it at `moving_out`, for the council's transfer steps."""
    p.end("plan_ceased", "Plan ceased", SW)
    for message, label in CEASING_EVENTS.items():
        p.boundary_message(f"ceased_{message}", label, plan, message, variable="ceasing_event")
        p.flow(f"ceased_{message}", close)
    p.boundary_message(
        "moving_out", "Family moving away", plan, MOVING_OUT, variable="moving_out_event"
    )


def plan_ceasing_events(p: Builder, plan: str, *, moved: str, moved_variable: str) -> None:
    """The events that end `plan` at any time, as interrupting messages: the closing ones meet
    at `closing_events` (then the council's `close_after_ceasing` and `closed_after_ceasing`),
    the family's move (`moved`) leaves at `ceased_family_moved`, and the ones after which
    another plan takes over go to `plan_replaced_by_cp_or_lac`."""
    for message, label in CLOSING_EVENTS.items():
        p.boundary_message(f"ceased_{message}", label, plan, message, variable="ceased")
    p.boundary_message("ceased_family_moved", moved, plan, "family_moved", variable=moved_variable)
    for message, label in CONTINUING_EVENTS.items():
        p.boundary_message(f"ceased_{message}", label, plan, message, variable="ceased")
    p.xor("closing_events", "", SW)


def plan_replaced_by_cp_or_lac(p: Builder, *, rule: str, doc: str) -> None:
    """Becoming looked after or a child protection plan ends the CIN plan, not the case: the
    social worker records it; `doc` says what the council wants recorded."""
    p.xor("continuing_events", "", SW)
    p.user_task(
        "record_plan_ended",
        "Record that the Child in Need plan has ended",
        SW,
        form="closure.json",
        rule=rule,
        doc="The child has become looked after or is now subject to a child protection plan, "
        "so the Child in Need plan ends and the case continues under those procedures. " + doc,
    )
    p.end("plan_replaced", "Plan replaced by CP or LAC plan", SW)


def wire_plan_ceasing_events(p: Builder, *, moved_to: tuple[str, ...]) -> None:
    """The flows of `plan_ceasing_events` and `plan_replaced_by_cp_or_lac`; the family's move
    runs through the council's steps `moved_to`."""
    for message in CLOSING_EVENTS:
        p.flow(f"ceased_{message}", "closing_events")
    p.chain("closing_events", "close_after_ceasing", "closed_after_ceasing")
    p.chain("ceased_family_moved", *moved_to)
    for message in CONTINUING_EVENTS:
        p.flow(f"ceased_{message}", "continuing_events")
    p.chain("continuing_events", "record_plan_ended", "plan_replaced")
