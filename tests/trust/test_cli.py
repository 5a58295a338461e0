"""``twinverse ledger`` and ``twinverse trust`` end to end, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def tv(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWINVERSE_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "twinverse", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    if check:
        assert done.returncode == 0, done.stderr + done.stdout
    return done


def test_sync_prove_and_verify_offline_then_tampering_fails(tmp_path: Path) -> None:
    tv(tmp_path, "load", str(EXAMPLES / "line.yaml"))
    synced = json.loads(tv(tmp_path, "ledger", "sync", "--json").stdout)
    assert synced["added"] > 100 and synced["checkpoint"].startswith("twinverse.local/ledger\n")
    key = tv(tmp_path, "ledger", "key").stdout.strip()
    tv(tmp_path, "ledger", "prove", "5", "--out", "p.json")
    ok = tv(tmp_path, "ledger", "verify", "p.json", "--key", key, "--json")
    assert json.loads(ok.stdout)["index"] == 5
    bundle = json.loads((tmp_path / "p.json").read_text())
    bundle["index"] = 6
    (tmp_path / "bad.json").write_text(json.dumps(bundle))
    bad = tv(tmp_path, "ledger", "verify", "bad.json", "--key", key, check=False)
    assert bad.returncode == 2 and "does not match" in bad.stderr
    assert "Traceback" not in bad.stderr
    (tmp_path / "junk.json").write_text("{not json")
    junk = tv(tmp_path, "ledger", "verify", "junk.json", "--key", key, check=False)
    assert junk.returncode == 2 and "junk.json" in junk.stderr


def test_capacity_trade_is_logged_provable_and_changes_the_site(tmp_path: Path) -> None:
    tv(tmp_path, "load", str(EXAMPLES / "line.yaml"))
    site = json.loads(tv(tmp_path, "query", "site", "--json").stdout)["items"][0]["id"]
    prefix = site.split("/")[0]
    tv(tmp_path, "trust", "offer", prefix, site, "300", "--price", "90")
    [trade] = json.loads(tv(tmp_path, "trust", "trades", "--json").stdout)
    tid = trade["offer"]["id"]
    tv(tmp_path, "trust", "accept", tid, "86.9999.buyer", "120", "--budget", "20000")
    key = tv(tmp_path, "ledger", "key").stdout.strip()
    tv(tmp_path, "ledger", "prove", f"trade:{tid}:settle:1", "--out", "t.json")
    tv(tmp_path, "ledger", "verify", "t.json", "--key", key)
    shown = json.loads(tv(tmp_path, "resolve", site, "--json").stdout)
    assert "traded_out_capacity" in json.dumps(shown["entity"])
    over = tv(
        tmp_path, "trust", "accept", tid, "86.9999.buyer", "1000", "--budget", "1e9", check=False
    )
    assert over.returncode == 2 and "what remains" in over.stderr
