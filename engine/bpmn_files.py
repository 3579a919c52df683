"""Small questions about a stored BPMN file, answered from its XML without the engine: which
process a call activity calls, and whether a file defines a process (the viewer opens a called
process's drawing from the files deployed with a version)."""

from __future__ import annotations

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _root(xml: str) -> etree._Element | None:
    try:
        return etree.fromstring(xml.encode("utf-8"), _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None


def called_process(xml: str, activity: str) -> str | None:
    """The calledElement of the call activity `activity` in `xml`, if there is one."""
    root = _root(xml)
    if root is None:
        return None
    for el in root.iter(f"{{{BPMN}}}callActivity"):
        if el.get("id") == activity:
            return el.get("calledElement")
    return None


def defines(xml: str, process_id: str) -> bool:
    """Whether `xml` has a process with this id."""
    root = _root(xml)
    return root is not None and any(
        p.get("id") == process_id for p in root.iter(f"{{{BPMN}}}process")
    )
