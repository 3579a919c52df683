"""Lanes are roles: who may act on a task is decided by its lane and the person's role.

The mapping lane -> roles is written once, in `processes/lanes.yaml`; a council replaces a
lane's roles in its own `timescales.yaml` (`lanes:`), read into its `CouncilProfile`. The engine
checks it whenever someone claims, saves a draft for, completes or is given a task, so a web
page, the CLI and a script are refused alike.

Actors that are not registered people (the CLI's default `cli`, a scenario run, the timer
worker) stand outside the role model: they act as the operator who runs them, with database
access anyway. Everyone the web app acts for is a registered person and is checked; a disabled
account may do nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine import yaml_files
from engine.errors import NotAllowed, NotInLane
from engine.people import ROLE_NAMES, ROLES
from engine.store.models import User

LANES_FILE = "lanes.yaml"
SHIPPED_PROCESSES = Path(__file__).resolve().parent.parent / "processes"

Lanes = Mapping[str, frozenset[str]]


class LanesError(ValueError):
    """A lanes mapping names a role that does not exist, or is not a mapping of lists."""


def parse_lanes(raw: Any, where: str) -> dict[str, frozenset[str]]:
    """`{lane: [role, ...]}` as read from YAML, checked against the known roles."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise LanesError(f"{where}: lanes must be a mapping of lane name to a list of roles")
    lanes: dict[str, frozenset[str]] = {}
    for lane, roles in raw.items():
        if not isinstance(lane, str) or not isinstance(roles, list):
            raise LanesError(f"{where}: lane {lane!r} needs a list of roles")
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise LanesError(
                f"{where}: lane {lane!r} names unknown role(s) {', '.join(map(str, unknown))}; "
                f"roles are {', '.join(ROLES)}"
            )
        lanes[lane] = frozenset(roles)
    return lanes


@lru_cache(maxsize=8)
def default_lanes(processes_dir: Path) -> Mapping[str, frozenset[str]]:
    """The installation's default mapping (`processes/lanes.yaml`; the shipped one when a
    processes folder has none)."""
    path = processes_dir / LANES_FILE
    if not path.is_file():
        path = SHIPPED_PROCESSES / LANES_FILE
    raw = yaml_files.read(path) or {}
    return parse_lanes(raw.get("lanes"), str(path))


def parse_inbox_lanes(raw: Any, lanes: Lanes, where: str) -> dict[str, str]:
    """`{role: lane}` as read from YAML: each role's own lane, checked against roles and lanes."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise LanesError(f"{where}: inbox must be a mapping of role to its own lane")
    own: dict[str, str] = {}
    for role, lane in raw.items():
        if role not in ROLES:
            raise LanesError(
                f"{where}: inbox names unknown role {role!r}; roles are {', '.join(ROLES)}"
            )
        if not isinstance(lane, str) or lane not in lanes:
            raise LanesError(f"{where}: inbox gives {role!r} the lane {lane!r}, not in lanes")
        own[str(role)] = lane
    return own


@lru_cache(maxsize=8)
def inbox_lanes(processes_dir: Path) -> Mapping[str, str]:
    """Each role's own lane (`inbox:` in `processes/lanes.yaml`): the lane whose team-wide
    notifications reach that role's people."""
    path = processes_dir / LANES_FILE
    if not path.is_file():
        path = SHIPPED_PROCESSES / LANES_FILE
    raw = yaml_files.read(path) or {}
    return parse_inbox_lanes(raw.get("inbox"), parse_lanes(raw.get("lanes"), str(path)), str(path))


def roles_for(lanes: Lanes, lane: str | None) -> frozenset[str]:
    """The roles that may act in `lane`; none for a lane nobody mapped."""
    return lanes.get(lane or "", frozenset())


def lanes_for_role(lanes: Lanes, role: str) -> list[str]:
    """Every lane a role may act in (a person's inbox shows their lanes' team messages)."""
    return sorted(lane for lane, roles in lanes.items() if role in roles)


def unmapped(lanes: Lanes, used: set[str]) -> list[str]:
    """Lanes diagrams use that no role may act in: refused at deploy."""
    return sorted(lane for lane in used if lane not in lanes or not lanes[lane])


def person_key(username: str) -> str:
    """How a person's name is looked up in `user_account` (trimmed, lower case)."""
    return username.strip().lower()


# Prebuilt (Core, not an ORM select): checked on every claim, draft and completion.
PERSON_BY_NAME = select(User.__table__.c.role, User.__table__.c.active).where(
    User.__table__.c.username == bindparam("username")
)


def person_role(s: Session, username: str) -> str | None:
    """A registered person's role (None: not a registered person); disabled: refused."""
    row = s.connection().execute(PERSON_BY_NAME, {"username": person_key(username)}).first()
    return active_role(row, username)


def active_role(row: Any, username: str) -> str | None:
    """The role in a `(role, active)` row read for `username` (None: no such person, so not
    a registered person); a disabled account is refused (NotAllowed)."""
    if row is None or row[0] is None:
        return None
    if not row[1]:
        raise NotAllowed(f'the account "{username}" is disabled; an administrator can enable it')
    return str(row[0])


def check_lane(
    s: Session,
    lanes: Lanes,
    username: str,
    lane: str | None,
    task_name: str,
    doing: str,
    training: bool = False,
) -> None:
    """Refuse (NotInLane, nothing changed) unless `username` may act in `lane`.

    `doing` says what was refused ("claim", "complete", "save a draft for", "be given").
    On a training case a trainer plays every role; on a live case a trainer has no lane.
    """
    check_role(person_role(s, username), lanes, username, lane, task_name, doing, training)


def check_role(
    role: str | None,
    lanes: Lanes,
    username: str,
    lane: str | None,
    task_name: str,
    doing: str,
    training: bool = False,
) -> None:
    """`check_lane` for a role already read (a completion reads it with the case lock)."""
    if role is None or (training and role == "trainer"):
        return
    allowed = roles_for(lanes, lane)
    if role in allowed:
        return
    who = " or ".join(sorted(ROLE_NAMES.get(r, r) for r in allowed)) or "nobody yet"
    person = "you are" if doing != "be given" else f"{username} is"
    raise NotInLane(
        f'Only a {who} may {doing} "{task_name}" (the {lane or "unnamed"} lane); {person} a '
        f"{ROLE_NAMES.get(role, role)}. A team manager can give it to someone in that role. "
        "Nothing has been changed."
    )


def lane_problems(parsed: Any, lanes: Lanes) -> list[Any]:
    """Deploy check: a user task in a lane no role may act in could never be done by anyone.

    `parsed`: `engine.deployment.ParsedProcess` items; returns `Problem`s (file, element).
    """
    from engine.deployment import Problem

    problems = []
    seen: set[tuple[str, str]] = set()
    for item in parsed:
        for spec in (item.spec, *item.subprocess_specs.values()):
            for task in spec.task_specs.values():
                lane = getattr(task, "lane", None)
                if lane is None or type(task).__name__ != "UserTask" or lane in lanes:
                    continue
                if (item.file_name, task.bpmn_id) in seen:
                    continue
                seen.add((item.file_name, task.bpmn_id))
                problems.append(
                    Problem(
                        item.file_name,
                        None,
                        task.bpmn_id,
                        f'user task "{task.bpmn_name or task.bpmn_id}" is in the lane "{lane}", '
                        f"which no role may act in; use one of {', '.join(sorted(lanes))} or "
                        "add the lane to processes/lanes.yaml (or the council's timescales.yaml)",
                    )
                )
    return problems
