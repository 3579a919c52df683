"""webui.form_render: every widget, and render -> post -> typed data for every form in forms/.

Over 500 lines on purpose: one test per widget, plus the round trip for every form, read as one
catalogue.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import lxml.html
import pytest
from werkzeug.datastructures import MultiDict

from engine.errors import FieldError
from engine.forms import validate
from webui import create_app
from webui import form_render as fr

ROOT = Path(__file__).resolve().parents[2]
FORMS = sorted(p.stem for p in (ROOT / "forms").glob("*.json"))
MACROS = '{% from "components/form/fields.html" import form_fields %}{{ form_fields(view.fields) }}'


def schema_of(name: str) -> dict:
    return json.loads((ROOT / "forms" / f"{name}.json").read_text())


def example_of(name: str) -> dict:
    return json.loads((ROOT / "forms" / "examples" / f"{name}.valid.json").read_text())


class BrowserForm(HTMLParser):
    """What a browser would post for this HTML: successful controls only (HTML5 4.10.21.4).

    Text inputs and textareas always; radios and checkboxes only when checked; no buttons.
    Also records every id, for checking that error links and labels point somewhere.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self.ids: list[str] = []
        self.labels_for: list[str] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "label" and "for" in a:
            self.labels_for.append(a["for"])
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset"):
                self.pairs.append((a["name"], a.get("value") or ""))
        if tag == "textarea":
            self._textarea, self._text = a.get("name"), []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            # HTML drops one newline straight after <textarea>; browsers post CRLF line ends.
            text = text[1:] if text.startswith("\n") else text
            self.pairs.append((self._textarea, text.replace("\n", "\r\n")))
            self._textarea = None


def submit(html: str) -> MultiDict:
    parser = BrowserForm()
    parser.feed(html)
    return MultiDict(parser.pairs)


@pytest.fixture(scope="module")
def render():
    app = create_app({"TESTING": True, "SECRET_KEY": "t"})
    template = app.jinja_env.from_string(MACROS)

    def _render(view) -> str:
        with app.test_request_context():
            return template.render(view=view)

    return _render


def page_for(render, name, data=None, errors=None):
    schema = schema_of(name)
    view = fr.build(schema, fr.raw_from_data(schema, data), errors)
    return render(view), view


# --- the round trip, for every form -------------------------------------------------------------


@pytest.mark.parametrize("name", FORMS)
def test_round_trip_every_form(render, name):
    """Render the example, post what a browser would send, and get the example back."""
    schema, example = schema_of(name), example_of(name)
    html, _ = page_for(render, name, example)
    posted = submit(html)
    data, problems = fr.parse(schema, fr.raw_from_post(schema, posted))
    assert problems == []
    assert data == example
    validate(f"{name}.json", data)  # and the engine accepts it


@pytest.mark.parametrize("name", FORMS)
def test_every_form_renders_blank_with_labels_for_every_input(render, name):
    html, view = page_for(render, name)
    parser = BrowserForm()
    parser.feed(html)
    ids = set(parser.ids)
    assert len(parser.ids) == len(ids), "duplicate ids"
    for target in parser.labels_for:
        assert target in ids
    assert view.title and view.fields
    # A blank form parses to nothing but empty required tables (the form's own minimum).
    data, problems = fr.parse(schema_of(name), fr.raw_from_post(schema_of(name), submit(html)))
    assert problems == []
    assert all(v == [{}] * len(v) for v in data.values()), data


# --- widgets -------------------------------------------------------------------------------------

TEXTS = {
    "type": "object",
    "required": ["name", "notes"],
    "properties": {
        "name": {"type": "string", "title": "Name", "description": "Full name", "maxLength": 200},
        "notes": {"type": "string", "title": "Notes", "x-widget": "textarea", "maxLength": 1000},
        "short": {"type": "string", "title": "Short note", "x-widget": "textarea"},
        "meeting_time": {
            "type": "string",
            "title": "Time",
            "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
        },
        "when": {"type": "string", "format": "date", "title": "Date of the visit"},
        "weeks": {"type": "integer", "title": "How many weeks?", "minimum": 1},
        "agreed": {"type": "boolean", "title": "Was it agreed?"},
        "reason": {
            "type": "string",
            "title": "Why not?",
            "x-widget": "textarea",
            "maxLength": 500,
            "x-show-when": {"field": "agreed", "equals": False},
        },
        "stage": {
            "type": "string",
            "title": "Which stage?",
            "oneOf": [
                {"const": "first", "title": "First", "description": "The first one"},
                {"const": "second", "title": "Second"},
            ],
        },
        "second_detail": {
            "type": "string",
            "title": "Second detail",
            "x-show-when": {"field": "stage", "equals": "second"},
        },
        "checks": {
            "type": "array",
            "title": "Checks done",
            "x-widget": "checkboxes",
            "uniqueItems": True,
            "items": {
                "type": "string",
                "oneOf": [
                    {"const": "gp", "title": "GP"},
                    {"const": "school", "title": "School"},
                    {"const": "police", "title": "Police"},
                ],
            },
        },  # fmt: skip
        "rows": {
            "type": "array",
            "title": "People",
            "minItems": 1,
            "items": {
                "type": "object",
                "title": "Person",
                "required": ["who"],
                "properties": {
                    "who": {"type": "string", "title": "Who"},
                    "by": {"type": "string", "format": "date", "title": "By when"},
                    "ok": {
                        "type": "string",
                        "title": "Done?",
                        "oneOf": [{"const": "yes", "title": "Yes"}, {"const": "no", "title": "No"}],
                    },
                },  # fmt: skip
            },
        },
    },
}


def render_schema(render, raw, errors=None, focus=None):
    return render(fr.build(TEXTS, raw, errors, focus))


def blank():
    return fr.raw_from_data(TEXTS, {})


def test_widget_kinds():
    kinds = {name: fr.widget(node) for name, node in TEXTS["properties"].items()}
    assert kinds == {
        "name": "text",
        "notes": "textarea",
        "short": "textarea",
        "meeting_time": "time",
        "when": "date",
        "weeks": "number",
        "agreed": "yesno",
        "reason": "textarea",
        "stage": "radios",
        "second_detail": "text",
        "checks": "checkboxes",
        "rows": "table",
    }
    with pytest.raises(fr.UnsupportedSchema):
        fr.widget({"type": "object", "title": "Nested"})


def test_text_input_label_hint_and_value(render):
    raw = {**blank(), "name": "Ada"}
    html = render_schema(render, raw)
    assert '<label class="govuk-label govuk-label--s" for="name">' in html
    assert 'id="name-hint"' in html and "Full name" in html
    assert re.search(r'id="name" name="name" type="text" value="Ada"', html)


def test_textarea_with_character_count_only_when_long(render):
    html = render_schema(render, blank())
    assert 'data-module="govuk-character-count" data-maxlength="1000"' in html
    assert "You can enter up to 1000 characters" in html
    # Notes (1000) and the reason (500) count characters; "short" has no maxLength.
    assert html.count('data-module="govuk-character-count"') == 2
    assert '<textarea class="govuk-textarea" id="short" name="short" rows="5"' in html


def test_time_input_is_short_with_24_hour_hint(render):
    html = render_schema(render, blank())
    assert "govuk-input--width-5" in html
    assert "Use the 24-hour clock, for example 14:30" in html


def test_date_input_three_fields_to_iso(render):
    raw = {**blank(), "when": {"day": "4", "month": "5", "year": "2026"}}
    html = render_schema(render, raw)
    for part, value in (("day", "4"), ("month", "5"), ("year", "2026")):
        assert f'id="when-{part}" name="when-{part}" type="text" value="{value}"' in html
    data, problems = fr.parse(TEXTS, fr.raw_from_post(TEXTS, submit(html)))
    assert data["when"] == "2026-05-04" and problems == []
    # ISO back to the three boxes, without leading zeros.
    assert fr.raw_from_data(TEXTS, {"when": "2026-05-04"})["when"] == {
        "day": "4",
        "month": "5",
        "year": "2026",
    }


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"day": "31", "month": "2", "year": "2026"}, "Date of the visit must be a real date"),
        ({"day": "", "month": "2", "year": "2026"}, "Date of the visit must include a day"),
        ({"day": "1", "month": "", "year": ""}, "Date of the visit must include a month and year"),
        ({"day": "a", "month": "2", "year": "2026"}, "Date of the visit must be a real date"),
        ({"day": "1", "month": "2", "year": "26"}, "Year must include 4 numbers"),
    ],
)
def test_date_problems_keep_what_was_typed(render, parts, message):
    data, problems = fr.parse(TEXTS, {**blank(), "when": parts})
    assert [p.path for p in problems] == ["when"]
    assert problems[0].message.startswith(message)
    # Kept as typed (the schema refuses a dict), and shown back as typed.
    assert data["when"] == parts
    assert fr.raw_from_data(TEXTS, data)["when"] == parts
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do
        import jsonschema

        jsonschema.validate(data["when"], TEXTS["properties"]["when"])


def test_blank_date_is_left_out():
    data, problems = fr.parse(TEXTS, blank())
    assert "when" not in data and problems == []


def test_number_input(render):
    html = render_schema(render, {**blank(), "weeks": "4"})
    assert 'inputmode="numeric"' in html and "govuk-input--width-3" in html
    data, problems = fr.parse(TEXTS, {**blank(), "weeks": "4"})
    assert data["weeks"] == 4 and isinstance(data["weeks"], int) and not problems
    data, problems = fr.parse(TEXTS, {**blank(), "weeks": "four"})
    assert data["weeks"] == "four"
    assert problems[0].message == "Enter a whole number for ‘How many weeks?’, like 4"


def test_yes_no_radios_are_booleans(render):
    html = render_schema(render, {**blank(), "agreed": "yes"})
    assert 'name="agreed" type="radio" value="yes" checked' in html
    assert fr.parse(TEXTS, {**blank(), "agreed": "yes"})[0]["agreed"] is True
    assert fr.parse(TEXTS, {**blank(), "agreed": "no"})[0]["agreed"] is False
    data, problems = fr.parse(TEXTS, {**blank(), "agreed": "maybe"})
    assert data["agreed"] == "maybe" and problems[0].path == "agreed"
    assert fr.raw_from_data(TEXTS, {"agreed": False})["agreed"] == "no"


def test_radios_with_option_hints(render):
    html = render_schema(render, {**blank(), "stage": "second"})
    assert 'id="stage" name="stage" type="radio" value="first"' in html
    assert 'id="stage-2" name="stage" type="radio" value="second" checked' in html
    assert 'id="stage-item-hint"' in html and "The first one" in html
    assert fr.parse(TEXTS, {**blank(), "stage": "second"})[0]["stage"] == "second"


def test_checkboxes_are_lists_in_schema_order(render):
    html = render_schema(render, {**blank(), "checks": ["police", "gp"]})
    assert 'name="checks" type="checkbox" value="gp" checked' in html
    assert 'name="checks" type="checkbox" value="school"' in html
    posted = submit(html)
    assert posted.getlist("checks") == ["gp", "police"]
    data, _ = fr.parse(TEXTS, fr.raw_from_post(TEXTS, posted))
    assert data["checks"] == ["gp", "police"]
    assert "checks" not in fr.parse(TEXTS, blank())[0]


def test_conditional_reveal_sits_under_its_answer(render):
    html = render_schema(render, {**blank(), "agreed": "no"})
    tree = lxml.html.fromstring(html)
    # The "No" radio controls the reveal holding the reason; yes/no with a reveal is stacked.
    no = tree.get_element_by_id("agreed-2")
    assert no.get("value") == "no" and no.get("checked") is not None
    assert no.get("data-aria-controls") == "conditional-agreed-2"
    reveal = tree.get_element_by_id("conditional-agreed-2")
    assert "govuk-radios__conditional--hidden" not in reveal.get("class")
    assert reveal.xpath(".//textarea[@name='reason']")
    assert "govuk-radios--inline" not in no.xpath("ancestor::div[@data-module]")[0].get("class")
    # The reveal under "Second" is hidden until chosen (GOV.UK shows it anyway without JS).
    second = tree.get_element_by_id("conditional-stage-2")
    assert "govuk-radios__conditional--hidden" in second.get("class")
    assert second.xpath(".//input[@name='second_detail']")
    # Not revealed twice: the dependants are not also at the top level.
    assert len(tree.xpath("//textarea[@name='reason']")) == 1


def test_answers_under_a_closed_reveal_are_dropped():
    raw = {**blank(), "agreed": "yes", "reason": "typed before changing the answer"}
    data, _ = fr.parse(TEXTS, raw)
    assert data["agreed"] is True and "reason" not in data
    data, _ = fr.parse(TEXTS, {**raw, "agreed": "no"})
    assert data["reason"] == "typed before changing the answer"
    # A problem in a dropped field is dropped with it.
    raw = {**blank(), "stage": "first", "second_detail": "x"}
    assert "second_detail" not in fr.parse(TEXTS, raw)[0]


def test_text_is_trimmed_and_line_ends_normalised():
    data, _ = fr.parse(TEXTS, {**blank(), "name": "  Ada  ", "notes": "one\r\ntwo\r\n"})
    assert data["name"] == "Ada" and data["notes"] == "one\ntwo"
    assert "short" not in fr.parse(TEXTS, {**blank(), "short": "   "})[0]


# --- the repeating table ------------------------------------------------------------------------


def test_table_rows_and_indexed_names(render):
    raw = fr.raw_from_data(TEXTS, {"rows": [{"who": "Mum", "by": "2026-12-01", "ok": "yes"}]})
    html = render_schema(render, raw)
    assert "Person 1" in html
    assert 'id="rows-0-who" name="rows-0-who" type="text" value="Mum"' in html
    assert 'name="rows-0-by-day" type="text" value="1"' in html
    assert 'name="rows-0-ok" type="radio" value="yes" checked' in html
    assert "govuk-radios--small" in html
    # One row and minItems 1: the only row cannot be removed.
    assert "Remove row 1" not in html
    assert 'name="action" value="add-row:rows"' in html and "Add another row" in html
    data, problems = fr.parse(TEXTS, fr.raw_from_post(TEXTS, submit(html)))
    assert data["rows"] == [{"who": "Mum", "by": "2026-12-01", "ok": "yes"}] and not problems


def test_add_and_remove_rows_keep_the_answers(render):
    raw = fr.raw_from_data(TEXTS, {"rows": [{"who": "Mum"}, {"who": "Dad"}]})
    raw, focus = fr.apply_row_action(TEXTS, raw, "add-row:rows")
    assert [r["who"] for r in raw["rows"]] == ["Mum", "Dad", ""]
    assert focus == "rows-2-who"
    html = render_schema(render, raw, focus=focus)
    assert re.search(r'id="rows-2-who" name="rows-2-who" type="text" value=""\s+autofocus', html)
    for n in (1, 2, 3):
        assert f"Remove row {n}" in html
    posted = fr.raw_from_post(TEXTS, submit(html))
    raw, focus = fr.apply_row_action(TEXTS, posted, "remove-row:rows:0")
    assert [r["who"] for r in raw["rows"]] == ["Dad", ""] and focus is None
    # Unknown table, unknown row, nonsense: nothing changes.
    for action in ("remove-row:rows:9", "add-row:nope", "remove-row:name:0", "rm", ""):
        assert fr.apply_row_action(TEXTS, raw, action)[0] == raw
    assert fr.row_action("add-row:rows") and not fr.row_action("complete")


def test_posted_row_numbers_are_renumbered_and_capped():
    posted = MultiDict([("rows-7-who", "b"), ("rows-3-who", "a"), ("rows-x-who", "no")])
    assert [r["who"] for r in fr.raw_from_post(TEXTS, posted)["rows"]] == ["a", "b"]
    many = MultiDict([(f"rows-{i}-who", str(i)) for i in range(500)])
    assert len(fr.raw_from_post(TEXTS, many)["rows"]) == fr.MAX_ROWS


def test_table_without_rows_offers_to_add(render):
    schema = schema_of("strategy_discussion")
    raw = fr.raw_from_data(schema, {})
    assert raw["attendees"] == []
    html = render(fr.build(schema, raw))
    assert "No rows yet." in html and "add-row:attendees" in html
    assert "attendees" not in fr.parse(schema, raw)[0]


# --- errors ---------------------------------------------------------------------------------------


def test_errors_inline_and_in_summary_in_page_order(render):
    errors = fr.error_map(
        TEXTS,
        [
            FieldError("rows.0.who", "Enter who"),
            FieldError("name", "Enter name"),
            FieldError("stage", "Enter which stage?"),
            FieldError("checks", "Choose one of: GP, School, Police (got 'x')"),
            FieldError("", "Something about the whole form"),
        ],
        [fr.Problem("when", "Date of the visit must be a real date")],
    )
    view = fr.build(TEXTS, blank(), errors)
    assert view.errors == [
        {"text": "Enter name", "href": "#name"},
        {"text": "Date of the visit must be a real date", "href": "#when-day"},
        {"text": "Select an answer to ‘Which stage?’", "href": "#stage"},
        {"text": "Select checks done", "href": "#checks"},
        {"text": "Person 1: enter who", "href": "#rows-0-who"},
        {"text": "Something about the whole form", "href": "#task-form"},
    ]
    html = render(view)
    assert 'class="govuk-form-group govuk-form-group--error"' in html
    assert '<span class="govuk-visually-hidden">Error:</span> Enter name' in html
    assert "govuk-input--error" in html
    ids = set(BrowserForm().ids)
    parser = BrowserForm()
    parser.feed(html)
    ids = set(parser.ids)
    for item in view.errors[:-1]:
        assert item["href"][1:] in ids


def test_required_messages_fit_the_widget():
    props = TEXTS["properties"]
    assert fr.required_message(props["name"]) == "Enter name"
    assert fr.required_message(props["agreed"]) == "Select an answer to ‘Was it agreed?’"
    assert fr.required_message(props["reason"]) == "Answer ‘Why not?’"
    assert fr.required_message(props["checks"]) == "Select checks done"
    assert fr.required_message(props["rows"]) == "Add at least one row to ‘People’"
    assert fr.required_message({"type": "string", "title": "GP name"}) == "Enter GP name"


def test_engine_messages_for_a_real_form_are_reworded():
    schema = schema_of("cin_plan")
    with pytest.raises(Exception) as caught:
        validate("cin_plan.json", {"items": [{}], "child_involved": False})
    errors = fr.error_map(schema, caught.value.errors)
    assert errors["plan_stage"] == "Select an answer to ‘Which plan is this?’"
    assert errors["items.0.assessed_need"] == "Plan item 1: enter assessed need"
    assert errors["child_not_involved_reason"] == "Answer ‘Why was the child not involved?’"
    assert errors["visiting_frequency_weeks"].startswith("Answer ‘How often")


def test_html_in_answers_is_escaped(render):
    evil = "<script>alert(1)</script>"
    raw = {**blank(), "name": evil, "notes": evil, "rows": [{"who": evil, "by": {}, "ok": ""}]}
    html = render_schema(render, raw, {"name": evil})
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_census_questions_are_drawn_as_one_closed_group_until_one_needs_attention():
    import json
    from pathlib import Path

    from webui import form_render

    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "forms" / "assessment_outcome.json").read_text()
    )
    view = form_render.build(schema, form_render.raw_from_data(schema, {}))
    sections = [f.section for f in view.fields if f.section]
    assert sections and not any(f.section_open for f in view.fields)
    assert set(sections) == {
        "For the DfE census: the assessment",
        "For the DfE census: about the child",
    }
    view = form_render.build(
        schema, form_render.raw_from_data(schema, {}), {"sex": "Select the sex"}
    )
    assert [f.name for f in view.fields if f.section_open] == [
        f.name for f in view.fields if f.section == "For the DfE census: about the child"
    ]
