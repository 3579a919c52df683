"""A journey saved with a draft is checked like a diagram before it is kept.

Practice managers copy one of the council's journeys (processes/<council>/scenarios/*.yaml),
change its answers and dates and save it with their draft; running the journeys and approving
the draft then use it in place of the shipped file of the same name. Every problem is named
(the step, the key, the value) and nothing is saved while there is one. A saved journey runs on
the draft's pack only: it may not name other folders to deploy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from lxml import etree

from engine.calendar import Duration, DurationError
from engine.conventions import FLOW_NODES, NS
from engine.errors import CinflowError
from engine.scenario import REFUSALS, ScenarioError, _as_date, _parse_instant

NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,59}\.yaml")
MAX_CHARS = 64 * 1024
MAX_STEPS = 500
TOP_KEYS = {"name", "process", "council", "child", "start", "data", "steps", "user", "demo"}
ACTIONS = ("complete", "advance", "advance_to", "message", "expect", "cancel")
STEP_KEYS = {*ACTIONS, "data", "exact", "refused", "as", "payload"}
EXPECT_KEYS = {"tasks", "tasks_include", "timers", "due", "rule", "finished", "status"}
EXPECT_KEYS |= {"fired", "lane"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


class JourneyRefused(CinflowError):
    """The journey was not saved; `problems` names each thing to put right."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the journey was not saved: " + "; ".join(problems))


def pack_names(files: Mapping[str, str]) -> tuple[set[str], set[str], set[str]]:
    """(process ids, element ids, message names) of a pack's diagrams."""
    processes: set[str] = set()
    elements: set[str] = set()
    messages: set[str] = set()
    for xml in files.values():
        try:
            root = etree.fromstring(xml.encode("utf-8"), _PARSER)
        except etree.XMLSyntaxError:
            continue
        for process in root.iterfind("bpmn:process", NS):
            processes.add(process.get("id") or "")
            elements.update(el.get("id") or "" for el in process.iter() if el.tag in FLOW_NODES)
        messages.update(m.get("name") or "" for m in root.iterfind("bpmn:message", NS))
    return processes, elements, messages


def check_journey(file_name: str, text: str, council: str, files: Mapping[str, str]) -> dict:
    """The journey as data when it can run on the pack `files`; else JourneyRefused."""
    if not NAME.fullmatch(file_name or ""):
        raise JourneyRefused(
            [
                f'"{file_name}" is not a journey file name: use lower-case letters, digits and '
                'underscores ending in .yaml, e.g. "initial_plan_overdue.yaml"'
            ]
        )
    if len(text) > MAX_CHARS:
        raise JourneyRefused([f"the journey is {len(text):,} characters; at most {MAX_CHARS:,}"])
    if "\x00" in text:
        raise JourneyRefused(["the journey contains a NUL character"])
    try:
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise JourneyRefused(["YAML anchors and aliases (& and *) are not allowed here"])
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise JourneyRefused([f"not valid YAML: {' '.join(str(exc).split())}"]) from None
    if not isinstance(spec, dict):
        raise JourneyRefused(["a journey is a mapping with at least 'process' and 'steps'"])
    problems = _problems(spec, council, files)
    if problems:
        raise JourneyRefused(problems)
    return spec


def _problems(spec: dict[str, Any], council: str, files: Mapping[str, str]) -> list[str]:
    processes, elements, messages = pack_names(files)
    out: list[str] = []
    for key in sorted(set(spec) - TOP_KEYS, key=str):
        hint = " (a saved journey runs on the draft's pack)" if key == "deploy" else ""
        out.append(f'unknown key "{key}"{hint}; use {", ".join(sorted(TOP_KEYS))}')
    if spec.get("council") not in (None, council):
        out.append(f'council is "{spec["council"]}": this draft is {council}\'s')
    if "process" not in spec:
        out.append("'process' is missing: which process the case starts on")
    elif spec["process"] not in processes:
        out.append(f'process "{spec["process"]}" is not in the draft\'s pack')
    for key, check in (("start", _parse_instant), ("child", _child)):
        if key in spec:
            try:
                check(spec[key])
            except ScenarioError as exc:
                out.append(f"{key}: {exc}")
    if not isinstance(spec.get("data", {}), dict):
        out.append("data: a mapping of the starting answers, e.g. {referral_date: $start}")
    steps = spec.get("steps")
    if not isinstance(steps, list) or not steps:
        out.append("'steps' is missing or empty: a list such as '- complete: seek_consent'")
        return out
    if len(steps) > MAX_STEPS:
        out.append(f"{len(steps)} steps; at most {MAX_STEPS}")
        return out
    for number, step in enumerate(steps, start=1):
        out.extend(f"step {number}: {p}" for p in _step(step, elements, messages))
    return out


def _child(value: Any) -> None:
    if not isinstance(value, dict):
        raise ScenarioError("a mapping such as {name: Sam Sample, date_of_birth: 2016-05-04}")
    if value.get("date_of_birth") is not None:
        _as_date(value["date_of_birth"])


def _step(step: Any, elements: set[str], messages: set[str]) -> list[str]:
    if not isinstance(step, dict):
        return ["each step is a mapping such as 'complete: <step id>'"]
    kinds = [k for k in ACTIONS if k in step]
    if len(kinds) != 1:
        return [f"name one of {', '.join(ACTIONS)} (found {', '.join(kinds) or 'none'})"]
    kind, value = kinds[0], step[kinds[0]]
    out = [f'unknown key "{k}"' for k in sorted(set(step) - STEP_KEYS, key=str)]
    if "refused" in step and step["refused"] not in REFUSALS:
        out.append(f"refused must be one of {', '.join(sorted(REFUSALS))}")
    if "data" in step and not isinstance(step["data"], dict):
        out.append("data: a mapping of answers, e.g. {consent_given: true}")
    if kind == "complete" and value not in elements:
        out.append(f'complete: there is no step "{value}" in the draft\'s pack')
    elif kind == "message" and value not in messages:
        out.append(f'message: the draft\'s pack has no message "{value}"')
    elif kind == "advance":
        try:
            Duration.parse(str(value))
        except DurationError as exc:
            out.append(f"advance: {exc}")
    elif kind == "advance_to":
        try:
            _parse_instant(value)
        except ScenarioError as exc:
            out.append(f"advance_to: {exc}")
    elif kind == "expect":
        out.extend(_expect(value, elements))
    return out


def _expect(want: Any, elements: set[str]) -> list[str]:
    if not isinstance(want, dict):
        return ["expect takes a mapping (tasks, due, timers, finished...)"]
    out = []
    for key, value in want.items():
        if key not in EXPECT_KEYS:
            out.append(f'unknown expectation "{key}"; use {", ".join(sorted(EXPECT_KEYS))}')
            continue
        if key in ("tasks", "tasks_include", "timers", "fired"):
            if not isinstance(value, list | type(None)):
                out.append(f"expect {key}: a list of step ids, e.g. [initial_plan]")
                continue
            ids = value or []
        elif key in ("due", "rule", "lane"):
            if not isinstance(value, dict):
                out.append(f"expect {key}: a mapping of step id to value")
                continue
            ids = list(value)
            if key == "due":
                for element, day in value.items():
                    try:
                        _as_date(day)
                    except ScenarioError as exc:
                        out.append(f"expect due {element}: {exc}")
        else:
            ids = []
        out.extend(
            f'expect {key}: there is no step "{e}" in the draft\'s pack'
            for e in ids
            if e not in elements
        )
    return out
