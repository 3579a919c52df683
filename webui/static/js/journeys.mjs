// A draft's page (webui/templates/journeys/draft.html): each diagram opens in bpmn-js's
// navigated viewer with markers by element id: cin-added / cin-changed (what the draft changed
// from the live version, engine/bpmn_diff.py), cin-failed (where a journey failed) on the
// draft, cin-removed on the live version. The page lists the same facts in text, so nothing
// here is the only way to learn them.

import { openViewer, showProblem } from "./diagram-viewer.mjs";

function readMarkers(container) {
  try {
    const markers = JSON.parse(container.dataset.markers || "{}");
    return Object.entries(markers).filter(([, ids]) => Array.isArray(ids));
  } catch {
    return [];
  }
}

async function showDiagram(container) {
  const viewer = await openViewer(container);
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  for (const [marker, ids] of readMarkers(container)) {
    for (const id of ids) {
      if (registry.get(id)) canvas.addMarker(id, marker);
    }
  }
  canvas.zoom("fit-viewport", "auto");
  container.classList.add("cin-diagram__canvas--ready");
  container.dataset.ready = "true";
}

for (const container of document.querySelectorAll("[data-journey-diagram]")) {
  showDiagram(container).catch((error) => {
    console.error(error);
    showProblem(container, "The diagram could not be shown. The same facts are listed above.");
    container.dataset.ready = "error";
  });
}
