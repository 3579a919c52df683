"""engine/payloads.py: what the engine takes from outside is refused clearly, never crashes."""

from __future__ import annotations

import pytest

from engine import payloads
from engine.errors import BadCaseId, BadTaskId, InvalidData, InvalidInput, TooLarge, UnknownTask

TASK = "0b7c6e1a-3f0d-4b8e-9a55-2f1b6c0d9e11"


def nested(depth: int) -> object:
    value: object = "deep"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (None, "not nothing"),
        (42, "not a number"),
        ("", "not blank"),
        ("x" * 201, "201 characters"),
        ("sw\x00north", "NUL"),
        ("sw\ud800north", "lone surrogate"),
        ("sw\nnorth", "control character"),
    ],
)
def test_bad_user_names_are_refused_with_their_reason(value, says):
    with pytest.raises(InvalidInput, match=says):
        payloads.user_name(value)


def test_a_good_user_name_passes():
    assert payloads.user_name("sw.north") == "sw.north"


@pytest.mark.parametrize("value", ["12", "not-a-uuid", TASK + "0", "\x00", "\ud800", 12, None])
def test_task_ids_that_are_not_uuids_are_bad_task_ids_and_unknown_tasks(value):
    with pytest.raises(BadTaskId, match="task id") as refused:
        payloads.task_id(value)
    assert isinstance(refused.value, UnknownTask)  # the web answers 404 for it


def test_a_task_id_is_normalised():
    assert payloads.task_id(TASK.upper()) == TASK


@pytest.mark.parametrize("value", ["abc", "1.5", 1.5, True, None, "\x00", "٣"])
def test_case_ids_that_are_not_whole_numbers_are_refused(value):
    with pytest.raises(BadCaseId, match="not a case id"):
        payloads.case_id(value)


@pytest.mark.parametrize("value", [0, -1, 10**23])
def test_case_ids_out_of_range_are_refused(value):
    with pytest.raises(BadCaseId, match="no case"):
        payloads.case_id(value)


def test_case_ids_in_digits_are_accepted():
    assert payloads.case_id("42") == 42 and payloads.case_id(7) == 7


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ([1, 2], "type"),
        ("text", "type"),
        (None, "type"),
        ({"notes": nested(900)}, "depth"),
        ({"notes": "x" * (payloads.ANSWERS_MAX_BYTES + 1)}, "size"),
        ({"notes": "a\x00b"}, "characters"),
        ({"notes": "a\udc00b"}, "characters"),
        ({"n": float("nan")}, "type"),
        ({"n": 10**30}, "maximum"),
        ({1: "x"}, "type"),
        ({"when": object()}, "type"),
    ],
)
def test_bad_answers_are_invalid_data_naming_the_problem(value, kind):
    with pytest.raises(InvalidData) as refused:
        payloads.answers(value)
    assert [e.kind for e in refused.value.errors] == [kind]


def test_a_very_deep_value_is_refused_without_recursion():
    deep = nested(200_000)  # far beyond Python's recursion limit
    with pytest.raises(InvalidData, match="nested more than"):
        payloads.answers({"notes": deep})


@pytest.mark.parametrize(
    ("value", "error", "says"),
    [
        ("moved", InvalidInput, "must be an object"),
        ([1], InvalidInput, "must be an object"),
        ({"a": nested(600)}, TooLarge, "nested more than"),
        ({"a": "x" * 20_000}, TooLarge, "KiB"),
        ({"a": "\x00"}, InvalidInput, "NUL"),
    ],
)
def test_bad_message_payloads_are_refused(value, error, says):
    with pytest.raises(error, match=says):
        payloads.message_payload(value)


def test_a_small_message_payload_passes():
    assert payloads.message_payload({"what": "moved", "on": "2026-11-23"}) == {
        "what": "moved",
        "on": "2026-11-23",
    }
    assert payloads.message_payload(None) == {}


def test_case_data_over_budget_is_too_large():
    payloads.check_case_data_size(payloads.CASE_DATA_MAX_BYTES, 3)
    with pytest.raises(TooLarge, match="case 3 would hold"):
        payloads.check_case_data_size(payloads.CASE_DATA_MAX_BYTES + 1, 3)


def test_json_size_is_close_to_the_json_and_stops_early():
    import json

    value = {"a": [1, 2, {"b": "xyz" * 100}], "c": None, "d": True}
    assert abs(payloads.json_size(value) - len(json.dumps(value))) < 20
    assert payloads.json_size(nested(100_000), limit=1000) <= 1010  # no recursion, stops early


@pytest.mark.parametrize(
    ("value", "error"),
    [("text", InvalidInput), ({"a": nested(50)}, TooLarge), ({"a": "\x00"}, InvalidInput)],
)
def test_bad_starting_data_is_refused(value, error):
    with pytest.raises(error):
        payloads.start_data(value)
