"""The platform's domain facade: twins held in a store, their histories, and access rules.

The API and the CLI are thin edges over a :class:`Workspace`. Every read and
write names the acting principal; ``None`` means the local operator at the
command line, who has full access to the store on their own disk.

Lifecycle: ``Workspace.open(settings)`` opens (or creates) the embedded store;
``close()`` (or ``with``) releases it. The constructor does no I/O.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from twinverse.config import Settings
from twinverse.errors import TwinverseError
from twinverse.identity import Accounts, Permission, Principal
from twinverse.identity.access import AccessDenied
from twinverse.scenario import LoadedScenario, load_scenario, scenario_changes
from twinverse.scenario.build import file_owns
from twinverse.store import ConflictError, Store, TwinInfo
from twinverse.store.history import TwinHistory, graph_as_of
from twinverse.trust.trades import CapacityChange
from twinverse.twin.errors import EntityNotFoundError
from twinverse.twin.events import (
    Change,
    EntityAdded,
    EntityRemoved,
    Event,
    PropertyRemoved,
    PropertySet,
    RelationAdded,
    RelationRemoved,
)
from twinverse.twin.graph import TwinGraph, diff
from twinverse.twin.ids import EntityId, prefix_of
from twinverse.twin.instant import now_us
from twinverse.twin.model import Entity, Relation
from twinverse.twin.query import query as run_text_query

_log = logging.getLogger(__name__)

EventListener = Callable[[Sequence[Event]], None]
"""Called with each batch of committed events, in commit order; must not block."""


class TwinNotFoundError(TwinverseError):
    code = "twin-not-found"


class ScenarioNotKeptError(TwinverseError):
    code = "scenario-not-kept"


@dataclass(frozen=True, slots=True)
class Resolved:
    """An identifier's record: the entity, its twin, and its relations both ways."""

    twin: TwinInfo
    entity: Entity
    outgoing: list[Relation]
    incoming: list[Relation]
    as_of: int | None


@dataclass(frozen=True, slots=True)
class ImportResult:
    twin: TwinInfo
    events: int
    created: bool


def wall_clock_ns() -> int:
    return now_us()


class Workspace:
    """Twins, their histories and accounts over one store."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], int] = wall_clock_ns,
        session_ttl_s: int = 3600,
        snapshot_every: int = 50_000,
        scenario_dir: Path | None = None,
    ) -> None:
        self.store = store
        self._scenario_dir = scenario_dir
        self._scenarios: dict[str, LoadedScenario] = {}
        self.clock = clock
        self.accounts = Accounts(store, clock, session_ttl_s=session_ttl_s)
        self._snapshot_every = snapshot_every
        self._histories: dict[str, TwinHistory] = {}
        self._lock = threading.RLock()
        self._listeners: list[EventListener] = []

    @classmethod
    def open(cls, settings: Settings, *, clock: Callable[[], int] = wall_clock_ns) -> Workspace:
        from twinverse.store.sqlite import SqliteStore

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = SqliteStore(settings.store_path).open()
        return cls(
            store,
            clock=clock,
            session_ttl_s=settings.session_ttl_s,
            snapshot_every=settings.snapshot_every,
            scenario_dir=settings.data_dir / "scenarios",
        )

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------ listeners
    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        """Have ``listener`` called with every batch of committed events; returns its remover.

        Listeners run on the committing thread, under the workspace lock (so they
        see batches in commit order); they must hand work off, never block. A
        failing listener is logged and does not undo or block the commit.
        """
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def _notify(self, events: Sequence[Event]) -> None:
        for listener in list(self._listeners):
            try:
                listener(events)
            except Exception:  # a listener's bug must not fail a durable commit
                _log.exception("event listener %r failed", listener)

    # ---------------------------------------------------------------- twins
    def twin_info(self, prefix: str, principal: Principal | None = None) -> TwinInfo:
        info = self.store.twin(prefix)
        if info is None:
            raise TwinNotFoundError(f"no twin with prefix {prefix!r}")
        if principal is not None:
            principal.check(Permission.READ, tenant=info.tenant)
        return info

    def twins(self, principal: Principal | None = None) -> list[TwinInfo]:
        every = self.store.twins()
        return [t for t in every if principal is None or t.tenant == principal.tenant]

    def _history(self, prefix: str) -> TwinHistory:
        with self._lock:
            history = self._histories.get(prefix)
            if history is None:
                history = TwinHistory.load(
                    self.store, prefix, clock=self.clock, snapshot_every=self._snapshot_every
                )
                self._histories[prefix] = history
            return history

    def graph(
        self, prefix: str, *, as_of: int | None = None, principal: Principal | None = None
    ) -> TwinGraph:
        """The twin's graph now, or as it was at ``as_of`` (ns since the epoch)."""
        self.twin_info(prefix, principal)
        if as_of is None:
            return self._history(prefix).graph
        return graph_as_of(self.store, prefix, as_of)

    def import_scenario(
        self, loaded: LoadedScenario, *, tenant: str, actor: str, reason: str = "scenario import"
    ) -> ImportResult:
        """Create the scenario's twin, or bring an existing one up to date with minimal events."""
        scenario = loaded.scenario
        prefix = scenario.enterprise.prefix
        with self._lock:
            info = self.store.twin(prefix)
            if info is None:
                info = TwinInfo(prefix, scenario.enterprise.name, tenant, self.clock())
                self.store.register_twin(info)
                changes = scenario_changes(scenario)
                created = True
            else:
                if info.tenant != tenant:
                    raise ConflictError(f"prefix {prefix!r} belongs to another company")
                new_graph = loaded.graph()
                changes = diff(self._history(prefix).graph, new_graph, owns=file_owns)
                created = False
            events = (
                self._history(prefix).commit(changes, actor=actor, reason=reason) if changes else []
            )
            if events:
                self._notify(events)
            self._keep_scenario(prefix, loaded)
        return ImportResult(info, len(events), created)

    def _keep_scenario(self, prefix: str, loaded: LoadedScenario) -> None:
        """Keep the scenario document a twin was loaded from, for simulations of that twin."""
        self._scenarios[prefix] = loaded
        source = Path(loaded.file)
        if self._scenario_dir is None or not source.is_file():
            return
        self._scenario_dir.mkdir(parents=True, exist_ok=True)
        for old in self._scenario_dir.glob(f"{prefix}.*"):
            if old.suffix != source.suffix:
                old.unlink()
        target = self._scenario_dir / f"{prefix}{source.suffix}"
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(source, partial)
        os.replace(partial, target)

    def scenario(self, prefix: str, principal: Principal | None = None) -> LoadedScenario:
        """The scenario document the twin was last loaded from (its structure for simulations)."""
        self.twin_info(prefix, principal)
        with self._lock:
            kept = self._scenarios.get(prefix)
            if kept is None and self._scenario_dir is not None:
                found = [
                    p
                    for p in self._scenario_dir.glob(f"{prefix}.*")
                    if p.suffix in (".yaml", ".yml", ".json")
                ]
                if found:
                    kept = load_scenario(found[0])
                    self._scenarios[prefix] = kept
        if kept is None:
            raise ScenarioNotKeptError(
                f"twin {prefix!r} has no scenario document here; "
                "load it from its file with `twinverse load FILE`"
            )
        return kept

    # ---------------------------------------------------------------- reads
    def query(
        self,
        prefix: str,
        text: str,
        *,
        as_of: int | None = None,
        principal: Principal | None = None,
    ) -> list[Entity]:
        graph = self.graph(prefix, as_of=as_of, principal=principal)
        scope = principal.sees if principal is not None and principal.scopes else None
        return run_text_query(graph, text, scope=scope)

    def resolve(
        self, entity_id: str, *, as_of: int | None = None, principal: Principal | None = None
    ) -> Resolved:
        """The record of an identifier. Raises EntityNotFoundError (also for what the principal may not see)."""
        prefix = prefix_of(entity_id)
        info = self.store.twin(prefix)
        try:
            if info is None:
                raise EntityNotFoundError(entity_id)
            if principal is not None:
                principal.check(Permission.READ, tenant=info.tenant, entity_id=entity_id)
        except AccessDenied:
            raise EntityNotFoundError(entity_id) from None
        graph = self.graph(prefix, as_of=as_of)
        entity = graph.entity(entity_id)
        visible = principal.sees if principal is not None else (lambda _id: True)
        return Resolved(
            twin=info,
            entity=entity,
            outgoing=[r for r in graph.outgoing(entity_id) if visible(r.target)],
            incoming=[r for r in graph.incoming(entity_id) if visible(r.source)],
            as_of=as_of,
        )

    def events(
        self,
        prefix: str,
        *,
        after_seq: int = 0,
        limit: int = 100,
        entity: str | None = None,
        principal: Principal | None = None,
    ) -> list[Event]:
        info = self.twin_info(prefix, principal)
        if entity is not None and principal is not None:
            try:
                principal.check(Permission.READ, tenant=info.tenant, entity_id=entity)
            except AccessDenied:
                raise EntityNotFoundError(entity) from None
        if principal is None or not principal.scopes:
            return self.store.events(prefix, after_seq=after_seq, limit=limit, entity=entity)
        # A scoped principal sees only events about its subtrees; page past the others.
        out: list[Event] = []
        cursor = after_seq
        while len(out) < limit:
            batch = self.store.events(prefix, after_seq=cursor, limit=limit * 4, entity=entity)
            if not batch:
                break
            out.extend(e for e in batch if _event_visible(e, principal))
            cursor = batch[-1].seq
        return out[:limit]

    def history(
        self,
        entity_id: str,
        *,
        limit: int = 100,
        after_seq: int = 0,
        principal: Principal | None = None,
    ) -> list[Event]:
        return self.events(
            prefix_of(entity_id),
            after_seq=after_seq,
            limit=limit,
            entity=entity_id,
            principal=principal,
        )

    # --------------------------------------------------------------- writes
    def record_capacity_trade(self, change: CapacityChange) -> list[Event]:
        """A settled trade onto the seller's site twin, where simulation and planning see it.

        ``traded_out_capacity`` sums what the site sold; ``capacity_commitments``
        lists each sale with its resource, quantity, unit, period and buyer.
        """
        prefix = prefix_of(change.site)
        site = self._history(prefix).graph.entity(EntityId(change.site))
        sold = site.get("traded_out_capacity", 0)
        held = site.get("capacity_commitments")
        commitments = list(held) if isinstance(held, list) else []
        commitments.append(
            {
                "trade": change.trade,
                "resource": change.resource.value,
                "quantity": change.quantity,
                "unit": change.unit,
                "start": change.start,
                "end": change.end,
                "buyer": change.buyer,
            }
        )
        total = (sold if isinstance(sold, int | float) else 0) + change.quantity
        return self.apply_changes(
            prefix,
            [
                PropertySet(EntityId(change.site), "traded_out_capacity", total),
                PropertySet(EntityId(change.site), "capacity_commitments", commitments),
            ],
            principal=None,
            actor="trust",
            reason=f"trade {change.trade}: {change.quantity:g} {change.resource.value} "
            f"to {change.buyer}",
        )

    def apply_changes(
        self,
        prefix: str,
        changes: Sequence[Change],
        *,
        principal: Principal | None,
        actor: str | None = None,
        reason: str = "",
    ) -> list[Event]:
        """Commit changes as events. Each touched entity must be within the principal's scopes."""
        info = self.twin_info(prefix, principal)
        for change in changes:
            for entity_id in _touched(change):
                if prefix_of(entity_id) != prefix:
                    raise AccessDenied(f"{entity_id!r} is not part of twin {prefix!r}")
                if principal is not None:
                    try:
                        principal.check(Permission.WRITE, tenant=info.tenant, entity_id=entity_id)
                    except AccessDenied as err:
                        if err.hidden:
                            raise EntityNotFoundError(entity_id) from None
                        raise
        who = actor or (principal.id if principal is not None else "local")
        with self._lock:
            committed = self._history(prefix).commit(list(changes), actor=who, reason=reason)
            if committed:
                self._notify(committed)
            return committed


def _touched(change: Change) -> tuple[str, ...]:
    if isinstance(change, EntityAdded):
        return (change.entity.id,)
    if isinstance(change, EntityRemoved | PropertySet | PropertyRemoved):
        return (change.entity_id,)
    if isinstance(change, RelationAdded):
        return (change.relation.source, change.relation.target)
    if isinstance(change, RelationRemoved):
        return (change.key[0], change.key[2])
    raise TypeError(change)  # pragma: no cover


def _event_visible(event: Event, principal: Principal) -> bool:
    return all(principal.sees(e) for e in _touched(event.change))
