"""The quick form check (`engine.formcheck`) gives jsonschema's verdict on every form.

Every form in forms/, as every council sees it, is run over its valid example and thousands of
answers made from it (each answer left out, each value swapped for values of every kind and for
every choice the form offers, rows of tables changed, several changes at once), and the quick
verdict is compared with jsonschema's. `engine.forms` trusts only the quick "valid", but an
`if` or `oneOf` inside a form turns a wrong "not valid" into a wrong "valid", so both must agree.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from engine import forms
from engine.errors import InvalidData
from engine.formcheck import Unsure, compile_schema

FORMS = Path(__file__).resolve().parents[2] / "forms"
NAMES = sorted(p.name for p in FORMS.glob("*.json"))


def _views(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    schema = forms.load_form(name, FORMS)
    councils = {
        c for node in (schema.get("properties") or {}).values() for c in node.get("x-councils", [])
    }
    yield "every question", schema
    for council in sorted(councils) + ["a council with no questions of its own"]:
        yield council, forms.for_council(schema, council)


def _constants(node: Any) -> list[Any]:
    """Every value the form names anywhere (choices, the values `if` rules test)."""
    if isinstance(node, list):
        return [c for v in node for c in _constants(v)]
    if not isinstance(node, Mapping):
        return []
    found = [node["const"]] if "const" in node else []
    found += list(node.get("enum", []))
    return found + [c for k, v in node.items() if k not in ("const", "enum") for c in _constants(v)]


def _lengths(node: Any) -> set[int]:
    if isinstance(node, list):
        return {n for v in node for n in _lengths(v)}
    if not isinstance(node, Mapping):
        return set()
    found = {int(node[k]) + d for k in ("maxLength", "minLength") if k in node for d in (-1, 0, 1)}
    return found | {n for v in node.values() for n in _lengths(v)}


def _values(schema: Mapping[str, Any]) -> list[Any]:
    kinds: list[Any] = [None, True, False, 0, 1, -1, 1.0, 1.5, 10**6, "", "x", " ", [], {}]
    dates = ["2025-06-10", "2025-02-30", "2025-13-01", "2025-6-10", "10/06/2025", "2099-01-01"]
    texts = ["t" * n for n in sorted(_lengths(schema)) if 0 <= n < 20_000]
    lists = [["x"], ["x", "x"], ["x", "y"], [1, 1], [True, 1], [None], [{}]]
    return kinds + dates + texts + lists + _constants(schema)


def _answers(schema: Mapping[str, Any], example: dict[str, Any]) -> Iterator[Any]:
    """The example, then answers made from it: one change at a time, then several at once."""
    rng = random.Random(17)
    props = schema.get("properties") or {}
    values = _values(schema)
    yield example
    yield {}
    yield []
    yield {**example, "not_a_question": "x"}
    for name in sorted(set(props) | set(example)):
        yield {k: v for k, v in example.items() if k != name}
        for value in values:
            yield {**example, name: value}
        rows = example.get(name)
        if isinstance(rows, list) and rows and isinstance(rows[0], dict):
            yield {**example, name: rows + [copy.deepcopy(rows[0])]}
            yield {**example, name: rows * 40}
            for field in sorted(rows[0]):
                yield {**example, name: [{k: v for k, v in rows[0].items() if k != field}]}
                for value in values:
                    yield {**example, name: [{**rows[0], field: value}]}
    names = sorted(set(props) | set(example))
    likely = {  # answers a person might give: the form's own choices, dates, text
        n: _constants(props.get(n)) + [example.get(n), "2025-06-10", "Some words"] for n in names
    }
    for _ in range(150):
        answer = copy.deepcopy(example)
        for name in rng.sample(names, min(len(names), rng.randint(1, 5))):
            if rng.random() < 0.2:
                answer.pop(name, None)
            else:
                answer[name] = rng.choice(likely[name] if rng.random() < 0.7 else values)
        yield answer


def _example(name: str) -> dict[str, Any]:
    path = FORMS / "examples" / name.replace(".json", ".valid.json")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", NAMES)
def test_every_form_compiles(name):
    for _, schema in _views(name):
        assert compile_schema(schema, FormatChecker()) is not None


@pytest.mark.parametrize("name", NAMES)
def test_the_quick_verdict_is_jsonschemas(name):
    verdicts = {True: 0, False: 0}
    for view, schema in _views(name):
        slow = Draft202012Validator(schema, format_checker=FormatChecker())
        quick = compile_schema(schema, slow.format_checker)
        assert quick is not None
        for answer in _answers(schema, _example(name)):
            expected = slow.is_valid(answer)
            try:
                got = quick(answer)
            except Unsure:  # the caller asks jsonschema: right by construction
                continue
            assert got is expected, (view, answer)
            verdicts[expected] += 1
    assert verdicts[True] >= 20 and verdicts[False] >= 100, verdicts  # both sides are exercised


@pytest.mark.parametrize("name", ["visit_record.json", "meeting_record.json", "cin_plan.json"])
def test_refused_answers_list_every_problem_as_before(name):
    """With the quick check or without, `forms.check` says the same, problem for problem."""
    schema = forms.load_form(name, FORMS)
    slow = Draft202012Validator(schema, format_checker=FormatChecker())
    quick = compile_schema(schema, slow.format_checker)

    def said(**kw: Any) -> list[tuple[str, str, str]] | None:
        try:
            forms.check(schema, slow, answer, **kw)
        except InvalidData as refused:
            return [(e.field, e.message, e.kind) for e in refused.errors]
        return None

    refused = 0
    for answer in _answers(schema, _example(name)):
        if not isinstance(answer, dict):
            continue
        without = said()
        assert said(quick=quick) == without, answer
        refused += without is not None
    assert refused >= 100


def test_a_keyword_it_does_not_know_leaves_the_form_to_jsonschema():
    unknown = {"type": "object", "dependentRequired": {"a": ["b"]}}
    assert compile_schema(unknown, FormatChecker()) is None
    assert compile_schema({"$ref": "#/$defs/x", "$defs": {"x": {}}}, FormatChecker()) is None
    assert compile_schema({"properties": {"a": {"type": "decimal"}}}, FormatChecker()) is None


def test_values_it_cannot_judge_are_left_to_jsonschema():
    quick = compile_schema({"type": "array", "uniqueItems": True}, FormatChecker())
    assert quick is not None
    assert quick(["a", "b"]) and not quick(["a", "a"])
    with pytest.raises(Unsure):
        quick([1, True])  # 1 and True differ in JSON Schema, not in a Python set


def test_true_is_not_one_and_one_point_zero_is_an_integer():
    quick = compile_schema(
        {"properties": {"n": {"type": "integer", "const": 1}, "b": {"const": True}}},
        FormatChecker(),
    )
    assert quick is not None
    assert quick({"n": 1.0, "b": True})
    assert not quick({"n": True}) and not quick({"b": 1})
