"""Names every pack shares: the lanes (roles) and the messages other systems send to cases.

Message names are an interface (`cinflow` send_message, a case-management feed), so each idea
has one name in every council's diagrams.
"""

from __future__ import annotations

SW, TM, CHAIR = "Social worker", "Team manager", "Chair"
IRO, BS = "Conference chair / IRO", "Business support"

#: events that end a plan at any time (general law; Rochdale's R16 lists them): message -> label
CEASING_EVENTS = {
    "child_turned_18": "18th birthday",
    "child_died": "Child died",
    "moved_abroad": "Moved outside England and Wales",
    "became_looked_after": "Became looked after",
    "cp_plan_made": "Child protection plan made",
}
#: of those, the ones after which the child's record closes (the others pass to another plan)
CLOSING = ("child_turned_18", "child_died", "moved_abroad")

SIGNIFICANT_CHANGE = "significant_change"
MOVING_OUT = "family_moving_out"
MEETING_CANCELLED = "meeting_cancelled"
STEP_UP = "step_up_requested"
