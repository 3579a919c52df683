"""Diagrams drawn elsewhere (MIWG reference files, bpmn.io and Camunda Modeler style exports,
every BPMN construct a practice manager might bring): each one runs or is refused at deploy with
a message that says what to draw instead; never a traceback, a hang or a case that stalls.

Over 500 lines on purpose: the corpus's diagrams and constructs are one catalogue, read together.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.calendar import Duration
from engine.deployment import DeploymentError, parse_bundle
from engine.errors import DiagramError
from engine.functions import Timescale
from engine.services import Engine, NewChild

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "forms"
#: The MIWG reference files (CC BY 3.0, OMG BPMN MIWG) live in the shared folder beside the
#: repository, or beside the folder of git worktrees.
MIWG = next(
    (
        base / "shared" / "corpora" / "miwg"
        for base in (ROOT.parent, ROOT.parent.parent)
        if (base / "shared" / "corpora" / "miwg").is_dir()
    ),
    ROOT.parent / "shared" / "corpora" / "miwg",
)

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:modeler="http://camunda.org/schema/modeler/1.0" '
    'id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" '
    'exporter="Camunda Modeler" exporterVersion="5.17.0" '
    'modeler:executionPlatform="Camunda Platform">\n'
)


def user(task_id: str, name: str = "", extra: str = "") -> str:
    return (
        f'<bpmn:userTask id="{task_id}" name="{name or task_id}" camunda:formKey="x">'
        f"<bpmn:documentation>Do {name or task_id}.</bpmn:documentation>{extra}</bpmn:userTask>"
    )


def flow(flow_id: str, source: str, target: str, condition: str = "") -> str:
    body = (
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
        "</bpmn:conditionExpression>"
        if condition
        else ""
    )
    ends = f'sourceRef="{source}" targetRef="{target}"'
    return f'<bpmn:sequenceFlow id="{flow_id}" {ends}>{body}</bpmn:sequenceFlow>'


def diagram(
    body: str, users: tuple[str, ...] = (), pid: str = "Process_1", head: str = HEAD
) -> str:
    """A process as a modeler exports it: one lane for the social worker."""
    refs = "".join(f"<bpmn:flowNodeRef>{u}</bpmn:flowNodeRef>" for u in users)
    return (
        f'{head}<bpmn:process id="{pid}" name="Corpus" isExecutable="true">'
        f'<bpmn:laneSet id="ls_{pid}"><bpmn:lane id="lane_{pid}" name="Social worker">{refs}'
        f"</bpmn:lane></bpmn:laneSet>{body}</bpmn:process></bpmn:definitions>"
    )


def line(*steps: str) -> str:
    """start -> steps... -> end, with the flows."""
    ids = ["start", *[s.split('id="', 1)[1].split('"', 1)[0] for s in steps], "end"]
    flows = "".join(flow(f"f{i}", a, b) for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    return '<bpmn:startEvent id="start"/>' + "".join(steps) + '<bpmn:endEvent id="end"/>' + flows


def timer(kind: str, text: str) -> str:
    return (
        f'<bpmn:timerEventDefinition><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{text}'
        f"</bpmn:{kind}></bpmn:timerEventDefinition>"
    )


# --- constructs refused at deploy, each with what to draw instead ------------------------------

SIGNAL = '<bpmn:signal id="sig" name="go"/>'
REFUSED = {
    "plain task": (
        diagram(line('<bpmn:task id="t" name="Phone the school"/>')),
        "t",
        "draw a user task",
    ),
    "manual task": (
        diagram(line('<bpmn:manualTask id="t" name="Visit"/>')),
        "t",
        "draw a user task",
    ),
    "service task": (
        diagram(line('<bpmn:serviceTask id="t" name="Call the API" camunda:class="x.Y"/>')),
        "t",
        "service tasks are not allowed",
    ),
    "script task": (
        diagram(line('<bpmn:scriptTask id="t"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>')),
        "t",
        "script tasks are not allowed",
    ),
    "event-based gateway": (
        diagram(
            '<bpmn:startEvent id="start"/><bpmn:eventBasedGateway id="gw"/>'
            f'<bpmn:intermediateCatchEvent id="wait">{timer("timeDuration", "P5D")}'
            '</bpmn:intermediateCatchEvent><bpmn:endEvent id="end"/>'
            + flow("f1", "start", "gw")
            + flow("f2", "gw", "wait")
            + flow("f3", "wait", "end")
        ),
        "gw",
        "draw the wait as a user task",
    ),
    "link events": (
        diagram(
            line(
                '<bpmn:intermediateThrowEvent id="go"><bpmn:linkEventDefinition name="A"/>'
                "</bpmn:intermediateThrowEvent>"
            )
        ),
        "go",
        "join the two parts with a sequence flow",
    ),
    "signal start": (
        diagram(
            '<bpmn:startEvent id="start"><bpmn:signalEventDefinition signalRef="sig"/>'
            '</bpmn:startEvent><bpmn:endEvent id="end"/>' + flow("f", "start", "end"),
            head=HEAD + SIGNAL,
        ),
        "start",
        "signals are not supported",
    ),
    "signal boundary": (
        diagram(
            line(user("visit")) + '<bpmn:boundaryEvent id="b" attachedToRef="visit">'
            '<bpmn:signalEventDefinition signalRef="sig"/></bpmn:boundaryEvent>',
            ("visit",),
            head=HEAD + SIGNAL,
        ),
        "b",
        "draw a message event",
    ),
    "data objects": (
        diagram(
            line(
                user(
                    "visit",
                    extra='<bpmn:dataOutputAssociation id="da"><bpmn:targetRef>dor'
                    "</bpmn:targetRef></bpmn:dataOutputAssociation>",
                )
            )
            + '<bpmn:dataObject id="do"/><bpmn:dataObjectReference id="dor" dataObjectRef="do"/>',
            ("visit",),
        ),
        "do",
        "data objects are not supported",
    ),
    "ad-hoc subprocess": (
        diagram(
            line(f'<bpmn:adHocSubProcess id="adhoc">{user("a")}</bpmn:adHocSubProcess>'), ("a",)
        ),
        "adhoc",
        "ad-hoc subprocesses are not supported",
    ),
    "multi-instance": (
        diagram(
            line(
                user(
                    "visit",
                    extra='<bpmn:multiInstanceLoopCharacteristics camunda:collection="kids"/>',
                )
            ),
            ("visit",),
        ),
        "visit",
        "multi-instance steps are not supported",
    ),
    "gateway without default": (
        diagram(
            '<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" name="Consent?"/>'
            '<bpmn:endEvent id="yes"/><bpmn:endEvent id="no"/>'
            + flow("f1", "start", "gw")
            + flow("f2", "gw", "yes", "consent_given == True")
            + flow("f3", "gw", "no", "consent_given == False")
        ),
        "gw",
        "mark one outgoing flow as the default",
    ),
    "a condition that would freeze the server": (
        diagram(
            '<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" default="f3"/>'
            '<bpmn:endEvent id="yes"/><bpmn:endEvent id="no"/>'
            + flow("f1", "start", "gw")
            + flow("f2", "gw", "yes", "4000000**4000000 &gt; 1")
            + flow("f3", "gw", "no")
        ),
        "f2",
        "condition: a number in the expression is too large to calculate",
    ),
    "a condition that would build 100 MB": (
        diagram(
            '<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" default="f3"/>'
            '<bpmn:endEvent id="yes"/><bpmn:endEvent id="no"/>'
            + flow("f1", "start", "gw")
            + flow("f2", "gw", "yes", "note == &quot;&quot;.zfill(10**8)")
            + flow("f3", "gw", "no")
        ),
        "f2",
        "condition: the result would be too long",
    ),
    "two flows out of a step": (
        diagram(
            '<bpmn:startEvent id="start"/>'
            + user("visit")
            + '<bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>'
            + flow("f1", "start", "visit")
            + flow("f2", "visit", "a")
            + flow("f3", "visit", "b"),
            ("visit",),
        ),
        "visit",
        "draw an exclusive gateway after it",
    ),
    "due_in in a duration timer": (
        diagram(
            line(
                '<bpmn:intermediateCatchEvent id="wait">'
                + timer("timeDuration", "due_in(&quot;3 days&quot;)")
                + "</bpmn:intermediateCatchEvent>"
            )
        ),
        "wait",
        "draw it as a date timer (timeDate)",
    ),
    "script in the page": (
        diagram(line()).replace(
            "<bpmn:process",
            '<html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)</html:script>'
            "<bpmn:process",
        ),
        None,
        "<html:script> (namespace http://www.w3.org/1999/xhtml) is not part of BPMN",
    ),
    "stylesheet instruction": (
        diagram(line()).replace(
            "<bpmn:definitions", '<?xml-stylesheet type="text/xsl" href="x.xsl"?><bpmn:definitions'
        ),
        None,
        'processing instruction "<?xml-stylesheet" is not allowed',
    ),
    "a call to a process not deployed": (
        diagram(line('<bpmn:callActivity id="call" calledElement="nowhere"/>')),
        "call",
        'calls "nowhere", which is not in this deployment',
    ),
    "a boundary event on nothing": (
        diagram(
            line(user("visit"))
            + f'<bpmn:boundaryEvent id="b" attachedToRef="zzz">{timer("timeDuration", "P1D")}'
            "</bpmn:boundaryEvent>",
            ("visit",),
        ),
        "b",
        "drag it onto the step it belongs to",
    ),
    "a message event without its message": (
        diagram(
            line(
                '<bpmn:intermediateCatchEvent id="m"><bpmn:messageEventDefinition '
                'messageRef="nope"/></bpmn:intermediateCatchEvent>'
            )
        ),
        "m",
        "names no message of this file",
    ),
    "two plain start events": (
        diagram(
            '<bpmn:startEvent id="s1"/><bpmn:startEvent id="s2"/><bpmn:endEvent id="e"/>'
            + flow("a", "s1", "e")
            + flow("b", "s2", "e")
        ),
        "s2",
        "2 plain start events: keep one",
    ),
    "a subprocess without a start": (
        diagram(line('<bpmn:subProcess id="sp"><bpmn:endEvent id="x"/></bpmn:subProcess>')),
        "sp",
        "has no start event",
    ),
    "a message payload that is code": (
        diagram(
            line(
                '<bpmn:intermediateThrowEvent id="tell">'
                '<bpmn:messageEventDefinition messageRef="m">'
                '<bpmn:extensionElements><spiffworkflow:messagePayload>(1).to_bytes(9, "big")'
                "</spiffworkflow:messagePayload></bpmn:extensionElements>"
                "</bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>"
            ),
            head=HEAD.replace(
                "<bpmn:definitions",
                '<bpmn:definitions xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"',
            )
            + '<bpmn:message id="m" name="told"/>',
        ),
        "tell",
        'message payload: ".to_bytes()" is not a method',
    ),
    "a process that calls itself": (
        diagram(line('<bpmn:callActivity id="again" calledElement="Process_1"/>')),
        "again",
        "calls form a loop (Process_1 -> Process_1)",
    ),
}


@contextmanager
def at_most(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (the test runs in the main thread)."""

    def expired(*_: object) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_constructs_that_would_break_a_case_are_refused_with_what_to_draw(case: str) -> None:
    xml, element, fragment = REFUSED[case]
    with at_most(10), pytest.raises(DeploymentError) as caught:
        parse_bundle({"corpus.bpmn": xml}, FORMS)
    hits = [p for p in caught.value.problems if fragment in p.message]
    assert hits, [str(p) for p in caught.value.problems]
    assert hits[0].line and hits[0].file == "corpus.bpmn"
    if element:
        assert hits[0].element_id == element


def test_two_processes_calling_each_other_are_refused() -> None:
    a = diagram(line('<bpmn:callActivity id="call_b" calledElement="b"/>'), pid="a")
    b = diagram(line('<bpmn:callActivity id="call_a" calledElement="a"/>'), pid="b")
    with at_most(10), pytest.raises(DeploymentError) as caught:
        parse_bundle({"a.bpmn": a, "b.bpmn": b}, FORMS)
    assert any("calls form a loop (a -> b -> a)" in p.message for p in caught.value.problems)


def test_a_very_long_chain_is_refused_clearly() -> None:
    steps = [user(f"s{i}") for i in range(520)]
    xml = diagram(line(*steps), tuple(f"s{i}" for i in range(520)))
    with at_most(60), pytest.raises(DeploymentError) as caught:
        parse_bundle({"long.bpmn": xml}, FORMS)
    assert "split it into subprocesses or call activities" in str(caught.value)


def test_files_in_latin1_and_utf16_deploy_with_their_text_intact() -> None:
    text = diagram(line(user("visit", "Réunion à domicile")), ("visit",))
    latin1 = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    for name, content in {
        "latin1.bpmn": latin1.encode("latin-1"),
        "utf16.bpmn": text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
        "latin1-as-text.bpmn": latin1,  # through the engine API, already decoded
    }.items():
        (parsed,) = parse_bundle({name: content}, FORMS)
        assert "Réunion à domicile" in parsed.xml
        assert parsed.spec.task_specs["visit"].bpmn_name == "Réunion à domicile", name


# --- constructs that run: exports from modelers, standard timers -------------------------------

CAMUNDA_EXTRAS = (
    '<bpmn:extensionElements><camunda:properties><camunda:property name="a" value="b"/>'
    "</camunda:properties></bpmn:extensionElements>"
)


def test_a_camunda_modeler_export_runs_to_the_end(engine: Engine) -> None:
    xml = diagram(
        line(user("visit", "Visit the family", CAMUNDA_EXTRAS), user("record", "Record")),
        ("visit", "record"),
    )
    engine.deploy({"export.bpmn": xml}, "pm1")
    with at_most(20):
        case = engine.start_case("Process_1", NewChild("Ada Example"), {}, "sw1")
        assert [t.name for t in case.tasks] == ["Visit the family"]
        done = engine.complete_task(case.tasks[0].id, {}, "sw1")
        done = engine.complete_task(done.next_tasks[0].id, {}, "sw1")
    assert done.case.status == "closed" or not done.case.tasks


def near(got: list[datetime], expected: list[datetime]) -> bool:
    """Equal within a millisecond: the engine clock is read one microsecond ahead by
    SpiffWorkflow's duration timers (engine.runtime._EngineDatetime)."""
    return len(got) == len(expected) and all(
        abs(a - b) < timedelta(milliseconds=1) for a, b in zip(got, expected, strict=True)
    )


def test_standard_iso_timers_run_as_exact_calendar_time(engine: Engine, fixed_clock) -> None:  # noqa: ANN001
    body = line(
        f'<bpmn:intermediateCatchEvent id="hour" name="An hour">{timer("timeDuration", "PT1H")}'
        "</bpmn:intermediateCatchEvent>",
        user("visit", "Visit"),
        f'<bpmn:intermediateCatchEvent id="until" name="Until">'
        f"{timer('timeDate', '2026-12-07T09:00:00')}</bpmn:intermediateCatchEvent>",
        user("record", "Record"),
    ) + (
        '<bpmn:boundaryEvent id="ten_days" name="Ten days" attachedToRef="visit" '
        f'cancelActivity="false">{timer("timeDuration", "P10D")}</bpmn:boundaryEvent>'
        '<bpmn:endEvent id="late_end"/>' + flow("fl", "ten_days", "late_end")
    )
    engine.deploy({"iso.bpmn": diagram(body, ("visit", "record"))}, "pm1")
    start = fixed_clock.now()
    with at_most(20):
        case = engine.start_case("Process_1", NewChild("Ada Example"), {}, "sw1")
        assert case.tasks == []
        assert near([t.due_at for t in case.timers], [start + timedelta(hours=1)])
        fixed_clock.advance(timedelta(hours=1, milliseconds=1))
        engine.fire_due_timers()
        case = engine.get_case(case.id)
        assert [t.name for t in case.tasks] == ["Visit"]
        assert near([t.due_at for t in case.timers], [fixed_clock.now() + timedelta(days=10)])
        done = engine.complete_task(case.tasks[0].id, {}, "sw1")
        # a date with no offset is London time (GMT in December)
        assert [t.due_at for t in done.case.timers] == [datetime(2026, 12, 7, 9, tzinfo=UTC)]


@pytest.mark.skipif(not MIWG.is_dir(), reason="shared/corpora/miwg is not beside the repo")
@pytest.mark.parametrize("name", sorted(p.name for p in MIWG.glob("*.bpmn")))
def test_miwg_files_run_or_are_refused_clearly(engine: Engine, name: str) -> None:
    content = (MIWG / name).read_bytes()
    with at_most(30):
        try:
            versions = engine.deploy({name: content}, "pm1")
        except DeploymentError as exc:
            assert exc.problems
            assert all(p.message and p.file == name for p in exc.problems)
            assert all(p.line for p in exc.problems)
            return
        for version in versions:
            try:
                case = engine.start_case(version.process_id, NewChild("Ada Example"), {}, "sw1")
            except DiagramError:
                continue
            assert case.tasks or case.timers or case.status != "open"


# --- failures on real data: a clear refusal, nothing saved -------------------------------------

#: Issue 10's timer that only failed on real data: its other branch is now tried at deploy.
SOMETIMES = 'due_in("3 days") if referral_date == "2026-01-05" else "not a date"'
#: A timer that is right, on data that is not: a date typed the British way.
FROM_REFERRAL = 'due_in("3 days", from_=referral_date)'
BRITISH_DATE = {"referral_date": "23/11/2026"}


def test_a_timer_branch_that_gives_no_date_is_refused_at_deploy() -> None:
    xml = diagram(
        line(
            '<bpmn:intermediateCatchEvent id="wait" name="Three days">'
            + timer("timeDate", SOMETIMES.replace('"', "&quot;"))
            + "</bpmn:intermediateCatchEvent>"
        )
    )
    with pytest.raises(DeploymentError) as caught:
        parse_bundle({"sometimes.bpmn": xml}, FORMS)
    (problem,) = caught.value.problems
    assert problem.element_id == "wait"
    assert 'the timer gives "not a date"' in problem.message and SOMETIMES in problem.message


#: R3: a manager's own limit, a number of hours from the case's data, shortens the deadline.
MANAGERS_LIMIT = 'deadline("visit", from_=allocation.allocation_date, within=allocation.hours)'


def test_a_timer_reading_a_number_of_hours_from_data_deploys_and_a_date_there_is_refused() -> None:
    xml = diagram(
        line(
            '<bpmn:intermediateCatchEvent id="wait" name="Within the manager\'s limit">'
            + timer("timeDate", MANAGERS_LIMIT.replace('"', "&quot;"))
            + "</bpmn:intermediateCatchEvent>"
        )
    )
    scales = {"visit": Timescale("visit", "R3", Duration(48, "hours"), "allocation", "5")}
    parse_bundle({"limit.bpmn": xml}, FORMS, timescales=scales)  # the trial tries a number
    wrong = MANAGERS_LIMIT.replace("within=allocation.hours", "within=allocation.allocation_date")
    with pytest.raises(DeploymentError) as caught:
        parse_bundle(
            {
                "limit.bpmn": diagram(
                    line(
                        '<bpmn:intermediateCatchEvent id="wait" name="Limit">'
                        + timer("timeDate", wrong.replace('"', "&quot;"))
                        + "</bpmn:intermediateCatchEvent>"
                    )
                )
            },
            FORMS,
            timescales=scales,
        )
    assert "must be a whole number of hours" in caught.value.problems[0].message


def test_a_timer_that_fails_on_real_data_refuses_the_start_and_saves_nothing(
    engine: Engine,
) -> None:
    xml = diagram(
        line(
            f'<bpmn:intermediateCatchEvent id="wait" name="Three days">'
            f"{timer('timeDate', FROM_REFERRAL.replace(chr(34), '&quot;'))}"
            "</bpmn:intermediateCatchEvent>"
        )
    )
    engine.deploy({"sometimes.bpmn": xml}, "pm1")
    with pytest.raises(DiagramError) as caught:
        engine.start_case("Process_1", NewChild("Ada Example"), BRITISH_DATE, "sw1")
    message = str(caught.value)
    assert '"Three days" (wait)' in message and FROM_REFERRAL in message
    assert '"23/11/2026" is not a date' in message
    assert caught.value.element_id == "wait"
    assert engine.list_cases() == []
    assert [e.action for e in engine.audit_trail()] == ["process_deployed"]


def test_a_condition_on_a_missing_field_refuses_the_completion_and_the_step_stays_open(
    engine: Engine,
) -> None:
    body = (
        '<bpmn:startEvent id="start"/>'
        + user("visit", "Visit")
        + '<bpmn:exclusiveGateway id="gw" name="Worried?" default="f_no"/>'
        + user("escalate", "Escalate")
        + '<bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>'
        + flow("f1", "start", "visit")
        + flow("f2", "visit", "gw")
        # not a form's answers (those are checked at deploy: engine/condition_fields.py)
        + flow("f_yes", "gw", "escalate", "visit_notes.worried == True")
        + flow("f_no", "gw", "e1")
        + flow("f3", "escalate", "e2")
    )
    engine.deploy({"gw.bpmn": diagram(body, ("visit", "escalate"))}, "pm1")
    case = engine.start_case("Process_1", NewChild("Ada Example"), {}, "sw1")
    task = case.tasks[0]
    with pytest.raises(DiagramError) as caught:
        engine.complete_task(task.id, {}, "sw1")
    assert '"Worried?" (gw)' in str(caught.value)
    assert "visit_notes.worried == True" in str(caught.value)
    after = engine.get_case(case.id)
    assert after.revision == case.revision and [t.id for t in after.tasks] == [task.id]
    assert "task_completed" not in [e.action for e in engine.audit_trail()]


def test_cinflow_start_prints_the_refusal_and_exits_1(
    db_url: str, fixed_clock, tmp_path: Path
) -> None:  # noqa: ANN001
    from click.testing import CliRunner

    from webui.cli import cli

    xml = diagram(
        line(
            f'<bpmn:intermediateCatchEvent id="wait" name="Three days">'
            f"{timer('timeDate', FROM_REFERRAL.replace(chr(34), '&quot;'))}"
            "</bpmn:intermediateCatchEvent>"
        )
    )
    (tmp_path / "sometimes.bpmn").write_text(xml)
    runner = CliRunner()

    def run(*args: str):  # noqa: ANN202
        return runner.invoke(cli, ["--database", db_url, *args], obj={}, catch_exceptions=False)

    assert run("init-db").exit_code == 0
    assert run("deploy", str(tmp_path / "sometimes.bpmn")).exit_code == 0
    started = run(
        "start", "Process_1", "--child", "Ada Example", "--data", '{"referral_date": "23/11/2026"}'
    )
    assert started.exit_code == 1
    assert '"Three days" (wait)' in started.output and "Traceback" not in started.output
    assert "Nothing was changed" in started.output
    check = Engine(db_url)
    try:
        assert check.list_cases() == []
    finally:
        check.dispose()


def test_a_repeating_timer_fires_the_number_of_times_it_says(engine: Engine, fixed_clock) -> None:  # noqa: ANN001
    body = line(user("visit", "Visit")) + (
        '<bpmn:boundaryEvent id="nag" name="Chase hourly" attachedToRef="visit" '
        f'cancelActivity="false">{timer("timeCycle", "R3/PT1H")}</bpmn:boundaryEvent>'
        + user("chase", "Chase")
        + '<bpmn:endEvent id="chased"/>'
        + flow("n1", "nag", "chase")
        + flow("n2", "chase", "chased")
    )
    engine.deploy({"cycle.bpmn": diagram(body, ("visit", "chase"))}, "pm1")
    with at_most(20):
        case = engine.start_case("Process_1", NewChild("Ada Example"), {}, "sw1")
        for _ in range(5):
            fixed_clock.advance(timedelta(hours=1, milliseconds=1))
            engine.fire_due_timers()
        case = engine.get_case(case.id)
    assert sorted(t.name for t in case.tasks) == ["Chase", "Chase", "Chase", "Visit"]
    assert case.timers == [] and case.attention is None


def test_a_non_interrupting_timer_event_subprocess_runs(engine: Engine, fixed_clock) -> None:  # noqa: ANN001
    body = line(user("visit", "Visit")) + (
        '<bpmn:subProcess id="esp" triggeredByEvent="true">'
        f'<bpmn:startEvent id="es" isInterrupting="false">{timer("timeDuration", "P1D")}'
        "</bpmn:startEvent>"
        + user("chase", "Chase")
        + '<bpmn:endEvent id="ce"/>'
        + flow("n1", "es", "chase")
        + flow("n2", "chase", "ce")
        + "</bpmn:subProcess>"
    )
    engine.deploy({"esp.bpmn": diagram(body, ("visit", "chase"))}, "pm1")
    with at_most(20):
        case = engine.start_case("Process_1", NewChild("Ada Example"), {}, "sw1")
        fixed_clock.advance(timedelta(days=1, milliseconds=1))
        engine.fire_due_timers()
        case = engine.get_case(case.id)
    assert sorted(t.name for t in case.tasks) == ["Chase", "Visit"]
