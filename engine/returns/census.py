"""The DfE Child in Need census: the XML for a collection year, and what stops it being right.

Built from what the cases recorded (`records.read_cases`): the referral or transfer data a case
opened with, each step's answers, messages such as a ceasing event, and the dates of completed
steps the engine already knows (the CIN plan starts the day its plan step is completed; a
section 47 enquiry starts on the day of the strategy discussion that decided it). Nothing is
invented: a fact the census needs and no step recorded is an `Issue`, with the step where it is
recorded, and the child's element leaves it out (so the DfE's validator flags it too).

A little over 500 lines on purpose: one function per block of the DfE's XML (identifiers,
characteristics, episode, assessments, CIN plan, section 47, CP plan), read top to bottom in
the order of the census guide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.etree import ElementTree as ET

from engine import clock
from engine.calendar import WorkingCalendar
from engine.returns import codes
from engine.returns.records import CaseRecord, Event, by_child

ICPC_TARGET_WORKING_DAYS = 15
# The forms whose answers are census facts; other forms may reuse a name for something else
# (a transfer's "referral_date" is the referral to the receiving council).
CENSUS_FORMS = frozenset(
    {"assessment_outcome.json", "closure.json", "s47_enquiry.json", "chair_agreement.json"}
)
START_ONLY = frozenset({"referral_date"})


class CensusError(ValueError):
    """A census that cannot be asked for as given (bad year, unknown local authority code)."""


@dataclass(frozen=True)
class CensusYear:
    """A collection year such as 2025-26: 1 April 2025 to the reference date 31 March 2026."""

    label: str
    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> CensusYear:
        match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if not match or (int(match[1]) + 1) % 100 != int(match[2]):
            raise CensusError(f'"{text}" is not a collection year; write it as 2025-26')
        first = int(match[1])
        return cls(text.strip(), date(first, 4, 1), date(first + 1, 3, 31))

    def ruleset(self) -> str:
        """The csc-validator-be-cin ruleset name for this year, e.g. cin2025_26."""
        return f"cin{self.start.year}_{str(self.end.year)[2:]}"


@dataclass(frozen=True)
class Where:
    """The step where a fact is recorded: a completed step, or the case's start data."""

    case_id: int
    element_id: str | None = None
    task_id: str | None = None
    step: str = "the referral the case was opened with"


@dataclass(frozen=True)
class Issue:
    """A census fact missing or wrong. A warning does not stop the export; anything else
    would make the DfE's validation fail, so the export waits until it is put right."""

    child: str
    case_id: int
    what: str
    problem: str
    where: Where
    warning: bool = False


@dataclass
class Census:
    year: CensusYear
    la_code: str
    xml: str
    children: int
    episodes: int
    issues: list[Issue] = field(default_factory=list)
    excluded: list[tuple[int, str]] = field(default_factory=list)


class Facts:
    """The latest answer to each census question on a case up to the reference date."""

    def __init__(self, record: CaseRecord, until: date) -> None:
        self.record = record
        self.values: dict[str, Any] = {}
        self.sources: dict[str, Where] = {}
        self.events = [e for e in record.events if e.day <= until]
        start = Where(record.case_id)
        for key, value in record.start.items():
            self._put(key, value, start)
        for event in self.events:
            if event.action == "message_received" or (
                event.action == "task_completed" and event.form in CENSUS_FORMS
            ):
                where = Where(record.case_id, event.element_id, event.task_id, event.name)
                for key, value in event.data.items():
                    if key not in START_ONLY:
                        self._put(key, value, where)

    def _put(self, key: str, value: Any, where: Where) -> None:
        if value in (None, "", []):
            return
        self.values[key] = value
        self.sources[key] = where

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def day(self, key: str) -> date | None:
        return _day(self.values.get(key))

    def where(self, key: str, form: str | None = None) -> Where:
        """Where `key` was recorded, or else the last step with `form`, or else the start."""
        if key in self.sources:
            return self.sources[key]
        for event in reversed(self.events):
            if form and event.form == form:
                return Where(self.record.case_id, event.element_id, event.task_id, event.name)
        return Where(self.record.case_id)

    def steps(self, form: str) -> list[Event]:
        return [e for e in self.events if e.action == "task_completed" and e.form == form]


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def la_child_id(child_id: int) -> str:
    return f"C{child_id:07d}"


class _Child:
    """One child's element and the problems found while writing it."""

    def __init__(self, child_id: int, year: CensusYear, calendar: WorkingCalendar) -> None:
        self.id = la_child_id(child_id)
        self.year = year
        self.calendar = calendar
        self.issues: list[Issue] = []
        self.element = ET.Element("Child")

    def problem(
        self, facts: Facts, what: str, problem: str, where: Where, warning: bool = False
    ) -> None:
        self.issues.append(Issue(self.id, facts.record.case_id, what, problem, where, warning))

    def need(
        self,
        parent: ET.Element,
        tag: str,
        facts: Facts,
        key: str,
        what: str,
        allowed: Mapping[str, str] | None = None,
        form: str | None = None,
    ) -> Any:
        """Write a mandatory coded item, or say what is missing or not a DfE code."""
        value = facts.get(key)
        where = facts.where(key, form)
        if value is None:
            self.problem(facts, what, "not recorded", where)
            return None
        if allowed is not None and str(value) not in allowed:
            self.problem(facts, what, f'"{value}" is not a DfE code', where)
            return None
        _sub(parent, tag, str(value))
        return value


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _date(parent: ET.Element, tag: str, value: date | None) -> None:
    if value is not None:
        _sub(parent, tag, value.isoformat())


def _identifiers(child: _Child, first: CaseRecord, facts: Facts) -> None:
    ids = _sub(child.element, "ChildIdentifiers")
    _sub(ids, "LAchildID", child.id)
    upn, reason = facts.get("upn"), facts.get("upn_unknown_reason")
    if upn:
        problem = codes.upn_problem(str(upn))
        if problem:
            child.problem(facts, "Unique pupil number", problem, facts.where("upn"))
        else:
            _sub(ids, "UPN", str(upn))
    elif reason:
        if reason in codes.UPN_UNKNOWN:
            _sub(ids, "UPNunknown", str(reason))
        else:
            child.problem(
                facts,
                "Why the UPN is not known",
                f'"{reason}" is not a DfE code',
                facts.where("upn_unknown_reason"),
            )
    else:
        where = facts.where("upn", "assessment_outcome.json")
        child.problem(facts, "Unique pupil number", "neither the UPN nor why it is missing", where)
    if first.date_of_birth is None:
        child.problem(facts, "Date of birth", "not recorded", Where(first.case_id))
    elif first.date_of_birth > child.year.end:
        child.problem(facts, "Date of birth", "after the reference date", Where(first.case_id))
    else:
        _date(ids, "PersonBirthDate", first.date_of_birth)
    child.need(ids, "Sex", facts, "sex", "Sex", codes.SEX, "assessment_outcome.json")


def _characteristics(child: _Child, facts: Facts) -> None:
    chars = _sub(child.element, "ChildCharacteristics")
    child.need(
        chars,
        "Ethnicity",
        facts,
        "ethnicity",
        "Ethnicity",
        codes.ETHNICITY,
        "assessment_outcome.json",
    )
    disabilities = facts.get("disabilities")
    where = facts.where("disabilities", "assessment_outcome.json")
    if not disabilities:
        child.problem(facts, "Disabilities", "not recorded (choose No disability if none)", where)
        return
    wrong = [d for d in disabilities if d not in codes.DISABILITY]
    if wrong:
        child.problem(facts, "Disabilities", f"not DfE codes: {', '.join(wrong)}", where)
    elif "NONE" in disabilities and len(disabilities) > 1:
        child.problem(facts, "Disabilities", "No disability chosen with a disability", where)
    else:
        block = _sub(chars, "Disabilities")
        for code in dict.fromkeys(disabilities):
            _sub(block, "Disability", code)


def _closure(facts: Facts, year: CensusYear) -> tuple[date | None, Any]:
    closed = facts.day("closure_date")
    if closed is not None and closed > year.end:
        return None, None
    return closed, facts.get("reason_code")


def _assessments(child: _Child, facts: Facts, episode: ET.Element, referral: date) -> int:
    """Completed assessments: the start data's (a transfer) and each assessment outcome step."""
    found: dict[date | None, tuple[Mapping[str, Any], Where]] = {}
    sources = [(facts.record.start, Where(facts.record.case_id))] + [
        (e.data, Where(facts.record.case_id, e.element_id, e.task_id, e.name))
        for e in facts.steps("assessment_outcome.json")
    ]
    for data, where in sources:
        if not data.get("assessment_completed_date"):
            continue
        found[_day(data.get("assessment_start_date"))] = (data, where)
    for started, (data, where) in sorted(found.items(), key=lambda kv: str(kv[0])):
        done = _day(data.get("assessment_completed_date"))
        if started is None:
            child.problem(facts, "Assessment start date", "not recorded", where)
            continue
        if started < referral:
            child.problem(facts, "Assessment start date", "before the referral date", where)
            continue
        if done is None or done < started:
            child.problem(facts, "Assessment completed date", "before it started", where)
            continue
        if done > child.year.end or done < child.year.start:
            continue  # completed outside the year: not this year's activity
        block = _sub(episode, "Assessments")
        _date(block, "AssessmentActualStartDate", started)
        _date(block, "AssessmentAuthorisationDate", done)
        factors = [str(f) for f in data.get("assessment_factors") or []]
        if not factors:
            child.problem(facts, "Factors identified at assessment", "not recorded", where)
        elif "21" in factors and len(factors) > 1:
            child.problem(
                facts,
                "Factors identified at assessment",
                '"No factors identified" chosen with factors',
                where,
            )
        elif any(f not in codes.ASSESSMENT_FACTOR for f in factors):
            child.problem(facts, "Factors identified at assessment", "not DfE codes", where)
        else:
            listed = _sub(block, "FactorsIdentifiedAtAssessment")
            for factor in dict.fromkeys(factors):
                _sub(listed, "AssessmentFactors", factor)
    return len(found)


def _cin_plan(
    facts: Facts, episode: ET.Element, closed: date | None, cp_start: date | None
) -> date | None:
    """The CIN plan started the day its plan step was first completed (or as transferred)."""
    plans = facts.steps("cin_plan.json")
    started = facts.day("cin_plan_start_date") or (plans[0].day if plans else None)
    if started is None:
        return None
    ended = closed
    if cp_start is not None and cp_start >= started:
        ended = cp_start
    block = _sub(episode, "CINPlanDates")
    _date(block, "CINPlanStartDate", started)
    _date(block, "CINPlanEndDate", ended)
    return started


def _section47(child: _Child, facts: Facts, episode: ET.Element) -> None:
    enquiries = facts.steps("s47_enquiry.json")
    strategy = [
        e for e in facts.steps("strategy_discussion.json") if e.data.get("outcome_s47") is True
    ]
    started = facts.day("s47_start_date")
    if started is None and strategy:
        started = _day(strategy[-1].data.get("discussion_date")) or strategy[-1].day
    if not enquiries and started is None:
        return
    where = facts.where("s47_start_date", "s47_enquiry.json")
    if started is None:
        child.problem(facts, "Section 47 enquiry start date", "not recorded", where)
        return
    block = _sub(episode, "Section47")
    _date(block, "S47ActualStartDate", started)
    _date(block, "InitialCPCtarget", child.calendar.add_working_days(started, 15))
    icpc = facts.day("icpc_date")
    outcome = facts.get("outcome") if enquiries else None
    if icpc is not None and icpc <= child.year.end:
        _date(block, "DateOfInitialCPC", icpc)
        _sub(block, "ICPCnotRequired", "false")
    elif enquiries and outcome != "child_protection_conference":
        _sub(block, "ICPCnotRequired", "true")


def _cp_plan(child: _Child, facts: Facts, episode: ET.Element) -> date | None:
    started = facts.day("cp_plan_start_date")
    if started is None or started > child.year.end:
        return None
    ended = facts.day("cp_plan_end_date")
    block = _sub(episode, "ChildProtectionPlans")
    _date(block, "CPPstartDate", started)
    if ended is not None and ended <= child.year.end:
        _date(block, "CPPendDate", ended)
    child.need(
        block,
        "InitialCategoryOfAbuse",
        facts,
        "initial_category_of_abuse",
        "Initial category of abuse",
        codes.CATEGORY_OF_ABUSE,
    )
    latest = (
        "latest_category_of_abuse"
        if facts.get("latest_category_of_abuse")
        else ("initial_category_of_abuse")
    )
    child.need(
        block,
        "LatestCategoryOfAbuse",
        facts,
        latest,
        "Latest category of abuse",
        codes.CATEGORY_OF_ABUSE,
    )
    previous = facts.get("number_of_previous_cpp")
    if previous is None:
        child.problem(
            facts,
            "Number of previous child protection plans",
            "not recorded",
            facts.where("number_of_previous_cpp"),
        )
    else:
        _sub(block, "NumberOfPreviousCPP", str(int(previous)))
    return started


def _episode(child: _Child, record: CaseRecord, facts: Facts, referral: date) -> None:
    year = child.year
    episode = _sub(child.element, "CINdetails")
    _date(episode, "CINreferralDate", referral)
    child.need(
        episode,
        "ReferralSource",
        facts,
        "referral_source",
        "Source of referral",
        codes.REFERRAL_SOURCE,
    )
    child.need(
        episode,
        "PrimaryNeedCode",
        facts,
        "primary_need_code",
        "Primary need",
        codes.PRIMARY_NEED,
        "assessment_outcome.json",
    )
    closed, reason = _closure(facts, year)
    ended = record.closed_at
    handed_on = facts.get("cp_plan_start_date") or facts.get("closure_date")
    if not handed_on and record.status == "completed" and ended and ended.date() <= year.end:
        child.problem(
            facts,
            "Closure date and reason",
            "the case ended with no closure recorded, so the census shows the episode open "
            "(right if the child's plan moved to child protection or care); record the "
            "closure if it closed",
            facts.where("closure_date", "closure.json"),
            warning=True,
        )
    if closed is not None:
        if closed < referral:
            child.problem(
                facts, "Closure date", "before the referral date", facts.where("closure_date")
            )
            closed = None
        elif reason not in codes.CLOSURE_REASON:
            child.problem(
                facts,
                "Reason for closure",
                "not recorded" if reason is None else f'"{reason}" is not a DfE code',
                facts.where("reason_code"),
            )
            closed = None
        else:
            _date(episode, "CINclosureDate", closed)
            _sub(episode, "ReasonForClosure", str(reason))
    _sub(episode, "ReferralNFA", "false")
    _assessments(child, facts, episode, referral)
    cp_start = facts.day("cp_plan_start_date")
    plan = _cin_plan(facts, episode, closed, cp_start)
    if plan is not None and reason in ("RC8", "RC9") and closed is not None:
        child.problem(
            facts,
            "Reason for closure",
            f"{reason} says the case closed after assessment, but a CIN plan was made",
            facts.where("reason_code"),
        )
    _section47(child, facts, episode)
    _cp_plan(child, facts, episode)


def build(
    records: Iterable[CaseRecord],
    year: CensusYear,
    la_code: str,
    calendar: WorkingCalendar,
    now: datetime | None = None,
) -> Census:
    """The census XML and every problem found; children are in LAchildID order."""
    if not re.fullmatch(r"\d{3}", la_code):
        raise CensusError(f'"{la_code}" is not a DfE local authority code (3 digits)')
    root = ET.Element("Message")
    _header(root, year, la_code, now or clock.now())
    children = _sub(root, "Children")
    census = Census(year, la_code, "", 0, 0)
    for child_id, cases in sorted(by_child(records)):
        child = _Child(child_id, year, calendar)
        episodes = 0
        for i, record in enumerate(sorted(cases, key=lambda r: r.opened_at)):
            facts = Facts(record, year.end)
            if i == 0:
                first_facts = facts
            if record.status == "cancelled" and facts.get("closure_date") is None:
                census.excluded.append((record.case_id, "cancelled: not a CIN episode"))
                continue
            referral = facts.day("referral_date")
            if referral is None:
                if record.opened_at.date() <= year.end:
                    child.problem(facts, "Referral date", "not recorded", Where(record.case_id))
                continue
            closed, _ = _closure(facts, year)
            if referral > year.end or (closed is not None and closed < year.start):
                continue
            if episodes == 0:
                _identifiers(child, record, first_facts)
                _characteristics(child, first_facts)
            _episode(child, record, facts, referral)
            episodes += 1
        census.issues.extend(child.issues)
        if episodes:
            children.append(child.element)
            census.children += 1
            census.episodes += episodes
    ET.indent(root)
    census.xml = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode")
    return census


def _header(root: ET.Element, year: CensusYear, la_code: str, now: datetime) -> None:
    header = _sub(root, "Header")
    details = _sub(header, "CollectionDetails")
    _sub(details, "Collection", "CIN")
    _sub(details, "Year", str(year.end.year))
    _sub(details, "ReferenceDate", year.end.isoformat())
    source = _sub(header, "Source")
    _sub(source, "SourceLevel", "L")
    _sub(source, "LEA", la_code)
    _sub(source, "SoftwareCode", "cinflow")
    _sub(source, "Release", "1")
    _sub(source, "SerialNo", "1")
    _sub(source, "DateTime", now.replace(microsecond=0, tzinfo=None).isoformat())
    content = _sub(header, "Content")
    levels = _sub(content, "CBDSLevels")
    _sub(levels, "CBDSLevel", "Child")


def la_code_for(council: str, given: str | None) -> str:
    if given:
        return given
    code = codes.LA_CODES.get(council)
    if code is None:
        raise CensusError(
            f'no DfE local authority code is known for "{council}"; give it with --la-code'
        )
    return code
