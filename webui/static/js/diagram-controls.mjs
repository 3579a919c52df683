// The buttons above every case diagram (zoom, fit, practitioner view, overview map, full
// screen): labelled buttons, so keyboard and speech users drive the viewer the way mouse users
// do. The practitioner view hides the plumbing people never act on (reminder and deadline timers
// with what only they lead to, and gateways without a name); the full drawing is one click away.

const STEP = 1.25;

function isPlumbing(element) {
  const bo = element.businessObject || {};
  const type = bo.$type || "";
  if (type === "bpmn:BoundaryEvent") {
    return (bo.eventDefinitions || []).some((d) => d.$type === "bpmn:TimerEventDefinition");
  }
  if (type.endsWith("Gateway")) return !bo.name;
  return false;
}

export function plumbing(registry) {
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

function makeButton(bar, text, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "govuk-button govuk-button--secondary govuk-!-margin-bottom-1";
  b.textContent = text;
  b.addEventListener("click", () => action(b));
  bar.append(b);
  return b;
}

// The overview map (diagram-js-minimap): its own toggle is a mouse-only <div>, so it is hidden
// (scss) and this button opens and closes the map; the map repeats the drawing, so it is hidden
// from assistive technology.
function minimapButton(bar, viewer) {
  let minimap;
  try {
    minimap = viewer.get("minimap");
  } catch {
    return null;
  }
  const map = viewer._container.querySelector(".djs-minimap");
  if (map) map.setAttribute("aria-hidden", "true");
  const b = makeButton(bar, "Show the overview map", () => {
    if (minimap.isOpen()) minimap.close();
    else minimap.open();
  });
  b.setAttribute("aria-pressed", "false");
  b.dataset.testid = "minimap-toggle";
  viewer.get("eventBus").on("minimap.toggle", ({ open }) => {
    b.textContent = open ? "Hide the overview map" : "Show the overview map";
    b.setAttribute("aria-pressed", String(open));
  });
  return b;
}

// Arrow keys pan and + / - zoom while the drawing has the focus (the canvas is focusable, with
// its name from the figure's caption).
function keyboard(container, canvas) {
  container.tabIndex = 0;
  container.setAttribute("role", "region");
  container.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60] };
    if (moves[event.key]) {
      const [dx, dy] = moves[event.key];
      canvas.scroll({ dx, dy });
    } else if (event.key === "+" || event.key === "=") canvas.zoom(canvas.zoom() * STEP);
    else if (event.key === "-") canvas.zoom(canvas.zoom() / STEP);
    else return;
    event.preventDefault();
  });
}

export function addControls(container, viewer) {
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const bar = document.createElement("div");
  bar.className = "govuk-button-group cin-diagram__controls";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Diagram controls");
  const button = (text, action) => makeButton(bar, text, action);
  button("Zoom in", () => canvas.zoom(canvas.zoom() * STEP));
  button("Zoom out", () => canvas.zoom(canvas.zoom() / STEP));
  button("Fit to the box", () => canvas.zoom("fit-viewport", "auto"));

  let hidden = [];
  const setView = (full) => {
    for (const element of hidden) {
      if (full) canvas.removeMarker(element, "cin-plumbing");
      else canvas.addMarker(element, "cin-plumbing");
    }
    container.dataset.view = full ? "full" : "practitioner";
  };
  const viewButton = button("Show the full drawing", (b) => {
    const full = container.dataset.view !== "full";
    setView(full);
    b.textContent = full ? "Show the practitioner view" : "Show the full drawing";
  });
  // after each drawing is imported (the case's, or a called process's): hide its plumbing
  const refresh = () => {
    hidden = plumbing(registry);
    viewButton.classList.toggle("govuk-!-display-none", !hidden.length); // not [hidden]: GOV.UK

    setView(container.dataset.view === "full");
  };
  container.dataset.view = "practitioner";
  refresh();

  minimapButton(bar, viewer);
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
  keyboard(container, canvas);
  container.before(bar);
  return { bar, refresh };
}
