"""Run the DfE's CIN census rules on one XML file and print what failed as JSON.

Runs inside .venv-cin-validator (scripts/cin-validator.sh), not cinflow's own environment:
    .venv-cin-validator/bin/python scripts/cin_validate.py FILE.xml cin2025_26
It calls the same functions as `python -m cin_validator run`, but prints each failed rule's
code, kind (ERROR or QUERY), message and the children it concerns, so a test can read them.
"""

import importlib
import json
import sys
import xml.etree.ElementTree as ET


def main(path: str, ruleset: str) -> None:
    from cin_validator import cin_validator

    module = importlib.import_module(f"cin_validator.rules.{ruleset}")
    registry = module.registry
    data = cin_validator.process_data(cin_validator.convert_data(ET.parse(path).getroot()))
    validator = cin_validator.CinValidator(data, registry)
    kinds = {str(rule.code): rule.rule_type.name for rule in registry.values()}
    failed: dict[str, dict] = {}
    issues = validator.full_issue_df
    for _, row in issues.iterrows():
        code = str(row["rule_code"])
        entry = failed.setdefault(
            code,
            {"code": code, "kind": kinds.get(code, "ERROR"),
             "message": str(row.get("rule_description", "")), "children": []},
        )
        child = row.get("child_id")
        if isinstance(child, str) and child not in entry["children"]:
            entry["children"].append(child)
    for _, row in validator.multichild_issues.iterrows():
        code = str(row["rule_code"])
        failed.setdefault(
            code,
            {"code": code, "kind": kinds.get(code, "ERROR"),
             "message": str(row["rule_description"]), "children": []},
        )
    json.dump({"ruleset": ruleset, "rules": len(registry), "failed": list(failed.values())},
              sys.stdout, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "cin2025_26")
