// The practice manager's modeler page (webui/modeler.py): bpmn-js's Modeler with the deploy's
// rule set as bpmnlint (lint.mjs), a panel that speaks the domain (panel.mjs), a palette of what
// the engine runs (restrict.mjs), "Save as draft" (the server validates again and stores a
// draft, never live) and "Download". Built by scripts/frontend.sh with esbuild into
// build/modeler/modeler.js; no inline script or style, so the strict CSP holds.
import Modeler from "bpmn-js/lib/Modeler";
import lintModule from "bpmn-js-bpmnlint";
import { lintConfig } from "./lint.mjs";
import Panel from "./panel.mjs";
import { patternsModule } from "./patterns.mjs";
import restrict from "./restrict.mjs";

const data = JSON.parse(document.getElementById("modeler-data").textContent);
const container = document.getElementById("modeler-canvas");
const summary = document.getElementById("lint-summary");
const result = document.getElementById("save-result");

function linkTo(modeler, id, text) {
  const a = document.createElement("a");
  a.href = `#modeler-canvas`;
  a.textContent = text;
  a.dataset.element = id || "";
  a.addEventListener("click", (event) => {
    event.preventDefault();
    const element = id && modeler.get("elementRegistry").get(id);
    modeler.get("canvas").focus();
    if (!element) return;
    modeler.get("selection").select(element);
    modeler.get("canvas").scrollToElement(element);
  });
  return a;
}

function showProblems(modeler, target, title, problems) {
  target.replaceChildren();
  target.hidden = problems.length === 0;
  if (!problems.length) return;
  const h = document.createElement("h2");
  h.className = "govuk-error-summary__title";
  h.textContent = title;
  const ul = document.createElement("ul");
  ul.className = "govuk-list govuk-error-summary__list";
  for (const p of problems) {
    const li = document.createElement("li");
    li.append(linkTo(modeler, p.elementId, p.elementId ? `${p.elementId}: ${p.message}` : p.message));
    ul.append(li);
  }
  const body = document.createElement("div");
  body.className = "govuk-error-summary__body";
  body.append(ul);
  const alert = document.createElement("div");
  alert.setAttribute("role", "alert");
  alert.append(h, body);
  target.append(alert);
}

// Keyboard users choose any element from a list (selecting on the canvas needs a pointer);
// the panel then shows it, as a click would.
const CHOOSABLE = /^bpmn:(UserTask|CallActivity|SubProcess|StartEvent|EndEvent|BoundaryEvent|Intermediate\w+Event|\w+Gateway|SequenceFlow|Lane)$/;

function elementChooser(modeler) {
  const chooser = document.getElementById("element-choice");
  if (!chooser) return;
  const fill = () => {
    const options = modeler.get("elementRegistry")
      .filter((e) => !e.labelTarget && CHOOSABLE.test(e.type))
      .map((e) => {
        const o = document.createElement("option");
        o.value = e.id;
        const name = (e.businessObject.name || "").trim();
        o.textContent = `${name || e.type.replace("bpmn:", "")} (${e.id})`;
        return o;
      })
      .sort((a, b) => a.textContent.localeCompare(b.textContent));
    const first = document.createElement("option");
    first.value = "";
    first.textContent = "Choose";
    chooser.replaceChildren(first, ...options);
  };
  fill();
  modeler.get("eventBus").on("commandStack.changed", fill);
  chooser.addEventListener("change", () => {
    const element = chooser.value && modeler.get("elementRegistry").get(chooser.value);
    if (!element) return;
    modeler.get("selection").select(element);
    modeler.get("canvas").scrollToElement(element);
  });
}

async function main() {
  const modeler = new Modeler({
    container,
    additionalModules: [lintModule, restrict],
    linting: { active: true, bpmnlint: lintConfig(data.rules, data.context) },
  });
  const xml = data.xmlUrl
    ? await (await fetch(data.xmlUrl, { credentials: "same-origin" })).text()
    : data.xml;
  await modeler.importXML(xml);
  // The canvas (bpmn-js's focusable svg, where the keyboard shortcuts work) gets its name and
  // the keyboard help from the page.
  const svg = container.querySelector("svg");
  svg.setAttribute("role", "application");
  svg.setAttribute("aria-label", container.dataset.label);
  svg.setAttribute("aria-describedby", container.dataset.help);
  document.getElementById("modeler-fallback").hidden = true;
  modeler.get("canvas").zoom("fit-viewport");
  new Panel(modeler, document.getElementById("modeler-panel"), data.choices);
  patternsModule(modeler, data.choices);

  modeler.on("linting.completed", ({ issues }) => {
    const problems = Object.entries(issues).flatMap(([id, list]) =>
      list.map((i) => ({ elementId: i.id || id, message: i.message })));
    summary.dataset.count = String(problems.length);
    showProblems(modeler, summary,
      `${problems.length} problem${problems.length === 1 ? "" : "s"} the server would refuse`, problems);
    document.getElementById("lint-ok").hidden = problems.length !== 0;
  });

  document.getElementById("download").addEventListener("click", async () => {
    const { xml: out } = await modeler.saveXML({ format: true });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([out], { type: "application/xml" }));
    a.download = data.fileName;
    document.body.append(a);
    a.click();
    a.remove();
  });

  document.getElementById("save").addEventListener("click", async () => {
    const { xml: out } = await modeler.saveXML({ format: true });
    const body = new FormData();
    body.append("xml", out);
    body.append("comment", document.getElementById("comment").value);
    body.append("csrf_token", data.csrfToken);
    result.replaceChildren();
    let reply;
    try {
      const response = await fetch(data.saveUrl, {
        method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": data.csrfToken },
      });
      reply = await response.json();
    } catch (error) {
      reply = { ok: false, problems: [{ message: "The server did not answer: nothing was saved. Try again." }] };
    }
    if (reply.ok) {
      result.className = "govuk-notification-banner govuk-notification-banner--success";
      const p = document.createElement("p");
      p.className = "govuk-notification-banner__heading";
      p.setAttribute("role", "status");
      p.textContent = reply.message + " ";
      const link = document.createElement("a");
      link.className = "govuk-notification-banner__link";
      link.href = reply.libraryUrl;
      link.textContent = "Back to the procedures";
      p.append(link);
      if (reply.draftUrl) {
        const test = document.createElement("a");
        test.className = "govuk-notification-banner__link";
        test.href = reply.draftUrl;
        test.dataset.testid = "test-draft";
        test.textContent = "Run the journeys and send it for approval";
        p.append(" or ", test);
      }
      result.append(p);
      result.hidden = false;
      result.dataset.state = "saved";
    } else {
      result.className = "govuk-error-summary";
      showProblems(modeler, result, "Not saved: nothing was changed. Fix these and save again.",
        reply.problems || []);
      result.dataset.state = "refused";
      result.focus();
    }
  });
  elementChooser(modeler);
  container.dataset.ready = "true";
}

main().catch((error) => {
  console.error(error);
  container.dataset.ready = "error";
  document.getElementById("modeler-fallback").textContent =
    "The modeler could not open this diagram. Download the version from the procedures page instead.";
});
