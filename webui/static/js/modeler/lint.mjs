// bpmnlint in the modeler with the deploy's own rule set: each rule of engine/conventions.json
// becomes a bpmnlint rule "cinflow/<id>" whose check runs conventions.mjs (the browser runner
// of the same JSON the server runs at deploy): one definition, two runners. A rule runs when
// the linter enters the bpmn:Definitions root: the diagram is written to XML (moddle-xml's
// writer, synchronous), parsed, checked once per lint pass (shared by the rules through the
// XML text) and each finding reported on its element.
import { Writer } from "moddle-xml";
import { check } from "../conventions.mjs";

const PLUGIN = "bpmnlint-plugin-cinflow";
let last = { xml: null, findings: [] };

function findingsFor(definitions, rules, context) {
  const xml = new Writer({ format: false }).toXML(definitions);
  if (xml !== last.xml) {
    const doc = new DOMParser().parseFromString(xml, "application/xml");
    last = { xml, findings: check(doc, rules, context) };
  }
  return last.findings;
}

function ruleFactory(ruleId, rules, context) {
  return () => ({
    check(node, reporter) {
      if (node.$type !== "bpmn:Definitions") return;
      for (const f of findingsFor(node, rules, context)) {
        if (f.rule === ruleId) reporter.report(f.elementId, f.message);
      }
    },
  });
}

// bpmn-js-bpmnlint's `linting.bpmnlint` option: the config naming every rule, and a resolver
// that hands out the wrapped rules without a build-time rule pack.
export function lintConfig(rules, context) {
  const factories = new Map(rules.rules.map((r) => [r.id, ruleFactory(r.id, rules, context)]));
  return {
    config: { rules: Object.fromEntries(rules.rules.map((r) => [`cinflow/${r.id}`, "error"])) },
    resolver: {
      resolveRule(pkg, name) {
        if (pkg !== PLUGIN || !factories.has(name)) throw new Error(`unknown rule ${pkg}/${name}`);
        return factories.get(name);
      },
      resolveConfig(pkg, name) {
        throw new Error(`unknown config ${pkg}/${name}`);
      },
    },
  };
}
