"""Browser tests: the real app in a background server, driven by Debian's Chromium.

`live_server` is the app on the REAL engine, on a temporary SQLite database holding the world
of tests/factories.py (teams, people in every role, cases with tasks due at known points),
with the clock fixed at Monday 23 November 2026, 09:00 UTC for every request. It is shared by
the whole session: tests that change things (claims) use tasks no other test relies on.

    def test_x(page, sign_in, axe):
        sign_in(page, "sw.north")          # fills in the sign-in form, lands on the worklist
        axe.assert_no_violations(page)

`own_world`/`own_page`/`own_sign_in` are a module's own world (it may add cases or drafts);
`portsmouth` is that world with Portsmouth's pack live and a second practice manager
(pm.second); `modeler_canvas.select(page, id)` clicks an element on the modeler's canvas.
`new_page()` opens another browser context (another person); `shot(page, name)` saves a
full-page screenshot to $CINFLOW_SCREENSHOTS when set (to look at), else to a temporary folder.

Needs `scripts/browser-deps.sh` (chromium + playwright) and `scripts/frontend.sh` (built CSS,
axe-core). Without them the tests are skipped with the reason, never failed.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from werkzeug.serving import make_server

from engine import clock, passwords
from engine.clock import FixedClock
from engine.services import Engine
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
# Cheap password hashing for test accounts (the stored hash records its own cost).
CHEAP_HASHING = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _load_web_module(name: str):  # noqa: ANN202
    """tests/web/<name>.py, whichever of the two test folders pytest collected first."""
    if name in sys.modules:
        return sys.modules[name]
    path = ROOT / "tests" / "web" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being made
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


def _with_clock(app: Callable, fixed: FixedClock) -> Callable:
    """The app with `fixed` as engine time for each request (server threads, not the process)."""

    def wsgi(environ, start_response):  # noqa: ANN001, ANN202
        with clock.using(fixed):
            return app(environ, start_response)

    return wsgi


@contextmanager
def serve_world(folder: Path) -> Iterator[SimpleNamespace]:
    """The real app and engine with the factories' world, served on a free localhost port;
    `.clock` is the fixed clock every request reads (a test may move it)."""
    _require_browser_deps()
    import factories  # tests/factories.py

    fixed = FixedClock(factories.NOW)
    with clock.using(fixed), mock.patch.dict(passwords.ARGON2, CHEAP_HASHING):
        engine = Engine(f"sqlite:///{folder / 'cinflow.db'}")
        engine.init_db()
        world = factories.build_world(engine)
    # Not in testing mode: the session cookie is Secure, exactly as under `cinflow serve`, and
    # signing in over plain http://127.0.0.1 must still work (browsers keep Secure cookies for
    # loopback addresses).
    app = create_app({"SECRET_KEY": "browser-tests"}, engine=engine)
    assert app.config["SESSION_COOKIE_SECURE"] or os.environ.get("CINFLOW_INSECURE_COOKIES")
    server = make_server("127.0.0.1", 0, _with_clock(app, fixed), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(
            url=f"http://127.0.0.1:{server.server_port}",
            app=app,
            engine=engine,
            world=world,
            password=factories.PASSWORD,
            clock=fixed,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        engine.dispose()


@pytest.fixture(scope="session")
def live_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The real app and engine with the factories' world, served on a free localhost port."""
    with serve_world(tmp_path_factory.mktemp("live")) as served:
        yield served


@pytest.fixture(scope="session")
def hostile():  # noqa: ANN201
    """tests/web/hostile.py: an attacker's diagram planted in the stored XML."""
    return _load_web_module("hostile")


@pytest.fixture(scope="session")
def live_server(live_world: SimpleNamespace) -> str:
    """The base URL of the real app (see live_world)."""
    return live_world.url


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


def new_context(browser, base_url: str, **options):  # noqa: ANN001, ANN201
    settings = {
        "viewport": {"width": 1280, "height": 900},
        "locale": "en-GB",
        "timezone_id": "Europe/London",
        **options,
    }
    context = browser.new_context(base_url=base_url, **settings)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    # Only our own server: anything else would be a bug (a CDN link, a tracker).
    context.route(
        lambda url: not url.startswith(base_url),
        lambda route: route.abort(),
    )
    return context


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable[..., object]]:  # noqa: ANN001
    """new_page() -> a page in a browser context of its own (another person, another cookie jar)."""
    contexts = []

    def make(**options: object) -> object:
        context = new_context(browser, live_server, **options)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture(scope="module")
def own_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A world of the test module's own: for tests that add cases or move the clock."""
    with serve_world(tmp_path_factory.mktemp("own")) as served:
        yield served


@pytest.fixture
def own_page(browser, own_world) -> Iterator[Callable[..., object]]:  # noqa: ANN001
    """own_page() -> a page on `own_world`'s server, in a browser context of its own."""
    contexts = []

    def make(**options: object) -> object:
        context = new_context(browser, own_world.url, **options)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page) -> object:  # noqa: ANN001
    return new_page()


def sign_in_as(page, username: str, password: str) -> None:  # noqa: ANN001
    """Use the sign-in form like a person; ends on the landing page."""
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/sign-in" not in page.url, page.locator("main").inner_text()


@pytest.fixture
def sign_in(live_world: SimpleNamespace) -> Callable[..., None]:
    """sign_in(page, username): use the sign-in form like a person; ends on the landing page."""

    def do(page, username: str, password: str | None = None) -> None:  # noqa: ANN001
        sign_in_as(page, username, password or live_world.password)

    return do


@pytest.fixture
def own_sign_in(own_world: SimpleNamespace) -> Callable[..., None]:
    """own_sign_in(page, username): sign_in on `own_world`'s server."""

    def do(page, username: str) -> None:  # noqa: ANN001
        sign_in_as(page, username, own_world.password)

    return do


@pytest.fixture(scope="module")
def live_portsmouth(live_world: SimpleNamespace) -> SimpleNamespace:
    """The shared `live_world` with Portsmouth's shipped pack deployed (at the worlds' fixed
    time; a second deploy of the same pack is a no-op), for the trainers' walkthroughs."""
    factories = __import__("factories")
    with clock.using(FixedClock(factories.NOW)):
        live_world.engine.deploy_pack("portsmouth", "admin")
    return live_world


@pytest.fixture(scope="module")
def portsmouth(own_world: SimpleNamespace) -> SimpleNamespace:
    """`own_world` with Portsmouth's shipped pack live (installed by admin) and a second practice
    manager, pm.second, to approve what pm.north changes (four eyes)."""
    with clock.using(own_world.clock), mock.patch.dict(passwords.ARGON2, CHEAP_HASHING):
        own_world.engine.deploy_pack("portsmouth", "admin")
        own_world.engine.people.add_user(
            "pm.second", "Pam Second", own_world.password, "practice_manager", ["north"]
        )
    return own_world


def _select_element(page, element_id: str) -> None:  # noqa: ANN001
    """Click an element on the modeler's canvas; waits for the panel to show it."""
    page.locator(f".djs-element[data-element-id='{element_id}'] .djs-hit").first.click(force=True)
    page.wait_for_selector(f"#modeler-panel[data-element='{element_id}']")


def _select_flow(page, flow_id: str) -> None:  # noqa: ANN001
    """Click the middle of a sequence flow, as a person would (the diagram first scrolled
    clear of the palette with the mouse wheel)."""
    box = page.locator("#modeler-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(-250, 0)
    x, y = page.evaluate(
        """(id) => {
          document.getElementById("modeler-canvas").scrollIntoView();
          const line = document.querySelector(`.djs-element[data-element-id='${id}'] .djs-hit`);
          const middle = line.getPointAtLength(line.getTotalLength() / 2);
          const svg = line.ownerSVGElement.createSVGPoint();
          svg.x = middle.x; svg.y = middle.y;
          const p = svg.matrixTransform(line.getScreenCTM());
          return [p.x, p.y];
        }""",
        flow_id,
    )
    page.mouse.click(x, y)
    page.wait_for_selector(f"#modeler-panel[data-element='{flow_id}']")


@pytest.fixture(scope="session")
def modeler_canvas() -> SimpleNamespace:
    """modeler_canvas.select(page, id) / .select_flow(page, id): pick an element on the
    modeler's canvas with the mouse, as a practice manager does."""
    return SimpleNamespace(select=_select_element, select_flow=_select_flow)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("CINFLOW_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def shot(screenshots: Path) -> Callable[..., Path]:
    """shot(page, name): a full-page PNG of what the person sees now."""

    def take(page, name: str) -> Path:  # noqa: ANN001
        path = screenshots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8") + "\n;void 0"


def run_axe(page, tags: list[str] | None = None) -> list[dict]:
    """Inject axe-core into the page and return its WCAG 2.x A/AA violations."""
    # Evaluated through the DevTools protocol, which the pages' Content-Security-Policy does not
    # govern (a <script> tag added to the page would be refused, as it should be).
    page.evaluate(_axe_source())
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
