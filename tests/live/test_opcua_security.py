"""OPC UA security: SignAndEncrypt with a trust list; untrusted, expired, wrong-URI refused."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from tests.live.plants import plant_tag_map, plant_thread
from twinverse.live.broker import free_port
from twinverse.live.certs import CertificateFiles, make_certificate, trust
from twinverse.live.opcua import ClientSecurity, OpcUaIngest, OpcUaSettings, Policy
from twinverse.live.pipeline import IngestPipeline
from twinverse.live.plant import PlantThread, ServerSecurity
from twinverse.live.report import Cause, IngestReport
from twinverse.store.memory import MemoryStore

INGEST_URI = "urn:twinverse:ingest"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CertificateFiles | Path]:
    d = tmp_path_factory.mktemp("pki")
    server = make_certificate(d / "server", "plant", "urn:twinverse:plant:server")
    good = make_certificate(d / "client", "ingest", INGEST_URI)
    stranger = make_certificate(d / "client", "stranger", INGEST_URI)
    expired = make_certificate(
        d / "client",
        "expired",
        INGEST_URI,
        valid_days=1,
        not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=30),
    )
    other = make_certificate(d / "client", "wrong-uri", "urn:somebody:else")
    # The certificate names another application than the one that presents it.
    wrong_uri = CertificateFiles(other.certificate, other.private_key, INGEST_URI)
    client_trust = trust(d / "client-trusts", server)
    server_trust = trust(d / "server-trusts", good, expired, wrong_uri)
    return {
        "server": server,
        "good": good,
        "stranger": stranger,
        "expired": expired,
        "wrong_uri": wrong_uri,
        "client_trust": client_trust,
        "server_trust": server_trust,
    }


@pytest.fixture(scope="module")
def plant(pki) -> tuple[int, PlantThread]:
    port = free_port()
    security = ServerSecurity(pki["server"], pki["server_trust"], users={"ingest": "s3cret-pw"})
    with plant_thread(port, security=security) as running:
        yield port, running


def connects(
    port: int, cert: CertificateFiles, trust_dir: Path, policy: Policy, password: str = "s3cret-pw"
) -> bool:
    report = IngestReport()
    security = ClientSecurity(cert, policy, trust_dir, username="ingest", password=password)
    settings = OpcUaSettings(
        f"opc.tcp://127.0.0.1:{port}/twinverse/plant", security=security, reconnect_min_s=5
    )
    ingest = OpcUaIngest(settings, plant_tag_map(), IngestPipeline(MemoryStore(), report), report)

    async def attempt() -> bool:
        stop = asyncio.Event()
        task = asyncio.create_task(ingest.run(stop))
        try:
            async with asyncio.timeout(10):
                while not ingest.connected.is_set():
                    if report.counts[Cause.SOURCE_LOST]:
                        return False  # refused: counted with its cause
                    await asyncio.sleep(0.02)
            return True
        finally:
            stop.set()
            await task

    return asyncio.run(attempt())


@pytest.mark.parametrize("policy", list(Policy))
def test_a_trusted_client_connects_with_sign_and_encrypt(plant, pki, policy: Policy) -> None:
    assert connects(plant[0], pki["good"], pki["client_trust"], policy)


@pytest.mark.parametrize("who", ["stranger", "expired", "wrong_uri"])
def test_an_untrusted_expired_or_wrong_uri_certificate_is_refused(plant, pki, who: str) -> None:
    assert not connects(plant[0], pki[who], pki["client_trust"], Policy.BASIC256SHA256)


def test_a_wrong_password_is_refused(plant, pki) -> None:
    assert not connects(plant[0], pki["good"], pki["client_trust"], Policy.BASIC256SHA256, "nope")


def test_a_server_the_client_does_not_trust_is_refused(plant, pki, tmp_path: Path) -> None:
    empty = tmp_path / "no-trust"
    empty.mkdir()
    assert not connects(plant[0], pki["good"], empty, Policy.BASIC256SHA256)
