"""One definition, two runners: engine/conventions.json run by engine/conventions.py (deploy)
and by webui/static/js/conventions.mjs (the browser, for the modeler) give the same findings
on every broken council diagram of tests/unit/test_conventions.py, and none on the shipped
packs."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from engine.conventions import check, context_for, context_json, rule_set

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
RUN_IN_BROWSER = """async ([xml, rules, context]) => {
  const { check } = await import("/static/js/conventions.mjs");
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  return check(doc, rules, context);
}"""


def _unit_breaks() -> dict:
    spec = importlib.util.spec_from_file_location(
        "unit_test_conventions", ROOT / "tests" / "unit" / "test_conventions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BREAKS


def both(page, xml: str, context) -> tuple[list, list]:  # noqa: ANN001
    python = [
        (f.rule, f.element_id, f.message) for f in check(etree.fromstring(xml.encode()), context)
    ]
    found = page.evaluate(RUN_IN_BROWSER, [xml, rule_set(), context_json(context)])
    browser = [(f["rule"], f["elementId"], f["message"]) for f in found]
    return sorted(python), sorted(browser)


@pytest.fixture
def blank(page, live_server):  # noqa: ANN001, ANN201
    page.goto("/sign-in")
    return page


def test_the_two_runners_agree_on_every_broken_diagram(blank) -> None:  # noqa: ANN001
    context = context_for("portsmouth", PROCESSES, FORMS)
    for rule, (make, element, _words) in _unit_breaks().items():
        python, browser = both(blank, make(), context)
        assert any(r == rule and e == element for r, e, _ in python), rule
        assert browser == python, rule
    # the abandoned-step variant of the escalation rule
    abandoned = replace(
        context,
        timescales=tuple(
            (k, "abandon" if k == "initial_plan" else v) for k, v in context.timescales
        ),
    )
    text = (PROCESSES / "portsmouth" / "portsmouth_after_assessment.bpmn").read_text()
    python, browser = both(blank, text, abandoned)
    assert python and browser == python


@pytest.mark.parametrize(
    "council", ["portsmouth", "dudley", "teeswide", "rochdale", "walthamforest"]
)
def test_the_browser_runner_passes_the_shipped_packs(blank, council: str) -> None:  # noqa: ANN001
    context = context_for(council, PROCESSES, FORMS)
    for path in [*(PROCESSES / "common").glob("*.bpmn"), *(PROCESSES / council).glob("*.bpmn")]:
        python, browser = both(blank, path.read_text(encoding="utf-8"), context)
        assert python == browser == [], path.name
