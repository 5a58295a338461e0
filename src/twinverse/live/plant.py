"""The simulated plant: an OPC UA server per the Machinery companion spec, driven by the line.

``twinverse plant examples/line.yaml`` serves one line of a scenario. The
server loads the DI and Machinery nodesets (``../shared/data/opcua-nodesets``
when present) and puts each machine under ``Objects/Machines`` with:

- ``Identification`` (Machinery ``MachineIdentificationType``: Manufacturer,
  SerialNumber, Model …);
- ``MachineryBuildingBlocks/MachineryItemState`` and ``…/MachineryOperationMode``
  (the spec's state machines; ``CurrentState`` follows the simulated machine);
- ``Monitoring``: State (the twin's vocabulary), PartsProduced, CycleTime,
  Temperature, Vibration, Power, AlarmActive, Alarm;
- ``Control`` (writable): Enabled (start/stop), Reset, AlarmAcknowledged.

The line object has ``Speed`` (writable, % of nominal) and ``GoodParts``.
Node ids are strings in the namespace :data:`PLANT_NS`, e.g.
``nsu=urn:twinverse:plant;s=op010/Temperature``.

Security: SignAndEncrypt with Basic256Sha256 and Aes256Sha256RsaPss, the
plant's certificate, and a trust list checked by asyncua's certificate
validator; users by password. The ``None`` endpoint exists only in dev mode.
Lifecycle: ``PlantServer(...)`` does nothing; ``async with`` (or ``start()`` /
``stop()``) serves it and runs the simulation in real time × ``speed_factor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from asyncua import ua
from asyncua.common.node import Node
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.crypto.truststore import TrustStore
from asyncua.crypto.validator import CertificateValidator, CertificateValidatorOptions
from asyncua.server.server import Server

from twinverse.errors import TwinverseError
from twinverse.live.certs import CertificateFiles
from twinverse.live.plant_model import MACHINERY_ITEM_STATE, MachineState, PlantLine
from twinverse.sim.line import LineModel

_log = logging.getLogger(__name__)

PLANT_NS: Final = "urn:twinverse:plant"
MACHINERY_NS: Final = "http://opcfoundation.org/UA/Machinery/"
NODESETS: Final = ("Opc.Ua.Di.NodeSet2.xml", "Opc.Ua.Machinery.NodeSet2.xml")
# Machinery nodeset ids (namespace-relative)
_MACHINES_FOLDER: Final = 1001
_IDENTIFICATION_TYPE: Final = 1012
_ITEM_STATE_TYPE: Final = 1002
_OPERATION_MODE_TYPE: Final = 1008


class PlantError(TwinverseError):
    code = "plant-error"


@dataclass(frozen=True, slots=True)
class Measurement:
    """A variable every machine shows: its browse name, the twin property, its unit."""

    name: str
    prop: str
    unit: str
    variant: ua.VariantType
    kind: str = "number"  # "state" for the discrete state


MEASUREMENTS: Final = (
    Measurement("State", "state", "", ua.VariantType.String, "state"),
    Measurement("PartsProduced", "parts", "pcs", ua.VariantType.Double),
    Measurement("CycleTime", "cycle_time", "s", ua.VariantType.Double),
    Measurement("Temperature", "temperature", "degC", ua.VariantType.Double),
    Measurement("Vibration", "vibration", "mm/s", ua.VariantType.Double),
    Measurement("Power", "power", "kW", ua.VariantType.Double),
    Measurement("AlarmActive", "alarm_active", "", ua.VariantType.Boolean),
)


@dataclass(frozen=True, slots=True)
class Control:
    """A writable variable of a machine (or the line) and the command it carries."""

    name: str
    prop: str
    variant: ua.VariantType
    low: float
    high: float


MACHINE_CONTROLS: Final = (
    Control("Enabled", "enabled", ua.VariantType.Boolean, 0, 1),
    Control("Reset", "reset", ua.VariantType.Boolean, 0, 1),
    Control("AlarmAcknowledged", "alarm_acknowledged", ua.VariantType.Boolean, 0, 1),
)
LINE_SPEED: Final = Control("Speed", "speed", ua.VariantType.Double, 10, 150)


@dataclass(frozen=True, slots=True)
class ServerSecurity:
    """The plant's certificate, the client certificates it trusts, and its users."""

    certificate: CertificateFiles
    trust_dir: Path
    users: dict[str, str] = field(default_factory=dict)  # name -> password


@dataclass(frozen=True, slots=True)
class PlantSettings:
    host: str = "127.0.0.1"
    port: int = 4840
    speed_factor: float = 60.0  # simulated seconds per wall-clock second
    tick_s: float = 0.1
    seed: int = 1
    security: ServerSecurity | None = None  # None: dev mode, the insecure endpoint only
    nodeset_dir: Path | None = None

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://{self.host}:{self.port}/twinverse/plant"


@dataclass(frozen=True, slots=True)
class RecordedMachine:
    """A machine whose measurements replay a recording, one row per ``period_s`` of plant time.

    For equipment the line model does not simulate — e.g. a turbofan engine on a
    test stand replaying a C-MAPSS trajectory. It shows ``Monitoring/<channel>``
    for each channel and ``Monitoring/Cycle`` (the row's number, from 1), written
    after the row's values; after the last row the recording starts again at
    cycle 1 (the engine was overhauled).
    """

    id: str
    channels: tuple[str, ...]
    rows: npt.NDArray[np.float64]
    period_s: float

    def __post_init__(self) -> None:
        if self.rows.ndim != 2 or self.rows.shape[1] != len(self.channels) or not len(self.rows):
            raise PlantError(
                f"recorded machine {self.id!r}: expected rows of {len(self.channels)} channels, "
                f"got an array of shape {self.rows.shape}"
            )
        if self.period_s <= 0:
            raise PlantError(f"recorded machine {self.id!r}: period_s must be > 0")


class _Users:
    """Username/password check for the plant (asyncua's UserManager protocol)."""

    def __init__(self, users: dict[str, str], certificate_users: bool) -> None:
        self.users = users
        self.certificate_users = certificate_users

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is not None:
            if self.users.get(username) == password:
                return User(role=UserRole.User, name=username)
            return None
        if certificate is not None and self.certificate_users:
            # The channel's certificate was checked against the trust list already.
            return User(role=UserRole.User, name="x509")
        return None if self.users else User(role=UserRole.User)


class PlantServer:
    """An OPC UA server that shows a simulated line (see the module docstring)."""

    def __init__(
        self,
        model: LineModel,
        line_id: str,
        settings: PlantSettings = PlantSettings(),
        *,
        machine_names: dict[str, str] | None = None,
    ) -> None:
        self.model = model
        self.line_id = line_id
        self.settings = settings
        self.machine_names = machine_names or {}
        self.line = PlantLine(model, np.random.default_rng(settings.seed))
        self._server: Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._nodes: dict[str, Node] = {}
        self._ns = 0
        self.ticks = 0
        self.writes_seen: list[tuple[str, Any]] = []
        self.recorded: list[RecordedMachine] = []
        self._recorded_clock_s = 0.0
        self._recorded_origin: datetime | None = None
        self._stamp: datetime | None = None  # the source time of this tick's writes
        self._recorded_rows = 0  # rows shown so far (the same count for every recording)

    def add_recorded(self, machine: RecordedMachine) -> None:
        """Serve a machine that replays a recording (see :class:`RecordedMachine`); before start."""
        if self._server is not None:
            raise PlantError(f"add recorded machine {machine.id!r} before the plant starts")
        if self.recorded and machine.period_s != self.recorded[0].period_s:
            raise PlantError(
                f"recorded machine {machine.id!r}: period_s {machine.period_s} differs from "
                f"{self.recorded[0].period_s} of {self.recorded[0].id!r} (recordings run in step)"
            )
        self.recorded.append(machine)

    def node_id(self, path: str) -> ua.NodeId:
        return _nid(path, self._ns)

    async def start(self) -> PlantServer:
        """Build the address space and serve it; raises PlantError when it cannot."""
        users = self.settings.security.users if self.settings.security else {}
        server = Server(
            user_manager=_Users(  # type: ignore[arg-type]
                users, self.settings.security is not None
            )
        )
        await server.init()
        server.set_endpoint(self.settings.endpoint)
        server.set_server_name("twinverse simulated plant")
        await server.set_application_uri("urn:twinverse:plant:server")
        self._ns = await server.register_namespace(PLANT_NS)
        await self._secure(server)
        await self._import_nodesets(server)
        await self._build(server)
        try:
            await server.start()
        except OSError as err:
            raise PlantError(f"cannot serve {self.settings.endpoint}: {err}") from err
        self._server = server
        self._task = asyncio.create_task(self._run(), name="plant-simulation")
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def __aenter__(self) -> PlantServer:
        return await self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # --------------------------------------------------------- address space
    async def _secure(self, server: Server) -> None:
        sec = self.settings.security
        if sec is None:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
            _log.warning("plant in dev mode: only the insecure None endpoint is served")
            return
        server.set_security_policy(
            [
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                ua.SecurityPolicyType.Aes256Sha256RsaPss_SignAndEncrypt,
            ]
        )
        await server.load_certificate(str(sec.certificate.certificate))
        await server.load_private_key(str(sec.certificate.private_key))
        store = TrustStore([sec.trust_dir], [])
        await store.load()
        server.set_certificate_validator(
            CertificateValidator(
                CertificateValidatorOptions.TRUSTED_VALIDATION
                | CertificateValidatorOptions.PEER_CLIENT,
                store,
            )
        )
        tokens: list[Any] = [ua.X509IdentityToken]
        if sec.users:
            tokens.append(ua.UserNameIdentityToken)
        server.set_identity_tokens(tokens)

    async def _import_nodesets(self, server: Server) -> None:
        folder = self.settings.nodeset_dir
        self._machinery_ns: int | None = None
        if folder is None or not all((folder / n).exists() for n in NODESETS):
            _log.warning("Machinery nodesets not found in %s: plain objects instead", folder)
            return
        logging.getLogger("asyncua.common.xmlimporter").setLevel(logging.ERROR)
        for name in NODESETS:
            await server.import_xml(str(folder / name))
        self._machinery_ns = await server.get_namespace_index(MACHINERY_NS)

    async def _variable(
        self,
        parent: Node,
        path: str,
        name: str,
        value: Any,
        variant: ua.VariantType,
        *,
        writable: bool = False,
    ) -> Node:
        node = await parent.add_variable(
            self.node_id(path), ua.QualifiedName(name, self._ns), ua.Variant(value, variant)
        )
        if writable:
            await node.set_writable()
        self._nodes[path] = node
        return node

    async def _build(self, server: Server) -> None:
        mns = self._machinery_ns
        if mns is not None:
            machines = server.get_node(_nid(_MACHINES_FOLDER, mns))
        else:
            machines = await server.nodes.objects.add_folder(self.node_id("Machines"), "Machines")
        line = await machines.add_object(
            self.node_id(self.line_id), ua.QualifiedName(self.line_id, self._ns)
        )
        await self._variable(
            line, f"{self.line_id}/Speed", "Speed", 100.0, ua.VariantType.Double, writable=True
        )
        await self._variable(
            line, f"{self.line_id}/GoodParts", "GoodParts", 0.0, ua.VariantType.Double
        )
        for station in self.model.stations:
            sid = station.id
            obj = await machines.add_object(self.node_id(sid), ua.QualifiedName(sid, self._ns))
            if mns is not None:
                ident = await obj.add_object(
                    self.node_id(f"{sid}/Identification"),
                    ua.QualifiedName("Identification", mns),
                    objecttype=_nid(_IDENTIFICATION_TYPE, mns),
                )
                await _set_child(ident, "Manufacturer", ua.LocalizedText("twinverse"))
                await _set_child(ident, "SerialNumber", f"SIM-{sid.upper()}")
                await _set_child(ident, "ProductInstanceUri", f"urn:twinverse:plant:{sid}")
                blocks = await obj.add_object(
                    self.node_id(f"{sid}/MachineryBuildingBlocks"),
                    ua.QualifiedName("MachineryBuildingBlocks", 0),
                )
                item_state = await blocks.add_object(
                    self.node_id(f"{sid}/MachineryItemState"),
                    ua.QualifiedName("MachineryItemState", mns),
                    objecttype=_nid(_ITEM_STATE_TYPE, mns),
                )
                mode = await blocks.add_object(
                    self.node_id(f"{sid}/MachineryOperationMode"),
                    ua.QualifiedName("MachineryOperationMode", mns),
                    objecttype=_nid(_OPERATION_MODE_TYPE, mns),
                )
                self._nodes[f"{sid}/ItemState"] = await item_state.get_child("0:CurrentState")
                self._nodes[f"{sid}/OperationMode"] = await mode.get_child("0:CurrentState")
            monitoring = await obj.add_object(
                self.node_id(f"{sid}/Monitoring"), ua.QualifiedName("Monitoring", self._ns)
            )
            for m in MEASUREMENTS:
                initial: Any = (
                    "idle"
                    if m.variant == ua.VariantType.String
                    else (False if m.variant == ua.VariantType.Boolean else 0.0)
                )
                await self._variable(monitoring, f"{sid}/{m.name}", m.name, initial, m.variant)
            await self._variable(monitoring, f"{sid}/Alarm", "Alarm", "", ua.VariantType.String)
            control = await obj.add_object(
                self.node_id(f"{sid}/Control"), ua.QualifiedName("Control", self._ns)
            )
            for c in MACHINE_CONTROLS:
                initial = c.name in ("Enabled", "AlarmAcknowledged")
                await self._variable(
                    control, f"{sid}/{c.name}", c.name, initial, c.variant, writable=True
                )
        for rec in self.recorded:
            obj = await machines.add_object(
                self.node_id(rec.id), ua.QualifiedName(rec.id, self._ns)
            )
            monitoring = await obj.add_object(
                self.node_id(f"{rec.id}/Monitoring"), ua.QualifiedName("Monitoring", self._ns)
            )
            for name, first in zip(rec.channels, rec.rows[0].tolist(), strict=True):
                await self._variable(
                    monitoring, f"{rec.id}/{name}", name, first, ua.VariantType.Double
                )
            await self._variable(monitoring, f"{rec.id}/Cycle", "Cycle", 0.0, ua.VariantType.Double)

    # ------------------------------------------------------------ simulation
    async def _run(self) -> None:
        tick = self.settings.tick_s
        last = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            # One source timestamp per tick: a machine's state and its readings of the
            # same tick carry the same time, so consumers can tell which state they belong to.
            self._stamp = datetime.now(UTC)
            try:
                await self._read_controls()
                self.line.advance((now - last) * self.settings.speed_factor)
                await self._publish()
                await self._replay((now - last) * self.settings.speed_factor)
            except Exception:  # the plant must keep running; the cause goes to the log
                _log.exception("plant tick failed")
            last = now
            self.ticks += 1

    async def _read(self, path: str) -> Any:
        assert self._server is not None
        value = self._server.read_attribute_value(self.node_id(path))
        return value.Value.Value if value.Value is not None else None

    async def _write(
        self, path: str, value: Any, variant: ua.VariantType, stamp: datetime | None = None
    ) -> None:
        assert self._server is not None
        source_time = stamp or self._stamp or datetime.now(UTC)
        await self._server.write_attribute_value(
            self.node_id(path),
            ua.DataValue(ua.Variant(value, variant), SourceTimestamp=source_time),  # type: ignore[arg-type]
        )

    async def _read_controls(self) -> None:
        speed = await self._read(f"{self.line_id}/Speed")
        if isinstance(speed, float) and speed != self.line.speed_pct:
            self.line.speed_pct = min(max(speed, LINE_SPEED.low), LINE_SPEED.high)
            self.writes_seen.append(("speed", speed))
        for i, station in enumerate(self.model.stations):
            sid = station.id
            enabled = bool(await self._read(f"{sid}/Enabled"))
            if enabled != self.line.machines[i].enabled:
                self.line.set_enabled(i, enabled)
                self.writes_seen.append((f"{sid}/enabled", enabled))
            if await self._read(f"{sid}/Reset"):
                self.line.reset(i)
                await self._write(f"{sid}/Reset", False, ua.VariantType.Boolean)
                self.writes_seen.append((f"{sid}/reset", True))
            acked = bool(await self._read(f"{sid}/AlarmAcknowledged"))
            if acked and not self.line.machines[i].alarm_acknowledged:
                self.line.acknowledge_alarm(i)
                self.writes_seen.append((f"{sid}/alarm_acknowledged", True))

    async def _publish(self) -> None:
        D, S, B = ua.VariantType.Double, ua.VariantType.String, ua.VariantType.Boolean
        await self._write(f"{self.line_id}/GoodParts", float(self.line.good_parts), D)
        for m in self.line.machines:
            sid = m.station.id
            await self._write(f"{sid}/State", m.state.value, S)
            await self._write(f"{sid}/PartsProduced", float(m.parts), D)
            await self._write(f"{sid}/CycleTime", m.cycle_time_s, D)
            await self._write(f"{sid}/Temperature", round(m.temperature_c, 2), D)
            await self._write(f"{sid}/Vibration", round(m.vibration_mm_s, 3), D)
            await self._write(f"{sid}/Power", m.power_kw, D)
            await self._write(f"{sid}/AlarmActive", bool(m.alarm) and not m.alarm_acknowledged, B)
            await self._write(f"{sid}/Alarm", m.alarm, S)
            await self._write(f"{sid}/AlarmAcknowledged", m.alarm_acknowledged, B)
            if f"{sid}/ItemState" in self._nodes:
                text = ua.LocalizedText(MACHINERY_ITEM_STATE[m.state])
                await self._nodes[f"{sid}/ItemState"].write_value(text)
                mode = "Processing" if m.state is not MachineState.STOPPED else "None"
                await self._nodes[f"{sid}/OperationMode"].write_value(ua.LocalizedText(mode))

    async def _replay(self, dt_s: float) -> None:
        """Write every recorded row whose time has come (none skipped), values before Cycle."""
        if not self.recorded:
            return
        if self._recorded_origin is None:
            self._recorded_origin = self._stamp or datetime.now(UTC)
        self._recorded_clock_s += dt_s
        period = self.recorded[0].period_s
        wall_period = period / self.settings.speed_factor
        D = ua.VariantType.Double
        while self._recorded_rows < int(self._recorded_clock_s / period) + 1:
            k = self._recorded_rows
            # each row carries the time its period began, so rows written in one tick stay apart
            stamp = self._recorded_origin + timedelta(seconds=k * wall_period)
            for rec in self.recorded:
                i = k % len(rec.rows)
                for name, value in zip(rec.channels, rec.rows[i].tolist(), strict=True):
                    await self._write(f"{rec.id}/{name}", value, D, stamp)
                await self._write(f"{rec.id}/Cycle", float(i + 1), D, stamp)
            self._recorded_rows += 1


def _nid(ident: str | int, ns: int) -> ua.NodeId:
    return ua.NodeId(ident, ns)  # type: ignore[arg-type]


async def _set_child(parent: Node, name: str, value: Any) -> None:
    """Write a child found by browse name, whatever its namespace (Machinery's or DI's)."""
    for child in await parent.get_children():
        if (await child.read_browse_name()).Name == name:
            await child.write_value(value)
            return


def plant_tag_rows(
    twin: str, line_entity: str, machine_entities: dict[str, str]
) -> list[dict[str, Any]]:
    """Tag-map rows (``examples/line-opcua.tags.yaml`` form) for a plant's nodes."""
    rows: list[dict[str, Any]] = []
    line_local = line_entity.removeprefix(twin + "/")
    line_id = line_local.rsplit("/", 1)[-1]
    rows.append(
        {
            "tag": f"nsu={PLANT_NS};s={line_id}/Speed",
            "entity": line_local,
            "property": "speed",
            "unit": "%",
            "writable": {"min": LINE_SPEED.low, "max": LINE_SPEED.high},
        }
    )
    rows.append(
        {
            "tag": f"nsu={PLANT_NS};s={line_id}/GoodParts",
            "entity": line_local,
            "property": "parts",
            "unit": "pcs",
        }
    )
    for sid, entity in machine_entities.items():
        local = entity.removeprefix(twin + "/")
        for m in MEASUREMENTS:
            row: dict[str, Any] = {
                "tag": f"nsu={PLANT_NS};s={sid}/{m.name}",
                "entity": local,
                "property": m.prop,
            }
            if m.unit:
                row["unit"] = m.unit
            if m.kind == "state":
                row["kind"] = "state"
            if m.name == "Temperature":
                row["deadband"] = 0.05
            rows.append(row)
        for c in MACHINE_CONTROLS:
            rows.append(
                {
                    "tag": f"nsu={PLANT_NS};s={sid}/{c.name}",
                    "entity": local,
                    "property": c.prop,
                    "writable": {"min": c.low, "max": c.high},
                }
            )
    return rows


def recorded_tag_rows(
    twin: str, machine_entities: dict[str, str], recorded: list[RecordedMachine]
) -> list[dict[str, Any]]:
    """Tag-map rows for recorded machines: each channel and ``cycle`` of the machine's entity."""
    rows: list[dict[str, Any]] = []
    for rec in recorded:
        local = machine_entities[rec.id].removeprefix(twin + "/")
        for name in (*rec.channels, "Cycle"):
            rows.append(
                {
                    "tag": f"nsu={PLANT_NS};s={rec.id}/{name}",
                    "entity": local,
                    "property": name.lower(),
                }
            )
    return rows


class PlantThread:
    """A plant served from a thread of its own (its own event loop), for the demo and tests.

    ``with PlantThread(server):`` starts it and returns once it serves; leaving
    the block stops it. Raises what the server raised at start.
    """

    def __init__(self, server: PlantServer) -> None:
        import threading

        self.server = server
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="plant", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                async with self.server:
                    self._ready.set()
                    await self._stop.wait()
            except BaseException as err:  # handed to the starting thread
                self._error = err
                self._ready.set()

        asyncio.run(main())

    def __enter__(self) -> PlantThread:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)
