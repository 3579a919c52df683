"""Notification banners after a redirect, without personal data in the cookie.

Flask keeps flashed messages in the session cookie, which is signed but not encrypted: anyone
holding it can read them. So views flash a message key and ids only (`say("claimed",
task=task.id)`), and the words, with the child's and the task's names, are made here on the
server when the next page is drawn (`banners()` in base.html). A task that has gone meanwhile
falls back to neutral wording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, get_flashed_messages

from engine.errors import CinflowError

from .engine_access import get_engine

Banner = dict[str, Any]


def say(key: str, **refs: str | int | None) -> None:
    """Flash the message `key` with the ids it needs (task ids, usernames); never names."""
    if key not in _MESSAGES:
        raise KeyError(f"no banner message {key!r}")
    flash({"key": key, **refs})


def banners() -> list[Banner]:
    """The flashed messages in words: {"kind", "heading", "text"?, "link"?} each."""
    out = []
    for message in get_flashed_messages():
        make = _MESSAGES.get(message.get("key")) if isinstance(message, dict) else None
        if make is not None:
            out.append(make(_Refs(message)))
    return out


class _Refs:
    """The ids a message carries, looked up (within the signed-in person's teams) on demand."""

    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message

    def task(self) -> str:
        """'Record consent for Ada Example', or 'the task' when it is no longer open."""
        from .access import my_teams

        task_id = self.message.get("task")
        try:
            task = get_engine().task(str(task_id), teams=my_teams())
        except CinflowError:
            return "the task"
        return f"{task.name} for {task.child_name}" if task.child_name else task.name

    def person(self, key: str = "who") -> str:
        from .cases import display_name

        return display_name(self.message.get(key)) or "someone else"

    def task_id(self) -> str:
        return str(self.message.get("task", ""))


def _not_your_lane(r: _Refs) -> Banner:
    """The engine refused: the person's role may not act in the task's lane."""
    from engine.people import ROLE_NAMES

    from .access import my_teams

    lane, who = "its", "someone in another role"
    try:
        task = get_engine().task(r.task_id(), teams=my_teams())
        roles = get_engine().profile(task.council).lanes.get(task.lane or "", frozenset())
        lane = f"the {task.lane}"
        who = " or ".join(sorted(ROLE_NAMES.get(x, x) for x in roles)) or who
    except CinflowError:
        pass
    return {
        "kind": "important",
        "heading": "You cannot claim this task",
        "text": f"It is in {lane} lane: only a {who} may act on it. A team manager can give "
        "it to someone in that role.",
    }


def _claimed(r: _Refs) -> Banner:
    return {
        "kind": "success",
        "heading": f"You have claimed {r.task()}",
        "link": {"href": f"/tasks/{r.task_id()}", "text": "Go to the task"},
    }


def _claimed_by_other(r: _Refs) -> Banner:
    who = r.person()
    return {
        "kind": "important",
        "heading": f"Already claimed by {who}",
        "text": f"{r.task()[:1].upper()}{r.task()[1:]} is with {who}. Ask them or your team "
        "manager if you need to work on it.",
    }


def _allocated(r: _Refs) -> Banner:
    moved = int(r.message.get("moved") or 0)
    text = f"{moved} open step{'s' if moved != 1 else ''} moved to them." if moved else ""
    return {"kind": "success", "heading": f"Case allocated to {r.person('to')}", "text": text}


NOT_ALLOCATED = {
    "not_in_team": "Choose a social worker who is in the case's team.",
    "closed": "The case is closed.",
}


_MESSAGES: dict[str, Callable[[_Refs], Banner]] = {
    # Casework (webui/caselist.py, frontdoor.py, tasks.py)
    "choose_social_worker": lambda r: {
        "kind": "important",
        "heading": "Choose a social worker to allocate the case to",
    },
    "not_allocated": lambda r: {
        "kind": "important",
        "heading": "The case was not allocated",
        "text": NOT_ALLOCATED.get(str(r.message.get("why")), ""),
    },
    "allocated": _allocated,
    "case_started": lambda r: {
        "kind": "success",
        "heading": "Case started",
        "text": "It is in your team's cases. A manager allocates it to a social worker.",
    },
    "next_step": lambda r: {
        "kind": "success",
        "heading": "Step completed",
        "text": f"Your next step on the same case: {r.task()}.",
    },
    "new_date_agreed": lambda r: {
        "kind": "success",
        "heading": "New date agreed",
        "text": "It is now the late step's deadline, and whoever holds the step has been told.",
    },
    "signed_out": lambda r: {"kind": "success", "heading": "You have signed out"},
    "already_completed": lambda r: {
        "kind": "important",
        "heading": "This task has already been completed",
    },
    "claimed": _claimed,
    "claimed_by_other": _claimed_by_other,
    "not_your_lane": _not_your_lane,
    "not_your_claim": lambda r: {
        "kind": "important",
        "heading": f"This task is claimed by {r.person()}, not you",
    },
    "unclaimed": lambda r: {
        "kind": "success",
        "heading": f"You have unclaimed {r.task()}",
        "text": "It is back with your team's unclaimed tasks.",
    },
    "choose_assignee": lambda r: {
        "kind": "important",
        "heading": "Choose who to give the task to",
        "text": f"Pick someone in the team for {r.task()}, then select Reassign.",
    },
    "reassigned": lambda r: {
        "kind": "success",
        "heading": f"{r.task()[:1].upper()}{r.task()[1:]} is now with {r.person()}",
    },
    "draft_saved": lambda r: {
        "kind": "success",
        "heading": "Draft saved",
        "text": "Only you can see it. Come back to it at any time before you complete the step.",
    },
    "marked_read": lambda r: {"kind": "important", "heading": "Marked as read."},
    "user_unlocked": lambda r: {"kind": "success", "heading": f"{r.person()} can sign in again"},
    "user_deactivated": lambda r: {
        "kind": "success",
        "heading": f"{r.person()} is deactivated",
        "text": "They have been signed out everywhere and cannot sign in.",
    },
    "user_activated": lambda r: {"kind": "success", "heading": f"{r.person()} can sign in again"},
    "drafts_approved": lambda r: {
        "kind": "success",
        "heading": f"Approved {r.message.get('count')} draft version(s)",
        "text": "Put them live when you are ready.",
    },
    "journey_saved": lambda r: {
        "kind": "success",
        "heading": "Journey saved with the draft",
        "text": "Running the journeys and approving this draft use it.",
    },
    "sent_for_approval": lambda r: {
        "kind": "success",
        "heading": "Sent for approval",
        "text": "Another practice manager approves it; approving runs every journey first.",
    },
    "versions_live": lambda r: {
        "kind": "success",
        "heading": f"{r.message.get('count')} version(s) are live",
        "text": "New cases start on them.",
    },
    "not_yourself": lambda r: {
        "kind": "important",
        "heading": "You cannot deactivate yourself",
        "text": "Ask another administrator.",
    },
}
