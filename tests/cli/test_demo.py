"""The demo's trust steps on the example enterprise: credentials, scores, a trade, a proof."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.cli.test_cli import twinverse
from twinverse.cli import demo
from twinverse.cli.simulate import run_simulation
from twinverse.cli.trust import next_month
from twinverse.config import Settings
from twinverse.scenario import load_scenario
from twinverse.twin.model import EntityKind
from twinverse.workspace import Workspace

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load_examples(settings: Settings) -> list[str]:
    prefixes = []
    with Workspace.open(settings) as ws:
        for name in ("global-network.yaml", "line.yaml"):
            loaded = load_scenario(EXAMPLES / name)
            result = ws.import_scenario(
                loaded, tenant=loaded.scenario.enterprise.id, actor="test", reason="set-up"
            )
            prefixes.append(result.twin.prefix)
    return prefixes


def test_demo_certifies_suppliers_trades_and_proves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    seller, buyer = _load_examples(settings)
    demo.certify_suppliers(settings, EXAMPLES)
    with Workspace.open(settings) as ws:
        graph = ws.graph(seller)
        scores = {
            str(e.id).rsplit("/", 1)[-1]: e.get("supplier_score")
            for e in graph.entities(EntityKind.SUPPLIER)
        }
    # Three verified kinds beat two; an expired or revoked credential counts as absent.
    assert scores["takefu-magnets"] > scores["hsinchu-semiconductor"] > 0
    assert scores["regensburg-electronics"] == 35.0  # EMAS counted, expired audit not
    assert 0 < scores["binzhou-aluminium"] < 30  # revoked certificate not counted
    assert scores["jurong-lubricants"] == 0

    proof = demo.trade_and_prove(settings, seller=seller, buyer=buyer)
    with Workspace.open(settings) as ws:
        site = ws.graph(seller).entity(f"{seller}/monterrey")  # type: ignore[arg-type]
        assert site.get("traded_out_capacity") == 120
        (sale,) = site.get("capacity_commitments")  # type: ignore[misc]
        assert sale["quantity"] == 120 and sale["start"] == next_month(time.time_ns())[0]
    key = twinverse(tmp_path, "ledger", "key").stdout.strip()
    verified = json.loads(
        twinverse(tmp_path, "ledger", "verify", str(proof), "--key", key, "--json").stdout
    )
    assert verified["ok"] and verified["size"] > verified["index"]

    # The what-if from the twin sees the sale and sources magnets by verified score.
    monkeypatch.setenv("TWINVERSE_DATA_DIR", str(settings.data_dir))
    study = run_simulation(
        EXAMPLES / "global-network.yaml",
        ["responsible-magnets"],
        replications=40,
        seed=1,
        json=True,
        csv_path=None,
        report_path=None,
        start_at="now",
        twin=seller,
    )
    assert study.start is not None and [c.sale.amount for c in study.start.sold] == [120]
    assert any("buys ndfeb-magnet from takefu-magnets" in n for n in study.model.notes)
    base, rule = (r.kpis["fill_rate"].mean() for r in study.results)
    assert rule < base  # Takefu alone cannot make Suzhou's magnets

    # Run again: nothing issued or traded twice, and the proof still verifies.
    demo.certify_suppliers(settings, EXAMPLES)
    demo.trade_and_prove(settings, seller=seller, buyer=buyer)
    trades = json.loads(twinverse(tmp_path, "trust", "trades", "--json").stdout)
    assert len(trades) == 1 and len(trades[0]["acceptances"]) == 1

    # A tampered proof is refused.
    doc = json.loads(proof.read_text())
    doc["index"] = doc["index"] + 1
    proof.write_text(json.dumps(doc))
    refused = twinverse(tmp_path, "ledger", "verify", str(proof), "--key", key, check=False)
    assert refused.returncode != 0


def test_ledger_sync_logs_sample_chunks_and_commands(tmp_path: Path) -> None:
    import hashlib

    import numpy as np

    from twinverse.cli.ledger import open_trust, sync_workspace
    from twinverse.store import SeriesKey

    settings = Settings(data_dir=tmp_path / "data")
    _load_examples(settings)
    keys = [
        SeriesKey("86.1001.jinfeng/m1", "temperature"),
        SeriesKey("86.1001.jinfeng/m2", "power"),
    ]
    ts = np.arange(1_000, 1_010, dtype=np.int64)
    values = np.linspace(20.0, 29.0, 10)
    with Workspace.open(settings) as ws:
        ws.store.append_samples(keys, np.array([0, 1] * 5), ts, values)
    audit = settings.data_dir / "audit.jsonl"
    audit.write_text(
        '{"key": "k1", "status": "accepted", "entity": "e", "property": "speed", "value": 1}\n'
        '{"key": "k1", "status": "done", "entity": "e", "property": "speed", "value": 1}\n'
        '{"key": "k2", "status": "acc'  # a torn last line: left out until it is whole
    )
    with open_trust(settings) as svc:
        first = sync_workspace(svc, settings)
        assert sync_workspace(svc, settings) == 0  # nothing twice
        chunk = svc.find("telemetry:000000000001")
        command = svc.find("command:000000002")
        assert svc.find("command:000000001").kind == "command"
        assert svc.ledger.last_ref("command:") == "command:000000002"  # not the torn line
    assert first > 2
    assert chunk.kind == "telemetry-batch" and command.kind == "command-outcome"
    # The digest is recomputable from the samples the store gives back.
    body = chunk.body
    with Workspace.open(settings) as ws:
        got = ws.store.samples(SeriesKey(str(body["entity"]), str(body["property"])), 0, 10_000)
    h = hashlib.sha256(got.ts.astype("<i8").tobytes())
    h.update(got.values.astype("<f8").tobytes())
    assert body["digest"] == h.hexdigest() and body["n"] == 5


def test_reloading_a_scenario_keeps_what_the_twin_learned_while_running(
    tmp_path: Path, fixtures: Path
) -> None:
    from twinverse.twin.events import PropertySet
    from twinverse.twin.ids import EntityId

    settings = Settings(data_dir=tmp_path / "data")
    press = EntityId("86.1000.globex/shanghai/l1/press-1")
    text = (fixtures / "globex.yaml").read_text()
    with Workspace.open(settings) as ws:
        ws.import_scenario(load_scenario(fixtures / "globex.yaml"), tenant="globex", actor="t")
        ws.apply_changes(
            "86.1000.globex",
            [PropertySet(press, "state", "down"), PropertySet(press, "rul", 41.5)],
            principal=None,
            actor="plant",
        )
        edited = tmp_path / "globex.yaml"
        edited.write_text(text.replace("            power: {busy: 15 kW, idle: 3 kW}\n", "", 1))
        again = ws.import_scenario(load_scenario(edited), tenant="globex", actor="t")
        machine = ws.graph("86.1000.globex").entity(press)
    # The file dropped power: gone. State and RUL came from the plant: kept.
    assert again.events == 1
    assert machine.get("power") is None
    assert machine.get("state") == "down" and machine.get("rul") == 41.5
