// The palette and the change-type menu offer only what the engine runs (engine/deploy_rules.py
// refuses the rest): user tasks instead of plain tasks, no data objects, stores or groups.
const PALETTE_KEEP = new Set([
  "hand-tool", "lasso-tool", "space-tool", "global-connect-tool", "tool-separator",
  "create.start-event", "create.intermediate-event", "create.end-event",
  "create.exclusive-gateway", "create.subprocess-expanded", "create.participant-expanded",
]);
const REPLACE_KEEP = /^replace-with-(none-start|none-end|timer|message|user-task|call-activity|exclusive-gateway|parallel-gateway|expanded-subprocess|collapsed-subprocess|terminate-end|non-interrupting-timer|sequence-flow|default-flow|conditional-flow)/;

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
        Object.entries(entries).filter(([k]) => REPLACE_KEEP.test(k)));
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

export default {
  __init__: ["restrictedPalette", "restrictedMenus"],
  restrictedPalette: ["type", RestrictedPalette],
  restrictedMenus: ["type", RestrictedMenus],
};
