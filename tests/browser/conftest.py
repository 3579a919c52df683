"""Browser tests: the real app in a background server, driven by Debian's Chromium.

Needs `scripts/browser-deps.sh` (chromium + playwright) and `scripts/frontend.sh` (built CSS,
axe-core). Without them the tests are skipped with the reason, never failed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from webui import create_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CINFLOW_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
APP_CSS = ROOT / "webui" / "static" / "build" / "app.css"
TIMEOUT_MS = 5_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _load_web_fakes():
    """tests/web/web_fakes.py, whichever of the two test folders pytest collected first."""
    if "web_fakes" in sys.modules:
        return sys.modules["web_fakes"]
    path = ROOT / "tests" / "web" / "web_fakes.py"
    spec = importlib.util.spec_from_file_location("web_fakes", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["web_fakes"] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def _require_browser_deps():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed: run scripts/browser-deps.sh")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/browser-deps.sh")
    if not APP_CSS.exists() or not AXE_JS.exists():
        pytest.skip("front-end assets are not built: run scripts/frontend.sh")


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The app with the fake engine, served on a free localhost port; yields its base URL."""
    _require_browser_deps()
    fakes = _load_web_fakes()
    app = create_app({"TESTING": True, "SECRET_KEY": "browser-tests"}, engine=fakes.fake_engine())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    _require_browser_deps()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            timeout=30_000,  # the first launch of a cold Chromium can be slow
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        timezone_id="Europe/London",
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    # Only our own server: anything else would be a bug (a CDN link, a tracker).
    context.route(
        lambda url: not url.startswith(live_server),
        lambda route: route.abort(),
    )
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def run_axe(page, tags: list[str] | None = None) -> list[dict]:
    """Inject axe-core into the page and return its WCAG 2.x A/AA violations."""
    page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html,
                                          summary: n.failureSummary})),
            }));
        }""",
        tags or AXE_TAGS,
    )


def format_violations(violations: list[dict]) -> str:
    """axe violations as readable text for an assertion message."""
    lines = [f"{len(violations)} accessibility violation(s):"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:200]}")
            if node.get("summary"):
                lines.extend(f"      {line}" for line in node["summary"].splitlines())
    return "\n".join(lines)


@pytest.fixture
def axe():
    """Call axe(page) to get violations; assert_no_violations(page) for a readable failure."""

    class Axe:
        run = staticmethod(run_axe)
        format = staticmethod(format_violations)

        def assert_no_violations(self, page) -> None:
            violations = run_axe(page)
            assert not violations, format_violations(violations)

        def __call__(self, page):
            return run_axe(page)

    return Axe()
