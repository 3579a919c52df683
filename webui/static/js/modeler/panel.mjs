// The properties panel: only what cinflow's engine runs, in the domain's words. Plain HTML form
// controls (GOV.UK classes) beside the canvas, rebuilt when the selection changes; every
// change goes through bpmn-js's modeling commands, so undo and redo work. It writes what the
// hand-edited diagrams hold (processes/README.md): spiffworkflow:property formJsonSchemaFilename,
// rule and timer; timers as deadline("key"), reminder("key") or due_in("N unit") in a
// timeDate, with from_= kept; conditions in the restricted expression language.
const SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core";
const TIMER_CALL = /^\s*(deadline|reminder|due_in)\(\s*"([^"]*)"\s*(?:,\s*from_\s*=\s*(.+))?\)\s*$/s;

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid) el.append(kid);
  return el;
}

function field(id, label, control, hint) {
  const hintEl = hint ? h("div", { class: "govuk-hint", id: `${id}-hint`, text: hint }) : null;
  if (hint) control.setAttribute("aria-describedby", `${id}-hint`);
  control.id = id;
  return h("div", { class: "govuk-form-group" },
    h("label", { class: "govuk-label govuk-label--s", for: id, text: label }), hintEl, control);
}

function select(options, value, extra = {}) {
  const el = h("select", { class: "govuk-select", ...extra });
  const values = options.map((o) => (Array.isArray(o) ? o : [o, o]));
  if (value && !values.some(([v]) => v === value)) values.unshift([value, `${value} (not known)`]);
  for (const [v, label] of values) el.append(h("option", { value: v, selected: v === value, text: label }));
  return el;
}

export default class Panel {
  constructor(modeler, root, choices) {
    this.modeler = modeler;
    this.root = root;
    this.choices = choices;
    this.modeling = modeler.get("modeling");
    this.moddle = modeler.get("moddle");
    const bus = modeler.get("eventBus");
    bus.on("selection.changed", (e) => this.show(e.newSelection[0]));
    bus.on("elements.changed", (e) => {
      if (this.element && e.elements.some((el) => el.id === this.element.id)) {
        if (!this.root.contains(document.activeElement)) this.show(this.element);
      }
    });
    this.show(null);
  }

  bo(el = this.element) { return el.businessObject; }

  props(bo = this.bo()) {
    const ext = bo.extensionElements?.values || [];
    const holder = ext.find((v) => v.$type === "spiffworkflow:properties");
    return holder ? (holder.$children || []) : [];
  }

  prop(name) {
    const p = this.props().find((c) => c.name === name);
    return p ? p.value : "";
  }

  setProp(name, value) {
    const bo = this.bo();
    const moddle = this.moddle;
    const others = (bo.extensionElements?.values || []).filter((v) => v.$type !== "spiffworkflow:properties");
    const kept = this.props().filter((c) => c.name !== name)
      .map((c) => moddle.createAny("spiffworkflow:property", SPIFF, { name: c.name, value: c.value }));
    if (value) kept.push(moddle.createAny("spiffworkflow:property", SPIFF, { name, value }));
    const values = kept.length
      ? [...others, moddle.createAny("spiffworkflow:properties", SPIFF, { $children: kept })]
      : others;
    const ext = moddle.create("bpmn:ExtensionElements", { values });
    this.modeling.updateProperties(this.element, { extensionElements: values.length ? ext : undefined });
  }

  show(element) {
    // a selected label stands for its element (a flow's "Yes", an event's name)
    this.element = element && element.type === "label" ? element.labelTarget : element || null;
    const root = this.root;
    root.replaceChildren(h("h2", { class: "govuk-heading-s", text: "Properties" }));
    if (!this.element) {
      root.append(h("p", { class: "govuk-body-s", text: "Select a step, timer, gateway, flow or lane to change it." }));
      return;
    }
    const el = this.element;
    const bo = this.bo();
    const type = bo.$type.replace("bpmn:", "");
    root.dataset.element = el.id;
    root.append(h("p", { class: "govuk-body-s", text: `${type} ${el.id}` }));
    root.append(this.nameField(bo));
    if (type === "Lane") return root.append(this.laneField(bo));
    if (type === "SequenceFlow") return root.append(...this.conditionFields(bo));
    root.append(this.documentationField(bo));
    if (type === "UserTask") root.append(...this.taskFields(el));
    const timer = (bo.eventDefinitions || []).find((d) => d.$type === "bpmn:TimerEventDefinition");
    if (timer) root.append(...this.timerFields(bo, timer));
  }

  nameField(bo) {
    const input = h("input", { class: "govuk-input", type: "text", value: bo.name || "" });
    input.addEventListener("change", () => this.modeling.updateProperties(this.element, { name: input.value }));
    return field("prop-name", "Name", input);
  }

  documentationField(bo) {
    const text = (bo.documentation || []).map((d) => d.text).join("\n");
    const area = h("textarea", { class: "govuk-textarea", rows: "5" });
    area.value = text;
    area.addEventListener("change", () => {
      const docs = area.value.trim() ? [this.moddle.create("bpmn:Documentation", { text: area.value })] : [];
      this.modeling.updateProperties(this.element, { documentation: docs });
    });
    return field("prop-documentation", "Guidance for the worker (documentation)", area,
      "End with the rule ids and the source, as the other steps do.");
  }

  laneField(bo) {
    const role = select(this.choices.lanes, bo.name || "");
    role.addEventListener("change", () => this.modeling.updateProperties(this.element, { name: role.value }));
    return field("prop-role", "Role (who does the steps in this lane)", role);
  }

  taskFields(el) {
    const forms = this.choices.forms.map((f) => [f.file, `${f.title} (${f.file})`]);
    const form = select([["", "Choose a form"], ...forms], this.prop("formJsonSchemaFilename"));
    form.addEventListener("change", () => this.setProp("formJsonSchemaFilename", form.value));
    const rule = select([["", "No rule"], ...this.choices.ruleIds], this.prop("rule"));
    rule.addEventListener("change", () => this.setProp("rule", rule.value));
    const lane = this.modeler.get("elementRegistry").filter((l) => l.type === "bpmn:Lane")
      .find((l) => (l.businessObject.flowNodeRef || []).includes(el.businessObject));
    return [
      field("prop-form", "Form", form),
      field("prop-rule", "Rule id", rule),
      h("p", { class: "govuk-body-s", id: "prop-lane",
        text: `Role: ${lane ? lane.businessObject.name : "none"}. Drag the step into another lane to change who does it.` }),
    ];
  }

  timerFields(bo, timer) {
    const expr = timer.timeDate || timer.timeDuration || timer.timeCycle;
    const text = expr ? expr.body || "" : "";
    const match = text.match(TIMER_CALL);
    const current = match ? { fn: match[1], arg: match[2], from: (match[3] || "").trim() }
      : { fn: "deadline", arg: "", from: "" };
    const out = [];
    const isBoundary = bo.$type === "bpmn:BoundaryEvent";
    let kindValue = isBoundary ? this.prop("timer") : "";
    if (isBoundary) {
      const kind = select([["", "Choose"], ["reminder", "Reminder to the worker"], ["deadline", "Deadline"]], kindValue);
      kind.addEventListener("change", () => {
        this.setProp("timer", kind.value);
        kindValue = kind.value;
        if (current.fn !== "due_in") write();
      });
      out.push(field("prop-timer-kind", "This timer is the step's", kind));
    }
    const scales = this.choices.timescales.map((t) =>
      [t.key, `${t.rule ? t.rule + ": " : ""}${t.key} (${t.duration} from ${t.from})`]);
    const rule = select([["", "A fixed duration instead"], ...scales], current.fn === "due_in" ? "" : current.arg);
    const amount = h("input", { class: "govuk-input govuk-input--width-3", type: "text", inputmode: "numeric" });
    const unit = select(this.choices.units, "working days");
    const fixed = (current.fn === "due_in" ? current.arg : "").match(/^(-?\d+)\s+(.+)$/);
    if (fixed) { amount.value = fixed[1]; unit.value = fixed[2]; }
    const from = h("input", { class: "govuk-input", type: "text", value: current.from });
    const write = () => {
      let call;
      const fromPart = from.value.trim() ? `, from_=${from.value.trim()}` : "";
      if (rule.value) call = `${kindValue === "reminder" ? "reminder" : "deadline"}("${rule.value}"${fromPart})`;
      else if (/^-?\d+$/.test(amount.value.trim())) call = `due_in("${amount.value.trim()} ${unit.value}"${fromPart})`;
      else return;
      current.fn = rule.value ? "deadline" : "due_in";
      const body = this.moddle.create("bpmn:FormalExpression", { body: call });
      this.modeling.updateModdleProperties(this.element, timer,
        { timeDate: body, timeDuration: undefined, timeCycle: undefined });
    };
    for (const c of [rule, amount, unit, from]) c.addEventListener("change", write);
    out.push(
      field("prop-timer-rule", "Timescale (a rule of the council's timescales.yaml)", rule),
      field("prop-timer-amount", "Or a fixed duration: number", amount),
      field("prop-timer-unit", "Unit", unit),
      field("prop-timer-from", "Counted from (a date answer, optional)", from,
        "For example transfer_date or meeting_record.meeting_date. Empty: from when the step starts."),
    );
    return out;
  }

  conditionFields(bo) {
    const source = bo.sourceRef;
    if (!source || source.$type !== "bpmn:ExclusiveGateway") {
      return [h("p", { class: "govuk-body-s", text: "Only flows leaving an exclusive gateway have a condition." })];
    }
    const area = h("textarea", { class: "govuk-textarea", rows: "3" });
    area.value = bo.conditionExpression ? bo.conditionExpression.body || "" : "";
    const known = new Set(this.choices.forms.flatMap((f) => f.fields));
    const stems = new Set(this.choices.forms.map((f) => f.file.replace(/\.json$/, "")));
    const warning = h("p", { class: "govuk-body-s cin-modeler__warning", id: "prop-condition-warning", role: "status" });
    const checkNames = () => {
      const unknown = [...area.value.matchAll(/\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b/gi)]
        .filter((m) => stems.has(m[1]) && !known.has(m[0])).map((m) => m[0]);
      warning.textContent = unknown.length
        ? `Not an answer of that form: ${unknown.join(", ")}. Choose from the form answers below.` : "";
    };
    checkNames();
    area.addEventListener("input", checkNames);
    const save = () => {
      const cond = area.value.trim()
        ? this.moddle.create("bpmn:FormalExpression", { body: area.value.trim() }) : undefined;
      this.modeling.updateProperties(this.element, { conditionExpression: cond });
    };
    area.addEventListener("change", save);
    const fields = this.choices.forms.flatMap((f) => f.fields);
    const pick = select([["", "Insert a form answer"], ...fields], "");
    pick.addEventListener("change", () => {
      if (!pick.value) return;
      area.value = `${area.value}${area.value && !area.value.endsWith(" ") ? " " : ""}${pick.value}`;
      pick.value = "";
      checkNames();
      save();
    });
    return [
      warning,
      field("prop-condition", "Condition", area,
        'For example consent.consent_given == True. The server checks it when you save; leave it empty on the default flow.'),
      field("prop-condition-field", "Form answers", pick),
    ];
  }
}
