// A process version's diagram on the procedures pages: bpmn-js's navigated viewer (pan and
// zoom, no editing) with the elements added or changed since the version it is compared with
// marked cin-added / cin-changed (styled in scss/_case.scss). The changes are listed in text
// on the page too, so nothing here is the only way to learn them. The data comes from the
// engine's one diff (engine/bpmn_diff.py, VersionDiff.as_data()).

import { mountDiagram, openViewer } from "./diagram-viewer.mjs";

function readDiff(container) {
  try {
    const diff = JSON.parse(container.dataset.diff || "{}");
    return {
      added: Array.isArray(diff.added) ? diff.added : [],
      changed: Object.keys(diff.changed || {}),
    };
  } catch {
    return { added: [], changed: [] };
  }
}

async function showDiagram(container) {
  const viewer = await openViewer(container);
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const { added, changed } = readDiff(container);
  for (const [ids, marker] of [[added, "cin-added"], [changed, "cin-changed"]]) {
    for (const id of ids) {
      if (registry.get(id)) canvas.addMarker(id, marker);
    }
  }
  canvas.zoom("fit-viewport", "auto");
  container.classList.add("cin-diagram__canvas--ready");
  container.dataset.ready = "true";
}

mountDiagram(
  "process-diagram",
  showDiagram,
  "The diagram could not be shown. The changes are listed above.",
);
