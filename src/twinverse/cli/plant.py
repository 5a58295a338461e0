"""``twinverse plant``: serve a scenario's line as a simulated OPC UA plant."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from twinverse.cli.render import console
from twinverse.errors import TwinverseError

SHARED_NODESETS = Path(__file__).resolve().parents[4] / "shared" / "data" / "opcua-nodesets"


def nodeset_dir() -> Path | None:
    """The DI and Machinery nodesets: ``../shared/data/opcua-nodesets`` of the checkout."""
    for candidate in (Path.cwd().parent / "shared" / "data" / "opcua-nodesets", SHARED_NODESETS):
        if candidate.is_dir():
            return candidate
    return None


def build_plant(
    scenario: Path, line: str | None, *, port: int, speed: float, seed: int, security: object = None
) -> tuple[object, str, str]:
    """The plant server for a line of a scenario, the twin's prefix and the line's entity id."""
    from twinverse.live.plant import PlantServer, PlantSettings, ServerSecurity
    from twinverse.scenario import load_scenario
    from twinverse.sim.line import line_model_from_scenario
    from twinverse.twin.model import EntityKind

    loaded = load_scenario(scenario)
    graph = loaded.graph()
    lines = [e for e in graph.entities(EntityKind.LINE)]
    if not lines:
        raise TwinverseError(f"{scenario} has no line to serve as a plant", code="no-line")
    chosen = next((e for e in lines if e.id.rsplit("/", 1)[-1] == line), None) if line else lines[0]
    if chosen is None:
        names = ", ".join(e.id.rsplit("/", 1)[-1] for e in lines)
        raise TwinverseError(f"{scenario} has no line {line!r}; its lines: {names}", code="no-line")
    line_id = chosen.id.rsplit("/", 1)[-1]
    model = line_model_from_scenario(loaded.scenario, line_id)
    assert security is None or isinstance(security, ServerSecurity)
    settings = PlantSettings(
        port=port, speed_factor=speed, seed=seed, security=security, nodeset_dir=nodeset_dir()
    )
    return PlantServer(model, line_id, settings), loaded.scenario.enterprise.prefix, chosen.id


def plant_command(
    scenario: Annotated[Path, typer.Argument(help="a scenario file with a line")] = Path(
        "examples/line.yaml"
    ),
    line: Annotated[str | None, typer.Option(help="the line's id (default: the first)")] = None,
    port: Annotated[int, typer.Option(help="OPC UA port")] = 4840,
    speed: Annotated[float, typer.Option(help="simulated seconds per real second")] = 60.0,
    seed: Annotated[int, typer.Option(help="random seed of the simulation")] = 1,
    dev: Annotated[
        bool, typer.Option("--dev", help="serve only the insecure None endpoint (local tests)")
    ] = False,
    pki: Annotated[
        Path | None,
        typer.Option(help="certificates: plant.der/.pem (made if missing) and trusted/"),
    ] = None,
    user: Annotated[
        list[str] | None, typer.Option(help="NAME:PASSWORD of a user who may connect (repeat)")
    ] = None,
) -> None:
    """Serve a line as an OPC UA server per the Machinery companion spec, driven in real time."""
    from twinverse.live.certs import CertificateFiles, make_certificate
    from twinverse.live.plant import ServerSecurity

    security = None
    if not dev:
        folder = pki or Path(".twinverse/pki")
        cert = folder / "plant.der"
        files = (
            CertificateFiles(cert, folder / "plant.pem", "urn:twinverse:plant:server")
            if cert.exists()
            else make_certificate(folder, "plant", "urn:twinverse:plant:server")
        )
        trusted = folder / "trusted"
        trusted.mkdir(parents=True, exist_ok=True)
        users = dict(u.split(":", 1) for u in (user or []) if ":" in u)
        security = ServerSecurity(files, trusted, users)
        console.print(f"plant certificate {files.certificate}; trusted clients in {trusted}/")
    server, _prefix, line_entity = build_plant(
        scenario, line, port=port, speed=speed, seed=seed, security=security
    )

    async def serve() -> None:
        async with server:  # type: ignore[attr-defined]
            mode = "[yellow]dev mode, insecure[/]" if dev else "SignAndEncrypt"
            console.print(
                f"plant [bold]{line_entity}[/] on opc.tcp://127.0.0.1:{port}/twinverse/plant "
                f"({mode}, {speed:g}× real time); Ctrl+C stops"
            )
            await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        console.print("plant stopped")
