"""What SpiffWorkflow raises while running a case becomes one typed refusal naming the element."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.calendar import WorkingCalendar
from engine.errors import CinflowError, DiagramError
from engine.functions import diagram_functions
from engine.runtime import Runtime

HEAD = (
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="t">'
    '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="start"/>'
    '<bpmn:exclusiveGateway id="g" name="Consent?"/><bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="g"/>'
)


def cond(flow_id: str, target: str, text: str) -> str:
    return (
        f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="g" targetRef="{target}">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{text}'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


def run(body: str, data: dict[str, Any]) -> None:
    """Parsed straight with SpiffWorkflow: deploy would refuse a gateway without a default."""
    parser = SpiffBpmnParser()
    xml = HEAD + body + "</bpmn:process></bpmn:definitions>"
    parser.add_bpmn_xml(etree.ElementTree(etree.fromstring(xml.encode())), "x.bpmn")
    runtime = Runtime()
    functions = diagram_functions(WorkingCalendar())
    runtime.run(runtime.new_workflow(parser.get_spec("p"), {}, data, functions))


def test_no_condition_holding_names_the_gateway_and_what_to_draw() -> None:
    with pytest.raises(DiagramError) as caught:
        run(cond("f2", "a", "n == 1") + cond("f3", "b", "n == 2"), {"n": 3})
    assert isinstance(caught.value, CinflowError)
    assert caught.value.element_id == "g"
    assert '"Consent?" (g) in process p' in str(caught.value)
    assert "mark one flow as the default" in str(caught.value)


def test_a_condition_that_fails_names_the_gateway_and_the_expression() -> None:
    with pytest.raises(DiagramError) as caught:
        run(cond("f2", "a", "visit.worried == True") + cond("f3", "b", "True"), {"n": 3})
    assert caught.value.element_id == "g"
    assert caught.value.expression == "visit.worried == True"
    assert '"visit" is not a value in this case\'s data' in str(caught.value)
    assert "Nothing was changed" in str(caught.value)


def test_a_hostile_condition_is_refused_within_a_second() -> None:
    import time

    started = time.monotonic()
    with pytest.raises(DiagramError, match="too large to calculate"):
        run(cond("f2", "a", "4000000**4000000 &gt; 1") + cond("f3", "b", "True"), {})
    assert time.monotonic() - started < 1
