// The case page's process diagram (and the walkthrough's, the follow-along's, the library's):
// bpmn-js's navigated viewer (pan and zoom, no editing) loads the BPMN XML of the version the
// case runs on and marks each element's state with a CSS class: cin-done, cin-current,
// cin-overdue, cin-upcoming (steps the case can still reach) and cin-holds (a collapsed
// sub-process with the current step inside; bpmn-js's drill-down arrow opens it). Each state has
// its own line style as well as its colour (scss/_case.scss, explained by the key). The same
// states are listed in text beside the diagram, so nothing here is the only way to learn them.
//
// A call activity gets an "Open" button that shows the called process's own drawing, with the
// case's step in it marked, and a "Back" button to return (data-calls holds each call's marks).
//
// The viewer bundle (build/bpmn-js/bpmn-navigated-viewer.production.min.js, loaded with `defer`
// before this module) defines window.BpmnJS.

import { addControls } from "./diagram-controls.mjs";
import { mountDiagram, openViewer, showProblem } from "./diagram-viewer.mjs";

const READABLE = 0.9; // opens with labels about 11 px and up

function readJson(container, key, empty) {
  try {
    const value = JSON.parse(container.dataset[key] || "null");
    return value ?? empty;
  } catch {
    return empty;
  }
}

const ids = (value) => (Array.isArray(value) ? value.map(String) : []);

const isActivity = (element) => {
  const type = element.businessObject?.$type || "";
  return type.endsWith("Task") || type === "bpmn:CallActivity" || type === "bpmn:SubProcess";
};

// Steps the case can still reach from where it is: along the sequence flows from each current
// step (out of a sub-process at its end), not through timers, and not the ones done already.
function upcoming(registry, from, skip) {
  const seen = new Set();
  const out = [];
  const todo = from.map((id) => registry.get(id)).filter(Boolean);
  while (todo.length) {
    const element = todo.pop();
    if (seen.has(element.id)) continue;
    seen.add(element.id);
    if (!from.includes(element.id) && isActivity(element) && !skip.has(element.id)) {
      out.push(element.id);
    }
    const next = (element.outgoing || []).filter((f) => f.type === "bpmn:SequenceFlow");
    for (const flow of next) todo.push(flow.target);
    const type = element.businessObject?.$type;
    if (type === "bpmn:EndEvent" && element.parent?.type === "bpmn:SubProcess") {
      todo.push(element.parent);
    }
  }
  return out;
}

function rootOf(element) {
  let e = element;
  while (e.parent) e = e.parent;
  return e;
}

// Open at a readable scale centred on the current step (the sub-process holding it when it is
// drawn on another plane), or the whole drawing when nothing is current or it fits anyway.
function openReadable(canvas, registry, targets) {
  canvas.zoom("fit-viewport", "auto");
  const root = canvas.getRootElement();
  const target = targets.map((id) => registry.get(id)).find((e) => e && rootOf(e) === root);
  if (!target || canvas.zoom() >= READABLE) return;
  const cx = target.x + (target.width || 0) / 2;
  const cy = target.y + (target.height || 0) / 2;
  canvas.zoom(READABLE, { x: cx, y: cy });
  const box = canvas.viewbox();
  canvas.scroll({ dx: box.width / 2 - (cx - box.x), dy: box.height / 2 - (cy - box.y) });
}

// Mark one drawing's states; returns what it marked, by state (the browser tests read it).
function mark(viewer, marks) {
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const marked = new Map();
  const put = (id, state) => {
    if (marked.has(id) || !registry.get(id)) return;
    canvas.addMarker(id, `cin-${state}`);
    marked.set(id, state);
  };
  // overdue first: an overdue step is also current, and shows as overdue only
  for (const id of ids(marks.overdue)) put(id, "overdue");
  for (const id of ids(marks.current)) put(id, "current");
  for (const id of ids(marks.holds)) {
    const element = registry.get(id);
    if (element && element.collapsed) put(id, "holds");
  }
  for (const id of ids(marks.done)) put(id, "done");
  const from = ids(marks.current).concat(ids(marks.overdue));
  if (from.length) {
    for (const id of upcoming(registry, from, new Set(ids(marks.done)))) put(id, "upcoming");
  }
  openReadable(canvas, registry, ids(marks.overdue).concat(ids(marks.current), ids(marks.holds)));
  const states = {};
  for (const [id, state] of marked) (states[state] ||= []).push(id);
  return states;
}

// The drawings the reader has opened: the case's own first, then each called process.
function callNavigation(container, viewer, controls, top) {
  const calls = readJson(container, "calls", null);
  if (!calls) return () => {};
  const overlays = viewer.get("overlays");
  const registry = viewer.get("elementRegistry");
  const stack = [{ key: "", name: top.name, marks: top }];
  const status = document.createElement("p");
  status.className = "govuk-body-s cin-diagram__where";
  status.setAttribute("aria-live", "polite");
  status.dataset.testid = "diagram-where";
  controls.bar.after(status);
  const back = document.createElement("button");
  back.type = "button";
  back.className = "govuk-button govuk-button--secondary govuk-!-margin-bottom-1";
  back.dataset.testid = "diagram-back";
  back.textContent = "Back";
  back.classList.add("govuk-!-display-none"); // GOV.UK buttons override [hidden]
  controls.bar.prepend(back);

  async function show(index) {
    const entry = stack[index];
    stack.length = index + 1;
    const url = new URL(container.dataset.xmlUrl, window.location.href);
    if (entry.key) url.searchParams.set("call", entry.key);
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`diagram XML: HTTP ${response.status}`);
    await viewer.importXML(await response.text());
    decorate();
    const parent = stack[index - 1];
    back.classList.toggle("govuk-!-display-none", !parent);
    if (parent) back.textContent = `Back to ${parent.name}`;
    status.textContent = parent
      ? `Showing ${entry.name}, called from ${parent.name}.`
      : `Showing ${entry.name}.`;
    container.dataset.showing = entry.key;
  }
  back.addEventListener("click", () => {
    show(stack.length - 2).catch((error) => {
      console.error(error);
      showProblem(container, "That drawing could not be shown.");
    });
  });

  // An "Open" button on each call activity of the drawing shown.
  function decorate() {
    const here = stack[stack.length - 1];
    container.dataset.marked = JSON.stringify(mark(viewer, here.marks));
    controls.refresh();
    for (const element of registry.getAll()) {
      if (element.type !== "bpmn:CallActivity") continue;
      const key = here.key ? `${here.key}/${element.id}` : element.id;
      const called = calls[key] || {};
      const name = called.name || element.businessObject.name || element.id;
      const b = document.createElement("button");
      b.type = "button";
      b.className = "cin-diagram__open-call";
      b.textContent = "Open";
      b.setAttribute("aria-label", `Open the called process: ${name}`);
      b.dataset.call = key;
      b.addEventListener("click", () => {
        stack.push({ key, name, marks: called });
        show(stack.length - 1).catch((error) => {
          console.error(error);
          stack.pop();
          showProblem(container, "That drawing could not be shown.");
        });
      });
      overlays.add(element.id, "cin-call", { position: { bottom: 6, left: 6 }, html: b });
    }
  }
  status.textContent = `Showing ${top.name}.`;
  return decorate;
}

async function showDiagram(container) {
  const viewer = await openViewer(container);
  const caption = container.closest("figure")?.querySelector("figcaption");
  if (caption?.id) container.setAttribute("aria-labelledby", caption.id);
  const top = {
    name: container.dataset.name || "this process",
    done: readJson(container, "done", []),
    current: readJson(container, "current", []),
    overdue: readJson(container, "overdue", []),
    holds: readJson(container, "holds", []),
  };
  const controls = addControls(container, viewer);
  const decorate = callNavigation(container, viewer, controls, top);
  if (container.dataset.calls) decorate();
  else container.dataset.marked = JSON.stringify(mark(viewer, top));
  container.classList.add("cin-diagram__canvas--ready");
  container.dataset.ready = "true";
}

mountDiagram(
  "case-diagram",
  showDiagram,
  "The diagram could not be shown. The same information is in the list below.",
);
