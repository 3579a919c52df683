// Insertable patterns (processes/templates/ drawn by modeling commands, so undo works): "a step
// with its reminder, deadline and manager escalation", "a meeting with minutes" and "events that
// cease a plan". Each palette entry inserts its pattern in the middle of what is on screen,
// in the pool there; the lanes follow from where shapes land, so the escalation step is put in
// the middle of the Team manager lane (escalations are the manager's: processes/lanes.yaml) and
// a ceasing pattern's record step in the Social worker lane, as processes/templates/ has them
// (without such a lane it stays beside the pattern, and the lint list says so). Timers name the council's
// first timescale and steps leave their form to choose where the pattern cannot know it, so the
// lint list shows what to fill in.
const SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core";
const CEASING = [
  ["child_turned_18", "18th birthday"],
  ["child_died", "Child died"],
  ["moved_abroad", "Moved outside England and Wales"],
  ["became_looked_after", "Became looked after"],
  ["cp_plan_made", "Child protection plan made"],
];

function Patterns(palette, modeler, choices) {
  const get = (name) => modeler.get(name);
  const moddle = get("moddle");
  const bpmnFactory = get("bpmnFactory");
  const factory = get("elementFactory");
  const modeling = get("modeling");
  const canvas = get("canvas");

  function props(values) {
    const kids = Object.entries(values).filter(([, v]) => v)
      .map(([name, value]) => moddle.createAny("spiffworkflow:property", SPIFF, { name, value }));
    return moddle.create("bpmn:ExtensionElements", {
      values: [moddle.createAny("spiffworkflow:properties", SPIFF, { $children: kids })],
    });
  }

  // To the right of what the pool holds, near its top lane: patterns never land on shapes.
  function place() {
    const registry = get("elementRegistry");
    const pool = registry.filter((e) => e.type === "bpmn:Participant")[0];
    const parent = pool || canvas.getRootElement();
    const inside = registry.filter((e) => !e.labelTarget && !e.waypoints && e !== pool
      && e.type !== "bpmn:Lane" && e.parent && e.parent !== canvas.getRootElement().parent
      && (!pool || e.parent === pool));
    const right = inside.length ? Math.max(...inside.map((e) => e.x + e.width)) : (pool ? pool.x + 60 : 0);
    const top = pool ? pool.y : 0;
    return { at: { x: right + 120, y: top + 90 }, parent };
  }

  // The vertical middle of the lane for `role` (a lane is a role, named as in lanes.yaml).
  function laneMiddle(role, fallback) {
    const lane = get("elementRegistry").filter((e) => e.type === "bpmn:Lane"
      && (e.businessObject.name || "").trim() === role)[0];
    return lane ? lane.y + lane.height / 2 : fallback;
  }

  function task(parent, x, y, name, form, documentation) {
    const bo = bpmnFactory.create("bpmn:UserTask", {
      name,
      documentation: [moddle.create("bpmn:Documentation", { text: documentation })],
      extensionElements: props({ formJsonSchemaFilename: form }),
    });
    return modeling.createShape(factory.createShape({ type: "bpmn:UserTask", businessObject: bo }),
      { x, y }, parent);
  }

  function endEvent(parent, x, y, name) {
    const bo = bpmnFactory.create("bpmn:EndEvent", { name });
    return modeling.createShape(factory.createShape({ type: "bpmn:EndEvent", businessObject: bo }),
      { x, y }, parent);
  }

  function boundary(host, dx, name, definition, extra = {}) {
    const bo = bpmnFactory.create("bpmn:BoundaryEvent", {
      name, cancelActivity: extra.cancel ?? false, eventDefinitions: [definition], ...extra.bo,
    });
    definition.$parent = bo;
    const shape = factory.createShape({ type: "bpmn:BoundaryEvent", businessObject: bo });
    return modeling.createShape(shape, { x: host.x + host.width / 2 + dx, y: host.y + host.height }, host,
      { attach: true });
  }

  function timer(kind, key, from) {
    const call = `${kind}("${key}"${from ? `, from_=${from}` : ""})`;
    return bpmnFactory.create("bpmn:TimerEventDefinition", {
      timeDate: bpmnFactory.create("bpmn:FormalExpression", { body: call }),
    });
  }

  function timedStep(parent, x, y, name, form, from) {
    const key = (choices.timescales[0] || { key: "" }).key;
    const step = task(parent, x, y, name, form, "Say what the worker does, in plain English. Rule · source");
    const reminder = boundary(step, -25, "Reminder", timer("reminder", key, from),
      { bo: { extensionElements: props({ timer: "reminder" }) } });
    const deadline = boundary(step, 25, "Deadline passed", timer("deadline", key, from),
      { bo: { extensionElements: props({ timer: "deadline" }) } });
    modeling.connect(reminder, endEvent(parent, step.x + 20, step.y + 170, "Reminder sent"));
    const chase = task(parent, step.x + 200, laneMiddle("Team manager", step.y + 240),
      `${name}: overdue`, "manager_decision.json",
      "The step is overdue. Agree with the worker when it will be done. Rule · source");
    modeling.connect(deadline, chase);
    modeling.connect(chase, endEvent(parent, chase.x + 200, chase.y + 40, "Escalation handled"));
    return step;
  }

  function ensureMessage(name) {
    const definitions = modeler.getDefinitions();
    let message = definitions.rootElements.find((e) => e.$type === "bpmn:Message" && e.name === name);
    if (!message) {
      message = bpmnFactory.create("bpmn:Message", { id: `message_${name}`, name });
      message.$parent = definitions;
      definitions.rootElements.push(message);
    }
    return message;
  }

  const PATTERNS = {
    "step-with-deadline": ["Insert a step with its reminder, deadline and manager escalation", ({ at, parent }) =>
      timedStep(parent, at.x, at.y, "New step", "", "")],
    "meeting-with-minutes": ["Insert a meeting with minutes", ({ at, parent }) => {
      const meeting = task(parent, at.x, at.y, "Hold the meeting and record it", "meeting_record.json",
        "Hold the meeting and record who came, what was decided and the date. Rule · source");
      const minutes = timedStep(parent, at.x + 200, at.y, "Send the minutes", "distribution.json",
        "meeting_record.meeting_date");
      modeling.connect(meeting, minutes);
      return meeting;
    }],
    "ceasing-event": ["Insert events that cease a plan at any time", ({ at, parent }) => {
      const planBo = bpmnFactory.create("bpmn:SubProcess", { name: "Plan in force" });
      const plan = modeling.createShape(factory.createShape(
        { type: "bpmn:SubProcess", isExpanded: true, businessObject: planBo }),
      { x: at.x + 175, y: at.y + 50 }, parent);
      const start = modeling.createShape(factory.createShape({ type: "bpmn:StartEvent",
        businessObject: bpmnFactory.create("bpmn:StartEvent", { name: "Plan starts" }) }),
      { x: plan.x + 50, y: plan.y + plan.height / 2 }, plan);
      const work = task(plan, plan.x + plan.width / 2, plan.y + plan.height / 2, "Work to the plan",
        "visit_record.json", "Work with the family to the plan. Rule · source");
      modeling.connect(start, work);
      modeling.connect(work, endEvent(plan, plan.x + plan.width - 50, plan.y + plan.height / 2, "Plan ended"));
      const record = task(parent, plan.x + plan.width + 150,
        laneMiddle("Social worker", plan.y + plan.height + 110),
        "Record why the plan ended", "closure.json", "Record why the plan ended and when. Rule · source");
      CEASING.forEach(([name, label], i) => {
        const definition = bpmnFactory.create("bpmn:MessageEventDefinition",
          { messageRef: ensureMessage(name) });
        const event = boundary(plan, 20 + i * 50 - plan.width / 2, label, definition, { cancel: true });
        modeling.connect(event, record);
      });
      modeling.connect(record, endEvent(parent, record.x + 200, record.y + 40, "Plan ceased"));
      return plan;
    }],
  };

  palette.registerProvider(400, {
    getPaletteEntries() {
      return (entries) => {
        const out = { ...entries, "cinflow-separator": { group: "cinflow", separator: true } };
        for (const [id, [title, insert]] of Object.entries(PATTERNS)) {
          out[`insert.${id}`] = {
            group: "cinflow",
            className: `cin-pattern cin-pattern--${id}`,
            title,
            action: {
              click: () => {
                const made = insert(place());
                get("selection").select(made);
                canvas.scrollToElement(made);
              },
            },
          };
        }
        return out;
      };
    },
  });
}

export function patternsModule(modeler, choices) {
  return Patterns(modeler.get("palette"), modeler, choices);
}
