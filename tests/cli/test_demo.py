"""The demo's trust steps on the example enterprise: credentials, scores, a trade, a proof."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import twinverse
from twinverse.cli import demo
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


def test_demo_certifies_suppliers_trades_and_proves(tmp_path: Path) -> None:
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
    key = twinverse(tmp_path, "ledger", "key").stdout.strip()
    verified = json.loads(
        twinverse(tmp_path, "ledger", "verify", str(proof), "--key", key, "--json").stdout
    )
    assert verified["ok"] and verified["size"] > verified["index"]

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
