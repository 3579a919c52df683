// The case page's process diagram: bpmn-js's navigated viewer (pan and zoom, no editing) loads
// the BPMN XML of the version the case runs on and marks each element's state with a CSS class:
// cin-done, cin-current or cin-overdue (styled in scss/_case.scss). The same states are listed
// in text under the diagram, so nothing here is the only way to learn them.
//
// The viewer bundle (build/bpmn-js/bpmn-navigated-viewer.production.min.js, loaded with `defer`
// before this module) defines window.BpmnJS.

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

function showProblem(container, text) {
  const fallback = container.querySelector(".cin-diagram__fallback");
  if (fallback) {
    fallback.textContent = text;
    fallback.hidden = false;
  }
}

async function showDiagram(container) {
  const Viewer = window.BpmnJS;
  if (!Viewer) {
    showProblem(container, "The diagram could not be shown. The same information is in the list below.");
    return;
  }
  const response = await fetch(container.dataset.xmlUrl, {
    credentials: "same-origin",
    headers: { Accept: "application/xml" },
  });
  if (!response.ok) {
    throw new Error(`diagram XML: HTTP ${response.status}`);
  }
  const xml = await response.text();

  const fallback = container.querySelector(".cin-diagram__fallback");
  if (fallback) fallback.hidden = true;
  const viewer = new Viewer({ container });
  await viewer.importXML(xml);

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
  canvas.zoom("fit-viewport", "auto");
  container.classList.add("cin-diagram__canvas--ready");
  container.dataset.ready = "true";
}

const container = document.getElementById("case-diagram");
if (container) {
  showDiagram(container).catch((error) => {
    console.error(error);
    showProblem(container, "The diagram could not be shown. The same information is in the list below.");
    container.dataset.ready = "error";
  });
}
