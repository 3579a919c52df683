"""The user-task forms in forms/: valid JSON Schemas that follow forms/README.md.

Each form is rendered server-side as a GOV.UK form and validated with jsonschema, and the BPMN
gateways read its field names, so the conventions are checked here and not left to review.

Over 500 lines on purpose: the conventions of forms/README.md are checked here as one list.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

FORMS = Path(__file__).resolve().parents[2] / "forms"
EXAMPLES = FORMS / "examples"
NAMES = sorted(p.stem for p in FORMS.glob("*.json"))

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

# The forms the BPMN diagrams are built on; more may be added, none may disappear.
EXPECTED = {
    "consent",
    "assessment_outcome",
    "cin_plan",
    "meeting_record",
    "meeting_arrangement",
    "visit_record",
    "review_outcome",
    "manager_decision",
    "closure",
    "step_down",
    "transfer",
    "strategy_discussion",
    "chair_agreement",
    "checkpoint",
    "family_network_meeting",
    "supervision_note",
    "initial_visit",
    "distribution",
}


def load(name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.valid.json").read_text(encoding="utf-8"))


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load(name), format_checker=FormatChecker())


def properties(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, str, dict]]:
    """(path, name, schema) of every property, including those of repeating-table rows."""
    for name, prop in schema.get("properties", {}).items():
        here = f"{path}.{name}" if path else name
        yield here, name, prop
        items = prop.get("items")
        if isinstance(items, dict) and items.get("type") == "object":
            yield from properties(items, f"{here}[]")


def nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object in a form, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from nodes(value)


def conditions(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for node in [schema, *schema.get("allOf", [])]:
        if "if" in node:
            yield node


# -- the set of forms ------------------------------------------------------------------------


def test_every_expected_form_exists():
    assert set(NAMES) >= EXPECTED, f"missing forms: {sorted(EXPECTED - set(NAMES))}"


def test_every_form_has_an_example_and_no_example_is_orphaned():
    examples = {p.name.removesuffix(".valid.json") for p in EXAMPLES.glob("*.valid.json")}
    assert examples == set(NAMES)


def test_readme_documents_the_conventions():
    readme = (FORMS / "README.md").read_text(encoding="utf-8")
    words = ("x-widget", "x-show-when", "x-councils", "oneOf", "additionalProperties")
    for word in (*words, "examples/"):
        assert word in readme


# -- each form -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_draft_2020_12(name):
    Draft202012Validator.check_schema(load(name))


@pytest.mark.parametrize("name", NAMES)
def test_top_level_conventions(name):
    schema = load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{name}.json"
    assert schema["title"].strip() and schema["description"].strip()
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    required = schema["required"]
    assert required, "a form with nothing required can be submitted empty"
    assert len(required) == len(set(required))
    assert set(required) <= set(schema["properties"])


@pytest.mark.parametrize("name", NAMES)
def test_every_property_has_a_title_and_a_snake_case_name(name):
    for path, prop_name, prop in properties(load(name)):
        assert SNAKE.match(prop_name), path
        assert isinstance(prop.get("title"), str) and prop["title"].strip(), path
        title = prop["title"]
        assert title[0].isupper() or title[0].isdigit(), f"{path}: sentence case"


@pytest.mark.parametrize("name", NAMES)
def test_table_rows_are_closed_objects(name):
    for path, _, prop in properties(load(name)):
        items = prop.get("items")
        if isinstance(items, dict) and items.get("type") == "object":
            assert items["additionalProperties"] is False, path
            assert set(items.get("required", [])) <= set(items["properties"]), path
            assert "minItems" in prop, f"{path}: a repeating table needs minItems"


@pytest.mark.parametrize("name", NAMES)
def test_every_choice_has_a_title_and_a_unique_value(name):
    for node in nodes(load(name)):
        if "oneOf" not in node:
            continue
        consts = []
        for option in node["oneOf"]:
            assert "const" in option, option
            assert isinstance(option.get("title"), str) and option["title"].strip(), option
            consts.append(option["const"])
        assert len(consts) == len(set(consts)), consts


@pytest.mark.parametrize("name", NAMES)
def test_widgets_follow_the_schema(name):
    for path, _, prop in properties(load(name)):
        widget = prop.get("x-widget")
        if widget == "textarea":
            assert prop["type"] == "string", path
            assert prop["maxLength"] >= 500, path
        elif widget == "checkboxes":
            assert prop["type"] == "array", path
            assert prop["uniqueItems"] is True, path
            assert "oneOf" in prop["items"], path
        else:
            assert widget is None, f"{path}: unknown widget {widget!r}"
        plain_text = prop.get("type") == "string" and widget is None
        if plain_text and not {"oneOf", "format", "pattern"} & set(prop):
            assert prop.get("maxLength", 0) < 500, f"{path}: long text needs a textarea"
        if prop_is_date_named(path):
            assert prop.get("format") == "date", f"{path}: dates use format: date"


def prop_is_date_named(path: str) -> bool:
    last = path.rsplit(".", 1)[-1]
    return last.endswith("_date") or last in {"by_when", "new_date"}


@pytest.mark.parametrize("name", NAMES)
def test_conditional_fields_are_revealed_by_a_real_answer(name):
    schema = load(name)
    props = schema["properties"]
    for prop_name, prop in props.items():
        show = prop.get("x-show-when")
        if show is None:
            continue
        assert set(show) == {"field", "equals"}, prop_name
        assert show["field"] in props and show["field"] != prop_name, prop_name
        # the value that reveals the field must be one the controlling field accepts
        Draft202012Validator(props[show["field"]]).validate(show["equals"])
        # a hidden field cannot be always required
        assert prop_name not in schema["required"], prop_name


COUNCILS = {p.parent.name for p in (FORMS.parent / "processes").glob("*/timescales.yaml")}


@pytest.mark.parametrize("name", NAMES)
def test_council_only_questions_name_real_councils(name):
    """`x-councils` (forms/README.md): a question asked only in some councils' cases names
    them, on a top-level field, and nothing asked of more councils depends on it."""
    schema = load(name)
    props = schema["properties"]
    for path, _, prop in properties(schema):
        if "x-councils" not in prop:
            continue
        assert "." not in path and "[" not in path, f"{path}: x-councils is for top-level fields"
        councils = prop["x-councils"]
        assert isinstance(councils, list) and councils, f"{path}: list the councils"
        assert len(councils) == len(set(councils)), path
        assert set(councils) <= COUNCILS, f"{path}: unknown council in {councils}"
    for prop_name, prop in props.items():
        show = prop.get("x-show-when")
        if show and "x-councils" in props[show["field"]]:
            asked = set(prop.get("x-councils", COUNCILS))
            assert asked <= set(props[show["field"]]["x-councils"]), (
                f"{prop_name} is revealed by a question its councils are not asked"
            )


def test_rochdale_alone_asks_r9s_review_interval():
    props = load("meeting_record")["properties"]
    r9 = {k for k, v in props.items() if "R9" in v.get("x-rules", [])}
    assert r9 == {"review_weeks_agreed", "review_weeks_agreed_by", "children_with_disability_team"}
    assert all(props[k]["x-councils"] == ["rochdale"] for k in r9)


@pytest.mark.parametrize("name", NAMES)
def test_conditions_name_real_fields(name):
    schema = load(name)
    props = schema["properties"]
    for node in conditions(schema):
        assert set(node["if"]["properties"]) <= set(props)
        assert set(node["if"]["required"]) == set(node["if"]["properties"])
        assert set(node["then"]["required"]) <= set(props)
        for value in node["if"]["properties"].values():
            field = next(iter(node["if"]["properties"]))
            if "contains" in value:  # a rule on a table's rows (consent: anyone refused)
                continue
            for accepted in value.get("enum", [value.get("const")]):
                Draft202012Validator(props[field]).validate(accepted)


@pytest.mark.parametrize("name", NAMES)
def test_example_is_valid(name):
    errors = [e.message for e in validator(name).iter_errors(example(name))]
    assert not errors


DATED = [n for n in NAMES if any(p.get("format") == "date" for p in load(n)["properties"].values())]


@pytest.mark.parametrize("name", DATED)
def test_dates_are_checked(name):
    """The format checker is on: an impossible date is an error, not a string."""
    schema = load(name)
    date_fields = [n for n, p in schema["properties"].items() if p.get("format") == "date"]
    data = example(name)
    field = next(f for f in date_fields if f in data)
    data[field] = "2025-02-30"
    assert not validator(name).is_valid(data)
    data[field] = "30/01/2025"
    assert not validator(name).is_valid(data)


# -- what the gateways and the census depend on ----------------------------------------------


def values(name: str, field: str) -> list[Any]:
    return [o["const"] for o in load(name)["properties"][field]["oneOf"]]


def labels(name: str, field: str) -> dict[str, str]:
    return {o["const"]: o["title"] for o in load(name)["properties"][field]["oneOf"]}


def test_assessment_decisions():
    assert values("assessment_outcome", "decision") == [
        "no_further_action",
        "early_help",
        "cin_plan",
        "strategy_discussion",
    ]


def test_primary_need_codes_are_the_dfe_census_categories():
    assert labels("assessment_outcome", "primary_need_code") == {
        "N1": "N1 Abuse or neglect",
        "N2": "N2 Child's disability or illness",
        "N3": "N3 Parental disability or illness",
        "N4": "N4 Family in acute stress",
        "N5": "N5 Family dysfunction",
        "N6": "N6 Socially unacceptable behaviour",
        "N7": "N7 Low income",
        "N8": "N8 Absent parenting",
        "N9": "N9 Cases other than children in need",
        "N0": "N0 Not stated",
    }


def test_closure_reasons_are_the_dfe_census_codes():
    assert labels("closure", "reason_code") == {
        "RC1": "RC1 Adopted",
        "RC2": "RC2 Died",
        "RC3": "RC3 Child arrangements order",
        "RC4": "RC4 Special guardianship order",
        "RC5": "RC5 Transferred to services of another local authority",
        "RC6": "RC6 Transferred to adult social care services",
        "RC7": "RC7 Services ceased for any other reason, including child no longer in need",
        "RC8": "RC8 Case closed after assessment, no further action",
        "RC9": "RC9 Case closed after assessment, referred to early help",
    }


def test_review_outcomes_cover_every_council():
    options = load("review_outcome")["properties"]["outcome"]["oneOf"]
    assert [o["const"] for o in options] == [
        "close_step_down",
        "continue",
        "continue_amended_plan",
        "updated_assessment",
        "strategy_discussion",
        "close",
    ]
    mapping = " ".join(o["description"] for o in options)
    for outcome in (
        "P8 outcome 1",
        "P8 outcome 2",
        "P8 outcome 3",
        "P8 outcome 4",
        "W6 outcome 1",
        "W6 outcome 2",
        "W6 outcome 3",
    ):
        assert outcome in mapping, outcome
    for rule in ("R16", "R17", "T8", "T9", "D7", "D8", "R14"):
        assert rule in mapping, rule


def test_plan_visits_never_more_than_six_weeks_apart():
    weeks = load("cin_plan")["properties"]["visiting_frequency_weeks"]
    assert (weeks["type"], weeks["minimum"], weeks["maximum"]) == ("integer", 1, 6)


def test_plan_is_smart():
    items = load("cin_plan")["properties"]["items"]
    assert items["minItems"] == 1
    row = items["items"]
    assert list(row["properties"]) == [
        "assessed_need",
        "outcome",
        "actions",
        "who",
        "by_when",
        "achieved",
    ]
    assert "achieved" not in row["required"]


# -- realistic mistakes are rejected ---------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def change(drop: tuple[str, ...] = (), **updates: Any) -> Mutation:
    def apply(data: dict[str, Any]) -> None:
        for key in drop:
            data.pop(key, None)
        data.update(updates)

    return apply


def in_first_row(field: str, drop: bool = False, value: Any = None) -> Mutation:
    """Change the first row of the form's repeating table."""

    def apply(data: dict[str, Any]) -> None:
        table = next(data[k] for k in ("items", "attendees", "invitees") if k in data)
        if drop:
            table[0].pop(field)
        else:
            table[0][field] = value

    return apply


INVALID: dict[str, list[tuple[str, Mutation]]] = {
    "consent": [
        ("missing answer", change(drop=("consent_given",))),
        ("refused without a reason", change(consent_given=False, significant_harm_suspected=False)),
        ("refused without the harm question", change(consent_given=False, refusal_reason="No.")),
        ("email is not a method", change(consent_method="email")),
        ("unknown field", change(child_name="Leo")),
        (
            "consent given although a non-resident parent refused (D1)",
            change(
                consent_given=True,
                others_asked=[
                    {"name": "Dan Cole", "relationship": "parent_with_pr", "answer": "refused"}
                ],
            ),
        ),
        (
            "another person asked without their answer",
            change(others_asked=[{"name": "Dan Cole", "relationship": "parent_with_pr"}]),
        ),
    ],
    "assessment_outcome": [
        ("unknown decision", change(decision="close")),
        ("need code out of range", change(primary_need_code="N10")),
        ("no summary", change(drop=("summary",))),
        ("empty summary", change(summary="")),
    ],
    "cin_plan": [
        ("no plan items", change(items=[])),
        ("a row without by when", in_first_row("by_when", drop=True)),
        ("bad achieved value", in_first_row("achieved", value="maybe")),
        ("visits 8 weeks apart", change(visiting_frequency_weeks=8)),
        ("visits every 0 weeks", change(visiting_frequency_weeks=0)),
        ("child not involved without reason", change(child_involved=False)),
        ("unsigned without reason", change(signed_by_parents=False)),
        ("no contingency plan", change(drop=("contingency_plan",))),
    ],
    "meeting_record": [
        ("unknown chair role", change(chair_role="head_teacher")),
        ("nobody attended", change(attendees=[])),
        ("attendee without a name", in_first_row("name", drop=True)),
        ("no decisions", change(drop=("decisions",))),
        ("meeting number 0", change(meeting_number=0)),
    ],
    "meeting_arrangement": [
        ("cancelled without new date", change(drop=("new_date",))),
        ("cancelled without reason", change(drop=("cancellation_reason",))),
        ("bad time", change(meeting_time="25:00")),
        ("no venue", change(drop=("venue",))),
    ],
    "visit_record": [
        ("not seen without reason", change(child_seen=False, drop=("child_seen_alone",))),
        ("seen but alone not answered", change(drop=("child_seen_alone",))),
        ("not seen alone without reason", change(child_seen_alone=False)),
        ("seen without views", change(drop=("childs_views",))),
        ("concerns without details", change(concerns_raised=True)),
        ("significant change without details", change(significant_change=True)),
        ("yes as text", change(child_seen="yes")),
    ],
    "initial_visit": [
        ("no family network meeting date", change(drop=("family_network_meeting_date",))),
        ("not seen alone without reason", change(drop=("reason_not_seen_alone",))),
        ("fgc not answered", change(drop=("fgc_offered",))),
    ],
    "review_outcome": [
        ("unknown outcome", change(outcome="step_up")),
        ("amended without changes", change(drop=("plan_changes",))),
        ("continue without next review", change(outcome="continue", drop=("next_review_date",))),
        (
            "not seen alone without alternative",
            change(child_seen_alone_before_review=False),
        ),
    ],
    "manager_decision": [
        ("returned without reason", change(drop=("return_reason",))),
        ("unknown decision", change(decision="reject")),
        ("no decision", change(drop=("decision",))),
    ],
    "closure": [
        ("RC10 is not a code", change(reason_code="RC10")),
        ("no child's views", change(drop=("childs_views",))),
        ("no review meeting, no reason", change(closed_after_review_meeting=False)),
    ],
    "step_down": [
        ("no lead professional", change(drop=("lead_professional_name",))),
        ("agency type social care", change(lead_professional_agency_type="social_care")),
        ("caf question unanswered", change(drop=("caf_needed",))),
    ],
    "transfer": [
        ("consent without referral date", change(drop=("referral_date",))),
        ("documents sent twice", change(documents_sent=["plan", "plan"])),
        ("nothing sent", change(documents_sent=[])),
        (
            "no consent, no safeguarding decision",
            change(consent_given=False, decision_rationale="Family settled."),
        ),
    ],
    "strategy_discussion": [
        ("s47 without type", change(drop=("s47_type",))),
        ("unknown s47 type", change(s47_type="police_only")),
        ("no reason", change(drop=("reason",))),
    ],
    "chair_agreement": [
        ("unknown route", change(step_down_route="adoption")),
        ("no planning meeting date", change(drop=("first_planning_meeting_date",))),
        ("not agreed without reason", change(outline_plan_agreed=False)),
    ],
    "checkpoint": [
        ("checkpoint 1 without track", change(drop=("assessment_track",))),
        ("full assessment without due day", change(drop=("assessment_due_day",))),
        ("due beyond day 45", change(assessment_due_day=50)),
        ("checkpoint 2 without outcomes", change(checkpoint="checkpoint_2")),
    ],
    "family_network_meeting": [
        ("no follow-up date", change(drop=("follow_up_meeting_date",))),
        ("no strengths", change(drop=("strengths",))),
    ],
    "supervision_note": [
        ("7 weeks between visits", change(visiting_frequency_weeks=7)),
        ("weeks as text", change(visiting_frequency_weeks="4")),
        ("no rationale", change(drop=("rationale",))),
    ],
    "distribution": [
        ("sent to nobody", change(recipients=[])),
        ("unknown recipient", change(recipients=["neighbour"])),
        ("unknown document", change(document="letter")),
    ],
    "allocation": [
        ("no allocation date", change(drop=("allocation_date",))),
        ("a visit 72 hours away", change(initial_visit_within_hours=72)),
        ("strategy answer as text", change(strategy_meeting_needed="yes")),
    ],
    "initial_recording": [
        ("unknown recording", change(recording="everything")),
        ("date not a date", change(recorded_date="yesterday")),
    ],
    "s47_enquiry": [
        ("unknown outcome", change(outcome="close")),
        ("no summary", change(drop=("summary",))),
        ("unknown enquiry type", change(enquiry_type="phone")),
    ],
    "start_after_assessment": [
        ("no transfer date", change(drop=("transfer_date",))),
        ("assessment end as a time", change(cin_start_date="2027-01-04T09:00:00Z")),
    ],
    "start_step_down": [
        ("no event date", change(drop=("cin_start_date",))),
        ("event date not a date", change(cin_start_date="last Tuesday")),
    ],
    "visit_done": [
        ("no visit date", change(drop=("visit_date",))),
        ("seen as text", change(child_seen="yes")),
    ],
    "escalation_decision": [
        ("no reason", change(drop=("delay_reason",))),
        ("empty oversight note", change(oversight_note="")),
        ("impossible date", change(agreed_date="2025-02-30")),
    ],
    "team_transfer": [
        ("no receiving team", change(drop=("receiving_team",))),
        ("unknown team", change(receiving_team="youth_offending")),
        ("impossible transfer date", change(transfer_date="2025-02-30")),
        ("empty worker", change(allocated_worker="")),
    ],
    "start_case": [
        ("no last name", change(drop=("last_name",))),
        ("impossible birth date", change(date_of_birth="2016-02-30")),
        ("an unknown date", change(closure_date="2025-03-03")),
    ],
}


def test_every_form_has_invalid_cases():
    assert set(INVALID) == set(NAMES)


CASES = [(name, label, mutate) for name, cases in INVALID.items() for label, mutate in cases]


@pytest.mark.parametrize(("name", "label", "mutate"), CASES, ids=[f"{n}: {c}" for n, c, _ in CASES])
def test_invalid_answers_are_rejected(name, label, mutate):
    data = copy.deepcopy(example(name))
    mutate(data)
    assert not validator(name).is_valid(data), label


def test_census_questions_offer_the_dfe_code_lists_in_plain_words():
    from engine.returns import codes

    assert labels("assessment_outcome", "sex") == codes.labelled(codes.SEX)
    assert labels("assessment_outcome", "ethnicity") == codes.labelled(codes.ETHNICITY)
    assert labels("assessment_outcome", "referral_source") == codes.labelled(codes.REFERRAL_SOURCE)
    assert labels("assessment_outcome", "upn_unknown_reason") == codes.labelled(codes.UPN_UNKNOWN)
    assert labels("assessment_outcome", "primary_need_code") == codes.labelled(codes.PRIMARY_NEED)
    assert labels("closure", "reason_code") == codes.labelled(codes.CLOSURE_REASON)
    props = load("assessment_outcome")["properties"]
    for name, table in (
        ("disabilities", codes.DISABILITY),
        ("assessment_factors", codes.ASSESSMENT_FACTOR),
    ):
        items = props[name]["items"]["oneOf"]
        assert {o["const"]: o["title"] for o in items} == codes.labelled(table)


def test_census_questions_are_optional_and_grouped():
    for name in ("assessment_outcome", "s47_enquiry", "chair_agreement"):
        schema = load(name)
        census = [k for k, v in schema["properties"].items() if "x-section" in v]
        assert census, name
        assert not set(census) & set(schema["required"])  # older journeys stay valid


# -- size limits (issue 11 item 6): every list and every text has one --------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_list_and_text_has_a_size_limit(name):
    from engine.forms import unbounded

    assert unbounded(load(name)) == [], f"{name}: add maxItems / maxLength"


@pytest.mark.parametrize("name", NAMES)
def test_the_largest_answers_a_form_allows_fit_the_answers_budget(name):
    from engine.forms import largest_answers
    from engine.payloads import ANSWERS_MAX_BYTES

    assert largest_answers(load(name)) < ANSWERS_MAX_BYTES


def test_a_list_or_text_without_a_limit_is_found():
    from engine.forms import unbounded

    schema = {
        "type": "object",
        "properties": {
            "notes": {"type": "string"},
            "when": {"type": "string", "format": "date"},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "who": {"type": "string", "maxLength": 10},
                        "why": {"type": "string"},
                    },
                },
            },
        },
    }
    assert unbounded(schema) == ["notes", "rows", "rows[].why"]
