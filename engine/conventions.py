"""The diagram conventions as a rule set: what the old build scripts guaranteed, checked at deploy.

The rules themselves (which elements, which parameters, which messages) are data in
`conventions.json`; this module is the Python runner, webui/static/js/conventions.mjs the
browser's (tests/browser/test_conventions_parity.py keeps them in step). Each rule names a
`check` from a small fixed vocabulary (`in-lane`, `form-exists`, `timer-pair`, `escalation`,
`drawn`, ...), implemented once per runner. A finding names the
element and its line, so a practice manager can find what to fix.
"""

from __future__ import annotations

import ast
import json
import string
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine import yaml_files
from engine.timescales import load_profile

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "spiffworkflow": SPIFF}
RULES_FILE = Path(__file__).with_name("conventions.json")
FLOW_NODES = frozenset(
    f"{{{BPMN}}}{tag}"
    for tag in [
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "task",
        "userTask",
        "manualTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "scriptTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
    ]
)
TIMER_TEXT = ("timeDate", "timeDuration", "timeCycle")


@dataclass(frozen=True)
class Finding:
    rule: str
    line: int | None
    element_id: str | None
    message: str


@dataclass(frozen=True)
class Context:
    """What the rules check a diagram against: the council's forms, timescales and rules.

    `rule_ids` None means the council publishes no rule list (no coverage.yaml): rule ids are
    then not checked. Frozen and hashable, so deployment can cache a bundle's result.
    """

    council: str
    forms: frozenset[str]
    timescales: tuple[tuple[str, str], ...] = ()  # key -> at_deadline ("" or "abandon")
    rule_ids: frozenset[str] | None = None
    coverage: tuple[tuple[str, str, str], ...] = ()  # (rule id, process id, element id)


def context_json(context: Context) -> dict[str, Any]:
    """The context as the browser runner (webui/static/js/conventions.mjs) takes it."""
    return {
        "council": context.council,
        "forms": sorted(context.forms),
        "timescales": dict(context.timescales),
        "ruleIds": sorted(context.rule_ids) if context.rule_ids is not None else None,
        "coverage": [list(c) for c in context.coverage],
    }


def context_for(council: str, processes_dir: Path, forms_dir: Path) -> Context:
    """The context of a council's pack folder (timescales.yaml, coverage.yaml) and forms/."""
    folder = processes_dir / council
    stamps = tuple(
        (p.name, p.stat().st_mtime_ns) if p.is_file() else (p.name, 0)
        for p in (folder / "timescales.yaml", folder / "coverage.yaml", forms_dir)
    )
    return _context(council, folder, forms_dir, stamps)


@lru_cache(maxsize=64)
def _context(council: str, folder: Path, forms_dir: Path, _stamps: tuple[Any, ...]) -> Context:
    forms = (
        frozenset(p.name for p in forms_dir.glob("*.json")) if forms_dir.is_dir() else frozenset()
    )
    scales: tuple[tuple[str, str], ...] = ()
    rules: set[str] = set()
    if (folder / "timescales.yaml").is_file():
        profile = load_profile(folder / "timescales.yaml")
        scales = tuple(sorted((k, t.at_deadline) for k, t in profile.timescales.items()))
        rules |= {t.rule for t in profile.timescales.values() if t.rule}
    coverage: list[tuple[str, str, str]] = []
    has_coverage = (folder / "coverage.yaml").is_file()
    if has_coverage:
        raw = yaml_files.read(folder / "coverage.yaml") or {}
        for rule, entry in (raw.get("rules") or {}).items():
            rules.add(str(rule))
            for ref in (entry or {}).get("elements") or []:
                process, _, element = str(ref).partition(":")
                coverage.append((str(rule), process, element))
    return Context(
        council,
        forms,
        scales,
        frozenset(rules) if has_coverage else None,
        tuple(coverage),
    )


@lru_cache(maxsize=1)
def rule_set() -> dict[str, Any]:
    """conventions.json: its `rules` in order and the `pack_prefixes` of the pack scope."""
    return json.loads(RULES_FILE.read_text(encoding="utf-8"))


def check(root: Any, context: Context) -> list[Finding]:
    """Every convention finding for one BPMN file (an lxml bpmn:definitions element)."""
    rules = rule_set()
    prefixes = tuple(p.replace("{council}", context.council) for p in rules["pack_prefixes"])
    findings: list[Finding] = []
    for process in root.iterfind("bpmn:process", NS):
        view = _Process(process)
        in_pack = (process.get("id") or "").startswith(prefixes)
        for rule in rules["rules"]:
            if rule["scope"] == "all" or in_pack:
                findings.extend(CHECKS[rule["check"]](rule, view, context, root))
    return findings


# -- the process as the checks see it ------------------------------------------------------------


class _Process:
    def __init__(self, node: Any) -> None:
        self.node = node
        self.nodes = [el for el in node.iter() if el.tag in FLOW_NODES]
        self.by_id = {el.get("id"): el for el in node.iter() if el.get("id")}
        self.lane_of: dict[str, str] = {}
        for lane in node.iterfind(".//bpmn:lane", NS):
            for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                if ref.text:
                    self.lane_of.setdefault(ref.text.strip(), lane.get("name") or "")
        self.flows = list(node.iterfind(".//bpmn:sequenceFlow", NS))
        self.targets: dict[str, list[str]] = defaultdict(list)
        for flow in self.flows:
            self.targets[flow.get("sourceRef")].append(flow.get("targetRef"))

    def select(self, tags: Iterable[str]) -> Iterator[Any]:
        wanted = {f"{{{BPMN}}}{t}" for t in tags}
        return (el for el in self.node.iter() if el.tag in wanted)

    def timers(self) -> Iterator[tuple[Any, str]]:
        """(event, expression) for every timer event."""
        for definition in self.node.iterfind(".//bpmn:timerEventDefinition", NS):
            for kind in TIMER_TEXT:
                text = definition.findtext(f"bpmn:{kind}", namespaces=NS)
                if text is not None:
                    yield definition.getparent(), text


def _prop(el: Any, name: str) -> str | None:
    for prop in el.iterfind("bpmn:extensionElements/spiffworkflow:properties/*", NS):
        if prop.get("name") == name:
            return prop.get("value") or ""
    return None


def _name(el: Any) -> str:
    return (el.get("name") or "").strip() or el.get("id") or "?"


class _Blank(string.Formatter):
    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        return kwargs.get(key, "")


def _finding(rule: Mapping[str, Any], el: Any, template: str, **values: Any) -> Finding:
    values.setdefault("name", _name(el))
    values.setdefault("id", el.get("id"))
    message = _Blank().format(rule[template], **values)
    return Finding(rule["id"], el.sourceline, el.get("id"), message)


def _timescale_calls(text: str, functions: Iterable[str]) -> Iterator[tuple[str, str | None]]:
    """(function, key or None when not a literal) for each deadline()/reminder() call."""
    try:
        tree = ast.parse((text or "").strip(), mode="eval")
    except SyntaxError:
        return  # the expression check in engine.deployment reports it
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in functions
        ):
            arg = (
                node.args[0]
                if node.args
                else next((k.value for k in node.keywords if k.arg == "key"), None)
            )
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            yield node.func.id, (arg.value if literal else None)  # type: ignore[union-attr]


# -- the checks ---------------------------------------------------------------------------------

Check = Callable[[Mapping[str, Any], _Process, Context, Any], Iterator[Finding]]


def _in_lane(rule: Mapping[str, Any], p: _Process, ctx: Context, root: Any) -> Iterator[Finding]:
    for el in p.select(rule["select"]):
        if el.get("id") not in p.lane_of:
            yield _finding(rule, el, "message")


def _documented(rule: Mapping[str, Any], p: _Process, ctx: Context, root: Any) -> Iterator[Finding]:
    for el in p.select(rule["select"]):
        if not (el.findtext("bpmn:documentation", namespaces=NS) or "").strip():
            yield _finding(rule, el, "message")


def _has_property(
    rule: Mapping[str, Any], p: _Process, ctx: Context, root: Any
) -> Iterator[Finding]:
    for el in p.select(rule["select"]):
        if not _prop(el, rule["property"]):
            yield _finding(rule, el, "message")


def _form_exists(
    rule: Mapping[str, Any], p: _Process, ctx: Context, root: Any
) -> Iterator[Finding]:
    for el in p.nodes:
        form = _prop(el, rule["property"])
        if form is not None and ("/" in form or "\\" in form or form not in ctx.forms):
            yield _finding(rule, el, "message", value=form)


def _rule_ids(rule: Mapping[str, Any], p: _Process, ctx: Context, root: Any) -> Iterator[Finding]:
    if ctx.rule_ids is None:
        return
    shared = (p.node.get("id") or "").startswith(rule["shared_prefix"])
    prefixes = {r[:1] for r in ctx.rule_ids}
    known = ", ".join(sorted(ctx.rule_ids, key=lambda r: (r[:1], len(r), r)))
    for el in p.node.iter():
        value = _prop(el, rule["property"]) if el.tag in FLOW_NODES else None
        for rid in (value or "").replace(",", "/").split("/"):
            rid = rid.strip()
            if not rid or rid in ctx.rule_ids or (shared and rid[:1] not in prefixes):
                continue
            yield _finding(rule, el, "message", value=rid, council=ctx.council, known=known)


def _timer_key(rule: Mapping[str, Any], p: _Process, ctx: Context, root: Any) -> Iterator[Finding]:
    keys = dict(ctx.timescales)
    known = ", ".join(sorted(keys)) or "none"
    for event, text in p.timers():
        for function, key in _timescale_calls(text, rule["functions"]):
            if key is None:
                yield _finding(rule, event, "not_literal", value=function)
            elif key not in keys:
                yield _finding(rule, event, "message", key=key, council=ctx.council, known=known)


def _boundary_timers(p: _Process, prop: str) -> Iterator[tuple[Any, str | None]]:
    for event in p.select(["boundaryEvent"]):
        if event.find("bpmn:timerEventDefinition", NS) is not None:
            yield event, _prop(event, prop)


def _timer_kind(rule: Mapping[str, Any], p: _Process, ctx: Context, root: Any) -> Iterator[Finding]:
    for event, kind in _boundary_timers(p, rule["property"]):
        if kind not in rule["values"]:
            yield _finding(rule, event, "message")


def _timer_pair(rule: Mapping[str, Any], p: _Process, ctx: Context, root: Any) -> Iterator[Finding]:
    kinds: dict[str, set[str | None]] = defaultdict(set)
    for event, kind in _boundary_timers(p, rule["property"]):
        kinds[event.get("attachedToRef")].add(kind)
    for host_id, found in kinds.items():
        host = p.by_id.get(host_id)
        if host is None:
            continue
        if "reminder" in found and "deadline" not in found:
            yield _finding(rule, host, "missing_deadline")
        if "deadline" in found and "reminder" not in found:
            yield _finding(rule, host, "missing_reminder")


def _escalation(rule: Mapping[str, Any], p: _Process, ctx: Context, root: Any) -> Iterator[Finding]:
    at_deadline = dict(ctx.timescales)
    texts = {id(event): text for event, text in p.timers()}
    user_task = f"{{{BPMN}}}userTask"
    for event, kind in _boundary_timers(p, rule["property"]):
        if kind != rule["value"]:
            continue
        keys = [k for _, k in _timescale_calls(texts.get(id(event), ""), ("deadline",)) if k]
        abandoned = [k for k in keys if at_deadline.get(k) == rule["abandon_value"]]
        if abandoned:
            if event.get("cancelActivity", "true") == "false":
                yield _finding(rule, event, "abandon_message", key=abandoned[0])
            continue
        seen, todo, found = set(), list(p.targets.get(event.get("id"), [])), False
        while todo and not found:
            node_id = todo.pop()
            if node_id in seen:
                continue
            seen.add(node_id)
            node = p.by_id.get(node_id)
            if node is not None and node.tag == user_task:
                found = p.lane_of.get(node_id) == rule["lane"]
            else:
                todo.extend(p.targets.get(node_id, []))
        if not found:
            yield _finding(rule, event, "message")


def _drawn(rule: Mapping[str, Any], p: _Process, ctx: Context, root: Any) -> Iterator[Finding]:
    diagrams = root.findall("bpmndi:BPMNDiagram", NS)
    if not diagrams:
        yield _finding(rule, p.node, "no_diagram")
        return
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    for el in p.nodes:
        if el.get("id") not in shapes:
            yield _finding(rule, el, "no_shape")
    for flow in p.flows:
        if flow.get("id") not in edges:
            yield _finding(rule, flow, "no_edge")


def _coverage(rule: Mapping[str, Any], p: _Process, ctx: Context, root: Any) -> Iterator[Finding]:
    pid = p.node.get("id")
    for rule_id, process, element in ctx.coverage:
        if process == pid and element not in p.by_id:
            found = _finding(rule, p.node, "message", value=rule_id, key=f"{pid}:{element}")
            yield Finding(found.rule, found.line, element, found.message)


CHECKS: dict[str, Check] = {
    "in-lane": _in_lane,
    "has-documentation": _documented,
    "has-property": _has_property,
    "form-exists": _form_exists,
    "rule-ids": _rule_ids,
    "timer-key": _timer_key,
    "timer-kind": _timer_kind,
    "timer-pair": _timer_pair,
    "escalation": _escalation,
    "drawn": _drawn,
    "coverage": _coverage,
}
