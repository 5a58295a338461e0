"""OPC UA ingest: connect securely, map nodes by the tag map, subscribe or poll, reconnect.

:class:`OpcUaIngest` keeps a session to one server. Each tag of the tag map is
a node id (``ns=2;s=…``, or ``nsu=<namespace uri>;s=…`` which is resolved on
connect) or a browse path from the root (``/0:Objects/4:Machines/…``).
Values arrive by data-change subscription (sampling and publishing intervals,
absolute deadband per tag) or by batched reads (``mode=poll``), and go to the
pipeline as one :class:`~twinverse.live.pipeline.Batch` per publish cycle.

When the connection drops — the server restarts, the network goes — the
ingest marks the gap (states of the mapped entities become ``unknown``, the
report counts the gap with its length), waits with exponential back-off,
reconnects and subscribes again by itself.

Security: SignAndEncrypt with Basic256Sha256 or Aes256Sha256RsaPss, the
ingest's application certificate, the server's certificate checked against a
trust list, and a username or X.509 user token. The insecure ``None``
endpoint is refused unless ``dev_mode`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import numpy as np
from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.crypto import security_policies
from asyncua.crypto.truststore import TrustStore
from asyncua.crypto.validator import CertificateValidator, CertificateValidatorOptions
from asyncua.ua.uaerrors import UaError

from twinverse.errors import TwinverseError
from twinverse.live.certs import CertificateFiles
from twinverse.live.pipeline import Batch, IngestPipeline
from twinverse.live.report import Cause, IngestReport
from twinverse.live.tagmap import TagMap, ValueKind

_log = logging.getLogger(__name__)

UNKNOWN_STATE: Final = "unknown"


class OpcUaError(TwinverseError):
    code = "opcua-error"


class InsecureEndpointError(OpcUaError):
    code = "insecure-endpoint"


class Policy(StrEnum):
    BASIC256SHA256 = "Basic256Sha256"
    AES256SHA256RSAPSS = "Aes256Sha256RsaPss"


_POLICIES: Final = {
    Policy.BASIC256SHA256: security_policies.SecurityPolicyBasic256Sha256,
    Policy.AES256SHA256RSAPSS: security_policies.SecurityPolicyAes256Sha256RsaPss,
}


class ReadMode(StrEnum):
    SUBSCRIBE = "subscribe"  # data-change notifications
    POLL = "poll"  # batched reads every publishing interval


@dataclass(frozen=True, slots=True)
class ClientSecurity:
    """How the ingest proves itself and checks the server."""

    certificate: CertificateFiles
    policy: Policy = Policy.BASIC256SHA256
    trust_dir: Path | None = None  # the server's certificate must be in here
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class OpcUaSettings:
    endpoint: str
    security: ClientSecurity | None = None
    dev_mode: bool = False  # allows the insecure None endpoint
    mode: ReadMode = ReadMode.SUBSCRIBE
    publishing_interval_ms: float = 100.0
    sampling_interval_ms: float = 50.0
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 10.0
    timeout_s: float = 4.0

    def check(self) -> None:
        """Raise InsecureEndpointError for an insecure set-up outside dev mode."""
        if self.security is None and not self.dev_mode:
            raise InsecureEndpointError(
                f"refusing the insecure None endpoint of {self.endpoint}: give the ingest a "
                "certificate (SignAndEncrypt), or pass --dev for a local test plant"
            )


def _ns_of(value: Any) -> int:
    return int(value)


class OpcUaIngest:
    """One OPC UA server feeding the pipeline (see the module docstring)."""

    def __init__(
        self,
        settings: OpcUaSettings,
        tag_map: TagMap,
        pipeline: IngestPipeline,
        report: IngestReport,
        *,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        settings.check()
        self.settings = settings
        self.tag_map = tag_map
        self.pipeline = pipeline
        self.report = report
        self.clock = clock
        self.name = settings.endpoint
        self.connections = 0
        self._client: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._nodes: dict[int, Node] = {}  # row -> node
        self._variants: dict[int, ua.VariantType] = {}
        self._pending: list[tuple[int, int, Any]] = []
        self._lost_at: int | None = None
        self.connected = asyncio.Event()

    # ------------------------------------------------------------ lifecycle
    async def run(self, stop: asyncio.Event) -> None:
        """Ingest until ``stop`` is set, reconnecting after every failure."""
        self._loop = asyncio.get_running_loop()
        backoff = self.settings.reconnect_min_s
        while not stop.is_set():
            try:
                await self._session(stop)
                backoff = self.settings.reconnect_min_s
            except InsecureEndpointError:
                raise
            except (OSError, TimeoutError, UaError, ConnectionError) as err:
                self._lost(f"{type(err).__name__}: {err}")
            except Exception as err:  # any other failure: counted, logged, retried
                _log.exception("OPC UA ingest of %s failed", self.name)
                self._lost(f"{type(err).__name__}: {err}")
            if stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, self.settings.reconnect_max_s)

    def _lost(self, cause: str) -> None:
        self.connected.clear()
        self.report.set_connected(self.name, False)
        if self._lost_at is None:
            self._lost_at = self.clock()
            self.report.count(self.name, Cause.SOURCE_LOST, cause)
            self._mark_unknown()

    def _mark_unknown(self) -> None:
        """The gap, in the twin: states read from this server are unknown until it is back."""
        rows = [i for i, r in enumerate(self.tag_map.rows) if r.kind is ValueKind.STATE]
        if not rows:
            return
        now = self.clock()
        empty = np.empty(0, dtype=np.intp)
        self.pipeline.submit(
            Batch(
                self.tag_map,
                "opcua",
                self.tag_map.source,
                None,
                empty,
                np.empty(0, dtype=np.int64),
                np.empty(0),
                [(r, now, UNKNOWN_STATE) for r in rows],
            )
        )

    async def _connect(self) -> Client:
        s = self.settings
        client = Client(s.endpoint, timeout=s.timeout_s)
        sec = s.security
        if sec is not None:
            client.application_uri = sec.certificate.application_uri
            if sec.username is not None:
                client.set_user(sec.username)
                client.set_password(sec.password or "")
            await client.set_security(
                _POLICIES[sec.policy],  # type: ignore[type-abstract]
                str(sec.certificate.certificate),
                str(sec.certificate.private_key),
                mode=ua.MessageSecurityMode.SignAndEncrypt,
            )
            if sec.trust_dir is not None:
                store = TrustStore([sec.trust_dir], [])
                await store.load()
                client.certificate_validator = CertificateValidator(
                    CertificateValidatorOptions.TRUSTED_VALIDATION
                    | CertificateValidatorOptions.PEER_SERVER,
                    store,
                )
        await client.connect()
        return client

    async def _session(self, stop: asyncio.Event) -> None:
        client = await self._connect()
        self._client = client
        try:
            await self._resolve(client)
            self.connections += 1
            if self._lost_at is not None:
                gap_s = (self.clock() - self._lost_at) / 1e9
                self.report.count(self.name, Cause.GAP, f"no data for {gap_s:.1f} s; resumed")
                self._lost_at = None
            self.report.set_connected(self.name, True)
            if self.settings.mode is ReadMode.POLL:
                await self._poll(client, stop)
            else:
                await self._subscribe(client, stop)
        finally:
            self._client = None
            self.connected.clear()
            try:
                await asyncio.wait_for(client.disconnect(), 2)
            except Exception:  # the connection is gone already; nothing to close cleanly
                _log.debug("disconnect from %s failed", self.name, exc_info=True)

    async def _resolve(self, client: Client) -> None:
        namespaces = await client.get_namespace_array()
        self._nodes = {}
        for i, row in enumerate(self.tag_map.rows):
            try:
                node = await self._node(client, row.tag, namespaces)
                await node.read_browse_name()
            except (UaError, ValueError) as err:
                self.report.count(self.name, Cause.UNKNOWN_TAG, f"{row.tag}: {err}")
                continue
            self._nodes[i] = node
        if not self._nodes:
            raise OpcUaError(f"none of the {len(self.tag_map.rows)} tags exists on {self.name}")

    async def _node(self, client: Client, tag: str, namespaces: list[str]) -> Node:
        if tag.startswith("/"):
            return await client.nodes.root.get_child([p for p in tag.split("/") if p])
        if tag.startswith("nsu="):
            uri, _, rest = tag[4:].partition(";")
            if uri not in namespaces:
                raise ValueError(f"the server has no namespace {uri!r}")
            tag = f"ns={namespaces.index(uri)};{rest}"
        return client.get_node(ua.NodeId.from_string(tag))

    # ----------------------------------------------------------- data paths
    def datachange_notification(self, node: Node, value: Any, data: Any) -> None:
        """asyncua's subscription callback: queue the value for the next batch."""
        row = self._row_of.get(node.nodeid)
        if row is None:
            return
        stamp = data.monitored_item.Value.SourceTimestamp
        ts = int(stamp.timestamp() * 1e9) if stamp is not None else self.clock()
        self._pending.append((row, ts, value))

    def status_change_notification(self, status: Any) -> None:
        self.report.count(self.name, Cause.SOURCE_LOST, f"subscription status: {status}")

    async def _subscribe(self, client: Client, stop: asyncio.Event) -> None:
        s = self.settings
        self._row_of = {node.nodeid: row for row, node in self._nodes.items()}
        sub = await client.create_subscription(s.publishing_interval_ms, self)
        plain = [n for r, n in self._nodes.items() if self.tag_map.rows[r].deadband <= 0]
        if plain:
            await sub.subscribe_data_change(
                plain, sampling_interval=ua.Double(s.sampling_interval_ms)
            )
        for r, node in self._nodes.items():
            band = self.tag_map.rows[r].deadband
            if band > 0:
                await sub.deadband_monitor(node, ua.Double(band), deadbandtype=ua.UInt32(1))
        self.connected.set()
        interval = s.publishing_interval_ms / 1000
        while not stop.is_set():
            await asyncio.sleep(interval)
            self._flush()
            await client.check_connection()

    async def _poll(self, client: Client, stop: asyncio.Event) -> None:
        rows = list(self._nodes)
        # One read request built once and sent every interval: rebuilding it per read
        # (as Client.read_values does) costs as much as decoding the answer.
        params = ua.ReadParameters()
        params.TimestampsToReturn = ua.TimestampsToReturn.Neither
        for r in rows:
            item = ua.ReadValueId()
            item.NodeId = self._nodes[r].nodeid
            item.AttributeId = ua.AttributeIds.Value  # type: ignore[attr-defined]
            params.NodesToRead.append(item)
        self.connected.set()
        interval = self.settings.publishing_interval_ms / 1000
        while not stop.is_set():
            started = time.monotonic()
            results = await client.uaclient.read(params)
            now = self.clock()
            self._pending.extend(
                (r, now, dv.Value.Value)
                for r, dv in zip(rows, results, strict=True)
                if dv.Value is not None and (dv.StatusCode is None or dv.StatusCode.is_good())
            )
            self._flush()
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        rows: list[int] = []
        ts: list[int] = []
        values: list[float] = []
        states: list[tuple[int, int, str]] = []
        kinds = self.tag_map.rows
        for row, stamp, value in pending:
            if kinds[row].kind is ValueKind.STATE:
                if isinstance(value, str) and value:
                    states.append((row, stamp, value))
                else:
                    self.report.count(
                        self.name, Cause.WRONG_TYPE, f"{kinds[row].tag}: {value!r:.60}"
                    )
                continue
            if isinstance(value, bool | int | float):
                rows.append(row)
                ts.append(stamp)
                values.append(float(value))
            else:
                self.report.count(self.name, Cause.WRONG_TYPE, f"{kinds[row].tag}: {value!r:.60}")
        self.pipeline.submit(
            Batch(
                self.tag_map,
                "opcua",
                self.tag_map.source,
                None,
                np.asarray(rows, dtype=np.intp),
                np.asarray(ts, dtype=np.int64),
                np.asarray(values, dtype=np.float64),
                states,
            )
        )

    # -------------------------------------------------------------- writing
    async def write(self, row: int, value: float) -> None:
        """Write a value to a mapped node; raises OpcUaError when not connected or refused."""
        client = self._client
        node = self._nodes.get(row)
        if client is None or node is None or not self.connected.is_set():
            raise OpcUaError(f"not connected to {self.name}; the command was not sent")
        variant = self._variants.get(row)
        if variant is None:
            variant = await node.read_data_type_as_variant_type()
            self._variants[row] = variant
        typed: Any = bool(value) if variant is ua.VariantType.Boolean else value
        try:
            await node.write_value(ua.DataValue(ua.Variant(typed, variant)))
        except UaError as err:
            raise OpcUaError(
                f"{self.name} refused the write to {self.tag_map.rows[row].tag}: {err}"
            ) from err

    def write_threadsafe(self, row: int, value: float, timeout: float = 5.0) -> None:
        """:meth:`write` from another thread (the API's), waiting for the outcome."""
        if self._loop is None:
            raise OpcUaError(f"the ingest of {self.name} is not running")
        future = asyncio.run_coroutine_threadsafe(self.write(row, value), self._loop)
        try:
            future.result(timeout)
        except TimeoutError as err:
            future.cancel()
            raise OpcUaError(f"no answer from {self.name} within {timeout:g} s") from err
