"""Hostile and broken input to the engine API and the CLI: a clear refusal, nothing changed.

Every bad input of issue 11 (item 5) and the size limits (item 6): answers that are not an
object, nested or over-long answers, bad ids, bad user names, lone surrogates and NUL, message
payloads that are text, deep or huge, and the CLI's --data. Each is refused with its own error
type and message; a fingerprint of every table is the same before and after.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from engine.errors import (
    BadCaseId,
    BadTaskId,
    CinflowError,
    InvalidData,
    InvalidInput,
    TooLarge,
)
from engine.services import Engine, NewChild
from engine.store.models import Base
from webui.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "processes" / "sample"
MESSAGES = Path(__file__).parent / "data" / "messages.bpmn"
CONSENT = json.loads((ROOT / "forms" / "examples" / "consent.valid.json").read_text())


def fingerprint(engine: Engine) -> str:
    """Every row of every table, hashed: any change anywhere shows."""
    digest = hashlib.sha256()
    with engine.db.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(text(f'SELECT * FROM "{table.name}" ORDER BY 1')).all()
            digest.update(f"{table.name}:{rows!r}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def nested(depth: int, leaf: Any = "x") -> Any:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


@pytest.fixture
def world(engine: Engine) -> dict[str, Any]:
    engine.deploy([SAMPLE], "pm1")
    engine.deploy([MESSAGES], "pm1")
    case = engine.start_case("sample_referral", NewChild("Ada Example"), {}, "sw1")
    waiting = engine.start_case("messages", NewChild("Cy Example"), {}, "sw1")
    return {"task": case.tasks[0].id, "case": case.id, "waiting": waiting.id}


def refusals(world: dict[str, Any]) -> list[tuple[str, type[CinflowError], str, Callable]]:
    task, waiting = world["task"], world["waiting"]
    deep = {**CONSENT, "given_by_name": nested(950)}
    return [
        (
            "answers a list",
            InvalidData,
            "set of named answers",
            lambda e: e.complete_task(task, [1], "sw1"),
        ),
        (
            "answers text",
            InvalidData,
            "set of named answers",
            lambda e: e.complete_task(task, "yes", "sw1"),
        ),
        (
            "answers None",
            InvalidData,
            "set of named answers",
            lambda e: e.complete_task(task, None, "sw1"),
        ),
        (
            "nested list in a text field",
            InvalidData,
            "nested more than",
            lambda e: e.complete_task(task, deep, "sw1"),
        ),
        (
            "NUL in an answer",
            InvalidData,
            "NUL",
            lambda e: e.complete_task(task, {**CONSENT, "given_by_name": "A\x00B"}, "sw1"),
        ),
        (
            "lone surrogate in an answer",
            InvalidData,
            "surrogate",
            lambda e: e.complete_task(task, {**CONSENT, "given_by_name": "A\ud800"}, "sw1"),
        ),
        (
            "11 MB of answers",
            InvalidData,
            "KiB",
            lambda e: e.complete_task(task, {**CONSENT, "given_by_name": "x" * 11_000_000}, "sw1"),
        ),
        (
            "non-UUID task id",
            BadTaskId,
            "not a task id",
            lambda e: e.complete_task("12", CONSENT, "sw1"),
        ),
        (
            "task id with NUL",
            BadTaskId,
            "not a task id",
            lambda e: e.claim(task[:-1] + "\x00", "sw1"),
        ),
        ("task id with a surrogate", BadTaskId, "not a task id", lambda e: e.task("\udcff" * 36)),
        ("task id a number", BadTaskId, "task id", lambda e: e.claim(12, "sw1")),
        ("user None", InvalidInput, "not nothing", lambda e: e.complete_task(task, CONSENT, None)),
        ("user 201 chars", InvalidInput, "201 characters", lambda e: e.claim(task, "u" * 201)),
        ("user with NUL", InvalidInput, "NUL", lambda e: e.claim(task, "sw\x00")),
        (
            "user with a surrogate",
            InvalidInput,
            "surrogate",
            lambda e: e.save_draft(task, "sw\ud800", {}),
        ),
        ("assignee None", InvalidInput, "not nothing", lambda e: e.assign(task, None, "tm1")),
        ("non-numeric case id", BadCaseId, "not a case id", lambda e: e.get_case("abc")),
        ("huge case id", BadCaseId, "no case", lambda e: e.get_case(10**23)),
        (
            "message to a non-numeric case",
            BadCaseId,
            "not a case id",
            lambda e: e.send_message("x", "significant_change", {}, "sw1"),
        ),
        (
            "string payload",
            InvalidInput,
            "must be an object",
            lambda e: e.send_message(waiting, "significant_change", "moved", "sw1"),
        ),
        (
            "deep payload",
            TooLarge,
            "nested more than",
            lambda e: e.send_message(waiting, "significant_change", {"a": nested(700)}, "sw1"),
        ),
        (
            "10 MB payload",
            TooLarge,
            "KiB",
            lambda e: e.send_message(waiting, "significant_change", {"a": "x" * 10_000_000}, "sw1"),
        ),
        (
            "payload with NUL",
            InvalidInput,
            "NUL",
            lambda e: e.send_message(waiting, "significant_change", {"a": "\x00"}, "sw1"),
        ),
        (
            "message name NUL",
            InvalidInput,
            "NUL",
            lambda e: e.send_message(waiting, "significant\x00", {}, "sw1"),
        ),
        (
            "5 MB draft",
            InvalidData,
            "are more than 256 KiB",
            lambda e: e.save_draft(task, "sw1", {"given_by_name": "x" * 5_000_000}),
        ),
        (
            "draft over a field limit",
            InvalidData,
            "characters or fewer",
            lambda e: e.save_draft(task, "sw1", {"given_by_name": "x" * 201}),
        ),
        (
            "draft a list",
            InvalidData,
            "set of named answers",
            lambda e: e.save_draft(task, "sw1", [1]),
        ),
    ]


def test_every_bad_input_is_a_distinct_clear_refusal_that_changes_nothing(
    engine: Engine, world: dict[str, Any]
) -> None:
    before = fingerprint(engine)
    messages = set()
    for label, error, says, attempt in refusals(world):
        with pytest.raises(error) as refused:
            attempt(engine)
        assert says in str(refused.value), (label, str(refused.value))
        messages.add(str(refused.value)[:80])
        assert fingerprint(engine) == before, label
    assert len(messages) >= len(refusals(world)) - 8  # distinct, not one catch-all message


def test_a_draft_within_the_limits_is_kept(engine: Engine, world: dict[str, Any]) -> None:
    engine.save_draft(world["task"], "sw1", {"given_by_name": "Half typed"})
    assert engine.get_draft(world["task"], "sw1") == {"given_by_name": "Half typed"}


@pytest.fixture
def run(db_url: str) -> Callable[..., Any]:
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(cli, ["--database", db_url, *args], obj={}, catch_exceptions=False)

    return invoke


def test_the_cli_refuses_bad_data_and_ids_without_a_traceback(
    engine: Engine, world: dict[str, Any], run: Callable[..., Any]
) -> None:
    before = fingerprint(engine)
    task = world["task"]
    deep = "[" * 5000 + "]" * 5000
    attempts = [
        (("complete", task, "--data", deep), "--data"),
        (
            ("complete", task, "--data", '{"given_by_name": ' + "[" * 900 + "]" * 900 + "}"),
            "nested",
        ),
        (("complete", task, "--data", '"\\ud800"'), "--data"),
        (("complete", task, "--data", '{"given_by_name": "\\ud800"}'), "surrogate"),
        (("complete", task, "--data", "\udcff\udcfe"), "--data"),
        (("complete", task, "--data", "[1, 2]"), "must be a JSON object"),
        (("complete", task, "--data", "1" * 5000), "--data"),
        (("complete", "not-a-task", "--data", "{}"), "not a task id"),
        (("complete", task, "--by", "x" * 201, "--data", json.dumps(CONSENT)), "201 characters"),
        (("start", "sample_referral", "--child", "A", "--data", deep), "--data"),
        (("start", "sample_referral", "--child", "A", "--data", '"text"'), "--data"),
        (("start", "sample_referral", "--child", "A\x00", "--data", "{}"), "NUL"),
    ]
    for args, says in attempts:
        result = run(*args)
        assert result.exit_code in (1, 2), (args[:2], result.output)
        assert "Traceback" not in result.output
        assert says in result.output, (args[:3], result.output)
        assert fingerprint(engine) == before, args[:3]
