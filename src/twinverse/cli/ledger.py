"""``twinverse ledger``: sync twin events into the verifiable log, checkpoint, prove, verify offline."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from twinverse.cli.render import console, emit_json
from twinverse.config import Settings
from twinverse.errors import TwinverseError
from twinverse.trust.bundle import ProofBundle, verify_bundle
from twinverse.trust.checkpoint import parse_checkpoint
from twinverse.trust.note import VerifierKey
from twinverse.trust.service import TrustService
from twinverse.twin.instant import now_us

ledger_app = typer.Typer(
    no_args_is_help=True, help="The verifiable log: sync, checkpoint, prove, verify."
)

ORIGIN = "twinverse.local/ledger"
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
PassOpt = Annotated[
    str | None,
    typer.Option(
        "--passphrase",
        envvar="TWINVERSE_KEY_PASSPHRASE",
        help="unlocks the keys (default: a random one kept in <data dir>/trust/passphrase, mode 0600)",
    ),
]


def clock_ns() -> int:
    return now_us()


def _passphrase(directory: Path, given: str | None) -> bytes:
    if given:
        return given.encode()
    path = directory / "passphrase"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path.read_text().strip().encode()


def open_trust(settings: Settings, passphrase: str | None = None) -> TrustService:
    directory = settings.data_dir / "trust"
    return TrustService(
        directory, passphrase=_passphrase(directory, passphrase), origin=ORIGIN, clock=clock_ns
    ).open()


def sync_workspace(svc: TrustService, settings: Settings) -> int:
    """Log what is not logged yet: twin events, sample chunks, control commands.

    Twin events and sample chunks go in as digests; control commands and their
    outcomes as the audit records themselves. Returns how many entries were added.
    """
    from twinverse.workspace import Workspace

    added = 0
    with Workspace.open(settings) as ws:
        for info in ws.twins():
            after = 0
            while batch := ws.events(info.prefix, after_seq=after, limit=5000):
                added += svc.record_twin_events(info.prefix, batch)
                after = batch[-1].seq
        chunk_digests = getattr(ws.store, "chunk_digests", None)
        if chunk_digests is not None:
            after = svc.logged_telemetry()
            while chunks := chunk_digests(after, 10_000):
                added += svc.record_telemetry(chunks)
                after = chunks[-1].id
    added += svc.record_commands(_audit_records(settings.data_dir / "audit.jsonl"))
    return added


def _audit_records(path: Path) -> list[dict[str, object]]:
    """The control-command audit file's records; a torn last line (a crash) is left out."""
    if not path.exists():
        return []
    out = []
    for line in path.read_bytes().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


@ledger_app.command("sync")
def sync(passphrase: PassOpt = None, json: JsonOpt = False) -> None:
    """Record twin events, sample chunks and commands in the log, then publish a checkpoint."""
    settings = Settings()
    with open_trust(settings, passphrase) as svc:
        added = sync_workspace(svc, settings)
        published = svc.ledger.checkpoint()
    if json:
        emit_json(
            {
                "added": added,
                "size": published.checkpoint.size,
                "checkpoint": published.note.encode(),
            }
        )
        return
    console.print(
        f"[green]✓[/] {added:,} entries logged (twin events, sample chunks, commands); "
        f"log size {published.checkpoint.size:,}"
    )
    typer.echo(published.note.encode(), nl=False)


@ledger_app.command("checkpoint")
def checkpoint(
    out: Annotated[Path | None, typer.Option(help="also write the signed note here")] = None,
    passphrase: PassOpt = None,
) -> None:
    """Sign and publish the current head as a C2SP checkpoint; print it."""
    with open_trust(Settings(), passphrase) as svc:
        note = svc.ledger.checkpoint().note.encode()
    if out:
        out.write_text(note)
    typer.echo(note, nl=False)


@ledger_app.command("key")
def key(passphrase: PassOpt = None) -> None:
    """Print the log's verifier key (give it to auditors, out of band)."""
    with open_trust(Settings(), passphrase) as svc:
        typer.echo(svc.log_key.encode())


@ledger_app.command("prove")
def prove(
    ident: Annotated[str, typer.Argument(help="an entry index or reference (trade:…, event:…)")],
    out: Annotated[Path | None, typer.Option(help="write the proof bundle here")] = None,
    since: Annotated[
        int | None, typer.Option(help="add a consistency proof from this size")
    ] = None,
    passphrase: PassOpt = None,
) -> None:
    """Export an offline proof that the entry is in the log at the latest checkpoint."""
    with open_trust(Settings(), passphrase) as svc:
        bundle = svc.bundle(svc.find(ident), since=since)
        key_text = svc.log_key.encode()
    doc = bundle.to_json()
    text = json.dumps(doc, indent=2)
    if out:
        out.write_text(text + "\n")
        console.print(f"[green]✓[/] proof of entry {bundle.index} written to {out}")
        typer.echo(f"verify offline: twinverse ledger verify {out} --key '{key_text}'")
    else:
        emit_json(doc)


@ledger_app.command("verify")
def verify(
    bundle_file: Annotated[Path, typer.Argument(help="a proof bundle from 'ledger prove'")],
    key: Annotated[
        list[str], typer.Option("--key", help="trusted verifier key (repeat for witnesses)")
    ],
    witness: Annotated[
        list[str] | None, typer.Option(help="require this witness's cosignature")
    ] = None,
    earlier: Annotated[
        Path | None, typer.Option(help="a checkpoint seen before: check the log only grew")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Verify a proof bundle offline: signatures, inclusion, and growth since an earlier checkpoint."""
    try:
        doc = json.loads(bundle_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TwinverseError(
            f"{bundle_file}: not a readable JSON proof bundle ({err})", code="bad-bundle"
        ) from err
    bundle = ProofBundle.from_json(doc, where=str(bundle_file))
    keys = [VerifierKey.parse(k) for k in key]
    seen = parse_checkpoint(earlier.read_text(), where=str(earlier))[0] if earlier else None
    report = verify_bundle(bundle, keys, witnesses=witness or (), earlier=seen)
    summary = {
        "ok": True,
        "origin": report.checkpoint.origin,
        "size": report.checkpoint.size,
        "index": report.index,
        "signed_by": [v.key.name for v in report.signatures],
        "grew_from": report.grew_from,
    }
    if json_out:
        emit_json(summary)
        return
    console.print(
        f"[green]✓[/] entry {report.index} is in {report.checkpoint.origin} at size "
        f"{report.checkpoint.size:,}, signed by {', '.join(summary['signed_by'])}"  # type: ignore[arg-type]
        + (f"; the log only grew since size {report.grew_from:,}" if report.grew_from else "")
    )


@ledger_app.command("audit")
def audit(passphrase: PassOpt = None) -> None:
    """Recompute the whole tree from the entries and check every published checkpoint."""
    with open_trust(Settings(), passphrase) as svc:
        n = svc.ledger.audit()
    console.print(f"[green]✓[/] {n:,} entries and every checkpoint check out")
