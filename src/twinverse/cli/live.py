"""``twinverse ingest``, ``watch`` and ``command``: the live twin at the command line."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from twinverse.cli.render import console
from twinverse.config import Settings
from twinverse.errors import TwinverseError

DEMO_PASSWORD = "twinverse-demo"
LIVE_USER = "operator"

UrlOpt = Annotated[str | None, typer.Option(help="the API (default http://HOST:PORT of settings)")]
UserOpt = Annotated[str, typer.Option(help="who logs in to the API (default: the demo operator)")]
PasswordOpt = Annotated[str, typer.Option(help="the password (default: the demo's)")]


def _base(url: str | None) -> str:
    if url:
        return url.rstrip("/")
    s = Settings()
    return f"http://{s.host}:{s.port}"


def _login(base: str, user: str, password: str) -> str:
    import httpx

    try:
        r = httpx.post(f"{base}/auth/login", json={"principal": user, "password": password})
    except httpx.HTTPError as err:
        raise TwinverseError(
            f"cannot reach the API at {base}: {err}", code="api-unreachable"
        ) from err
    if r.status_code != 200:
        raise TwinverseError(
            f"login as {user!r} refused: {r.json().get('detail', r.text)}", code="unauthenticated"
        )
    token: str = r.json()["access_token"]
    return token


# ------------------------------------------------------------------ ingest
def ingest_command(
    tag_map: Annotated[Path, typer.Argument(help="a tag map (see examples/live/)")],
    opcua: Annotated[str | None, typer.Option(help="an OPC UA endpoint, opc.tcp://…")] = None,
    mqtt: Annotated[str | None, typer.Option(help="an MQTT broker, HOST:PORT")] = None,
    dev: Annotated[bool, typer.Option("--dev", help="allow the insecure None endpoint")] = False,
    pki: Annotated[
        Path | None, typer.Option(help="ingest.der/.pem (made if missing) and trusted/ servers")
    ] = None,
    user: Annotated[str | None, typer.Option(help="OPC UA or MQTT user name")] = None,
    password_file: Annotated[Path | None, typer.Option(help="a file holding the password")] = None,
    poll: Annotated[
        bool, typer.Option(help="OPC UA: batched reads instead of subscriptions")
    ] = False,
    interval_ms: Annotated[float, typer.Option(help="publishing/poll interval")] = 100.0,
    serve: Annotated[bool, typer.Option(help="also serve the API (with /live) here")] = False,
) -> None:
    """Feed the twin from a PLC (OPC UA) or a broker (MQTT, Sparkplug B) until Ctrl+C."""
    from twinverse.live.certs import CertificateFiles, make_certificate
    from twinverse.live.hub import LiveHub
    from twinverse.live.mqtt import BrokerSettings, topic_rows
    from twinverse.live.opcua import ClientSecurity, OpcUaSettings, ReadMode
    from twinverse.live.runtime import LiveRuntime, MqttSource, OpcUaSource
    from twinverse.live.tagmap import load_tag_map, read_yaml
    from twinverse.workspace import Workspace

    if (opcua is None) == (mqtt is None):
        raise TwinverseError(
            "give one source: --opcua opc.tcp://… or --mqtt HOST:PORT", code="no-source"
        )
    tags = load_tag_map(tag_map)
    password = password_file.read_text().strip() if password_file else None
    settings = Settings()
    ws = Workspace.open(settings)
    ws.twin_info(tags.twin)  # the twin must be loaded first
    hub = LiveHub()
    ws.add_listener(hub.publish_events)
    opc_sources: tuple[OpcUaSource, ...] = ()
    mqtt_sources: tuple[MqttSource, ...] = ()
    if opcua is not None:
        security = None
        if not dev:
            folder = pki or settings.data_dir / "pki"
            cert = folder / "ingest.der"
            files = (
                CertificateFiles(cert, folder / "ingest.pem", "urn:twinverse:ingest")
                if cert.exists()
                else make_certificate(folder, "ingest", "urn:twinverse:ingest")
            )
            security = ClientSecurity(
                files, trust_dir=folder / "trusted", username=user, password=password
            )
        opc = OpcUaSettings(
            opcua,
            security=security,
            dev_mode=dev,
            mode=ReadMode.POLL if poll else ReadMode.SUBSCRIBE,
            publishing_interval_ms=interval_ms,
        )
        opc.check()
        opc_sources = (OpcUaSource(opc, tags),)
    else:
        assert mqtt is not None
        host, _, port = mqtt.rpartition(":")
        broker = BrokerSettings(
            host=host or "127.0.0.1",
            port=int(port or 1883),
            username=user,
            password=password,
            client_id=f"twinverse-ingest-{tags.source}",
        )
        mqtt_sources = (MqttSource(broker, tags, topic_rows(read_yaml(tag_map), str(tag_map))),)
    runtime = LiveRuntime(
        ws, hub, opcua=opc_sources, mqtt=mqtt_sources, audit_path=settings.data_dir / "audit.jsonl"
    )
    runtime.start()
    try:
        if serve:
            serve_with_live(ws, hub, runtime, settings)
        else:
            _report_until_stopped(runtime)
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()
        ws.close()
        console.print("ingest stopped")


def serve_with_live(
    ws: Any, hub: Any, runtime: Any, settings: Settings, port: int | None = None
) -> None:
    """Serve the API with the live hub and the ingest runtime of this process."""
    import uvicorn

    from twinverse.api import create_app
    from twinverse.live.runtime import freeze_startup_objects

    app = create_app(workspace=ws)
    app.state.live_hub = hub
    app.state.live_runtime = runtime
    freeze_startup_objects()
    uvicorn.run(app, host=settings.host, port=port or settings.port, log_level="warning")


def _report_until_stopped(runtime: Any) -> None:
    console.print("ingesting; Ctrl+C stops")
    while True:
        time.sleep(5)
        r = runtime.report.as_dict()
        refused = sum(r["refused"].values())
        console.print(
            f"received {r['received']:,}  stored {r['stored']:,}  refused {refused:,}  "
            f"sources {r['sources']}"
        )


# ------------------------------------------------------------------- watch
_STATE_STYLE = {
    "running": "green",
    "idle": "yellow",
    "blocked": "magenta",
    "down": "red",
    "stopped": "bright_black",
    "unknown": "bright_black",
}


def machine_table(title: str, entities: dict[str, dict[str, Any]]) -> Table:
    machines = {
        entity_id: props
        for entity_id, props in sorted(entities.items())
        if props.get("kind") == "machine"
    }
    # Remaining useful life appears where a monitor estimates it (engines on a test stand).
    with_rul = any("rul" in props for props in machines.values())
    columns = ["machine", "state", "parts", "temperature °C", "power kW", "alarm"]
    if with_rul:
        columns[2:2] = ["RUL cycles (90 %)", "health"]
    table = Table(title=title, expand=False)
    for column in columns:
        table.add_column(column, justify="left" if column in ("machine", "state") else "right")
    for entity_id, props in machines.items():
        state = str(props.get("state", "–"))
        style = _STATE_STYLE.get(state, "white")
        alarm = props.get("alarm_active") or props.get("maintenance_due") or props.get("anomaly")
        row = [
            entity_id.rsplit("/", 1)[-1],
            f"[{style}]{state}[/]",
            _num(props, "parts", ".0f"),
            _num(props, "temperature", ".1f"),
            _num(props, "power", ".1f"),
            "[red]●[/]" if alarm else "",
        ]
        if with_rul:
            rul = _num(props, "rul", ".0f")
            if rul != "–":
                rul += f" ({_num(props, 'rul_low', '.0f')}–{_num(props, 'rul_high', '.0f')})"
            row[2:2] = [rul, _num(props, "health", ".2f")]
        table.add_row(*row)
    return table


def _num(props: dict[str, Any], name: str, fmt: str) -> str:
    v = props.get(name)
    return format(v, fmt) if isinstance(v, int | float) and not isinstance(v, bool) else "–"


def watch_command(
    twin: Annotated[
        str, typer.Option("--twin", "-t", help="the twin's prefix")
    ] = "86.1001.jinfeng",
    under: Annotated[str | None, typer.Option(help="only this subtree")] = None,
    url: UrlOpt = None,
    user: UserOpt = LIVE_USER,
    password: PasswordOpt = DEMO_PASSWORD,
    seconds: Annotated[float | None, typer.Option(help="stop after this long")] = None,
) -> None:
    """Show the machines of a twin live, as the plant runs (from the /live WebSocket)."""
    import orjson
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    base = _base(url)
    token = _login(base, user, password)
    query = f"twin={twin}&kinds=machine&token={token}" + (f"&under={under}" if under else "")
    ws_url = base.replace("http", "ws", 1) + f"/live?{query}"
    entities: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + seconds if seconds else None
    try:
        with connect(ws_url) as socket, Live(console=console, refresh_per_second=4) as screen:
            while deadline is None or time.monotonic() < deadline:
                try:
                    message = orjson.loads(socket.recv(timeout=0.5))
                except TimeoutError:
                    continue
                if message["type"] == "snapshot":
                    entities = message["entities"]
                elif message["type"] == "delta":
                    for c in message["changes"]:
                        entities.setdefault(c["entity"], {"kind": "machine"})[c["property"]] = c[
                            "value"
                        ]
                screen.update(machine_table(f"{twin} — live", entities))
    except ConnectionClosed as err:
        raise TwinverseError(
            f"the live feed closed: {err.rcvd.reason if err.rcvd else err}", code="live-closed"
        ) from err
    except KeyboardInterrupt:
        pass


# ----------------------------------------------------------------- command
def command_command(
    entity: Annotated[str, typer.Argument(help="a machine or line id")],
    verb: Annotated[str, typer.Argument(help="start, stop, reset, ack-alarm or set-speed")],
    value: Annotated[float | None, typer.Option(help="for set-speed: % of nominal")] = None,
    key: Annotated[str | None, typer.Option(help="idempotency key (default: a new one)")] = None,
    url: UrlOpt = None,
    user: UserOpt = LIVE_USER,
    password: PasswordOpt = DEMO_PASSWORD,
) -> None:
    """Send a command to the plant through the API (authorised, range-checked, audited)."""
    import httpx

    from twinverse.live.commands import Verb
    from twinverse.twin.ids import prefix_of

    try:
        Verb(verb)
    except ValueError:
        raise TwinverseError(
            f"unknown command {verb!r}; expected one of {', '.join(v.value for v in Verb)}",
            code="bad-command",
        ) from None
    base = _base(url)
    token = _login(base, user, password)
    body = {"entity": entity, "command": verb, "value": value, "key": key or str(uuid.uuid4())}
    r = httpx.post(
        f"{base}/twins/{prefix_of(entity)}/commands",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    if r.status_code != 200:
        raise TwinverseError(f"refused: {r.json().get('detail', r.text)}", code="command-refused")
    out = r.json()
    console.print(f"[green]✓[/] {verb} {entity}: {out['status']} (key {out['key']})")


# -------------------------------------------------------------------- demo


def serve_live_demo(settings: Settings, examples: Path, port: int | None) -> None:
    """The plant, the ingest and the API in one process: the twin follows the plant."""
    from twinverse.cli.ai_demo import prepare_live_ai
    from twinverse.cli.plant import build_plant
    from twinverse.identity import Role
    from twinverse.live.broker import free_port
    from twinverse.live.hub import LiveHub
    from twinverse.live.opcua import OpcUaSettings
    from twinverse.live.plant import PlantThread
    from twinverse.live.runtime import LiveRuntime, OpcUaSource
    from twinverse.live.tagmap import load_tag_map
    from twinverse.twin.ids import prefix_of
    from twinverse.workspace import Workspace

    opc_port = free_port()
    server, prefix, line_entity = build_plant(
        examples / "line.yaml", None, port=opc_port, speed=60.0, seed=1
    )
    tags = load_tag_map(examples / "live" / "line-opcua.tags.yaml")
    ws = Workspace.open(settings)
    tenant = ws.twin_info(prefix).tenant
    ws.accounts.create(
        LIVE_USER,
        tenant=tenant,
        roles=[Role.OPERATOR],
        password=DEMO_PASSWORD,
        display_name="Line operator",
    )
    hub = LiveHub()
    ws.add_listener(hub.publish_events)
    endpoint = f"opc.tcp://127.0.0.1:{opc_port}/twinverse/plant"
    # the engine test stand on the same plant, and the models watching what the ingest stores
    ai = prepare_live_ai(settings, examples, ws, server, tenant=tenant, endpoint=endpoint)
    runtime = LiveRuntime(
        ws,
        hub,
        opcua=(
            OpcUaSource(OpcUaSettings(endpoint, dev_mode=True, publishing_interval_ms=100), tags),
            *ai.sources,
        ),
        audit_path=settings.data_dir / "audit.jsonl",
    )
    base = f"http://{settings.host}:{port or settings.port}"
    try:
        with PlantThread(server):  # type: ignore[arg-type]
            runtime.start()
            ai.live_ai.start(runtime.pipeline)
            runtime.wait_connected(20)
            console.print(f"""
[bold]The live twin[/]: plant {line_entity} on {endpoint} (dev mode, 60× real time),
ingested into twin {prefix}; log in as [cyan]{LIVE_USER}[/] / [cyan]{DEMO_PASSWORD}[/] (operator).
  .venv/bin/twinverse watch                       # machine states, live
  .venv/bin/twinverse command {line_entity}/op040 stop --user {LIVE_USER}
  ws://{settings.host}:{port or settings.port}/live?twin={prefix}&token=…   ·   {base}/health/ingest""")
            if ai.engines:
                stand = prefix_of(ai.engines[0])
                console.print(f"""engines on the test stand, one cycle a second; health and RUL live:
  .venv/bin/twinverse watch --twin {stand}
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/twins/{stand}/entities?q=machine'""")
            console.print(f"\nserving on [bold]{base}[/]; Ctrl+C stops")
            serve_with_live(ws, hub, runtime, settings, port)
    finally:
        runtime.stop()
        ai.live_ai.stop()
        ws.close()
