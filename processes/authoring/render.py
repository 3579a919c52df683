"""Render a .bpmn file to PNG with the bpmn-js viewer the web app ships (headless Chromium).

    .venv/bin/python processes/authoring/render.py processes/common/common_consent.bpmn [out.png]

The PNG defaults to /tmp/<file name>.png. The script prints the import warnings bpmn-js gave
(an empty list means bpmn-js read every element and its layout).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "webui" / "static" / "build" / "bpmn-js"
VIEWER = BUILD / "bpmn-navigated-viewer.production.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="{assets}/diagram-js.css">
<link rel="stylesheet" href="{assets}/bpmn-js.css">
<link rel="stylesheet" href="{assets}/bpmn-font/css/bpmn.css">
<style>html,body{{margin:0;padding:0;background:#fff}} #canvas{{width:100vw;height:100vh}}</style>
<script src="{viewer}"></script>
</head><body><div id="canvas"></div></body></html>
"""


def render(bpmn: Path, png: Path, scale: float = 1.0) -> list[str]:
    """Write `png`; return bpmn-js import warnings (and page errors)."""
    from playwright.sync_api import sync_playwright

    if not VIEWER.is_file():
        raise SystemExit(f"{VIEWER} is missing: run ./scripts/frontend.sh")
    xml = bpmn.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="cinflow-render-") as tmp:
        page_file = Path(tmp) / "render.html"
        page_file.write_text(
            PAGE.format(assets=(BUILD / "assets").as_uri(), viewer=VIEWER.as_uri()),
            encoding="utf-8",
        )
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
                page.goto(page_file.as_uri())
                result = page.evaluate(
                    """async (xml) => {
                        const viewer = new BpmnJS({container: '#canvas'});
                        try {
                            const r = await viewer.importXML(xml);
                            const canvas = viewer.get('canvas');
                            const box = canvas.viewbox().inner;
                            window.__viewer = viewer;
                            return {warnings: r.warnings.map(w => w.message), box};
                        } catch (e) {
                            return {warnings: ['import failed: ' + e.message], box: null};
                        }
                    }""",
                    xml,
                )
                box = result["box"]
                if box:
                    margin = 30
                    width = int(box["width"] * scale + 2 * margin)
                    height = int(box["height"] * scale + 2 * margin)
                    page.set_viewport_size({"width": max(width, 200), "height": max(height, 200)})
                    page.evaluate(
                        """([box, scale, margin]) => {
                            const canvas = window.__viewer.get('canvas');
                            canvas.resized();
                            canvas.viewbox({x: box.x - margin / scale, y: box.y - margin / scale,
                                            width: (box.width * scale + 2 * margin) / scale,
                                            height: (box.height * scale + 2 * margin) / scale});
                        }""",
                        [box, scale, margin],
                    )
                page.screenshot(path=str(png), full_page=False)
                return list(result["warnings"]) + errors
            finally:
                browser.close()


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    bpmn = Path(argv[0])
    png = Path(argv[1]) if len(argv) > 1 else Path("/tmp") / (bpmn.stem + ".png")
    warnings = render(bpmn, png)
    print(json.dumps({"png": str(png), "warnings": warnings}, indent=1))
    return 1 if warnings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
