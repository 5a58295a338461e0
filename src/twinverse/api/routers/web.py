"""The shared 3D space: the static front end and the collaboration socket.

Two parts live here because both exist only for the browser front end:

- **Static files.** ``/`` is ``web/index.html``; ``/web/…`` serves the ES
  modules and styles of ``web/``; ``/vendor/three/…`` serves three.js as
  installed from npm into ``web/node_modules`` (no CDN: plants run air-gapped).
  ``/models/{prefix}/…`` serves the glTF files a scenario gives for its
  machines (``model:``), from beside the scenario file, to those who see the twin.
- **``/collab``**, a WebSocket per participant of a twin (protocol in
  ``docs/web.md``): presence (name, colour, camera, the entity pointed at) and
  chat are fanned out to the room; annotations and design edits become events
  in the twin through the workspace, with the author, the time and an explicit
  version check. A design edit re-runs the line simulation and every
  participant gets the KPIs before and after.

Lifecycle: a :class:`Room` per twin is created on its first participant and
its presence ticker stops with its last one; nothing runs at import time.
Each participant has a bounded outgoing queue; one that falls behind is closed
with 1013 rather than slowing the room (the twin itself is unaffected).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from twinverse.api.deps import PrincipalDep, WorkspaceDep, as_of
from twinverse.api.errors import problem
from twinverse.errors import TwinverseError
from twinverse.identity import AccessDenied, Permission, Principal
from twinverse.sim.line import Kpi, LineModel, LineModelError, simulate_line
from twinverse.twin.errors import EntityNotFoundError
from twinverse.twin.events import PropertySet
from twinverse.twin.graph import TwinGraph
from twinverse.twin.ids import is_within, prefix_of
from twinverse.twin.instant import format_instant
from twinverse.twin.model import Entity, EntityKind, GeoPoint, RelationKind
from twinverse.twin.quantity import Quantity
from twinverse.workspace import ScenarioNotKeptError, Workspace

log = logging.getLogger(__name__)

router = APIRouter()

WEB_DIR: Final = Path(__file__).resolve().parents[4] / "web"
THREE_DIR: Final = WEB_DIR / "node_modules" / "three"
# Only what the page loads is served from the npm package.
THREE_PARTS: Final = ("build/", "examples/jsm/")
MEDIA_TYPES: Final = MappingProxyType(
    {
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".json": "application/json",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".glb": "model/gltf-binary",
        ".gltf": "model/gltf+json",
    }
)
# A machine's glTF and what it refers to (buffers, textures).
MODEL_MEDIA_TYPES: Final = MappingProxyType(
    {
        ".glb": "model/gltf-binary",
        ".gltf": "model/gltf+json",
        ".bin": "application/octet-stream",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".webp": "image/webp",
        ".ktx2": "image/ktx2",
    }
)


# ---------------------------------------------------------------- static files
def _static(
    root: Path,
    relative: str,
    *,
    what: str,
    media_types: MappingProxyType[str, str] = MEDIA_TYPES,
) -> Response:
    """A file below ``root``; never one outside it, never a directory listing."""
    target = (root / relative).resolve()
    media = media_types.get(target.suffix.lower())
    if not target.is_relative_to(root.resolve()) or media is None or not target.is_file():
        return problem(404, "Not found", f"no {what} {relative!r}", "not-found")
    # no-cache: the browser revalidates, so a new version of a module is never mixed with old ones.
    return FileResponse(target, media_type=media, headers={"Cache-Control": "no-cache"})


@router.get("/", include_in_schema=False)
def index() -> Response:
    return _static(WEB_DIR, "index.html", what="page")


@router.get("/web/{path:path}", include_in_schema=False)
def web_file(path: str) -> Response:
    if path.startswith("node_modules/"):
        return problem(404, "Not found", f"no front-end file {path!r}", "not-found")
    return _static(WEB_DIR, path, what="front-end file")


@router.get("/vendor/three/{path:path}", include_in_schema=False)
def three_file(path: str) -> Response:
    if not THREE_DIR.is_dir():
        return problem(
            503,
            "Front end not installed",
            f"three.js is missing from {THREE_DIR}; run `make demo` (or `npm ci` in web/)",
            "web-not-installed",
        )
    if not path.startswith(THREE_PARTS):
        return problem(404, "Not found", f"no three.js file {path!r}", "not-found")
    return _static(THREE_DIR, path, what="three.js file")


@router.get("/models/{prefix}/{path:path}", tags=["web"])
def model_file(prefix: str, path: str, ws: WorkspaceDep, who: PrincipalDep) -> Response:
    """A file of a machine's glTF model, from the directory of the twin's scenario file.

    The scenario's ``model:`` is a path relative to that file (or a URL, which the
    page loads itself). Only model files (glTF, buffers, textures) are served, and
    only from below that directory. A twin the caller cannot see is a 404; one
    without a kept scenario document has no models (404).
    """
    try:
        loaded = ws.scenario(prefix, who)
    except ScenarioNotKeptError:
        return problem(404, "Not found", f"twin {prefix!r} has no scenario here", "not-found")
    return _static(Path(loaded.file).parent, path, what="model file", media_types=MODEL_MEDIA_TYPES)


def model_url(entity_id: str, model: str) -> str:
    """Where the page loads a machine's model: a URL as given, a path through ``/models``."""
    if model.startswith(("http://", "https://")):
        return model
    return f"/models/{prefix_of(entity_id)}/{quote(model.lstrip('/'))}"


# ---------------------------------------------------------------- the scene
SCENE_KINDS: Final = frozenset(
    {
        EntityKind.SITE,
        EntityKind.AREA,
        EntityKind.LINE,
        EntityKind.MACHINE,
        EntityKind.BUFFER,
        EntityKind.CONVEYOR,
        EntityKind.PERSON,
        EntityKind.SUPPLIER,
        EntityKind.WAREHOUSE,
        EntityKind.CUSTOMER,
        EntityKind.LANE,
    }
)
SCENE_RELATIONS: Final = frozenset(
    {RelationKind.CONTAINS, RelationKind.FEEDS, RelationKind.ORIGIN, RelationKind.DESTINATION}
)
# Plain live values shown on the meshes, when the twin has them.
SCENE_VALUES: Final = ("state", "status", "mode", "role", "level", "parts", "alarm", "load")


def _metres(value: object) -> float | None:
    return value.magnitude if isinstance(value, Quantity) else None


def scene_item(entity: Entity) -> dict[str, Any]:
    """What the front end draws for an entity: layout in metres and degrees, location, live values."""
    p = entity.properties
    item: dict[str, Any] = {"id": entity.id, "kind": entity.kind.value, "name": entity.name}
    if isinstance(p.get("kind"), str):
        item["type"] = p["kind"]
    position, footprint = p.get("position"), p.get("footprint")
    if isinstance(position, dict):
        item["position"] = [_metres(position.get(axis)) or 0.0 for axis in ("x", "y", "z")]
    if isinstance(footprint, dict):
        item["size"] = [_metres(footprint.get(a)) for a in ("width", "depth", "height")]
    heading = p.get("heading")
    if isinstance(heading, Quantity):
        item["heading"] = (
            math.degrees(heading.magnitude) if heading.unit != "deg" else heading.value
        )
    location = p.get("location")
    if isinstance(location, GeoPoint):
        item["location"] = [location.lat, location.lon]
    if isinstance(p.get("model"), str) and p["model"]:
        item["model"] = model_url(entity.id, p["model"])
    for name in ("capacity", "length"):
        if isinstance(p.get(name), Quantity):
            item[name] = p[name].value
    for name in SCENE_VALUES:
        if isinstance(p.get(name), str | int | float | bool):
            item[name] = p[name]
    if isinstance(p.get("site"), str):
        item["site"] = p["site"]
    if "annotations" in p:
        item["annotated"] = True
    item["version"] = design_version(entity)
    return item


def scene_of(graph: TwinGraph, under: str | None, principal: Principal | None) -> dict[str, Any]:
    """The entities and relations the 3D views draw, below ``under`` (and the people of that site)."""
    site_local = under.split("/")[1] if under and under.count("/") >= 1 else None
    entities = []
    for entity in graph.entities():
        if entity.kind not in SCENE_KINDS:
            continue
        inside = not under or entity.id == under or is_within(entity.id, under)
        staff = entity.kind is EntityKind.PERSON and entity.properties.get("site") == site_local
        if (inside or staff) and (principal is None or principal.sees(entity.id)):
            entities.append(entity)
    ids = {e.id for e in entities}
    relations = [
        [r.source, r.kind.value, r.target]
        for e in entities
        for r in graph.outgoing(e.id)
        if r.kind in SCENE_RELATIONS and r.target in ids
    ]
    return {"entities": [scene_item(e) for e in entities], "relations": relations}


@router.get("/scene/{prefix}", tags=["web"])
def scene(
    prefix: str,
    ws: WorkspaceDep,
    who: PrincipalDep,
    under: Annotated[str | None, Query(description="only this entity and what it contains")] = None,
    as_of_: Annotated[
        str | None, Query(alias="as_of", description="the twin as it was then")
    ] = None,
) -> dict[str, Any]:
    """What the 3D views draw, in one request: layout in metres, locations, live values, flows."""
    instant = as_of(as_of_)
    graph = ws.graph(prefix, as_of=instant, principal=who)
    if under is not None:
        graph.entity(under)  # EntityNotFoundError -> 404
        if prefix_of(under) != prefix:
            raise EntityNotFoundError(under)
    out = scene_of(graph, under, who if who.scopes else None)
    out["twin"] = prefix
    out["as_of"] = format_instant(instant) if instant is not None else None
    return out


# ------------------------------------------------------------- design edits
class DesignError(TwinverseError):
    code = "design-invalid"


@dataclass(frozen=True, slots=True)
class EditableProperty:
    """A property a participant may change in the 3D view, and how a wire value becomes a twin value."""

    name: str
    kinds: frozenset[EntityKind]
    convert: Any  # (wire value, current twin value) -> twin value; raises DesignError
    resimulate: bool


def _position(value: object, current: object) -> dict[str, Quantity]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and math.isfinite(v) for v in value)
        or not all(-100_000 <= v <= 100_000 for v in value)
    ):
        raise DesignError(f"position: expected [x, y] in metres within ±100 km, got {value!r}")
    out = dict(current) if isinstance(current, dict) else {}
    out["x"] = Quantity.of(float(value[0]), "m")
    out["y"] = Quantity.of(float(value[1]), "m")
    return out


def _heading(value: object, _current: object) -> Quantity:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DesignError(f"heading: expected degrees as a number, got {value!r}")
    return Quantity.of(float(value) % 360.0, "deg")


def _capacity(value: object, _current: object) -> Quantity:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise DesignError(f"capacity: expected a whole number of pieces 0–100000, got {value!r}")
    return Quantity.of(float(value), "pcs")


_PLACED = frozenset({EntityKind.MACHINE, EntityKind.BUFFER, EntityKind.CONVEYOR})
EDITABLE: Final = MappingProxyType(
    {
        p.name: p
        for p in (
            EditableProperty("position", _PLACED, _position, resimulate=True),
            EditableProperty("heading", _PLACED, _heading, resimulate=False),
            EditableProperty(
                "capacity", frozenset({EntityKind.BUFFER}), _capacity, resimulate=True
            ),
        )
    }
)


def design_version(entity: Entity) -> str:
    """The entity's design version: when any editable property last changed ('' = as imported)."""
    stamps = [entity.stamps.get(name, 0) for name in EDITABLE]
    latest = max(stamps, default=0)
    return format_instant(latest) if latest else ""


# -------------------------------------------------------- line simulation
SIM_PARTS: Final = 4_000
SIM_WARMUP: Final = 400
SIM_REPLICATIONS: Final = 6
SIM_KPIS: Final = (Kpi.THROUGHPUT_PER_H, Kpi.WIP_MEAN, Kpi.LEAD_TIME_MEAN, Kpi.ENERGY_KWH)


def _plain(value: object) -> object:
    """A twin value in the line model's plain units (base SI: seconds, watts)."""
    if isinstance(value, Quantity):
        return value.magnitude
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _dist(value: object) -> object:
    if isinstance(value, Quantity):
        return {"dist": "constant", "value": value.magnitude}
    return _plain(value)


def line_of(graph: TwinGraph, entity_id: str) -> str | None:
    """The line that contains the entity (or the entity itself when it is a line)."""
    current: str | None = entity_id
    while current is not None:
        if graph.entity(current).kind is EntityKind.LINE:
            return current
        parents = [r.source for r in graph.incoming(current) if r.kind is RelationKind.CONTAINS]
        current = parents[0] if parents else None
    return None


def line_model_from_graph(graph: TwinGraph, line_id: str) -> LineModel:
    """The line as a serial flow line of its machines, for comparing layouts.

    Stations are the line's machines in containment (= flow) order with their
    cycle time, failures, scrap and power. The capacity between two stations is
    the sum of the buffers and conveyors the first one feeds before the next
    machine. Operators and shifts are left out: a design study compares two
    layouts under the same assumptions. Raises LineModelError.
    """
    children = [
        graph.entity(r.target) for r in graph.outgoing(line_id) if r.kind is RelationKind.CONTAINS
    ]
    machines = [e for e in children if e.kind is EntityKind.MACHINE]
    if not machines:
        raise LineModelError("stations", "at least one machine in the line", line_id)
    stations: list[dict[str, object]] = []
    for m in machines:
        p = m.properties
        if "cycle_time" not in p:
            raise LineModelError(f"{m.id}.cycle_time", "a cycle time on every machine", None)
        station: dict[str, object] = {
            "id": m.id.rsplit("/", 1)[-1],
            "process": _dist(p["cycle_time"]),
        }
        if "mtbf" in p and "mttr" in p:
            station["mtbf"], station["mttr"] = _dist(p["mtbf"]), _dist(p["mttr"])
        if isinstance(p.get("scrap_rate"), Quantity):
            station["scrap"] = p["scrap_rate"].magnitude
        power = p.get("power")
        if isinstance(power, dict):
            watts = {k: v.magnitude for k, v in power.items() if isinstance(v, Quantity)}
            kw = {k: watts[k] / 1000 for k in ("busy", "idle", "down") if k in watts}
            kw["blocked"] = watts.get("blocked", watts.get("idle", 0.0)) / 1000
            station["power_kw"] = kw
        stations.append(station)
    machine_ids = {m.id for m in machines}
    buffers: list[float | None] = []
    for upstream in machines[:-1]:
        capacity, seen = 0.0, set()
        frontier = [r.target for r in graph.outgoing(upstream.id) if r.kind is RelationKind.FEEDS]
        while frontier:
            node = frontier.pop()
            if node in seen or node in machine_ids:
                continue
            seen.add(node)
            cap = graph.entity(node).properties.get("capacity")
            capacity += cap.magnitude if isinstance(cap, Quantity) else 0.0
            frontier += [r.target for r in graph.outgoing(node) if r.kind is RelationKind.FEEDS]
        buffers.append(capacity)
    return LineModel.from_dict(
        {"name": graph.entity(line_id).name, "stations": stations, "buffers": buffers}
    )


def line_kpis(graph: TwinGraph, line_id: str) -> dict[str, dict[str, float]]:
    """Key figures of the line with a 95 % interval each; same seed, same numbers."""
    model = line_model_from_graph(graph, line_id)
    results = simulate_line(
        model, parts=SIM_PARTS, warmup=SIM_WARMUP, replications=SIM_REPLICATIONS, seed=1, workers=1
    )
    out = {}
    for kpi in SIM_KPIS:
        estimate = results.estimate(kpi)
        out[kpi.value] = {"mean": estimate.mean, "ci95": estimate.half_width}
    return out


# ------------------------------------------------------------- wire messages
class _Msg(BaseModel):
    model_config = {"extra": "forbid"}


class PoseIn(_Msg):
    type: Literal["pose"]
    camera: list[float] = Field(
        min_length=6, max_length=6, description="eye x,y,z and target x,y,z"
    )
    pointing: str | None = Field(default=None, max_length=1_000)
    view: str = Field(default="", max_length=1_000, description="what the participant looks at")


class ChatIn(_Msg):
    type: Literal["chat"]
    text: str = Field(min_length=1, max_length=2_000)


class AnnotateIn(_Msg):
    type: Literal["annotate"]
    entity: str = Field(min_length=1, max_length=1_000)
    text: str = Field(min_length=1, max_length=2_000)
    position: list[float] | None = Field(default=None, min_length=3, max_length=3)


class EditIn(_Msg):
    type: Literal["edit"]
    entity: str = Field(min_length=1, max_length=1_000)
    property: str
    value: Any
    base: str = Field(description="the design version the edit was made on ('' = as imported)")


MessageIn = Annotated[PoseIn | ChatIn | AnnotateIn | EditIn, Field(discriminator="type")]
_MESSAGE: Final = TypeAdapter(MessageIn)

PALETTE: Final = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4",
    "#42d4f4", "#f032e6", "#9a6324", "#469990", "#808000",
)  # fmt: skip
QUEUE_LIMIT: Final = 512
POSE_TICK_S: Final = 0.1
CHAT_KEPT: Final = 200


# ------------------------------------------------------------------ the room
@dataclass(eq=False)
class Participant:
    """One browser session in a room: who, how to reach them, and their last pose."""

    id: str
    name: str
    colour: str
    principal: Principal
    queue: asyncio.Queue[dict[str, Any] | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LIMIT)
    )
    pose: dict[str, Any] | None = None
    pose_dirty: bool = False
    dropped: bool = False

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "colour": self.colour,
            "principal": self.principal.id,
        }


class Room:
    """The participants of one twin, the recent chat, and the lock that orders design edits."""

    def __init__(self, twin: str) -> None:
        self.twin = twin
        self.participants: dict[str, Participant] = {}
        self.chat: deque[dict[str, Any]] = deque(maxlen=CHAT_KEPT)
        self.edit_lock = threading.Lock()  # check-version-then-commit is one step
        self.kpi_cache: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._numbers = itertools.count(1)

    def join(self, name: str, principal: Principal) -> Participant:
        n = next(self._numbers)
        used = {p.colour for p in self.participants.values()}
        colour = next((c for c in PALETTE if c not in used), PALETTE[n % len(PALETTE)])
        who = Participant(f"p{n}", name, colour, principal)
        self.participants[who.id] = who
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick_poses())
        return who

    async def leave(self, who: Participant) -> None:
        self.participants.pop(who.id, None)
        self.broadcast({"type": "left", "id": who.id})
        if not self.participants and self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    def send(self, who: Participant, message: dict[str, Any]) -> None:
        """Queue a message; a participant whose queue is full is dropped, never waited for."""
        if who.dropped:
            return
        try:
            who.queue.put_nowait(message)
        except asyncio.QueueFull:
            who.dropped = True
            log.warning("collab: participant %s of %s fell behind; closing", who.id, self.twin)
            with contextlib.suppress(asyncio.QueueEmpty):
                who.queue.get_nowait()
            who.queue.put_nowait(None)

    def broadcast(self, message: dict[str, Any], *, but: Participant | None = None) -> None:
        for other in list(self.participants.values()):
            if other is not but:
                self.send(other, message)

    async def _tick_poses(self) -> None:
        """Coalesce camera poses: at most one batch per tick, however often clients move."""
        while True:
            await asyncio.sleep(POSE_TICK_S)
            moved = [p for p in self.participants.values() if p.pose_dirty]
            if not moved:
                continue
            for p in moved:
                p.pose_dirty = False
            batch = [{"id": p.id, **(p.pose or {})} for p in moved]
            for other in list(self.participants.values()):
                poses = [b for b in batch if b["id"] != other.id]
                if poses:
                    self.send(other, {"type": "poses", "poses": poses})


def _rooms(app: Any) -> dict[str, Room]:
    rooms: dict[str, Room] | None = getattr(app.state, "collab_rooms", None)
    if rooms is None:
        rooms = {}
        app.state.collab_rooms = rooms
    return rooms


def annotations_of(graph: TwinGraph, under: str | None) -> list[dict[str, Any]]:
    """Every annotation pinned in the twin (below ``under`` when given), oldest first."""
    out = []
    for entity in graph.entities():
        if under and not (entity.id == under or entity.id.startswith(under + "/")):
            continue
        notes = entity.properties.get("annotations")
        if isinstance(notes, list):
            out += [{**n, "entity": entity.id} for n in notes if isinstance(n, dict)]
    return sorted(out, key=lambda n: str(n.get("at", "")))


# ---------------------------------------------------------------- handlers
class Collaboration:
    """What the socket does with each message, against the workspace (blocking parts run in threads)."""

    def __init__(self, ws: Workspace, room: Room, who: Participant) -> None:
        self.ws, self.room, self.who = ws, room, who

    def _entity(self, entity_id: str) -> Entity:
        if prefix_of(entity_id) != self.room.twin:
            raise DesignError(f"{entity_id!r} is not part of twin {self.room.twin!r}")
        return self.ws.graph(self.room.twin).entity(entity_id)

    def annotate(self, msg: AnnotateIn) -> dict[str, Any]:
        with self.room.edit_lock:
            entity = self._entity(msg.entity)
            notes = entity.properties.get("annotations")
            existing = list(notes) if isinstance(notes, list) else []
            at = format_instant(self.ws.clock())
            note: dict[str, Any] = {
                "id": f"{self.who.principal.id}-{at}",
                "author": self.who.name,
                "principal": self.who.principal.id,
                "at": at,
                "text": msg.text,
            }
            if msg.position is not None:
                note["position"] = [float(v) for v in msg.position]
            self.ws.apply_changes(
                self.room.twin,
                [PropertySet(entity.id, "annotations", [*existing, note])],
                principal=self.who.principal,
                actor=self.who.principal.id,
                reason=f"annotation by {self.who.name}",
            )
        return {"type": "annotation", **note, "entity": entity.id}

    def edit(self, msg: EditIn) -> tuple[dict[str, Any], str | None]:
        """Commit the edit if its base is current; returns the message and the line to re-simulate."""
        rule = EDITABLE.get(msg.property)
        if rule is None:
            raise DesignError(
                f"property {msg.property!r} cannot be edited in the 3D view; "
                f"editable: {', '.join(EDITABLE)}"
            )
        with self.room.edit_lock:
            graph = self.ws.graph(self.room.twin)
            entity = self._entity(msg.entity)
            if entity.kind not in rule.kinds:
                raise DesignError(f"{msg.property!r} cannot be edited on a {entity.kind.value}")
            current = design_version(entity)
            if current != msg.base:
                last = self.ws.events(self.room.twin, entity=entity.id, limit=10_000)
                by = next((e.actor for e in reversed(last)), "someone")
                return (
                    {
                        "type": "conflict",
                        "entity": entity.id,
                        "property": msg.property,
                        "yours": msg.value,
                        "base": msg.base,
                        "version": current,
                        "by": by,
                        "message": f"{entity.name} was changed by {by} at {current} after you "
                        "started editing; your change was not applied. Look at the new state "
                        "and edit again.",
                    },
                    None,
                )
            value = rule.convert(msg.value, entity.properties.get(msg.property))
            line = line_of(graph, entity.id) if rule.resimulate else None
            events = self.ws.apply_changes(
                self.room.twin,
                [PropertySet(entity.id, msg.property, value)],
                principal=self.who.principal,
                actor=self.who.principal.id,
                reason=f"design edit by {self.who.name} in the 3D view",
            )
        at = format_instant(events[-1].ts)
        return (
            {
                "type": "edited",
                "entity": entity.id,
                "property": msg.property,
                "value": msg.value,
                "version": at,
                "by": self.who.name,
                "principal": self.who.principal.id,
                "at": at,
            },
            line,
        )

    def kpis_before_after(self, line: str, edit_version: str) -> dict[str, Any]:
        """The line's KPIs before the edit (from history) and now; cached per design state."""
        instant = max(1, _instant_before(edit_version))
        before_graph = self.ws.graph(self.room.twin, as_of=instant)
        now_graph = self.ws.graph(self.room.twin)
        key_before = (line, str(instant))
        if key_before not in self.room.kpi_cache:
            self.room.kpi_cache[key_before] = line_kpis(before_graph, line)
        after = line_kpis(now_graph, line)
        return {
            "type": "kpis",
            "line": line,
            "before": self.room.kpi_cache[key_before],
            "after": after,
            "by": self.who.name,
            "at": edit_version,
        }


def _instant_before(text: str) -> int:
    from twinverse.twin.instant import parse_instant

    return parse_instant(text) - 1_000


async def _receive(socket: WebSocket, room: Room, who: Participant, act: Collaboration) -> None:
    while True:
        raw = await socket.receive_text()
        try:
            msg = _MESSAGE.validate_json(raw)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "message"
            room.send(
                who,
                {"type": "error", "code": "invalid-message", "message": f"{where}: {first['msg']}"},
            )
            continue
        try:
            await _handle(msg, room, who, act)
        except (TwinverseError, EntityNotFoundError, AccessDenied) as err:
            code = getattr(err, "code", "error")
            room.send(who, {"type": "error", "code": code, "message": str(err)})


async def _handle(
    msg: PoseIn | ChatIn | AnnotateIn | EditIn, room: Room, who: Participant, act: Collaboration
) -> None:
    if isinstance(msg, PoseIn):
        who.pose = {"camera": msg.camera, "pointing": msg.pointing, "view": msg.view}
        who.pose_dirty = True
    elif isinstance(msg, ChatIn):
        said = {"type": "chat", "from": who.id, "name": who.name, "colour": who.colour,
                "text": msg.text, "at": format_instant(act.ws.clock())}  # fmt: skip
        room.chat.append(said)
        room.broadcast(said)
    elif isinstance(msg, AnnotateIn):
        room.broadcast(await anyio.to_thread.run_sync(act.annotate, msg))
    else:
        reply, line = await anyio.to_thread.run_sync(act.edit, msg)
        if reply["type"] == "conflict":
            room.send(who, reply)
            return
        room.broadcast(reply)
        if line is not None:
            room.broadcast({"type": "simulating", "line": line, "by": who.name})
            try:
                kpis = await anyio.to_thread.run_sync(act.kpis_before_after, line, reply["at"])
            except LineModelError as err:
                room.broadcast({"type": "error", "code": err.code, "message": str(err)})
                return
            room.broadcast(kpis)


async def _send(socket: WebSocket, who: Participant) -> None:
    while True:
        message = await who.queue.get()
        if message is None:
            await socket.close(code=1013, reason="too slow: reconnect")
            return
        await socket.send_json(message)


@router.websocket("/collab")
async def collab(
    socket: WebSocket, twin: str, token: str = "", name: str = "", under: str = ""
) -> None:
    ws: Workspace = socket.app.state.workspace
    try:
        principal = ws.accounts.authenticate(token)
    except TwinverseError:
        await socket.close(code=4401, reason="log in first: a valid token is needed")
        return
    try:
        info = ws.twin_info(twin, principal)
        principal.check(Permission.READ, tenant=info.tenant)
    except (TwinverseError, AccessDenied):
        await socket.close(code=4404, reason=f"no twin {twin!r}")
        return
    await socket.accept()
    rooms = _rooms(socket.app)
    room = rooms.setdefault(twin, Room(twin))
    who = room.join((name.strip() or principal.id)[:60], principal)
    graph = ws.graph(twin)
    room.send(who, {
        "type": "welcome",
        "you": who.public(),
        "participants": [p.public() | {"pose": p.pose} for p in room.participants.values() if p is not who],
        "chat": list(room.chat),
        "annotations": await anyio.to_thread.run_sync(annotations_of, graph, under or None),
    })  # fmt: skip
    room.broadcast({"type": "joined", **who.public()}, but=who)
    act = Collaboration(ws, room, who)
    sender = asyncio.create_task(_send(socket, who))
    receiver = asyncio.create_task(_receive(socket, room, who, act))
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and isinstance(task.exception(), Exception):
                error = task.exception()
                if not isinstance(error, WebSocketDisconnect):
                    log.warning("collab: %s closed on %r", who.id, error)
    finally:
        for task in (sender, receiver):
            task.cancel()
        await room.leave(who)
        if not room.participants:
            rooms.pop(twin, None)


@router.get("/web-config", include_in_schema=False)
def web_config() -> dict[str, object]:
    """What the page needs before login: whether three.js is installed, and the editable properties."""
    return {"three": THREE_DIR.is_dir(), "editable": list(EDITABLE)}
