"""Deploy-time validation: refuse a diagram with every problem listed by element and line.

Diagrams come from practice managers' browsers, so nothing is trusted: XML that is not BPMN, a
process that cannot execute, a missing call target, a timer that does not evaluate, a user task
with no lane (no role to do it), a form that does not exist, and any script at all.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.calendar import WorkingCalendar
from engine.expressions import SAFE_BUILTINS, ExpressionError, check_syntax, evaluate
from engine.functions import FUNCTION_NAMES, Timescale, diagram_functions
from engine.runtime import Parser

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
FORM_PROPERTY = "formJsonSchemaFilename"
_ISO_DURATION = re.compile(r"^R?\d*/?P(\d|T\d)", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    element_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where}{element}: {self.message}"


class DeploymentError(Exception):
    """The upload was refused; `problems` lists every reason. Nothing was stored."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ParsedProcess:
    process_id: str
    name: str
    file_name: str
    xml: str
    dependency_xml: dict[str, str]
    spec: Any
    subprocess_specs: dict[str, Any]
    sha256: str = ""
    called: list[str] = field(default_factory=list)
    spec_json: str = ""  # filled once by the first deployment that stores it


def _check_expression(text: str, *, timer: bool, functions: Mapping[str, Any]) -> str | None:
    """Static check of a diagram expression; for timers, evaluate when it needs no case data."""
    text = (text or "").strip()
    if not text:
        return "the expression is empty"
    if timer and _ISO_DURATION.match(text):
        return (
            f'timer "{text}" is a bare ISO duration; write an expression such as '
            f'due_in("3 days") or deadline("plan_distribution")'
        )
    problem = check_syntax(text)
    if problem:
        return problem
    allowed = FUNCTION_NAMES | set(SAFE_BUILTINS)
    for node in ast.walk(ast.parse(text, mode="eval")):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id not in allowed
        ):
            return (
                f'"{node.func.id}" is not a function diagrams may call '
                f"(allowed: {', '.join(sorted(FUNCTION_NAMES))})"
            )
    if not timer:
        return None
    try:
        value = evaluate(text, _probe_data(text, allowed), functions)
    except ExpressionError as exc:
        return str(exc)
    if not isinstance(value, str):
        return f"a timer must give a date and time as text, but this gives {type(value).__name__}"
    try:
        from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

        TimerEventDefinition.parse_time_or_duration(value)
    except Exception:  # noqa: BLE001 - spiff raises bare Exception for bad durations
        return f'the timer gives "{value}", which is not an ISO 8601 date, time or duration'
    return None


PROBE_DATE = "2026-01-05"


def _probe_data(text: str, functions: set[str]) -> dict[str, Any]:
    """Stand-in case data for a deploy-time trial run: every data reference becomes a date."""
    data: dict[str, Any] = {}
    tree = ast.parse(text, mode="eval")
    chains = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                parts.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name):
                chains.append([inner.id, *reversed(parts)])
        elif isinstance(node, ast.Name) and node.id not in functions:
            chains.append([node.id])
    for chain in sorted(chains, key=len):
        target = data
        for part in chain[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target.setdefault(chain[-1], PROBE_DATE)
    return data


def _lint_tree(
    file_name: str, root: Any, forms_dir: Path, functions: Mapping[str, Any]
) -> list[Problem]:
    problems: list[Problem] = []

    def add(el: Any, message: str) -> None:
        problems.append(Problem(file_name, el.sourceline, el.get("id"), message))

    processes = root.findall(f"{{{BPMN}}}process")
    if not processes:
        problems.append(Problem(file_name, root.sourceline, None, "the file has no bpmn:process"))
    for process in processes:
        flow_nodes = [el for el in process if el.tag != f"{{{BPMN}}}laneSet"]
        if process.get("isExecutable") != "true" and flow_nodes:
            add(process, "the process is not executable (isExecutable is not true)")
            continue
        in_lane = {
            ref.text.strip()
            for ref in process.iterfind(".//bpmn:lane/bpmn:flowNodeRef", NS)
            if ref.text
        }
        for task in process.iterfind(".//bpmn:userTask", NS):
            if task.get("id") not in in_lane:
                add(
                    task,
                    f'user task "{task.get("name") or task.get("id")}" is in no lane: '
                    "put it in the lane of the role who does it",
                )
            if not (task.findtext("bpmn:documentation", namespaces=NS) or "").strip():
                add(task, "user task has no documentation: explain the step for the worker")
        for sub in process.iterfind(".//bpmn:subProcess[@triggeredByEvent='true']", NS):
            for start in sub.iterfind("bpmn:startEvent", NS):
                if start.get("isInterrupting", "true") != "false":
                    add(
                        start,
                        "interrupting event subprocesses do not stop the main flow in this "
                        "engine: attach an interrupting boundary event to a subprocess instead",
                    )
        for script in process.iterfind(".//bpmn:scriptTask", NS):
            add(script, "script tasks are not allowed: diagrams cannot run code")
        for tag in ("preScript", "postScript"):
            for el in process.iterfind(f".//spiffworkflow:{tag}", NS):
                if (el.text or "").strip():
                    owner = el.getparent().getparent()
                    add(owner, f"{tag} is not allowed: diagrams cannot run code")
        for prop in process.iterfind(".//spiffworkflow:property", NS):
            if prop.get("name") == FORM_PROPERTY:
                owner = prop.getparent().getparent().getparent()
                form = prop.get("value") or ""
                if not form or "/" in form or not (forms_dir / form).is_file():
                    add(owner, f'form "{form}" does not exist in forms/')
        for kind in ("timeDate", "timeDuration", "timeCycle"):
            for el in process.iterfind(f".//bpmn:{kind}", NS):
                event = el.getparent().getparent()
                message = _check_expression(el.text or "", timer=True, functions=functions)
                if message:
                    add(event, f"timer: {message}")
        for el in process.iterfind(".//bpmn:conditionExpression", NS):
            message = _check_expression(el.text or "", timer=False, functions=functions)
            if message:
                add(el.getparent(), f"condition: {message}")
    return problems


_PARSED: dict[str, list[ParsedProcess]] = {}
_PARSED_LIMIT = 64


def _bundle_key(
    files: Mapping[str, str | bytes],
    forms_dir: Path,
    timescales: Mapping[str, Timescale] | None,
    calendar: WorkingCalendar | None,
) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        content = files[name]
        digest.update(name.encode() + b"\0")
        digest.update(content if isinstance(content, bytes) else content.encode())
    forms = sorted(p.name for p in forms_dir.glob("*.json")) if forms_dir.is_dir() else []
    digest.update(repr((str(forms_dir), forms, sorted((timescales or {}).items()))).encode())
    digest.update(repr(sorted(calendar.closures) if calendar else []).encode())
    return digest.hexdigest()


def parse_bundle(
    files: Mapping[str, str | bytes],
    forms_dir: Path,
    timescales: Mapping[str, Timescale] | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[ParsedProcess]:
    """Validate and parse a set of BPMN files deployed together; raise DeploymentError.

    A bundle already parsed in this process (same files, forms, timescales and calendar) is
    not parsed again: packs are deployed to every new database in tests and demos.
    """
    key = _bundle_key(files, forms_dir, timescales, calendar)
    cached = _PARSED.get(key)
    if cached is None:
        cached = _parse_bundle(files, forms_dir, timescales, calendar)
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = cached
    return cached


def _parse_bundle(
    files: Mapping[str, str | bytes],
    forms_dir: Path,
    timescales: Mapping[str, Timescale] | None,
    calendar: WorkingCalendar | None,
) -> list[ParsedProcess]:
    functions = diagram_functions(calendar or WorkingCalendar(), timescales)
    problems: list[Problem] = []
    trees: dict[str, Any] = {}
    texts: dict[str, str] = {}
    for name, content in files.items():
        text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
        texts[name] = text
        try:
            root = etree.fromstring(
                text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True)
            )
        except etree.XMLSyntaxError as exc:
            problems.append(Problem(name, exc.lineno, None, f"not well-formed XML: {exc.msg}"))
            continue
        if root.tag != f"{{{BPMN}}}definitions":
            problems.append(
                Problem(
                    name,
                    root.sourceline,
                    None,
                    f"not a BPMN 2.0 file: the root element is {etree.QName(root).localname}, "
                    "not bpmn:definitions",
                )
            )
            continue
        problems.extend(_lint_tree(name, root, forms_dir, functions))
        trees[name] = root
    if problems:
        raise DeploymentError(problems)

    parser = Parser()
    for name, root in trees.items():
        try:
            parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
        except ValidationException as exc:
            problems.append(_from_validation(exc, name))
        except Exception as exc:  # noqa: BLE001 - foreign diagrams break parsers in many ways
            problems.append(
                Problem(name, None, None, f"cannot be read as an executable process: {exc}")
            )
    if problems:
        raise DeploymentError(problems)

    file_of = {pid: parser.get_process_parser(pid).filename for pid in parser.get_process_ids()}
    parsed: list[ParsedProcess] = []
    for pid in parser.get_process_ids():
        process_parser = parser.get_process_parser(pid)
        if process_parser.node.get("isExecutable") != "true":
            continue
        try:
            spec = parser.get_spec(pid)
            subs = parser.get_subprocess_specs(pid)
        except ValidationException as exc:
            problems.append(_from_validation(exc, file_of.get(pid, "?")))
            continue
        except Exception as exc:  # noqa: BLE001
            problems.append(
                Problem(
                    file_of.get(pid, "?"),
                    process_parser.node.sourceline,
                    pid,
                    f"cannot be executed: {exc}",
                )
            )
            continue
        own = file_of[pid]
        dependency_xml = {
            file_of[s]: texts[file_of[s]] for s in subs if file_of.get(s) and file_of[s] != own
        }
        digest = hashlib.sha256(texts[own].encode())
        for dep_name in sorted(dependency_xml):
            digest.update(b"\0" + dep_name.encode() + b"\0" + dependency_xml[dep_name].encode())
        parsed.append(
            ParsedProcess(
                pid,
                process_parser.get_name() or pid,
                own,
                texts[own],
                dependency_xml,
                spec,
                subs,
                digest.hexdigest(),
                sorted(subs),
            )
        )
    if problems:
        raise DeploymentError(problems)
    if not parsed:
        raise DeploymentError(
            [Problem(", ".join(files) or "(no files)", None, None, "no executable process found")]
        )
    return parsed


def _from_validation(exc: ValidationException, file_name: str) -> Problem:
    line = exc.line_number if isinstance(exc.line_number, int) else None
    message = str(exc).split("\n")[0]
    if (
        "call activity" in message.lower()
        or "callactivity" in message.lower()
        or "specification" in message.lower()
    ):
        message = f"{message} (is the called process in this deployment?)"
    return Problem(exc.file_name or file_name, line, exc.id or None, message)


def read_files(paths: list[Path]) -> dict[str, str]:
    """Read BPMN files (or every *.bpmn under folders), named relative to their folder."""
    files: dict[str, str] = {}
    for path in paths:
        if path.is_dir():
            for item in sorted(path.rglob("*.bpmn")):
                files[str(item.relative_to(path.parent))] = item.read_text(encoding="utf-8")
        else:
            files[path.name] = path.read_text(encoding="utf-8")
    return files
