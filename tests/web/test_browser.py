"""The shared 3D space in a real browser: Debian's chromium driven by Playwright, against a running server.

Skips (with the reason) when Playwright, chromium or three.js (web/node_modules) is absent.
Screenshots of the world and the factory are written to test-artifacts/web/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.server import PASSWORD, ROOT, running_server
from twinverse.workspace import Workspace

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed"
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--enable-unsafe-swiftshader",  # WebGL in software, without a GPU
    "--use-angle=swiftshader",
]
ARTIFACTS = ROOT / "test-artifacts" / "web"
LINE_TWIN = "86.1001.jinfeng"
SITE = f"{LINE_TWIN}/changzhou"
LINE = f"{SITE}/hall-2/ie3-line"
OP010 = f"{LINE}/op010"
B070 = f"{LINE}/b070"
DOWN = "#e74c3c"
UNKNOWN = "#9aa5b1"

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (apt package 'chromium')", allow_module_level=True
    )
if not (ROOT / "web" / "node_modules" / "three").is_dir():
    pytest.skip("three.js is not installed: run `npm ci` in web/", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Workspace]]:
    scenarios = [ROOT / "examples" / "global-network.yaml", ROOT / "examples" / "line.yaml"]
    with running_server(tmp_path_factory.mktemp("web"), scenarios) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Visitor:
    """One participant: a browser context logged in, with its console errors recorded."""

    def __init__(self, browser: Any, base: str, name: str, login: str) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 850})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on(
            "console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}")
        )
        self.missing: list[str] = []
        self.page.on(
            "response", lambda r: r.status >= 400 and self.missing.append(f"{r.status} {r.url}")
        )
        self.page.goto(base + "/")
        self.page.fill("#login-form input[name=name]", name)
        self.page.fill("#login-form input[name=principal]", login)
        self.page.fill("#login-form input[name=password]", PASSWORD)
        self.page.click("#login-form button")
        self.page.wait_for_function("window.twinverse?.world?.ready", timeout=30_000)

    def enter(self, twin: str, site: str) -> None:
        self.page.evaluate(
            "([t, s]) => { location.hash = '#site=' + encodeURIComponent(t) + '|' + encodeURIComponent(s) }",
            [twin, site],
        )
        self.page.wait_for_function(
            "window.twinverse?.factory?.ready && window.twinverse.collab?.me", timeout=30_000
        )

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def wait(self, expression: str, arg: Any = None, timeout_ms: int = 10_000) -> None:
        self.page.wait_for_function(expression, arg=arg, timeout=timeout_ms)

    def close(self) -> None:
        self.context.close()


def expected_errors(visitor: Visitor) -> list[str]:
    """Console errors other than the 404s of a simulation API that is not served (yet)."""
    simulation_404 = all("/simulations" in m for m in visitor.missing)
    return [e for e in visitor.errors if not (simulation_404 and "404" in e)]


def login_token(base: str, name: str) -> str:
    response = httpx.post(f"{base}/auth/login", json={"principal": name, "password": PASSWORD})
    return str(response.json()["access_token"])


def set_state(base: str, entity: str, state: str) -> str:
    response = httpx.post(
        f"{base}/twins/{LINE_TWIN}/changes",
        headers={"Authorization": f"Bearer {login_token(base, 'bob')}"},
        json={
            "changes": [
                {"kind": "property-set", "entity_id": entity, "name": "state", "value": state}
            ]
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()[-1]["time"])


def test_world_then_factory_load_without_console_errors(
    server: tuple[str, Workspace], browser: Any
) -> None:
    base, _ = server
    ann = Visitor(browser, base, "Ann", "ann")
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        assert ann.js("window.twinverse.world.nodes.length") > 20
        time.sleep(1.0)
        ann.page.screenshot(path=str(ARTIFACTS / "world.png"))
        ann.enter(LINE_TWIN, SITE)
        assert ann.js("window.twinverse.factory.field.ids().length") == 13 + 12 + 2
        time.sleep(1.0)
        ann.page.screenshot(path=str(ARTIFACTS / "factory.png"))
        assert ann.js("document.querySelector('#crumbs').textContent").endswith(
            "Jinfeng motor works, Wujin"
        )
        assert expected_errors(ann) == []
    finally:
        ann.close()


def test_a_state_change_reaches_the_mesh_colour_within_a_second(
    server: tuple[str, Workspace], browser: Any
) -> None:
    base, _ = server
    ann = Visitor(browser, base, "Ann", "ann")
    try:
        ann.enter(LINE_TWIN, SITE)
        ann.wait("window.twinverse.liveStatus === 'live'")
        time.sleep(0.3)  # the snapshot has arrived
        started = time.monotonic()
        set_state(base, OP010, "down")
        ann.wait(
            f"window.twinverse.factory.field.colourOf('{OP010}') === '{DOWN}'", timeout_ms=1_000
        )
        assert time.monotonic() - started < 1.0
        set_state(base, OP010, "running")
    finally:
        ann.close()


def test_two_participants_see_presence_annotations_and_chat(
    server: tuple[str, Workspace], browser: Any
) -> None:
    base, _ = server
    ann, bob = Visitor(browser, base, "Ann", "ann"), Visitor(browser, base, "Bob", "bob")
    try:
        ann.enter(LINE_TWIN, SITE)
        bob.enter(LINE_TWIN, SITE)
        ann.wait("[...window.twinverse.people.values()].some(p => p.name === 'Bob')")
        bob.wait("[...window.twinverse.people.values()].some(p => p.name === 'Ann')")
        # Ann points at op010: Bob sees her avatar there and what she points at.
        ann.js(f"window.twinverse.factory.hovered = '{OP010}'")
        bob.wait(
            f"[...window.twinverse.presence.avatars.values()].some(a => a.person.name === 'Ann' && a.pose?.pointing === '{OP010}' && a.head.visible)"
        )
        ann.js(f"window.twinverse.collab.annotate('{OP010}', 'guard rail loose')")
        bob.wait(
            "window.twinverse.notes?.some(n => n.text === 'guard rail loose' && n.author === 'Ann')"
        )
        bob.js("window.twinverse.tab('chat')")
        bob.page.fill("#chat-text", "on my way")
        bob.page.press("#chat-text", "Enter")
        ann.wait("document.querySelector('#chat-log').textContent.includes('on my way')")
        assert expected_errors(ann) == [] and expected_errors(bob) == []
    finally:
        ann.close()
        bob.close()


def test_a_layout_edit_reruns_the_line_and_both_see_the_kpis(
    server: tuple[str, Workspace], browser: Any
) -> None:
    base, ws = server
    ann, bob = Visitor(browser, base, "Ann", "ann"), Visitor(browser, base, "Bob", "bob")
    try:
        ann.enter(LINE_TWIN, SITE)
        bob.enter(LINE_TWIN, SITE)
        ann.js(f"window.twinverse.edit('{B070}', 'capacity', 2)")
        for who in (ann, bob):
            who.wait("document.querySelector('#design-kpis table') !== null", timeout_ms=30_000)
        ann_kpis = ann.js("window.twinverse.kpis.last")
        assert bob.js("window.twinverse.kpis.last") == ann_kpis
        assert ann_kpis["after"]["wip_mean"]["mean"] < ann_kpis["before"]["wip_mean"]["mean"]
        # A stale edit of the same buffer is refused and says so on screen.
        bob.js(f"window.twinverse.collab.edit('{B070}', 'capacity', 9, '')")
        bob.wait("document.querySelector('#banner').textContent.includes('not applied')")
        capacity = ws.graph(LINE_TWIN).entity(B070).properties["capacity"]
        assert capacity.magnitude == 2  # type: ignore[union-attr]
    finally:
        ann.close()
        bob.close()


def test_the_timeline_shows_an_earlier_state(server: tuple[str, Workspace], browser: Any) -> None:
    base, _ = server
    ann = Visitor(browser, base, "Ann", "ann")
    try:
        ann.enter(LINE_TWIN, SITE)
        ann.wait("window.twinverse.liveStatus === 'live'")
        at = set_state(base, f"{LINE}/op020", "down")
        ann.wait(f"window.twinverse.factory.field.colourOf('{LINE}/op020') === '{DOWN}'")
        ann.js("(t) => window.twinverse.timeline.showAt(new Date(Date.parse(t) - 1))", at)
        ann.wait(f"window.twinverse.factory.field.colourOf('{LINE}/op020') === '{UNKNOWN}'")
        assert "as of" in ann.js("document.querySelector('#banner').textContent")
        ann.js("window.twinverse.timeline.backToLive()")
        ann.wait(f"window.twinverse.factory.field.colourOf('{LINE}/op020') === '{DOWN}'")
    finally:
        ann.close()
