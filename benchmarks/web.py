"""The shared 3D space under load: first frame, /live fan-out to 10 clients, JS heap at 10 Hz × 2,000 machines.

    python benchmarks/web.py [--quick]

1. Time to the first rendered frame of a factory view (the 13-machine example
   line, and a generated plant of 2,000 machines and 50 people), in Debian's
   chromium with software WebGL; reference: the same page's world view.
2. Sustained ``/live`` delta rate to 10 concurrent headless WebSocket clients
   while state changes are committed through the HTTP API.
3. The tab's JS heap while 2,000 machines change state at 10 Hz (the page's live
   handler is fed in-page, so the browser side is measured alone): start vs end
   of the run (10 min; 30 s with --quick), and the frame rate meanwhile.

Prints readable lines and, last, one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.server import PASSWORD, running_server  # noqa: E402
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

KINDS = ["press", "welding", "robot-cell", "cnc", "oven", "assembly", "test-bench", "packaging"]


def big_plant(path: Path, lines: int = 100, per_line: int = 20, people: int = 50) -> Path:
    """A generated plant: ``lines`` × ``per_line`` machines (laid out by the page) and ``people``."""
    doc = {
        "twinverse": 1,
        "enterprise": {"id": "bigco", "prefix": "86.1999.bigco", "name": "Big Co"},
        "sites": [{
            "id": "plant", "name": "Big plant", "country": "DE",
            "location": {"lat": 50.0, "lon": 8.0}, "timezone": "Europe/Berlin",
            "areas": [{"id": "hall", "lines": [
                {"id": f"l{n:03d}", "machines": [
                    {"id": f"m{n:03d}-{m:02d}", "kind": KINDS[(n + m) % len(KINDS)], "cycle_time": "40 s"}
                    for m in range(per_line)]}
                for n in range(lines)]}],
        }],
        "people": [{"id": f"p{i:02d}", "name": f"Person {i}", "role": "operator", "site": "plant"}
                   for i in range(people)],
    }  # fmt: skip
    path.write_text(yaml.safe_dump(doc))
    return path


def login(page: object, base: str) -> None:
    page.goto(base + "/")  # type: ignore[attr-defined]
    page.fill("#login-form input[name=name]", "Bench")  # type: ignore[attr-defined]
    page.fill("#login-form input[name=principal]", "ann")  # type: ignore[attr-defined]
    page.fill("#login-form input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("#login-form button")  # type: ignore[attr-defined]


def first_frame_ms(browser: object, base: str, hash_: str) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 850})  # type: ignore[attr-defined]
    page = context.new_page()
    login(page, base)
    page.wait_for_function("window.twinverse?.world?.ready", timeout=60_000)
    if hash_:
        started = page.evaluate("performance.now()")
        page.evaluate(
            f"window.twinverse.host.firstFrameAt = null; location.hash = {json.dumps(hash_)}"
        )
        page.wait_for_function(
            "window.twinverse.factory?.ready && window.twinverse.host.firstFrameAt !== null",
            timeout=120_000,
        )
        ms = page.evaluate("window.twinverse.host.firstFrameAt") - started
    else:
        ms = page.evaluate("window.twinverse.host.firstFrameAt")
    context.close()
    return float(ms)


def live_rate(
    base: str, twin: str, machines: list[str], seconds: float, clients: int = 10
) -> dict[str, float]:
    from websockets.sync.client import connect

    token = httpx.post(
        f"{base}/auth/login", json={"principal": "ann", "password": PASSWORD}
    ).json()["access_token"]
    counts = [[0, 0] for _ in range(clients)]
    stop = threading.Event()

    def listen(i: int) -> None:
        url = base.replace("http", "ws") + f"/live?twin={twin}&token={token}"
        with connect(url, max_size=None) as socket:
            while not stop.is_set():
                try:
                    msg = json.loads(socket.recv(timeout=0.5))
                except TimeoutError:
                    continue
                counts[i][0] += 1
                counts[i][1] += len(msg.get("changes", ()))

    threads = [threading.Thread(target=listen, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    for c in counts:
        c[0] = c[1] = 0
    headers = {"Authorization": f"Bearer {token}"}
    sent, started, k = 0, time.monotonic(), 0
    with httpx.Client(headers=headers) as http:
        while time.monotonic() - started < seconds:
            batch = machines[(k * 200) % len(machines) :][:200]
            state = ("running", "idle", "down")[k % 3]
            changes = [
                {"kind": "property-set", "entity_id": m, "name": "state", "value": state}
                for m in batch
            ]
            http.post(f"{base}/twins/{twin}/changes", json={"changes": changes}).raise_for_status()
            sent += len(changes)
            k += 1
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(timeout=5)
    return {
        "live_clients": clients,
        "live_committed_changes_per_s": round(sent / elapsed, 1),
        "live_messages_per_s_per_client": round(sum(c[0] for c in counts) / clients / elapsed, 1),
        "live_changes_per_s_per_client": round(sum(c[1] for c in counts) / clients / elapsed, 1),
        "live_delivered_share": round(sum(c[1] for c in counts) / clients / max(1, sent), 4),
    }


HEAP_FEED = """([ids, seconds]) => new Promise((done) => {
  const app = window.twinverse, states = ['running', 'idle', 'blocked', 'down'];
  let tick = 0; const frames0 = app.host.frames, t0 = performance.now();
  const timer = setInterval(() => {
    const changes = ids.map((id, i) => ({entity: id, property: 'state', value: states[(i + tick) % 4]}));
    app.live.onChanges(changes); tick += 1;
    if (performance.now() - t0 >= seconds * 1000) {
      clearInterval(timer);
      done({ticks: tick, fps: (app.host.frames - frames0) / ((performance.now() - t0) / 1000)});
    }
  }, 100);
})"""


def heap_run(browser: object, base: str, hash_: str, seconds: float) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1400, "height": 850})  # type: ignore[attr-defined]
    page = context.new_page()
    login(page, base)
    page.wait_for_function("window.twinverse?.world?.ready", timeout=60_000)
    page.evaluate(f"location.hash = {json.dumps(hash_)}")
    page.wait_for_function("window.twinverse.factory?.ready", timeout=120_000)
    cdp = context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    start = cdp.send("Runtime.getHeapUsage")["usedSize"]
    ids = page.evaluate(
        "window.twinverse.factory.field.ids().filter(id => window.twinverse.factory.items.get(id).kind === 'machine')"
    )
    result = page.evaluate(HEAP_FEED, [ids, seconds])
    cdp.send("HeapProfiler.collectGarbage")
    end = cdp.send("Runtime.getHeapUsage")["usedSize"]
    context.close()
    return {
        "heap_machines": len(ids),
        "heap_seconds": seconds,
        "heap_updates_per_s": round(result["ticks"] * len(ids) / seconds),
        "heap_start_mb": round(start / 2**20, 2),
        "heap_end_mb": round(end / 2**20, 2),
        "heap_growth_mb": round((end - start) / 2**20, 2),
        "fps_during_updates": round(result["fps"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 s heap run, 5 s live run")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    figures: dict[str, object] = {"mode": "quick" if args.quick else "full"}
    with tempfile.TemporaryDirectory() as tmp:
        plant = big_plant(Path(tmp) / "big.yaml")
        scenarios = [ROOT / "examples" / "line.yaml", plant]
        with running_server(Path(tmp), scenarios) as (base, ws), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            world = first_frame_ms(browser, base, "")
            line = first_frame_ms(browser, base, "#site=86.1001.jinfeng|86.1001.jinfeng/changzhou")
            big = first_frame_ms(browser, base, "#site=86.1999.bigco|86.1999.bigco/plant")
            print(f"first frame: world page {world:.0f} ms (reference), 13-machine line {line:.0f} ms, "
                  f"2,000-machine plant {big:.0f} ms ({big / world:.2f}× the world page)")  # fmt: skip
            figures |= {
                "first_frame_world_ms": round(world),
                "first_frame_line_ms": round(line),
                "first_frame_2000_ms": round(big),
                "first_frame_2000_vs_world": round(big / world, 2),
            }
            machines = [
                e.id for e in ws.graph("86.1999.bigco").entities() if e.kind.value == "machine"
            ]
            live = live_rate(base, "86.1999.bigco", machines, 5.0 if args.quick else 30.0)
            rate = live["live_committed_changes_per_s"]
            print(f"/live: {rate:.0f} committed changes/s → each of 10 clients got "
                  f"{live['live_changes_per_s_per_client']:.0f} changes/s in "
                  f"{live['live_messages_per_s_per_client']:.1f} messages/s "
                  f"({live['live_delivered_share']:.1%} delivered)")  # fmt: skip
            figures |= live
            heap = heap_run(
                browser,
                base,
                "#site=86.1999.bigco|86.1999.bigco/plant",
                30.0 if args.quick else 600.0,
            )
            print(f"JS heap, {heap['heap_machines']} machines at 10 Hz for {heap['heap_seconds']:.0f} s: "
                  f"{heap['heap_start_mb']} MiB → {heap['heap_end_mb']} MiB ({heap['heap_growth_mb']:+} MiB), "
                  f"{heap['fps_during_updates']} frames/s meanwhile")  # fmt: skip
            figures |= heap
            browser.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
