// The case page's process diagram: bpmn-js's navigated viewer (pan and zoom, no editing) loads
// the BPMN XML of the version the case runs on and marks each element's state with a CSS class:
// cin-done, cin-current or cin-overdue (styled in scss/_case.scss). The same states are listed
// in text under the diagram, so nothing here is the only way to learn them.
//
// The viewer bundle (build/bpmn-js/bpmn-navigated-viewer.production.min.js, loaded with `defer`
// before this module) defines window.BpmnJS.

import { mountDiagram, openViewer } from "./diagram-viewer.mjs";

const MARKERS = [
  ["overdue", "cin-overdue"],
  ["current", "cin-current"],
  ["done", "cin-done"],
];

function readIds(container, key) {
  try {
    const ids = JSON.parse(container.dataset[key] || "[]");
    return Array.isArray(ids) ? ids.map(String) : [];
  } catch {
    return [];
  }
}

async function showDiagram(container) {
  const viewer = await openViewer(container);

  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const marked = new Set();
  // Overdue first: an overdue step is also current, and shows as overdue only.
  for (const [key, marker] of MARKERS) {
    for (const id of readIds(container, key)) {
      if (marked.has(id) || !registry.get(id)) continue;
      canvas.addMarker(id, marker);
      marked.add(id);
    }
  }
  openReadable(canvas, registry, readIds(container, "overdue").concat(readIds(container, "current")));
  addControls(container, canvas, registry);
  container.classList.add("cin-diagram__canvas--ready");
  container.dataset.ready = "true";
}

// Open at a readable scale (labels about 11 px and up) centred on the current step, or the whole
// drawing when nothing is current or it fits anyway.
const READABLE = 0.9;
const STEP = 1.25;

function openReadable(canvas, registry, ids) {
  canvas.zoom("fit-viewport", "auto");
  const target = ids.map((id) => registry.get(id)).find(Boolean);
  if (!target || canvas.zoom() >= READABLE) return;
  canvas.zoom(READABLE, {
    x: target.x + (target.width || 0) / 2,
    y: target.y + (target.height || 0) / 2,
  });
  const box = canvas.viewbox();
  canvas.scroll({
    dx: box.width / 2 - (target.x + (target.width || 0) / 2 - box.x),
    dy: box.height / 2 - (target.y + (target.height || 0) / 2 - box.y),
  });
}

// The practitioner view hides the plumbing people never act on: reminder and deadline timers
// with what only they lead to, and gateways without a name. The full drawing is one click away.
function isPlumbing(element) {
  const bo = element.businessObject || {};
  const type = bo.$type || "";
  if (type === "bpmn:BoundaryEvent") {
    return (bo.eventDefinitions || []).some((d) => d.$type === "bpmn:TimerEventDefinition");
  }
  if (type.endsWith("Gateway")) return !bo.name;
  return false;
}

function plumbing(registry) {
  const hidden = new Set();
  for (const element of registry.getAll()) {
    if (isPlumbing(element)) hidden.add(element);
  }
  // what only plumbing leads to (the "Reminder sent" end events), and every line touching it
  for (const element of registry.getAll()) {
    const bo = element.businessObject || {};
    const incoming = element.incoming || [];
    if (bo.$type === "bpmn:EndEvent" && incoming.length && incoming.every((f) => hidden.has(f.source))) {
      hidden.add(element);
    }
  }
  for (const element of registry.getAll()) {
    if (element.waypoints && (hidden.has(element.source) || hidden.has(element.target))) {
      hidden.add(element);
    }
    if (element.type === "label" && hidden.has(element.labelTarget)) hidden.add(element);
  }
  return [...hidden];
}

// Labelled buttons (so keyboard and speech users can drive the viewer), above the drawing.
function addControls(container, canvas, registry) {
  const bar = document.createElement("div");
  bar.className = "govuk-button-group cin-diagram__controls";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Diagram controls");
  const button = (text, action) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "govuk-button govuk-button--secondary govuk-!-margin-bottom-1";
    b.textContent = text;
    b.addEventListener("click", () => action(b));
    bar.append(b);
    return b;
  };
  button("Zoom in", () => canvas.zoom(canvas.zoom() * STEP));
  button("Zoom out", () => canvas.zoom(canvas.zoom() / STEP));
  button("Fit to the box", () => canvas.zoom("fit-viewport", "auto"));
  const hidden = plumbing(registry);
  if (hidden.length) {
    const setView = (full) => {
      for (const element of hidden) {
        if (full) canvas.removeMarker(element, "cin-plumbing");
        else canvas.addMarker(element, "cin-plumbing");
      }
      container.dataset.view = full ? "full" : "practitioner";
    };
    setView(false);
    button("Show the full drawing", (b) => {
      const full = container.dataset.view !== "full";
      setView(full);
      b.textContent = full ? "Show the practitioner view" : "Show the full drawing";
    });
  }
  const figure = container.closest("figure") || container;
  if (figure.requestFullscreen) {
    const full = button("Full screen", () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else figure.requestFullscreen();
    });
    document.addEventListener("fullscreenchange", () => {
      full.textContent = document.fullscreenElement ? "Exit full screen" : "Full screen";
      canvas.resized();
    });
  }
  container.before(bar);
}

mountDiagram(
  "case-diagram",
  showDiagram,
  "The diagram could not be shown. The same information is in the list below.",
);
