"""Deploy-time validation: refuse a diagram with every problem listed by element and line.

Diagrams come from practice managers' browsers, so nothing is trusted: XML that is not BPMN, a
process that cannot execute, a missing call target, a timer that does not evaluate, and any
script at all. What each construct may be is in `engine.deploy_rules`; add a rule to its lists
(or to `FILE_CHECKS`). The diagram conventions (lanes, documentation, forms, timer pairs,
escalations, drawing, rule ids: what the old build scripts guaranteed) are the rule set of
engine/conventions.json, run by `engine.conventions` with the council's context.

Just over 500 lines on purpose: every deploy-time check and the problem list it builds are read
together.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine import deploy_rules, timer_values
from engine.calendar import WorkingCalendar
from engine.condition_fields import condition_fields
from engine.conventions import Context as ConventionContext
from engine.conventions import check as check_conventions
from engine.deploy_rules import BPMN, NS, Diagram, Problem
from engine.expressions import SAFE_BUILTINS, ExpressionError, check_syntax, evaluate
from engine.functions import FUNCTION_NAMES, Timescale, diagram_functions
from engine.runtime import Parser

__all__ = ["DeploymentError", "ParsedProcess", "Problem", "parse_bundle", "read_files"]

FORM_PROPERTY = "formJsonSchemaFilename"


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


def _check_expression(text: str, *, timer: str | None, functions: Mapping[str, Any]) -> str | None:
    """Static check of a diagram expression; a timer (`timer` is its kind: timeDate...) is a
    standard ISO literal, or is tried on stand-in data and must give that kind of value."""
    text = (text or "").strip()
    if not text:
        return "the expression is empty"
    if timer and timer_values.literal(timer, text) is not None:
        return None
    if timer and any(timer_values.literal(kind, text) for kind in timer_values.KINDS):
        try:
            timer_values.checked(timer, text)  # a literal of another kind: say which to draw
        except ValueError as exc:
            return str(exc)
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
    for part in _constant_parts(ast.parse(text, mode="eval").body):
        try:  # bounded like any evaluation: 4000000**4000000 is refused here, not in a case
            evaluate(ast.unparse(part), {}, functions)
        except ExpressionError as exc:
            return f"{exc.problem} (in expression: {text})"
    if not timer:
        return None
    first: str | None = None
    for data in _probe_variants(text, allowed):
        try:
            timer_values.checked(timer, evaluate(text, data, functions))
        except ExpressionError as exc:
            first = first or str(exc)
        except ValueError as exc:
            first = first or f"{exc} (in expression: {text})"
        else:
            break
    else:
        return first
    tree = ast.parse(text, mode="eval").body
    for branch in _branches(tree) if isinstance(tree, ast.IfExp) else []:
        try:
            value = evaluate(branch, data, functions)
        except ExpressionError:
            continue  # may only fail on the stand-in data: the case's own is checked when run
        try:
            timer_values.checked(timer, value)
        except ValueError as exc:
            return f"{exc} (in expression: {text})"
    return None


def _constant_parts(node: ast.AST) -> list[ast.AST]:
    """The largest parts of an expression that read no case data or clock (worked out at
    deploy); plain literals are left out."""
    if isinstance(node, (ast.Constant, ast.expr_context)) or not isinstance(node, ast.expr):
        return []
    if not any(isinstance(n, ast.Name) for n in ast.walk(node)):
        return [node]
    return [p for child in ast.iter_child_nodes(node) for p in _constant_parts(child)]


def _branches(node: ast.expr) -> list[str]:
    """Each value a timer can give: both sides of every `a if condition else b`, so a branch the
    stand-in data would not take is tried too (a value of the wrong kind is refused)."""
    if isinstance(node, ast.IfExp):
        return _branches(node.body) + _branches(node.orelse)
    return [ast.unparse(node)]


PROBE_DATE = "2026-01-05"


PROBE_NUMBER = 24


def _probe_variants(text: str, functions: set[str]) -> Iterator[dict[str, Any]]:
    """Stand-in case data for the trial: every reference a date first, then each reference in
    turn a number (a manager's limit in hours, say), the others staying dates. The timer passes
    if one of them gives the right kind of value; the case's own data is checked when run."""
    chains = _reference_chains(text, functions)
    yield _probe_data(chains, {})
    leaves = {tuple(chain) for chain in chains}
    for leaf in sorted(leaves):
        yield _probe_data(chains, {leaf: PROBE_NUMBER})


def _reference_chains(text: str, functions: set[str]) -> list[list[str]]:
    """Each data reference of an expression as a path, e.g. ["allocation", "allocation_date"]."""
    tree = ast.parse(text, mode="eval")
    methods = {  # record.get("field"): the record is data, its method is not
        id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)
    }
    chains: list[list[str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) in methods:
            node = ast.Attribute(value=node.value, attr="")  # its owner is a record
        if isinstance(node, ast.Attribute):
            parts, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                parts.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name):
                chains.append([inner.id, *reversed(parts)])
        elif isinstance(node, ast.Name) and node.id not in functions:
            chains.append([node.id])
    return chains


def _probe_data(chains: list[list[str]], numbers: Mapping[tuple[str, ...], Any]) -> dict[str, Any]:
    """Nested stand-in data: each reference a date, unless `numbers` gives it a value."""
    data: dict[str, Any] = {}
    for chain in sorted(chains, key=len):
        target = data
        for part in chain[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target.setdefault(chain[-1], numbers.get(tuple(chain), PROBE_DATE))
    return data


def _lint_tree(d: Diagram) -> list[Problem]:
    """No code, expressions that parse (lanes, documentation, forms: engine.conventions)."""
    file_name, root, functions = d.file_name, d.root, d.functions
    problems: list[Problem] = []

    def add(el: Any, message: str) -> None:
        problems.append(d.problem(el, message))

    processes = root.findall(f"{{{BPMN}}}process")
    if not processes:
        problems.append(Problem(file_name, root.sourceline, None, "the file has no bpmn:process"))
    for process in processes:
        flow_nodes = [el for el in process if el.tag != f"{{{BPMN}}}laneSet"]
        if process.get("isExecutable") != "true" and flow_nodes:
            add(
                process,
                'the process is not executable: tick "Executable" in the process\'s '
                'properties (isExecutable="true")',
            )
            continue
        for sub in process.iterfind(".//bpmn:subProcess[@triggeredByEvent='true']", NS):
            for start in sub.iterfind("bpmn:startEvent", NS):
                if start.get("isInterrupting", "true") != "false":
                    add(
                        start,
                        "interrupting event subprocesses do not stop the main flow in this "
                        "engine: attach an interrupting boundary event to a subprocess instead",
                    )
        for tag in ("preScript", "postScript"):
            for el in process.iterfind(f".//spiffworkflow:{tag}", NS):
                if (el.text or "").strip():
                    owner = el.getparent().getparent()
                    add(owner, f"{tag} is not allowed: diagrams cannot run code")
        for kind in timer_values.KINDS:
            for el in process.iterfind(f".//bpmn:{kind}", NS):
                event = el.getparent().getparent()
                message = _check_expression(el.text or "", timer=kind, functions=functions)
                if message:
                    add(event, f"timer: {message}")
        for el in process.iterfind(".//spiffworkflow:messagePayload", NS):
            event = next(a for a in el.iterancestors() if a.get("id") and "Event" in a.tag)
            message = _check_expression(el.text or "", timer=None, functions=functions)
            if message:
                add(event, f"message payload: {message}")
        for el in process.iterfind(".//spiffworkflow:processVariableCorrelation/*", NS):
            if etree.QName(el).localname == "expression":
                message = _check_expression(el.text or "", timer=None, functions=functions)
                if message:
                    add(el.getparent().getparent(), f"correlation: {message}")
        for el in process.iterfind(".//bpmn:conditionExpression", NS):
            message = _check_expression(el.text or "", timer=None, functions=functions)
            if message:
                add(el.getparent(), f"condition: {message}")
    return problems


#: Checks run on each file before SpiffWorkflow parses it; each returns its problems.
FILE_CHECKS: list[Callable[[Diagram], Iterable[Problem]]] = [_lint_tree, *deploy_rules.RULES]
#: Checks run on all the files deployed together.
BUNDLE_CHECKS: list[Callable[[list[Diagram]], Iterable[Problem]]] = [
    *deploy_rules.BUNDLE_RULES,
    condition_fields,
]


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
    rules: ConventionContext | None = None,
) -> list[ParsedProcess]:
    """Validate and parse a set of BPMN files deployed together; raise DeploymentError.

    A bundle already parsed in this process (same files, forms, timescales and calendar) is
    not parsed again: packs are deployed to every new database in tests and demos.
    """
    rules = rules or ConventionContext(
        "any",
        frozenset(p.name for p in forms_dir.glob("*.json")),
        tuple(sorted((k, t.at_deadline) for k, t in (timescales or {}).items())),
    )
    key = _bundle_key(files, forms_dir, timescales, calendar) + str(hash(rules))
    cached = _PARSED.get(key)
    if cached is None:
        cached = _parse_bundle(files, forms_dir, timescales, calendar, rules)
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = cached
    return cached


def _parse_bundle(
    files: Mapping[str, str | bytes],
    forms_dir: Path,
    timescales: Mapping[str, Timescale] | None,
    calendar: WorkingCalendar | None,
    rules: ConventionContext,
) -> list[ParsedProcess]:
    functions = diagram_functions(calendar or WorkingCalendar(), timescales)
    problems: list[Problem] = []
    trees: dict[str, Any] = {}
    texts: dict[str, str] = {}
    for name, content in files.items():
        text = as_text(content)
        texts[name] = text
        try:
            root = etree.fromstring(text.encode("utf-8"), _xml_parser())
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
        trees[name] = root
    diagrams = [Diagram(name, root, forms_dir, functions) for name, root in trees.items()]
    for diagram in diagrams:
        for check in FILE_CHECKS:
            problems.extend(check(diagram))
        problems.extend(
            Problem(diagram.file_name, f.line, f.element_id, f.message)
            for f in check_conventions(diagram.root, rules)
        )
    for bundle_check in BUNDLE_CHECKS:
        problems.extend(bundle_check(diagrams))
    if problems:
        raise DeploymentError(problems)

    parser = Parser()
    for name, root in trees.items():
        try:
            parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
        except ValidationException as exc:
            problems.append(_from_validation(exc, name, trees))
        except Exception as exc:  # noqa: BLE001 - foreign diagrams break parsers in many ways
            problems.append(Problem(name, None, None, _unreadable(exc)))
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
            problems.append(_from_validation(exc, file_of.get(pid, "?"), trees))
            continue
        except Exception as exc:  # noqa: BLE001 - RecursionError on very long chains, and more
            where = file_of.get(pid, "?")
            problems.append(Problem(where, process_parser.node.sourceline, pid, _unreadable(exc)))
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


_TOO_LONG = (
    "the process is too long to read in one piece (hundreds of steps in a row): split it into "
    "subprocesses or call activities"
)
#: SpiffWorkflow's parser messages, in words for the practice manager who drew the diagram.
_REWORDED = [
    ("maximum recursion depth", _TOO_LONG),
    (
        "Multiple outgoing flows are not supported for tasks of type",
        "this step has more than one outgoing flow: draw an exclusive gateway after it for a "
        "choice, or a parallel gateway for steps that all happen",
    ),
    (
        "A Service Task must have an operator",
        "service tasks are not allowed: draw a user task where a person records the result",
    ),
    ("No start event found", "the process has no start event: draw one where it begins"),
    (
        "Exactly one start event is required",
        "the subprocess needs exactly one plain start event",
    ),
    (
        "Only one start event is allowed",
        "the process has more than one plain start event: keep one",
    ),
]


def _reworded(message: str) -> str:
    for fragment, wording in _REWORDED:
        if wording and fragment.lower() in message.lower():
            return wording
    return message


def _unreadable(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return _TOO_LONG
    return f"cannot be read as an executable process: {_reworded(str(exc).splitlines()[0])}"


def _from_validation(
    exc: ValidationException, file_name: str, trees: Mapping[str, Any] | None = None
) -> Problem:
    """Spiff's problem with its element's line (the parser often gives only the id)."""
    file_name = exc.file_name or file_name
    line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number else None
    root = (trees or {}).get(file_name)
    if line is None and exc.id and root is not None:
        found = root.xpath("//*[@id=$id]", id=exc.id)
        line = found[0].sourceline if found else None
    message = _reworded(str(exc).split("\n")[0])
    if (
        "call activity" in message.lower()
        or "callactivity" in message.lower()
        or "specification" in message.lower()
    ):
        message = f"{message} (is the called process in this deployment?)"
    return Problem(file_name, line, exc.id or None, message)


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


_DECLARATION = re.compile(r"""^\s*<\?xml[^>]*?\?>""")
_ENCODING = re.compile(r"""encoding\s*=\s*["'][^"']*["']""")


def as_text(content: str | bytes) -> str:
    """A file's text, whatever encoding its byte order mark or XML declaration names (UTF-8,
    UTF-16, Latin-1...), with the declaration saying UTF-8: how it is stored and served."""
    if isinstance(content, bytes):
        try:
            encoding = etree.fromstring(content, _xml_parser()).getroottree().docinfo.encoding
            text = content.decode(encoding or "utf-8")
        except (etree.XMLSyntaxError, LookupError, UnicodeDecodeError, ValueError):
            text = content.decode("utf-8", errors="replace")  # the parse will say what is wrong
    else:
        text = content
    text = text.lstrip("\ufeff")
    declaration = _DECLARATION.match(text)
    named = _ENCODING.search(declaration.group(0)) if declaration else None
    if declaration and named and not re.search(r"utf-?8", named.group(0), re.IGNORECASE):
        fixed = _ENCODING.sub('encoding="UTF-8"', declaration.group(0))
        text = fixed + text[declaration.end() :]
    return text


def read_files(paths: list[Path]) -> dict[str, str]:
    """Read BPMN files (or every *.bpmn under folders), named relative to their folder."""
    files: dict[str, str] = {}
    for path in paths:
        if path.is_dir():
            for item in sorted(path.rglob("*.bpmn")):
                files[str(item.relative_to(path.parent))] = as_text(item.read_bytes())
        else:
            files[path.name] = as_text(path.read_bytes())
    return files
