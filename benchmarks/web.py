"""The shared 3D space under load: first frame, /live fan-out to 10 clients, JS heap at 10 Hz × 2,000 machines.

    python benchmarks/web.py [--quick]

1. Time to the first rendered frame of a factory view (the 13-machine example
   line, and a generated plant of 2,000 machines and 50 people), in Debian's
   chromium with software WebGL; reference: the same page's world view.
2. What a frame of the 2,000-machine plant costs, part by part: each part is
   hidden in turn and the same camera path drawn synchronously; the cost is the
   CPU time of chromium's GPU process (where the software rasteriser runs) per
   frame, which the other work on a shared machine does not inflate the way it
   does wall time (Linux only: read from /proc).
3. Sustained ``/live`` delta rate to 10 concurrent headless WebSocket clients
   while state changes are committed through the HTTP API.
4. 2,000 machines changing state at 10 Hz (the page's live handler is fed
   in-page, so the browser side is measured alone) while the camera orbits
   without pause, for 10 min (30 s with --quick): the JS heap after GC each
   minute, the updates applied, the frames drawn per second, and the input
   latency (a real mouse move to the next animation frame).

Prints readable lines and, last, one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.server import PASSWORD, big_plant, running_server  # noqa: E402
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def login(page: Any, base: str) -> None:
    page.goto(base + "/")
    page.fill("#login-form input[name=name]", "Bench")
    page.fill("#login-form input[name=principal]", "ann")
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button")


def first_frame_ms(browser: Any, base: str, hash_: str) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 850})
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
    base: str, twin: str, machines: Sequence[str], seconds: float, clients: int = 10
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


def chromium_cpu_ms(kind: str) -> float | None:
    """CPU time (user + system, ms) so far of this process's chromium children of ``--type=kind``."""
    if not Path("/proc").is_dir():
        return None
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            if f"--type={kind}".encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def open_factory(browser: Any, base: str, hash_: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 850})
    page = context.new_page()
    login(page, base)
    page.wait_for_function("window.twinverse?.world?.ready", timeout=60_000)
    page.evaluate(f"location.hash = {json.dumps(hash_)}")
    page.wait_for_function("window.twinverse.factory?.ready", timeout=120_000)
    return context, page


# Draw `n` frames along a fixed arc of the camera, each finished (a one-pixel read waits for
# the rasteriser), with the frame loop stopped.
DRAW_SYNC = """(n) => {
  const host = window.twinverse.host, r = host.renderer, gl = r.getContext(), px = new Uint8Array(4);
  const c = host.camera.position, t = host.controls.target, start = window.__arcStart ??= c.clone();
  for (let k = 0; k < n; k++) {
    const dx = start.x - t.x, dz = start.z - t.z, a = 0.02 * k;
    c.set(t.x + dx * Math.cos(a) - dz * Math.sin(a), start.y, t.z + dx * Math.sin(a) + dz * Math.cos(a));
    host.camera.lookAt(t);
    r.render(host.view.scene, host.camera);
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
  }
}"""
CLOSE_UP = """(() => {
  const f = window.twinverse.factory, h = window.twinverse.host;
  for (const o of f.scene.children) if (o.name !== 'people') o.visible = true; // 'people': a pick proxy
  const [x, y] = f.items.get('86.1999.bigco/plant/hall/l050/m050-07').position;
  h.controls.target.set(x, 0, -y); h.camera.position.set(x + 10, 25, -y + 25); window.__arcStart = null;
  f.update(h.camera, h.controls.target, 0, true);
})()"""
# Parts of the factory, hidden cumulatively: the cost of each is the difference.
PARTS = (
    ("machine bodies, details, beacons", "f.field.group"),
    ("people", "f.scene.getObjectByName('people:batch')"),
    ("line and area patches", "f.scene.getObjectByName('floor-plan')"),
    ("grid", "f.scene.children.find((o) => o.type === 'GridHelper')"),
    ("floor", "f.scene.getObjectByName('floor')"),
)


def frame_breakdown(browser: Any, base: str, hash_: str) -> dict[str, Any]:
    """GPU-process CPU ms per frame of the whole plant, and what each part adds."""
    context, page = open_factory(browser, base, hash_)
    # The frame loop stopped, at full resolution (no dynamic resolution meanwhile).
    page.evaluate(
        "(() => { const h = window.twinverse.host; h.renderer.setAnimationLoop(null);"
        " h.renderer.setPixelRatio(h.maxRatio); })()"
    )
    info = page.evaluate(
        "(() => { const h = window.twinverse.host, r = h.renderer; r.render(h.view.scene, h.camera);"
        " return {renderer: h.rendererName, software: h.software, calls: r.info.render.calls,"
        " triangles: r.info.render.triangles, pixels: r.domElement.width * r.domElement.height}; })()"
    )

    def cost() -> float | None:
        page.evaluate(DRAW_SYNC, 4)
        samples = []
        for _ in range(5):
            before = chromium_cpu_ms("gpu-process")
            page.evaluate(DRAW_SYNC, 10)
            after = chromium_cpu_ms("gpu-process")
            if before is None or after is None:
                return None
            samples.append((after - before) / 10)
        return round(statistics.median(samples), 1)

    whole = cost()
    parts: dict[str, float | None] = {}
    last = whole
    for name, expression in PARTS:
        page.evaluate(
            f"(() => {{ const f = window.twinverse.factory; {expression}.visible = false; }})()"
        )
        now = cost()
        parts[name] = None if now is None or last is None else round(last - now, 1)
        last = now
    parts["clear and the rest"] = last
    # Down to one line, where the floor fills the view: the case dynamic resolution is for.
    page.evaluate(CLOSE_UP)
    close_full = cost()
    page.evaluate("window.twinverse.host.renderer.setPixelRatio(0.5)")
    close_half = cost()
    context.close()
    return {"frame_renderer": info["renderer"], "frame_software": info["software"],
            "frame_draw_calls": info["calls"], "frame_triangles": info["triangles"],
            "frame_pixels": info["pixels"], "frame_cpu_ms": whole, "frame_cpu_ms_parts": parts,
            "frame_cpu_ms_close_up": close_full, "frame_cpu_ms_close_up_half_resolution": close_half}  # fmt: skip


# 10 Hz of state changes for every machine, the camera orbiting on every animation frame (so
# every frame is drawn), input latency from each real mouse move to the next animation frame.
FEED = """([ids, seconds]) => {
  const app = window.twinverse, host = app.host, states = ['running', 'idle', 'blocked', 'down'];
  const run = {tick: 0, applied: 0, latency: [], frames0: host.frames, ticks0: host.ticks, t0: performance.now()};
  const canvas = host.renderer.domElement;
  const onMove = (e) => {
    const at = e.timeStamp;
    requestAnimationFrame(() => run.latency.push(performance.now() - at));
  };
  canvas.addEventListener('pointermove', onMove);
  const timer = setInterval(() => {
    const changes = ids.map((id, i) => ({entity: id, property: 'state', value: states[(i + run.tick) % 4]}));
    app.live.onChanges(changes); run.tick += 1; run.applied += changes.length;
  }, 100);
  const orbit = () => {
    if (run.over) return;
    const c = host.camera.position, t = host.controls.target, a = 0.004;
    const dx = c.x - t.x, dz = c.z - t.z;
    c.x = t.x + dx * Math.cos(a) - dz * Math.sin(a); c.z = t.z + dx * Math.sin(a) + dz * Math.cos(a);
    requestAnimationFrame(orbit);
  };
  requestAnimationFrame(orbit);
  window.__feed = run;
  run.done = new Promise((resolve) => setTimeout(() => {
    run.over = true; clearInterval(timer); canvas.removeEventListener('pointermove', onMove);
    const s = (performance.now() - run.t0) / 1000;
    resolve({seconds: s, applied_per_s: run.applied / s, frames_per_s: (host.frames - run.frames0) / s,
             animation_frames_per_s: (host.ticks - run.ticks0) / s, latency: run.latency});
  }, seconds * 1000));
  return true;
}"""


def heap_run(browser: Any, base: str, hash_: str, seconds: float) -> dict[str, object]:
    context, page = open_factory(browser, base, hash_)
    cdp = context.new_cdp_session(page)

    def heap_mb() -> float:
        cdp.send("HeapProfiler.collectGarbage")
        return round(float(cdp.send("Runtime.getHeapUsage")["usedSize"]) / 2**20, 2)

    ids = page.evaluate(
        "window.twinverse.factory.field.ids().filter(id => window.twinverse.factory.items.get(id).kind === 'machine')"
    )
    series = [heap_mb()]
    gpu0 = chromium_cpu_ms("gpu-process")
    frames0 = page.evaluate("window.twinverse.host.frames")
    page.evaluate(FEED, [ids, seconds])
    started = time.monotonic()
    next_heap, k = started + 60, 0
    while time.monotonic() - started < seconds:
        k += 1
        page.mouse.move(300 + 40 * (k % 7), 300 + 30 * (k % 5))
        time.sleep(0.5)
        if time.monotonic() >= next_heap and time.monotonic() - started < seconds - 5:
            series.append(heap_mb())
            next_heap += 60
    result = page.evaluate("window.__feed.done")
    frames = page.evaluate("window.twinverse.host.frames") - frames0
    gpu1 = chromium_cpu_ms("gpu-process")
    page.evaluate("window.__feed = null")
    series.append(heap_mb())
    context.close()
    latency = sorted(result["latency"])
    return {
        "heap_machines": len(ids),
        "heap_seconds": seconds,
        "heap_updates_asked_per_s": len(ids) * 10,
        "heap_updates_per_s": round(result["applied_per_s"]),
        "heap_start_mb": series[0],
        "heap_end_mb": series[-1],
        "heap_growth_mb": round(series[-1] - series[0], 2),
        "heap_mb_by_minute": series,
        "fps_during_updates": round(result["frames_per_s"], 1),
        "animation_frames_per_s": round(result["animation_frames_per_s"], 1),
        "frame_cpu_ms_during_updates": None if gpu0 is None or gpu1 is None or not frames
        else round((gpu1 - gpu0) / frames, 1),
        "input_latency_ms_median": round(latency[len(latency) // 2], 1) if latency else None,
        "input_latency_ms_p95": round(latency[int(len(latency) * 0.95)], 1) if latency else None,
    }  # fmt: skip


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
            parts = frame_breakdown(browser, base, "#site=86.1999.bigco|86.1999.bigco/plant")
            print(f"frame of the 2,000-machine plant ({parts['frame_renderer']}, "
                  f"{parts['frame_draw_calls']} draw calls, {parts['frame_pixels']:,} pixels): "
                  f"{parts['frame_cpu_ms']} ms GPU-process CPU; by part: "
                  + ", ".join(f"{k} {v}" for k, v in parts["frame_cpu_ms_parts"].items()))  # fmt: skip
            print(f"  close-up over one line: {parts['frame_cpu_ms_close_up']} ms at full resolution, "
                  f"{parts['frame_cpu_ms_close_up_half_resolution']} ms at half")  # fmt: skip
            figures |= parts
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
            print(f"JS heap, {heap['heap_machines']} machines at 10 Hz for {heap['heap_seconds']:.0f} s, "
                  f"camera orbiting: {heap['heap_start_mb']} MiB → {heap['heap_end_mb']} MiB "
                  f"({heap['heap_growth_mb']:+} MiB; by minute {heap['heap_mb_by_minute']}); "
                  f"{heap['heap_updates_per_s']} of {heap['heap_updates_asked_per_s']} updates/s applied, "
                  f"{heap['fps_during_updates']} frames/s drawn ({heap['frame_cpu_ms_during_updates']} ms "
                  f"GPU-process CPU each), input latency median {heap['input_latency_ms_median']} ms, "
                  f"p95 {heap['input_latency_ms_p95']} ms")  # fmt: skip
            figures |= heap
            browser.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
