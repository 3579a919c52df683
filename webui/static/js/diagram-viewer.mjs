// What every page that draws a diagram does the same way: open bpmn-js's navigated viewer
// (build/bpmn-js/bpmn-navigated-viewer.production.min.js, loaded with `defer` before the page's
// module, defines window.BpmnJS) on the XML at the container's data-xml-url, and, when that
// fails, say so in the container's text fallback (the page always has the same facts in text).
// When the page also loads diagram-js-minimap's bundle (build/diagram-js-minimap, defines
// window.DiagramJSMinimap), the viewer gets its overview map, closed until asked for.

export function showProblem(container, text) {
  const fallback = container.querySelector(".cin-diagram__fallback");
  if (fallback) {
    fallback.textContent = text;
    fallback.hidden = false;
  }
}

export async function openViewer(container) {
  const Viewer = window.BpmnJS;
  if (!Viewer) throw new Error("bpmn-js viewer missing");
  const response = await fetch(container.dataset.xmlUrl, {
    credentials: "same-origin",
    headers: { Accept: "application/xml" },
  });
  if (!response.ok) throw new Error(`diagram XML: HTTP ${response.status}`);
  const xml = await response.text();
  const fallback = container.querySelector(".cin-diagram__fallback");
  if (fallback) fallback.hidden = true;
  const minimap = window.DiagramJSMinimap;
  const viewer = new Viewer(
    minimap ? { container, additionalModules: [minimap], minimap: { open: false } } : { container },
  );
  await viewer.importXML(xml);
  return viewer;
}

// Draw the diagram in the element `id`, if the page has one, with `show(container)`; on any
// failure the fallback says `problem` and data-ready is "error" (browser tests wait on it).
export function mountDiagram(id, show, problem) {
  const container = document.getElementById(id);
  if (!container) return;
  show(container).catch((error) => {
    console.error(error);
    showProblem(container, problem);
    container.dataset.ready = "error";
  });
}
