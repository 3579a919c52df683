// The diagram conventions in the browser: the second runner of engine/conventions.json (the
// first is engine/conventions.py, run at deploy). The rules (which elements, parameters,
// messages) come from that JSON; this file implements the same small vocabulary of checks over
// a parsed XML document, so a modeler can show the deploy's findings before deploying. The
// modeler's bpmnlint plugin wraps `check`. tests/browser/test_conventions_parity.py runs both
// runners on broken council diagrams and expects the same findings.
//
//   import { check } from "./conventions.mjs";
//   const findings = check(new DOMParser().parseFromString(xml, "application/xml"), rules, {
//     council: "portsmouth", forms: [...], timescales: {key: atDeadline}, ruleIds: [...] | null,
//     coverage: [[rule, processId, elementId], ...],
//   });  // -> [{rule, elementId, message}]

const BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL";
const BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI";
const SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core";
const FLOW_NODES = new Set([
  "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
  "task", "userTask", "manualTask", "serviceTask", "sendTask", "receiveTask", "businessRuleTask",
  "scriptTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
  "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
  "complexGateway",
]);
const TIMER_TEXT = ["timeDate", "timeDuration", "timeCycle"];

const isBpmn = (el, name) => el.namespaceURI === BPMN && (!name || el.localName === name);
const children = (el, ns, name) =>
  Array.from(el.children).filter((c) => c.namespaceURI === ns && c.localName === name);
const descendants = (el) => Array.from(el.getElementsByTagName("*"));

function prop(el, name) {
  for (const ext of children(el, BPMN, "extensionElements")) {
    for (const props of children(ext, SPIFF, "properties")) {
      for (const p of Array.from(props.children)) {
        if (p.getAttribute("name") === name) return p.getAttribute("value") || "";
      }
    }
  }
  return null;
}

function nameOf(el) {
  return (el.getAttribute("name") || "").trim() || el.getAttribute("id") || "?";
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => (values[key] ?? "").toString());
}

function finding(rule, el, template, values = {}) {
  const all = { name: nameOf(el), id: el.getAttribute("id"), ...values };
  return { rule: rule.id, elementId: el.getAttribute("id"), message: fill(rule[template], all) };
}

// deadline("key") / reminder("key"): [function, key or null when not a quoted literal]
function timescaleCalls(text, functions) {
  const found = [];
  const pattern = /\b([A-Za-z_]\w*)\s*\(\s*([^,)]*)/g;
  for (const match of (text || "").matchAll(pattern)) {
    if (!functions.includes(match[1])) continue;
    const arg = match[2].trim().replace(/^key\s*=\s*/, "");
    const literal = arg.match(/^(["'])(.*)\1$/);
    found.push([match[1], literal ? literal[2] : null]);
  }
  return found;
}

class ProcessView {
  constructor(node) {
    this.node = node;
    const all = descendants(node);
    this.all = all;
    this.nodes = all.filter((el) => isBpmn(el) && FLOW_NODES.has(el.localName));
    this.byId = new Map([[node.getAttribute("id"), node]]);
    for (const el of all) if (el.getAttribute("id")) this.byId.set(el.getAttribute("id"), el);
    this.laneOf = new Map();
    for (const lane of all.filter((el) => isBpmn(el, "lane"))) {
      for (const ref of children(lane, BPMN, "flowNodeRef")) {
        const id = (ref.textContent || "").trim();
        if (id && !this.laneOf.has(id)) this.laneOf.set(id, lane.getAttribute("name") || "");
      }
    }
    this.flows = all.filter((el) => isBpmn(el, "sequenceFlow"));
    this.targets = new Map();
    for (const flow of this.flows) {
      const source = flow.getAttribute("sourceRef");
      if (!this.targets.has(source)) this.targets.set(source, []);
      this.targets.get(source).push(flow.getAttribute("targetRef"));
    }
  }

  select(tags) {
    return this.all.filter((el) => isBpmn(el) && tags.includes(el.localName));
  }

  timers() {
    const out = [];
    for (const def of this.all.filter((el) => isBpmn(el, "timerEventDefinition"))) {
      for (const kind of TIMER_TEXT) {
        for (const el of children(def, BPMN, kind)) out.push([def.parentElement, el.textContent]);
      }
    }
    return out;
  }

  boundaryTimers(property) {
    return this.select(["boundaryEvent"])
      .filter((ev) => children(ev, BPMN, "timerEventDefinition").length)
      .map((ev) => [ev, prop(ev, property)]);
  }
}

const CHECKS = {
  "in-lane": (rule, p) =>
    p.select(rule.select).filter((el) => !p.laneOf.has(el.getAttribute("id")))
      .map((el) => finding(rule, el, "message")),

  "has-documentation": (rule, p) =>
    p.select(rule.select)
      .filter((el) => !children(el, BPMN, "documentation").some((d) => d.textContent.trim()))
      .map((el) => finding(rule, el, "message")),

  "has-property": (rule, p) =>
    p.select(rule.select).filter((el) => !prop(el, rule.property))
      .map((el) => finding(rule, el, "message")),

  "form-exists": (rule, p, ctx) =>
    p.nodes.flatMap((el) => {
      const form = prop(el, rule.property);
      const bad = form !== null && (/[\\/]/.test(form) || !ctx.forms.includes(form));
      return bad ? [finding(rule, el, "message", { value: form })] : [];
    }),

  "rule-ids": (rule, p, ctx) => {
    if (!ctx.ruleIds) return [];
    const known = new Set(ctx.ruleIds);
    const shared = (p.node.getAttribute("id") || "").startsWith(rule.shared_prefix);
    const prefixes = new Set(ctx.ruleIds.map((r) => r[0]));
    const list = [...known].sort((a, b) =>
      a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    const out = [];
    for (const el of p.nodes) {
      for (let id of (prop(el, rule.property) || "").replaceAll(",", "/").split("/")) {
        id = id.trim();
        if (!id || known.has(id) || (shared && !prefixes.has(id[0]))) continue;
        out.push(finding(rule, el, "message", {
          value: id, council: ctx.council, known: list.join(", "),
        }));
      }
    }
    return out;
  },

  "timer-key": (rule, p, ctx) => {
    const keys = Object.keys(ctx.timescales);
    const known = keys.sort().join(", ") || "none";
    const out = [];
    for (const [event, text] of p.timers()) {
      for (const [fn, key] of timescaleCalls(text, rule.functions)) {
        if (key === null) out.push(finding(rule, event, "not_literal", { value: fn }));
        else if (!keys.includes(key)) {
          out.push(finding(rule, event, "message", { key, council: ctx.council, known }));
        }
      }
    }
    return out;
  },

  "timer-kind": (rule, p) =>
    p.boundaryTimers(rule.property).filter(([, kind]) => !rule.values.includes(kind))
      .map(([ev]) => finding(rule, ev, "message")),

  "timer-pair": (rule, p) => {
    const kinds = new Map();
    for (const [ev, kind] of p.boundaryTimers(rule.property)) {
      const host = ev.getAttribute("attachedToRef");
      if (!kinds.has(host)) kinds.set(host, new Set());
      kinds.get(host).add(kind);
    }
    const out = [];
    for (const [hostId, found] of kinds) {
      const host = p.byId.get(hostId);
      if (!host) continue;
      if (found.has("reminder") && !found.has("deadline")) {
        out.push(finding(rule, host, "missing_deadline"));
      }
      if (found.has("deadline") && !found.has("reminder")) {
        out.push(finding(rule, host, "missing_reminder"));
      }
    }
    return out;
  },

  escalation: (rule, p, ctx) => {
    const texts = new Map(p.timers());
    const out = [];
    for (const [ev, kind] of p.boundaryTimers(rule.property)) {
      if (kind !== rule.value) continue;
      const keys = timescaleCalls(texts.get(ev) || "", ["deadline"]).map(([, k]) => k)
        .filter((k) => k);
      const abandoned = keys.filter((k) => ctx.timescales[k] === rule.abandon_value);
      if (abandoned.length) {
        if ((ev.getAttribute("cancelActivity") || "true") === "false") {
          out.push(finding(rule, ev, "abandon_message", { key: abandoned[0] }));
        }
        continue;
      }
      const seen = new Set();
      const todo = [...(p.targets.get(ev.getAttribute("id")) || [])];
      let found = false;
      while (todo.length && !found) {
        const id = todo.pop();
        if (seen.has(id)) continue;
        seen.add(id);
        const node = p.byId.get(id);
        if (node && isBpmn(node, "userTask")) found = p.laneOf.get(id) === rule.lane;
        else todo.push(...(p.targets.get(id) || []));
      }
      if (!found) out.push(finding(rule, ev, "message"));
    }
    return out;
  },

  drawn: (rule, p, ctx, root) => {
    if (!children(root, BPMNDI, "BPMNDiagram").length) {
      return [finding(rule, p.node, "no_diagram")];
    }
    const drawn = (name) => new Set(Array.from(root.getElementsByTagNameNS(BPMNDI, name))
      .map((el) => el.getAttribute("bpmnElement")));
    const shapes = drawn("BPMNShape");
    const edges = drawn("BPMNEdge");
    return [
      ...p.nodes.filter((el) => !shapes.has(el.getAttribute("id")))
        .map((el) => finding(rule, el, "no_shape")),
      ...p.flows.filter((el) => !edges.has(el.getAttribute("id")))
        .map((el) => finding(rule, el, "no_edge")),
    ];
  },

  coverage: (rule, p, ctx) => {
    const pid = p.node.getAttribute("id");
    return ctx.coverage.filter(([, process, element]) => process === pid && !p.byId.has(element))
      .map(([ruleId, , element]) => ({
        ...finding(rule, p.node, "message", { value: ruleId, key: `${pid}:${element}` }),
        elementId: element,
      }));
  },
};

export function check(doc, rules, context) {
  const root = doc.documentElement;
  const ctx = { forms: [], timescales: {}, ruleIds: null, coverage: [], ...context };
  const prefixes = rules.pack_prefixes.map((p) => p.replace("{council}", ctx.council));
  const out = [];
  for (const process of children(root, BPMN, "process")) {
    const view = new ProcessView(process);
    const inPack = prefixes.some((prefix) => (process.getAttribute("id") || "").startsWith(prefix));
    for (const rule of rules.rules) {
      if (rule.scope === "all" || inPack) out.push(...CHECKS[rule.check](rule, view, ctx, root));
    }
  }
  return out;
}
