// The heatmap page's diagram: bpmn-js's navigated viewer loads a process version's XML and
// colours each step by its heat level (cin-heat--1 to 4, styled in scss/_reports.scss), with a
// badge "waiting / missed". The same numbers are in the table under the diagram.
//
// The viewer bundle (loaded with `defer` before this module) defines window.BpmnJS.

import { mountDiagram, openViewer } from "./diagram-viewer.mjs";

function readHeat(container) {
  try {
    const heat = JSON.parse(container.dataset.heat || "{}");
    return heat && typeof heat === "object" ? heat : {};
  } catch {
    return {};
  }
}

async function showHeatmap(container) {
  const viewer = await openViewer(container);
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const overlays = viewer.get("overlays");
  for (const [id, step] of Object.entries(readHeat(container))) {
    if (!registry.get(id) || !step.level) continue;
    canvas.addMarker(id, `cin-heat--${Number(step.level)}`);
    const badge = document.createElement("span");
    badge.className = "cin-heat-badge";
    badge.textContent = `${Number(step.waiting)} / ${Number(step.missed)}`;
    badge.setAttribute("aria-hidden", "true");
    overlays.add(id, { position: { bottom: 12, right: 12 }, html: badge });
  }
  canvas.zoom("fit-viewport", "auto");
  container.classList.add("cin-diagram__canvas--ready");
  container.dataset.ready = "true";
}

mountDiagram(
  "heatmap-diagram",
  showHeatmap,
  "The diagram could not be shown. The same numbers are in the table below.",
);
