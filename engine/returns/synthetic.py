"""A synthetic cohort: the packs' journey files run as many children, with census answers.

Each journey file (processes/*/scenarios) is one route through a council's procedures, with
its on-time and late steps; running each several times for different (entirely invented)
children gives a cohort to check the returns against. A practitioner's answers come from the
journey, plus the census answers a practitioner would give at the same steps (added here by
`_Practitioner`, the only thing this module adds). Used by the tests and bench/census.py.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from engine import clock, yaml_files
from engine.calendar import LONDON
from engine.returns import codes
from engine.scenario import Report, default_deploy, deployment, run_file
from engine.services import Engine, NewChild

CEASING_REASONS = {
    "child_died": "RC2",
    "became_looked_after": "RC7",
    "child_turned_18": "RC6",
    "family_moved": "RC5",
    "moved_abroad": "RC7",
    "order_expired": "RC7",
    "plan_ceased": "RC7",
    "private_fostering_ended": "RC7",
}
SKIP_PACKS = ("sample", "common")
SOURCES = list(codes.REFERRAL_SOURCE)
ETHNICITIES = [c for c in codes.ETHNICITY if c not in ("REFU", "NOBT")]
DISABILITIES = [c for c in codes.DISABILITY if c != "NONE"]
FACTORS = [c for c in codes.ASSESSMENT_FACTOR if c not in ("21", "20")]
CATEGORIES = list(codes.CATEGORY_OF_ABUSE)


@dataclass
class Journey:
    """One child's journey in the cohort: what the test checks the returns against."""

    path: Path
    council: str | None
    team: str
    worker: str
    training: bool
    case_id: int = 0
    report: Report | None = None
    stopped: bool = False
    start: dict[str, Any] = field(default_factory=dict)


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def upn(rng: random.Random, la_code: str) -> str:
    rest = la_code + "".join(rng.choice("0123456789") for _ in range(9))
    return codes.upn_check_letter(rest) + rest


class _Stop(Exception):
    """The journey stops part-way: the child's case is still open at that step."""


class _Practitioner:
    """The engine as the journey sees it, answering the census questions at each step."""

    def __init__(
        self, engine: Engine, journey: Journey, rng: random.Random, stop_after: int | None
    ) -> None:
        self._engine = engine
        self.journey = journey
        self.rng = rng
        self.left = stop_after
        self.icpc: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def start_case(
        self,
        process_id: str,
        child: NewChild,
        data: Mapping[str, Any] | None,
        started_by: str,
        council: str | None = None,
        **_: Any,
    ) -> Any:
        today = clock.now().astimezone(LONDON).date()
        rng = self.rng
        start: dict[str, Any] = {
            "referral_source": rng.choice(SOURCES),
            "sex": rng.choice("MF"),
            "ethnicity": rng.choice(ETHNICITIES),
            "disabilities": ["NONE"] if rng.random() < 0.7 else rng.sample(DISABILITIES, 2),
        }
        dob = child.date_of_birth
        if dob is not None and (today - dob).days < 6 * 365:
            start["upn_unknown_reason"] = "UN1"
        else:
            start["upn"] = upn(rng, codes.LA_CODES.get(council or "", "851"))
        # The referral records a provisional primary need; the assessment confirms or changes it.
        start["primary_need_code"] = rng.choice(list(codes.PRIMARY_NEED)[:8])
        given = (data or {}).get("referral_date")
        if "referral" in process_id:
            start["referral_date"] = today.isoformat()
        elif given is None or date.fromisoformat(str(given)) <= today - timedelta(days=2):
            # transferred in after an assessment (and for some, a child protection plan)
            referral = date.fromisoformat(str(given)) if given else today - timedelta(days=40)
            start |= {
                "referral_date": referral.isoformat(),
                "assessment_start_date": referral.isoformat(),
                "assessment_completed_date": (today - timedelta(days=2)).isoformat(),
                "assessment_factors": rng.sample(FACTORS, 2),
            }
            if "step_down_cp" in process_id:  # the enquiry and conference before the plan
                icpc = _weekday(today - timedelta(days=20))
                self.icpc = icpc.isoformat()
                start |= {
                    "s47_start_date": (icpc - timedelta(days=7)).isoformat(),
                    "icpc_date": icpc.isoformat(),
                }
        start |= dict(data or {})
        self.journey.start = start
        case = self._engine.start_case(
            process_id,
            child,
            start,
            self.journey.worker,
            council=council,
            training=self.journey.training,
            team=self.journey.team,
        )
        self.journey.case_id = case.id
        return case

    def complete_task(self, task_id: str, data: Mapping[str, Any], user: str, **kw: Any) -> Any:
        if self.left is not None:
            if self.left <= 0:
                raise _Stop
            self.left -= 1
        form = self._engine.task(task_id).form
        today = clock.now().astimezone(LONDON).date().isoformat()
        answers = dict(data)
        example = _example(self._engine.forms_dir, form) if form else {}
        # A date the journey left at the form's example value is given as the day of the step.
        for key in ("assessment_completed_date", "closure_date"):
            if key in answers and answers[key] == example.get(key):
                answers[key] = today
        if form == "chair_agreement.json" and self.icpc and "cp_plan_end_date" not in answers:
            # The conference that ends the child protection plan records it for the census.
            answers |= {
                "cp_plan_start_date": self.icpc,
                "cp_plan_end_date": today,
                "initial_category_of_abuse": self.rng.choice(CATEGORIES),
                "number_of_previous_cpp": 0,
            }
        if form == "assessment_outcome.json":
            referral = self.journey.start.get("referral_date", today)
            answers |= {
                "assessment_start_date": min(referral, answers["assessment_completed_date"]),
                "assessment_factors": self.rng.sample(FACTORS, 2),
            }
        return self._engine.complete_task(task_id, answers, self.journey.worker, **kw)

    def send_message(self, case_id: int, name: str, payload: Mapping[str, Any], user: str) -> Any:
        extra: dict[str, Any] = {}
        if name in CEASING_REASONS:
            extra["reason_code"] = CEASING_REASONS[name]
        elif name.startswith("child_turned"):
            extra["reason_code"] = "RC6"
        elif name == "cp_plan_made":
            today = clock.now().astimezone(LONDON).date()
            extra = {
                "s47_start_date": (today - timedelta(days=10)).isoformat(),
                "icpc_date": today.isoformat(),
                "cp_plan_start_date": today.isoformat(),
                "initial_category_of_abuse": self.rng.choice(CATEGORIES),
                "number_of_previous_cpp": 0,
            }
        return self._engine.send_message(case_id, name, {**payload, **extra}, self.journey.worker)


@cache
def _example(forms_dir: Path, form: str) -> dict[str, Any]:
    path = Path(forms_dir) / "examples" / form.replace(".json", ".valid.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def journey_files(root: Path) -> list[Path]:
    """Every council pathway's journeys: not the engine's sample, nor the common building blocks
    run on their own (each council's pathways run them as parts of a child's journey)."""
    return sorted(
        p for p in root.glob("*/scenarios/*.yaml") if p.parent.parent.name not in SKIP_PACKS
    )


def run_cohort(
    engine: Engine,
    files: Iterable[Path],
    copies: int = 3,
    training_every: int = 25,
    seed: int = 16,
) -> list[Journey]:
    """Run each journey `copies` times, each time for a new child in one of two teams: the
    first copy to its end, the others stopping part-way (cases still open at every stage)."""
    rng = random.Random(seed)
    journeys: list[Journey] = []
    teams: set[str] = set()
    deployed: set[tuple[tuple[Path, ...], str | None]] = set()  # a pack deploys once
    for copy in range(copies):
        for path in files:
            council = default_deploy(path)[1] or "any"
            team = f"{council}-{'north' if rng.random() < 0.5 else 'south'}"
            if team not in teams:
                engine.people.add_team(team, council, team.replace("-", " ").title())
                teams.add(team)
            journey = Journey(
                path,
                council,
                team,
                f"sw.{team}.{rng.randint(1, 3)}",
                training=len(journeys) % training_every == training_every - 1,
            )
            stop = None
            if copy:
                steps = yaml_files.read(path)["steps"]
                stop = int(sum("complete" in step for step in steps) * copy / copies)
            folders, pack_council = deployment(path)
            key = (tuple(folders), pack_council)
            try:
                journey.report = run_file(
                    path,
                    engine=_Practitioner(engine, journey, rng, stop),
                    deployed=key in deployed,  # deploying it again would find it unchanged
                )
            except _Stop:
                journey.stopped = True
            deployed.add(key)
            journeys.append(journey)
    return journeys
