"""A real twinverse server on a free loopback port, in a thread, for the browser tests and the benchmark."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
import yaml

from twinverse.api import create_app
from twinverse.identity import Role
from twinverse.scenario import load_scenario
from twinverse.store.sqlite import SqliteStore
from twinverse.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
TENANT = "demo"
BIG_PREFIX = "86.1999.bigco"
BIG_SITE = f"{BIG_PREFIX}/plant"
MACHINE_KINDS = (
    "press",
    "welding",
    "robot-cell",
    "cnc",
    "oven",
    "assembly",
    "test-bench",
    "packaging",
)


def big_plant(path: Path, lines: int = 100, per_line: int = 20, people: int = 50) -> Path:
    """A generated plant: ``lines`` × ``per_line`` machines (laid out by the page) and ``people``."""
    doc = {
        "twinverse": 1,
        "enterprise": {"id": "bigco", "prefix": BIG_PREFIX, "name": "Big Co"},
        "sites": [{
            "id": "plant", "name": "Big plant", "country": "DE",
            "location": {"lat": 50.0, "lon": 8.0}, "timezone": "Europe/Berlin",
            "areas": [{"id": "hall", "lines": [
                {"id": f"l{n:03d}", "machines": [
                    {"id": f"m{n:03d}-{m:02d}", "kind": MACHINE_KINDS[(n + m) % len(MACHINE_KINDS)],
                     "cycle_time": "40 s"}
                    for m in range(per_line)]}
                for n in range(lines)]}],
        }],
        "people": [{"id": f"p{i:02d}", "name": f"Person {i}", "role": "operator", "site": "plant"}
                   for i in range(people)],
    }  # fmt: skip
    path.write_text(yaml.safe_dump(doc))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    data_dir: Path, scenarios: list[Path], users: tuple[str, ...] = ("ann", "bob")
) -> Iterator[tuple[str, Workspace]]:
    """Serve ``scenarios`` (all in one company) until the block ends; yields the base URL and the workspace."""
    store = SqliteStore(data_dir / "store.db").open()
    ws = Workspace(store)
    for path in scenarios:
        ws.import_scenario(load_scenario(path), tenant=TENANT, actor="setup")
    for name in users:
        ws.accounts.create(name, tenant=TENANT, roles=[Role.ENGINEER], password=PASSWORD)
    port = free_port()
    config = uvicorn.Config(
        create_app(workspace=ws), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="twinverse-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", ws
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        ws.close()
