"""Deploy-time check of what a gateway condition reads from a form's answers.

A step's answers live in case data under the form's name (forms.form_key: consent.json ->
`consent`). A condition reading `assessment_outcome.urgency` when assessment_outcome.json has
no field `urgency` deploys, then refuses every case that reaches the gateway (engine/runtime.py
turns it into an audited DiagramError that leaves the case as it was). What can be known from
the files is checked here, before any case runs: a field read from a form's answers (`form.x`,
`form["x"]`, `form.get("x")`) must be one the form can hold. Names that are not forms (start
data, message payloads) depend on the case and are left to the run-time refusal.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.deploy_rules import BPMN, Diagram, Problem

_CONDITION = f"{{{BPMN}}}conditionExpression"
_SCHEMA_PARTS = ("oneOf", "anyOf", "allOf", "then", "else")


def condition_fields(diagrams: list[Diagram]) -> Iterable[Problem]:
    """Every condition's reads of a form field the form does not have, on its flow."""
    for d in diagrams:
        fields = _form_fields(str(d.forms_dir), _forms_mtime(d.forms_dir))
        for el in d.root.iter(_CONDITION):
            for form, field in _reads(el.text or "", fields.keys()):
                if field not in fields[form]:
                    known = ", ".join(sorted(fields[form])[:12])
                    yield d.problem(
                        el.getparent(),
                        f'the condition reads "{form}.{field}", but the form {form}.json has '
                        f'no field "{field}", so every case reaching it would stop: use one of '
                        f"its fields ({known}) or add the field to the form",
                    )


def _reads(expression: str, forms: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(form, field) for each field read from a form's answers by name."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return  # the syntax check (engine/deployment.py) reports it
    names = set(forms)
    for node in ast.walk(tree):
        base, field = None, None
        if isinstance(node, ast.Attribute) and node.attr != "get":
            base, field = node.value, node.attr
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            base, field = node.value, node.slice.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            base, field = node.func.value, node.args[0].value
        if isinstance(base, ast.Name) and base.id in names and isinstance(field, str):
            yield base.id, field


def _forms_mtime(forms_dir: Path) -> float:
    return max((p.stat().st_mtime for p in forms_dir.glob("*.json")), default=0.0)


@lru_cache(maxsize=8)
def _form_fields(forms_dir: str, mtime: float) -> dict[str, frozenset[str]]:
    """Form key -> every top-level field its schema can hold (through oneOf, if/then...)."""
    out = {}
    for path in Path(forms_dir).glob("*.json"):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out[path.stem] = frozenset(_fields(schema))
    return out


def _fields(schema: Any) -> Iterator[str]:
    if not isinstance(schema, dict):
        return
    yield from schema.get("properties", {}) or {}
    for part in _SCHEMA_PARTS:
        value = schema.get(part)
        for sub in value if isinstance(value, list) else [value]:
            yield from _fields(sub)
    for sub in (schema.get("dependentSchemas") or {}).values():
        yield from _fields(sub)
