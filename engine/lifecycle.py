"""Process versions as documents: draft -> approved -> live -> retired, with four eyes.

Deploying a changed diagram makes a draft (the first version of a process, installing the
shipped pack, goes live at once: there is nothing to protect yet). One rule everywhere (web,
CLI, engine API): a draft is approved only after it was sent for approval, and a second person
with an approver role (neither its author nor its sender) approves it, after the engine has
checked the council's pack with the draft in it (engine/draft_checks.py). Going live retires the
version that was live; new cases start on the live version only, running ones stay on theirs.
Document-control fields are the ones councils publish for a procedure (Rochdale's table).

Functions here work inside the caller's transaction and write audit rows through the
caller's writer, so the one audit writer stays the one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import NotAllowed, UnknownProcess
from engine.store.models import Case, ProcessVersion, User

STATUSES = ("draft", "approved", "live", "retired")
APPROVER_ROLES = ("practice_manager", "admin")
Audit = Callable[..., None]  # (session, actor, action, detail=...) -> None


class ApprovalRefused(NotAllowed):
    """The draft did not pass the checks; `failures` lists each one."""

    def __init__(self, message: str, failures: list[str]) -> None:
        self.failures = failures
        super().__init__(message + "".join(f"\n  {f}" for f in failures))


@dataclass(frozen=True)
class VersionInfo:
    id: int
    council: str
    process_id: str
    name: str
    version: int
    status: str
    deployed_by: str
    deployed_at: datetime
    comment: str
    approved_by: str | None
    approved_at: datetime | None
    live_at: datetime | None
    doc_owner: str
    doc_author: str
    doc_approver: str
    approval_date: date | None
    next_review_date: date | None
    open_cases: int = 0
    sent_by: str | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class LibraryEntry:
    """One process of a council's library: its versions (newest first) and where it stands."""

    council: str
    process_id: str
    name: str
    versions: tuple[VersionInfo, ...] = field(default_factory=tuple)

    @property
    def live(self) -> VersionInfo | None:
        return next((v for v in self.versions if v.status == "live"), None)

    @property
    def drafts(self) -> list[VersionInfo]:
        return [v for v in self.versions if v.status in ("draft", "approved")]

    def review_overdue(self, today: date) -> bool:
        live = self.live
        return bool(live and live.next_review_date and live.next_review_date < today)


def version_info(row: ProcessVersion, open_cases: int = 0) -> VersionInfo:
    return VersionInfo(
        row.id,
        row.council_key,
        row.process_id,
        row.name,
        row.version,
        row.status,
        row.deployed_by,
        row.deployed_at,
        row.comment,
        row.approved_by,
        row.approved_at,
        row.live_at,
        row.doc_owner,
        row.doc_author,
        row.doc_approver,
        row.approval_date,
        row.next_review_date,
        open_cases,
        row.sent_by,
        row.sent_at,
    )


def start_new_version(row: ProcessVersion, previous: ProcessVersion | None) -> None:
    """Status and document control of a just-deployed version: live if it is the process's
    first, else a draft carrying the live version's owner, author and review date."""
    if previous is None:
        row.status, row.live_by, row.live_at = "live", row.deployed_by, row.deployed_at
        return
    row.status = "draft"
    row.doc_owner, row.doc_author = previous.doc_owner, previous.doc_author
    row.next_review_date = previous.next_review_date


def live_version(s: Session, council: str, process_id: str) -> ProcessVersion | None:
    return s.scalars(
        select(ProcessVersion).where(
            ProcessVersion.council_key == council,
            ProcessVersion.process_id == process_id,
            ProcessVersion.status == "live",
        )
    ).first()


def find_version(s: Session, council: str, process_id: str, version: int) -> ProcessVersion:
    row = s.scalars(
        select(ProcessVersion).where(
            ProcessVersion.council_key == council,
            ProcessVersion.process_id == process_id,
            ProcessVersion.version == version,
        )
    ).first()
    if row is None:
        raise UnknownProcess(f"{council}/{process_id} has no version {version}")
    return row


def live_files(s: Session, council: str) -> dict[str, str]:
    """The council's live pack as files (name -> XML), as deployed."""
    rows = s.scalars(
        select(ProcessVersion)
        .where(ProcessVersion.council_key == council, ProcessVersion.status == "live")
        .order_by(ProcessVersion.live_at, ProcessVersion.id)
    ).all()
    return {row.file_name: row.xml for row in rows}


def pack_with(s: Session, rows: list[ProcessVersion]) -> dict[str, str]:
    """The council's live pack with `rows` (and the call targets they were deployed with) in."""
    files = live_files(s, rows[0].council_key)
    by_base = {name.rsplit("/", 1)[-1]: name for name in files}
    for row in rows:
        for name, xml in {**(row.dependency_xml or {}), row.file_name: row.xml}.items():
            files[by_base.get(name.rsplit("/", 1)[-1], name)] = xml
    return files


def drafts(s: Session, council: str, status: str = "draft") -> list[ProcessVersion]:
    """A council's versions in `status` (the newest of each process), e.g. its open drafts."""
    return list(
        s.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.council_key == council, ProcessVersion.status == status)
            .order_by(ProcessVersion.process_id, ProcessVersion.version)
        ).all()
    )


def supersede(s: Session, council: str, process_id: str, audit: Audit, by: str) -> None:
    """A new draft replaces the process's earlier drafts and approvals (never approved: retired)."""
    for row in s.scalars(
        select(ProcessVersion).where(
            ProcessVersion.council_key == council,
            ProcessVersion.process_id == process_id,
            ProcessVersion.status.in_(("draft", "approved")),
        )
    ):
        row.status, row.retired_at = "retired", clock.now()
        _audit(s, audit, by, "process_retired", row, "superseded by a newer draft")


def approve(
    s: Session,
    rows: list[ProcessVersion],
    by: str,
    checks: Callable[[Mapping[str, str], str], list[str]],
    audit: Audit,
    comment: str = "",
) -> None:
    """Four eyes: drafts are approved by someone else with an approver role, after `checks`
    (validation and the council's journeys on the live pack with the drafts in) pass."""
    user = _ready(
        s,
        rows,
        by,
        "draft",
        empty="there is no draft to approve: deploy the changed diagrams first",
        state="only a draft can be approved",
        role="approve procedures: approvers are practice managers (or admin)",
    )
    for row in rows:
        if by == row.deployed_by:
            raise NotAllowed(
                f"{by} made the draft {row.process_id} version {row.version}, so cannot approve "
                "it: a second practice manager must"
            )
        if by == row.sent_by:
            raise NotAllowed(
                f"{by} sent the draft {row.process_id} version {row.version} for approval, so "
                "cannot approve it: a second practice manager must"
            )
        if row.sent_by is None:
            raise NotAllowed(
                f"{row.process_id} version {row.version} has not been sent for approval: its "
                "author sends it first (Send for approval on the draft's test page, or "
                "cinflow send-for-approval), then a second practice manager approves it"
            )
    failures = checks(pack_with(s, rows), rows[0].council_key)
    if failures:
        raise ApprovalRefused(
            f"not approved: {len(failures)} check(s) failed; fix the diagram (or the journey) "
            "and deploy again",
            failures,
        )
    now = clock.now()
    for row in rows:
        row.status, row.approved_by, row.approved_at = "approved", by, now
        row.doc_approver = row.doc_approver or user.display_name
        row.approval_date = now.date()
        _audit(s, audit, by, "process_approved", row, comment)


def send_for_approval(
    s: Session, rows: list[ProcessVersion], by: str, audit: Audit, comment: str = ""
) -> None:
    """The author asks for approval: recorded on each draft, so its approver must be another."""
    _ready(
        s,
        rows,
        by,
        "draft",
        empty="there is no draft to send for approval: save a draft first",
        state="only a draft is sent for approval",
        role="send procedures for approval: practice managers (or admin) can",
    )
    now = clock.now()
    for row in rows:
        row.sent_by, row.sent_at = by, now
        _audit(s, audit, by, "process_sent_for_approval", row, comment)


def go_live(
    s: Session, rows: list[ProcessVersion], by: str, audit: Audit, comment: str = ""
) -> None:
    """Approved versions become the ones new cases start on; the live ones retire."""
    _ready(
        s,
        rows,
        by,
        "approved",
        empty="there is no approved version to put live: approve the drafts first",
        state="approve it before it goes live",
        role="put procedures live: practice managers (or admin) can",
    )
    now = clock.now()
    for row in rows:
        current = live_version(s, row.council_key, row.process_id)
        if current is not None:
            current.status, current.retired_at = "retired", now
            _audit(s, audit, by, "process_retired", current, f"replaced by version {row.version}")
        row.status, row.live_by, row.live_at = "live", by, now
        _audit(s, audit, by, "process_live", row, comment)


def set_document_control(
    s: Session, row: ProcessVersion, by: str, audit: Audit, **fields: Any
) -> None:
    """Owner, author, approver, approval date, next review date (any of them)."""
    allowed = {"doc_owner", "doc_author", "doc_approver", "approval_date", "next_review_date"}
    unknown = set(fields) - allowed
    if unknown:
        raise NotAllowed(f"not a document-control field: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(row, name, value)
    _audit(s, audit, by, "process_document_control", row, "", changed=sorted(fields))


def library(s: Session, council: str) -> list[LibraryEntry]:
    """Each process of a council once, with every version and its open cases."""
    counts = dict(
        s.execute(
            select(Case.process_version_id, func.count())
            .where(Case.council_key == council, Case.status == "open")
            .group_by(Case.process_version_id)
        ).all()
    )
    rows = s.scalars(
        select(ProcessVersion)
        .where(ProcessVersion.council_key == council)
        .order_by(ProcessVersion.process_id, ProcessVersion.version.desc())
    ).all()
    grouped: dict[str, list[ProcessVersion]] = {}
    for row in rows:
        grouped.setdefault(row.process_id, []).append(row)
    entries = []
    for pid, versions in grouped.items():
        shown = next((v for v in versions if v.status == "live"), versions[0])
        entries.append(
            LibraryEntry(
                council,
                pid,
                shown.name,
                tuple(version_info(v, counts.get(v.id, 0)) for v in versions),
            )
        )
    return entries


def is_approver(s: Session, username: str) -> bool:
    """An active practice manager (or admin): who may approve, send and test drafts."""
    return _approver(s, username) is not None


def _ready(
    s: Session,
    rows: list[ProcessVersion],
    by: str,
    status: str,
    *,
    empty: str,
    state: str,
    role: str,
) -> User:
    """The one gate of each lifecycle step (send, approve, go live): there are versions, each
    is at `status`, and `by` is a practice manager (or admin); each refusal says what to do."""
    if not rows:
        raise NotAllowed(empty)
    for row in rows:
        if row.status != status:
            raise NotAllowed(f"{row.process_id} version {row.version} is {row.status}: {state}")
    user = _approver(s, by)
    if user is None:
        raise NotAllowed(f'"{by}" cannot {role}')
    return user


def _approver(s: Session, username: str) -> User | None:
    user = s.scalars(select(User).where(User.username == username)).first()
    return user if user is not None and user.active and user.role in APPROVER_ROLES else None


def _audit(
    s: Session, audit: Audit, by: str, action: str, row: ProcessVersion, comment: str, **extra: Any
) -> None:
    audit(
        s,
        by,
        action,
        detail={
            "council": row.council_key,
            "process_id": row.process_id,
            "version": row.version,
            "comment": comment,
            **extra,
        },
    )


@dataclass(frozen=True)
class CaseMigration:
    """One case moved (or, in a preview, to be moved) onto another version of its process."""

    case_id: int
    from_version: int
    to_version: int
    reasons: tuple[str, ...] = ()  # why it cannot move (it stays on its version)
    steps: tuple[str, ...] = ()  # where it will be: its ready steps' element ids
    timers: tuple[Any, ...] = ()  # runtime_migration.KeptTimer: due before and after
    done: bool = False  # False in a preview

    @property
    def ok(self) -> bool:
        return not self.reasons

    def line(self) -> str:
        head = f"case {self.case_id}: version {self.from_version} -> {self.to_version}"
        if self.reasons:
            return f"{head}: cannot migrate: " + "; ".join(self.reasons)
        kept = ", ".join(
            f"{t.element_id} due {t.after[:10]}"
            + (f" (rule changed: was {t.before[:10]}, same start)" if t.recomputed else " (kept)")
            for t in self.timers
        )
        verb = "migrated" if self.done else "can migrate"
        return f"{head}: {verb}; on {', '.join(self.steps) or 'no step'}; {kept or 'no timers'}"
