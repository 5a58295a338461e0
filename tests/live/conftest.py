"""Fixtures of the live-twin tests: the API's workspace and client, a real Mosquitto broker."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import client, login, workspace
from tests.live.tags import GLOBEX, LINE, TAGS
from twinverse.live.broker import BrokerUser, LocalBroker
from twinverse.live.tagmap import TagMap, tag_map_from_dict

__all__ = ["GLOBEX", "LINE", "TAGS", "client", "login", "workspace"]

INGEST = BrokerUser("ingest", "ingest-secret-1", read=("twinverse/#", "spBv1.0/#"))
PLANT = BrokerUser(
    "plant", "plant-secret-2", write=("twinverse/globex/#", "spBv1.0/globex/#"), read=()
)
SPY = BrokerUser("spy", "spy-secret-3", read=("#",))


@pytest.fixture
def tag_doc() -> dict:
    return TAGS


@pytest.fixture
def tag_map() -> TagMap:
    return tag_map_from_dict(TAGS)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip(
            "mosquitto is not installed (make installs it from scripts/debian-packages.txt)"
        )
    with LocalBroker(tmp_path_factory.mktemp("broker"), (INGEST, PLANT, SPY)) as running:
        yield running
