// The heatmap page's diagram: bpmn-js's navigated viewer loads a process version's XML and
// colours each step by its heat level (cin-heat--1 to 4, styled in scss/_reports.scss), with a
// badge "waiting / missed". The same numbers are in the table under the diagram.
//
// The viewer bundle (loaded with `defer` before this module) defines window.BpmnJS.

function readHeat(container) {
  try {
    const heat = JSON.parse(container.dataset.heat || "{}");
    return heat && typeof heat === "object" ? heat : {};
  } catch {
    return {};
  }
}

function showProblem(container, text) {
  const fallback = container.querySelector(".cin-diagram__fallback");
  if (fallback) {
    fallback.textContent = text;
    fallback.hidden = false;
  }
}

async function showHeatmap(container) {
  const Viewer = window.BpmnJS;
  if (!Viewer) {
    showProblem(container, "The diagram could not be shown. The same numbers are in the table below.");
    return;
  }
  const response = await fetch(container.dataset.xmlUrl, {
    credentials: "same-origin",
    headers: { Accept: "application/xml" },
  });
  if (!response.ok) throw new Error(`diagram XML: HTTP ${response.status}`);
  const xml = await response.text();
  const fallback = container.querySelector(".cin-diagram__fallback");
  if (fallback) fallback.hidden = true;
  const viewer = new Viewer({ container });
  await viewer.importXML(xml);
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

const container = document.getElementById("heatmap-diagram");
if (container) {
  showHeatmap(container).catch((error) => {
    console.error(error);
    showProblem(container, "The diagram could not be shown. The same numbers are in the table below.");
    container.dataset.ready = "error";
  });
}
