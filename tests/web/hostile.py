"""What an attacker's diagram looks like once stored: BPMN carrying an XHTML <script>.

Planted straight into the stored version's XML, as a diagram deployed before the deploy-time
namespace check existed would be (the check now refuses it, so the engine cannot deploy it).
Shared by tests/web and tests/browser.
"""

from __future__ import annotations

from sqlalchemy import update

from engine.services import Engine
from engine.store.db import unit_of_work
from engine.store.models import Case, ProcessVersion

BEACON = "/xss-beacon"
# Reads the worklist and sends it away, as the reproduction did.
SCRIPT = (
    '<html:script xmlns:html="http://www.w3.org/1999/xhtml">'
    f"fetch('/worklist').then(r => r.text()).then(t => fetch('{BEACON}?n=' + t.length));"
    f"fetch('{BEACON}?ran=1');"
    "</html:script>"
)


def with_script(xml: str) -> str:
    """The diagram with the script as the first child of bpmn:definitions."""
    head, sep, rest = xml.partition("<bpmn:definitions")
    tag_end = rest.index(">") + 1
    return head + sep + rest[:tag_end] + SCRIPT + rest[tag_end:]


def plant(engine: Engine, case_id: int) -> str:
    """Store the script-carrying XML as the version case `case_id` runs on; returns it."""
    with unit_of_work(engine.sessions) as s:
        version = s.get(Case, case_id).process_version_id
        xml = with_script(s.get(ProcessVersion, version).xml)
        s.execute(update(ProcessVersion).where(ProcessVersion.id == version).values(xml=xml))
    return xml
