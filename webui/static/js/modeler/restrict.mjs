// The palette and the change-type menu offer only what the engine runs (engine/deploy_rules.py
// refuses the rest): user tasks instead of plain tasks, no data objects, stores or groups.
const PALETTE_KEEP = new Set([
  "hand-tool", "lasso-tool", "space-tool", "global-connect-tool", "tool-separator",
  "create.start-event", "create.intermediate-event", "create.end-event",
  "create.exclusive-gateway", "create.subprocess-expanded", "create.participant-expanded",
]);
const REPLACE_KEEP = /^replace-with-(none-start|none-end|timer|message|user-task|call-activity|exclusive-gateway|parallel-gateway|expanded-subprocess|collapsed-subprocess|terminate-end|non-interrupting-timer|sequence-flow|default-flow|conditional-flow)/;

// A process starts with a none start event only (engine/deploy_rules.py EVENTS_RUN): no timer
// or message start events, which the prefixes above would otherwise let through.
const STARTS_REFUSED = /^replace-with-(?!none-start$).*-start$/;

function RestrictedPalette(palette, create, elementFactory, translate) {
  palette.registerProvider(500, {
    getPaletteEntries() {
      return (entries) => {
        const kept = Object.fromEntries(Object.entries(entries).filter(([k]) => PALETTE_KEEP.has(k)));
        kept["create.user-task"] = {
          group: "activity",
          className: "bpmn-icon-user-task",
          title: translate("Create a step (user task)"),
          action: {
            dragstart: (event) => create.start(event, elementFactory.createShape({ type: "bpmn:UserTask" })),
            click: (event) => create.start(event, elementFactory.createShape({ type: "bpmn:UserTask" })),
          },
        };
        return kept;
      };
    },
  });
}
RestrictedPalette.$inject = ["palette", "create", "elementFactory", "translate"];

function RestrictedMenus(popupMenu, contextPad, elementFactory, autoPlace) {
  popupMenu.registerProvider("bpmn-replace", 500, {
    getPopupMenuEntries() {
      return (entries) => Object.fromEntries(
        Object.entries(entries).filter(([k]) => REPLACE_KEEP.test(k) && !STARTS_REFUSED.test(k)));
    },
    getPopupMenuHeaderEntries() {
      return (entries) => Object.fromEntries(
        Object.entries(entries).filter(([k]) => !/ad-hoc|loop|parallel-mi|sequential-mi|compensation/.test(k)));
    },
  });
  contextPad.registerProvider(500, {
    getContextPadEntries(element) {
      return (entries) => {
        const kept = { ...entries };
        for (const k of ["append.text-annotation", "append.append-task"]) delete kept[k];
        if (entries["append.append-task"]) {
          kept["append.user-task"] = {
            group: "model",
            className: "bpmn-icon-user-task",
            title: "Append a step (user task)",
            action: { click: (event, el) => autoPlace.append(el, elementFactory.createShape({ type: "bpmn:UserTask" })) },
          };
        }
        return kept;
      };
    },
  });
}
RestrictedMenus.$inject = ["popupMenu", "contextPad", "elementFactory", "autoPlace"];

// Lanes are roles, and a step inside an expanded subprocess is in its subprocess's lane (the
// hand-written diagrams list it in that lane's flowNodeRef; bpmn-js lists only the pool's own
// shapes): keep the nested steps' lane membership as the deploy rules expect.
function SubprocessLanes(eventBus, elementRegistry) {
  const laneOf = (bo) => elementRegistry.filter((e) => e.type === "bpmn:Lane")
    .map((e) => e.businessObject).find((lane) => (lane.flowNodeRef || []).includes(bo));
  const update = (shape) => {
    if (!shape || !shape.businessObject || !shape.businessObject.$instanceOf("bpmn:FlowNode")) return;
    let outer = shape.parent;
    while (outer && outer.type === "bpmn:SubProcess" && outer.parent && outer.parent.type === "bpmn:SubProcess") {
      outer = outer.parent;
    }
    if (!outer || outer.type !== "bpmn:SubProcess") return;
    const lane = laneOf(outer.businessObject);
    const bo = shape.businessObject;
    const current = laneOf(bo);
    if (!lane || current === lane) return;
    if (current) current.flowNodeRef.splice(current.flowNodeRef.indexOf(bo), 1);
    lane.get("flowNodeRef").push(bo);
  };
  eventBus.on("commandStack.shape.create.postExecuted", (e) => update(e.context.shape));
  eventBus.on("commandStack.elements.move.postExecuted", (e) => (e.context.shapes || []).forEach(update));
}
SubprocessLanes.$inject = ["eventBus", "elementRegistry"];

export default {
  __init__: ["restrictedPalette", "restrictedMenus", "subprocessLanes"],
  subprocessLanes: ["type", SubprocessLanes],
  restrictedPalette: ["type", RestrictedPalette],
  restrictedMenus: ["type", RestrictedMenus],
};
