"""Shapes to paste into a council's own diagram, with the council's own timescale keys.

A common block (processes/common) cannot name a timescale key: it is deployed with every pack
and no key exists in all five councils. When a rule's time limit must sit on a task inside a
repeating shape (each visit due within the council's interval of the one before), draw the shape
in the council's diagram with one of these helpers instead of calling a block.

    from processes.authoring.snippets import visits
    visits(p, key="visit_interval", rule="R10", doc_rules="R10 · Rochdale 6", start="plan_agreed",
           until_change="early_review")
"""

from __future__ import annotations

from processes.authoring.bpmn_builder import Process

SW, TM = "Social worker", "Team manager"


def visits(
    p: Process,
    *,
    key: str,
    rule: str,
    doc_rules: str,
    start: str,
    until_change: str,
    prefix: str = "visit",
    lane: str = SW,
    manager_lane: str = TM,
) -> tuple[str, str]:
    """Visits, each due within the council's `key` (e.g. "visit_interval") of the one before.

    Adds `<prefix>_first` (due within `key` from when the shape starts) and `<prefix>_next`
    (due within `key` of `visit_record.visit_date`), each with a reminder/deadline pair whose
    deadline gives `manager_lane` a supervision task, and a gateway that leaves to
    `until_change` (a node you add) when the visit records a significant change. Connects
    `start` to the first visit. Returns (first visit id, next visit id).
    """
    doc = (
        "Visit the child: see them, alone if old enough, or record why not; hear their views; "
        "write the visit up. Say whether there has been a significant change. " + doc_rules
    )
    first, nxt = f"{prefix}_first", f"{prefix}_next"
    gw = f"{prefix}_change_gw"
    p.user_task(first, "Visit the child", lane, form="visit_record.json", rule=rule, doc=doc)
    p.xor(gw, "Significant change?", lane, default=nxt)
    p.user_task(nxt, "Visit the child again", lane, form="visit_record.json", rule=rule, doc=doc)
    for task, since in ((first, ""), (nxt, ", from_=visit_record.visit_date")):
        p.deadline_pair(
            task,
            reminder=f'reminder("{key}"{since})',
            deadline=f'deadline("{key}"{since})',
            reminder_name="Visit due soon",
            deadline_name="Visit overdue",
            escalation=f"{task}_overdue_check",
            escalation_name="Agree when the child will be seen",
            form="supervision_note.json",
            lane=manager_lane,
            rule=rule,
            doc="A visit is overdue. Agree in supervision when the child will be seen and "
            "whether the visiting frequency is right. " + doc_rules,
        )
    p.flow(start, first)
    p.flow(first, gw)
    p.flow(gw, until_change, "Yes", condition="visit_record.significant_change == True")
    p.flow(gw, nxt, "No")
    p.flow(nxt, gw)
    return first, nxt
