"""Task forms: a JSON Schema from forms/ as GOV.UK widgets, and posted strings as typed answers.

One module does both directions, so the field names the page posts are the names it reads:

    raw = raw_from_data(schema, draft_or_saved_answers)   # typed answers -> strings to show
    raw = raw_from_post(schema, request.form)             # what the browser sent -> strings
    raw, focus = apply_row_action(schema, raw, action)    # "Add another row" / "Remove row N"
    data, problems = parse(schema, raw)                   # strings -> typed answers
    view = build(schema, raw, errors)                     # fields for the form macros

"Raw" values are what a person typed, kept as strings so that a wrong answer can be shown back
exactly as typed: a text, a {"day", "month", "year"} dict for a date, a list for checkboxes and
a list of row dicts for a repeating table. Field names: `plan_stage`, a date's
`by_when-day`/`-month`/`-year`, a table cell `items-0-outcome`.

`parse` is lenient: an answer it cannot read (a date like 31/2/2026, "six" for a number) is
kept in a form the schema refuses, and reported in `problems`, so nothing unreadable can ever
be completed. A field revealed by `x-show-when` is dropped when its condition does not hold.

Over 500 lines on purpose: both directions (answers to fields, posted strings to answers) share the
field names, so they stay in one module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

MAX_ROWS = 100  # a tampered form cannot make the page build thousands of rows
CHARACTER_COUNT_FROM = 500  # textareas this long or longer get a character count
DATE_PARTS = ("day", "month", "year")
YES, NO = "yes", "no"

# Which widget a schema node becomes (forms/README.md, "Widgets follow from the schema").
TEXT, TEXTAREA, DATE, TIME, RADIOS, CHECKBOXES, YESNO, NUMBER, TABLE = (
    "text",
    "textarea",
    "date",
    "time",
    "radios",
    "checkboxes",
    "yesno",
    "number",
    "table",
)
_TIME_PATTERN = re.compile(r"^\^?\(\[01\]\[0-9\]\|2\[0-3\]\):\[0-5\]\[0-9\]\$?$")
_ACTION = re.compile(r"^(add-row):([a-z0-9_]+)$|^(remove-row):([a-z0-9_]+):(\d{1,4})$")


class UnsupportedSchema(ValueError):
    """A form uses a construct this renderer does not know; add it here before deploying."""


# --- schema reading ------------------------------------------------------------------------------


def widget(node: Mapping[str, Any]) -> str:
    """The widget for one property of a form."""
    kind = node.get("type")
    if kind == "boolean":
        return YESNO
    if kind in ("integer", "number"):
        return NUMBER
    if kind == "array":
        items = node.get("items", {})
        if items.get("type") == "object":
            return TABLE
        if node.get("x-widget") == "checkboxes" and "oneOf" in items:
            return CHECKBOXES
        raise UnsupportedSchema(f"array without checkboxes or object rows: {node.get('title')}")
    if kind == "string":
        if "oneOf" in node or "enum" in node:
            return RADIOS
        if node.get("format") == "date":
            return DATE
        if node.get("x-widget") == "textarea":
            return TEXTAREA
        if "pattern" in node:
            if _TIME_PATTERN.match(node["pattern"]):
                return TIME
            return TEXT
        return TEXT
    raise UnsupportedSchema(f"no widget for a {kind!r} field: {node.get('title')}")


def options(node: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A choice's options as {value, text, hint}, in the schema's order."""
    if "oneOf" in node:
        return [
            {"value": str(o["const"]), "text": o.get("title", str(o["const"])),
             "hint": o.get("description")}
            for o in node["oneOf"]
            if "const" in o
        ]  # fmt: skip
    return [{"value": str(v), "text": str(v), "hint": None} for v in node.get("enum", [])]


def _properties(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(schema.get("properties", {}))


def _row_schema(node: Mapping[str, Any]) -> dict[str, Any]:
    return dict(node.get("items", {}))


def _is_question(title: str) -> bool:
    return title.rstrip().endswith("?")


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[1].isupper():  # "GP", "CIN plan"
        return text
    return text[:1].lower() + text[1:]


def _shown(node: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """Whether a field's x-show-when condition holds for these typed values."""
    rule = node.get("x-show-when")
    if not rule:
        return True
    return rule.get("field") in values and values[rule["field"]] == rule.get("equals")


def _raw_equals(controller: Mapping[str, Any], rule_value: Any) -> str:
    """The raw (posted) value of a controlling field that reveals its dependants."""
    if isinstance(rule_value, bool):
        return YES if rule_value else NO
    return str(rule_value)


# --- typed data -> raw --------------------------------------------------------------------------


def _raw_scalar(node: Mapping[str, Any], value: Any) -> Any:
    kind = widget(node)
    if value is None:
        return {p: "" for p in DATE_PARTS} if kind == DATE else ("" if kind != CHECKBOXES else [])
    if kind == DATE:
        if isinstance(value, Mapping):  # an unreadable date kept by parse()
            return {p: str(value.get(p, "")) for p in DATE_PARTS}
        if isinstance(value, date):
            value = value.isoformat()
        parts = str(value).split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            year, month, day = parts
            return {"day": str(int(day)), "month": str(int(month)), "year": year}
        return {"day": "", "month": "", "year": str(value)}
    if kind == YESNO:
        if value is True:
            return YES
        if value is False:
            return NO
        return str(value)
    if kind == CHECKBOXES:
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return str(value)


def raw_from_data(schema: Mapping[str, Any], data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Typed answers (a saved draft, an example) as the strings the form shows."""
    data = data or {}
    raw: dict[str, Any] = {}
    for name, node in _properties(schema).items():
        if widget(node) == TABLE:
            row_props = _properties(_row_schema(node))
            rows = data.get(name)
            if not isinstance(rows, list):
                rows = [{} for _ in range(int(node.get("minItems", 0)))]
            raw[name] = [
                {k: _raw_scalar(n, (r if isinstance(r, Mapping) else {}).get(k))
                 for k, n in row_props.items()}
                for r in rows[:MAX_ROWS]
            ]  # fmt: skip
        else:
            raw[name] = _raw_scalar(node, data.get(name))
    return raw


# --- posted form -> raw -------------------------------------------------------------------------


def _posted_scalar(node: Mapping[str, Any], form: Any, name: str) -> Any:
    kind = widget(node)
    if kind == DATE:
        return {p: (form.get(f"{name}-{p}") or "") for p in DATE_PARTS}
    if kind == CHECKBOXES:
        return list(form.getlist(name)) if hasattr(form, "getlist") else list(form.get(name, []))
    return form.get(name) or ""


def raw_from_post(schema: Mapping[str, Any], form: Any) -> dict[str, Any]:
    """A posted form (a MultiDict) as raw values; unknown names are ignored.

    A table's rows are the row numbers that appear in posted names, in order and renumbered
    from 0, so a tampered or gappy numbering still gives a tidy table.
    """
    raw: dict[str, Any] = {}
    for name, node in _properties(schema).items():
        if widget(node) != TABLE:
            raw[name] = _posted_scalar(node, form, name)
            continue
        row_props = _properties(_row_schema(node))
        prefix = re.compile(rf"^{re.escape(name)}-(\d{{1,4}})-")
        indices = sorted({int(m.group(1)) for key in form for m in [prefix.match(key)] if m})
        raw[name] = [
            {k: _posted_scalar(n, form, f"{name}-{i}-{k}") for k, n in row_props.items()}
            for i in indices[:MAX_ROWS]
        ]
    return raw


def apply_row_action(
    schema: Mapping[str, Any], raw: dict[str, Any], action: str
) -> tuple[dict[str, Any], str | None]:
    """Add a row to, or remove row N from, a repeating table: nothing is saved.

    Returns the new raw values and the id of the field to focus (the new row's first field),
    or None. An action naming no table, or a row that does not exist, changes nothing.
    """
    match = _ACTION.match(action or "")
    if not match:
        return raw, None
    verb = match.group(1) or match.group(3)
    table = match.group(2) or match.group(4)
    node = _properties(schema).get(table)
    if node is None or widget(node) != TABLE:
        return raw, None
    row_props = _properties(_row_schema(node))
    rows = list(raw.get(table) or [])
    focus = None
    if verb == "add-row" and len(rows) < min(MAX_ROWS, int(node.get("maxItems", MAX_ROWS))):
        rows.append({k: _raw_scalar(n, None) for k, n in row_props.items()})
        first = next(iter(row_props), None)
        if first:
            focus = _anchor(row_props[first], f"{table}-{len(rows) - 1}-{first}")
    elif verb == "remove-row":
        index = int(match.group(5))
        if 0 <= index < len(rows):
            del rows[index]
    return {**raw, table: rows}, focus


def row_action(action: str | None) -> bool:
    """Whether a posted `action` is an add/remove row button."""
    return bool(_ACTION.match(action or ""))


# --- raw -> typed -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """An answer that could not be read; `path` is dotted like the engine's FieldError."""

    path: str
    message: str


def _clean_text(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _date_problem(title: str, parts: Mapping[str, str]) -> str | None:
    missing = [p for p in DATE_PARTS if not parts.get(p)]
    subject = _subject(title)
    if missing:
        if len(missing) == 1:
            return f"{subject} must include a {missing[0]}"
        return f"{subject} must include a {missing[0]} and {missing[1]}"
    day, month, year = (parts[p] for p in DATE_PARTS)
    if not (day.isdigit() and month.isdigit() and year.isdigit()):
        return f"{subject} must be a real date"
    if len(year) != 4:
        return f"Year must include 4 numbers, for example 2026 ({_lower_first(title)})"
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return f"{subject} must be a real date"
    return None


def _subject(title: str) -> str:
    """A field's title as the subject of an error message."""
    if _is_question(title):
        return f"The answer to ‘{title}’"
    return title[:1].upper() + title[1:]


def _parse_scalar(node: Mapping[str, Any], raw: Any, path: str) -> tuple[Any, Problem | None]:
    """(typed value or None when blank, problem or None)."""
    kind = widget(node)
    title = node.get("title", path)
    if kind == DATE:
        parts = {p: str((raw or {}).get(p, "")).strip() for p in DATE_PARTS}
        if not any(parts.values()):
            return None, None
        problem = _date_problem(title, parts)
        if problem:
            return dict(parts), Problem(path, problem)  # a dict: the schema refuses it
        return date(*(int(parts[p]) for p in ("year", "month", "day"))).isoformat(), None
    if kind == CHECKBOXES:
        chosen = {str(v) for v in (raw or [])}
        known = [o["value"] for o in options(node.get("items", {}))]
        typed = [v for v in known if v in chosen] + sorted(chosen - set(known))
        return (typed or None), None
    text = _clean_text(str(raw or ""))
    if not text:
        return None, None
    if kind == YESNO:
        if text == YES:
            return True, None
        if text == NO:
            return False, None
        return text, Problem(path, f"Select yes or no for ‘{title}’")
    if kind == NUMBER:
        try:
            number = int(text) if node.get("type") == "integer" else float(text)
        except ValueError:
            word = "a whole number" if node.get("type") == "integer" else "a number"
            return text, Problem(path, f"Enter {word} for ‘{title}’, like 4")
        return number, None
    return text, None


def parse(
    schema: Mapping[str, Any], raw: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """Raw strings as typed answers, leaving out blanks and fields whose reveal is closed."""
    data: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, node in _properties(schema).items():
        if widget(node) == TABLE:
            row_props = _properties(_row_schema(node))
            rows = []
            for i, raw_row in enumerate(raw.get(name) or []):
                row: dict[str, Any] = {}
                for key, sub in row_props.items():
                    value, problem = _parse_scalar(sub, raw_row.get(key), f"{name}.{i}.{key}")
                    if problem:
                        problems.append(
                            Problem(problem.path, in_row(schema, problem.path, problem.message))
                        )
                    if value is not None:
                        row[key] = value
                rows.append({k: v for k, v in row.items() if _shown(row_props[k], row)})
            if rows or name in schema.get("required", []):
                data[name] = rows
            continue
        value, problem = _parse_scalar(node, raw.get(name), name)
        if problem:
            problems.append(problem)
        if value is not None:
            data[name] = value
    # Drop answers under a closed reveal: in schema order, so a reveal inside a reveal follows.
    props = _properties(schema)
    for name in list(props):
        if name in data and not _shown(props[name], data):
            del data[name]
    return data, [p for p in problems if _present(data, p.path)]


def _present(data: Any, path: str) -> bool:
    """Whether typed data still holds the answer at a dotted path."""
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, Mapping) and part in data:
            data = data[part]
        else:
            return False
    return True


# --- messages -----------------------------------------------------------------------------------


def required_message(node: Mapping[str, Any]) -> str:
    """What to tell someone who left a required answer blank (GOV.UK error message style)."""
    title = node.get("title", "an answer")
    kind = widget(node)
    question = _is_question(title)
    if kind in (RADIOS, YESNO):
        return f"Select an answer to ‘{title}’" if question else f"Select {_lower_first(title)}"
    if kind == CHECKBOXES:
        return (
            f"Select at least one answer to ‘{title}’"
            if question
            else f"Select {_lower_first(title)}"
        )
    if kind == TABLE:
        return f"Add at least one row to ‘{title}’"
    return f"Answer ‘{title}’" if question else f"Enter {_lower_first(title)}"


def _node_at(schema: Mapping[str, Any], path: str) -> Mapping[str, Any] | None:
    node: Any = schema
    for part in path.split(".") if path else []:
        if part.isdigit():
            node = node.get("items", {})
            continue
        node = node.get("properties", {}).get(part) if isinstance(node, Mapping) else None
        if node is None:
            return None
    return node if path else None


def friendly(schema: Mapping[str, Any], path: str, message: str) -> str:
    """The engine's message for one field, reworded for the widget the person sees."""
    node = _node_at(schema, path)
    if node is None:
        return message
    title = node.get("title", "")
    engine_required = f"Enter {title[:1].lower() + title[1:]}"
    if (
        message == engine_required
        or message.startswith("Choose one of:")
        or (message.startswith("Add at least") and widget(node) == TABLE)
    ):
        message = required_message(node)
    return in_row(schema, path, message)


def in_row(schema: Mapping[str, Any], path: str, message: str) -> str:
    """A message about a table cell names its row by the row's title: "Plan item 1: enter who
    will do this" ("Row 1: ..." when the rows have no title)."""
    parts = path.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return message
    table = _node_at(schema, parts[0]) or {}
    row = table.get("items", {}) if isinstance(table, Mapping) else {}
    name = row.get("title", "Row") if isinstance(row, Mapping) else "Row"
    return f"{name} {int(parts[1]) + 1}: {_lower_first(message)}"


# --- raw -> widgets -----------------------------------------------------------------------------


def _anchor(node: Mapping[str, Any], field_id: str) -> str:
    """The id an error summary link points at: the first input of the field."""
    return f"{field_id}-day" if widget(node) == DATE else field_id


@dataclass
class Field:
    """One widget, as the form macros in templates/components/form/ draw it."""

    kind: str
    name: str  # the posted name (a date's parts add -day, -month, -year)
    id: str
    label: str
    hint: str | None
    value: Any
    error: str | None = None
    anchor: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)
    maxlength: int | None = None
    character_count: bool = False
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_title: str = ""
    can_add: bool = True
    min_rows: int = 0
    in_row: bool = False
    autofocus: bool = False
    width: str = ""
    # x-section: consecutive fields with the same section are drawn as one GOV.UK details
    # (for example the census questions), open when one of them needs attention.
    section: str = ""
    section_open: bool = False


@dataclass
class FormView:
    title: str
    description: str
    fields: list[Field]
    errors: list[dict[str, str]]  # the error summary: {"text", "href"} in page order


def _width(node: Mapping[str, Any]) -> str:
    kind = widget(node)
    if kind == NUMBER:
        return "govuk-input--width-3"
    if kind == TIME:
        return "govuk-input--width-5"
    longest = node.get("maxLength")
    if longest and longest <= 20:
        return "govuk-input--width-10"
    return ""


def _hint(node: Mapping[str, Any]) -> str | None:
    hint = node.get("description")
    if widget(node) == TIME and not hint:
        hint = "Use the 24-hour clock, for example 14:30"
    return hint


def _field(
    node: Mapping[str, Any],
    name: str,
    raw_value: Any,
    errors: Mapping[str, str],
    path: str,
    in_row: bool,
) -> Field:
    kind = widget(node)
    field_id = name
    view = Field(
        kind=kind,
        name=name,
        id=field_id,
        label=node.get("title", name),
        hint=_hint(node),
        value=raw_value,
        error=errors.get(path),
        anchor=_anchor(node, field_id),
        in_row=in_row,
        width=_width(node),
        section="" if in_row else node.get("x-section", ""),
    )
    if kind in (RADIOS, YESNO, CHECKBOXES):
        choices = options(node.get("items", {}) if kind == CHECKBOXES else node)
        if kind == YESNO:
            choices = [
                {"value": YES, "text": "Yes", "hint": None},
                {"value": NO, "text": "No", "hint": None},
            ]
        chosen = set(raw_value) if kind == CHECKBOXES else {raw_value}
        view.options = [{**o, "checked": o["value"] in chosen, "children": []} for o in choices]
    if kind == TEXTAREA or (kind == TEXT and node.get("maxLength")):
        view.maxlength = node.get("maxLength")
        view.character_count = kind == TEXTAREA and (view.maxlength or 0) >= CHARACTER_COUNT_FROM
    return view


def build(
    schema: Mapping[str, Any],
    raw: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    focus: str | None = None,
) -> FormView:
    """The form's widgets with the values to show and their errors (dotted path -> message).

    Fields with `x-show-when` go inside the matching option of their controlling radios
    (a GOV.UK conditional reveal); with JavaScript off every reveal is simply shown.
    """
    errors = dict(errors or {})
    props = _properties(schema)
    by_name: dict[str, Field] = {}
    top: list[Field] = []
    for name, node in props.items():
        kind = widget(node)
        if kind == TABLE:
            row_node = _row_schema(node)
            row_props = _properties(row_node)
            rows = []
            for i, raw_row in enumerate(raw.get(name) or []):
                cells = []
                for key, sub in row_props.items():
                    if widget(sub) in (TABLE,):
                        raise UnsupportedSchema(f"a table inside a table: {name}.{key}")
                    cell = _field(
                        sub, f"{name}-{i}-{key}", raw_row.get(key), errors, f"{name}.{i}.{key}",
                        in_row=True,
                    )  # fmt: skip
                    cell.autofocus = focus is not None and cell.anchor == focus
                    cells.append(cell)
                rows.append({"index": i, "number": i + 1, "fields": cells})
            min_rows = int(node.get("minItems", 0))
            view = Field(
                kind=TABLE,
                name=name,
                id=name,
                label=node.get("title", name),
                hint=node.get("description"),
                value=None,
                error=errors.get(name),
                anchor=rows[0]["fields"][0].anchor if rows and rows[0]["fields"] else name + "-add",
                rows=rows,
                row_title=row_node.get("title", "Row"),
                can_add=len(rows) < min(MAX_ROWS, int(node.get("maxItems", MAX_ROWS))),
                min_rows=min_rows,
            )
        else:
            view = _field(node, name, raw.get(name), errors, name, in_row=False)
        by_name[name] = view
        rule = node.get("x-show-when")
        controller = by_name.get(rule["field"]) if rule else None
        if controller is not None and controller.kind in (RADIOS, YESNO):
            wanted = _raw_equals(props[rule["field"]], rule.get("equals"))
            for option in controller.options:
                if option["value"] == wanted:
                    option["children"].append(view)
                    break
            else:
                top.append(view)
        else:
            top.append(view)
    summary: list[dict[str, str]] = []
    placed: set[str] = set()

    def collect(fields: Iterable[Field]) -> None:
        for f in fields:
            if f.error:
                summary.append({"text": f.error, "href": f"#{f.anchor}"})
                placed.add(f.id)
            for option in f.options:
                collect(option["children"])
            for row in f.rows:
                collect(row["fields"])

    collect(top)
    for f in top:
        f.section_open = any(g.error for g in top if g.section and g.section == f.section)
    for path, message in errors.items():
        if path.replace(".", "-") not in placed and not any(s["text"] == message for s in summary):
            summary.append({"text": message, "href": "#task-form"})
    return FormView(
        title=schema.get("title", ""),
        description=schema.get("description", ""),
        fields=top,
        errors=summary,
    )


def error_map(
    schema: Mapping[str, Any],
    engine_errors: Iterable[Any] = (),
    problems: Iterable[Problem] = (),
) -> dict[str, str]:
    """Dotted path -> one message: what parse() could not read wins over the schema's verdict."""
    out: dict[str, str] = {}
    for p in problems:
        out.setdefault(p.path, p.message)
    for e in engine_errors:
        path = getattr(e, "field", "") or ""
        if path in out:
            continue
        out[path] = friendly(schema, path, getattr(e, "message", str(e)))
    return out
