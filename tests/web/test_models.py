"""A machine the scenario gives a glTF model for is drawn with that model, in a real browser.

The example line with ``model: models/press.gltf`` on its press (a .gltf with its buffer in a
separate .bin beside it, as exporters write them). Same browser and skips as test_browser.py.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.server import ROOT, running_server
from tests.web.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DOWN,
    LINE_TWIN,
    OP010,
    SITE,
    Visitor,
    expected_errors,
    login_token,
    playwright_api,
)
from twinverse.workspace import Workspace

PRESS_MODEL = "models/press.gltf"
# op010 in examples/line.yaml: position (6 m, 6 m), footprint 3.2 × 2.6 × 3.4 m.
PRESS_AT = (6.0, 6.0)
PRESS_FOOTPRINT = (3.2, 2.6, 3.4)


def write_pyramid(directory: Path) -> None:
    """A blue pyramid 4 × 4 × 3 units, off the origin (the page must fit and centre it)."""
    positions = [(3, 0, 3), (7, 0, 3), (7, 0, 7), (3, 0, 7), (5, 3, 5)]
    indices = [0, 2, 1, 0, 3, 2, 0, 1, 4, 1, 2, 4, 2, 3, 4, 3, 0, 4]
    data = struct.pack("<15f", *(c for p in positions for c in p)) + struct.pack("<18H", *indices)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "press.bin").write_bytes(data)
    gltf = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "press"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "material": 0}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorFactor": [0.2, 0.4, 0.9, 1.0]}}],
        "buffers": [{"uri": "press.bin", "byteLength": len(data)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 60, "target": 34962},
            {"buffer": 0, "byteOffset": 60, "byteLength": 36, "target": 34963},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 5, "type": "VEC3",
             "min": [3, 0, 3], "max": [7, 3, 7]},
            {"bufferView": 1, "componentType": 5123, "count": 18, "type": "SCALAR"},
        ],
    }  # fmt: skip
    (directory / "press.gltf").write_text(json.dumps(gltf))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Workspace]]:
    tmp = tmp_path_factory.mktemp("web-models")
    text = (ROOT / "examples" / "line.yaml").read_text()
    press = "                name: Stator core stacking press\n"  # op010
    assert text.count(press) == 1
    (tmp / "line.yaml").write_text(
        text.replace(press, f"{press}                model: {PRESS_MODEL}\n")
    )
    write_pyramid(tmp / "models")
    (tmp / "secret.txt").write_text("not a model")
    with running_server(tmp, [tmp / "line.yaml"]) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_the_scene_gives_the_model_url_and_the_server_serves_it_to_those_who_see_the_twin(
    server: tuple[str, Workspace],
) -> None:
    base, _ = server
    headers = {"Authorization": f"Bearer {login_token(base, 'ann')}"}
    scene = httpx.get(f"{base}/scene/{LINE_TWIN}", headers=headers).json()
    press = next(e for e in scene["entities"] if e["id"] == OP010)
    url = f"/models/{LINE_TWIN}/{PRESS_MODEL}"
    assert press["model"] == url
    assert httpx.get(base + url).status_code == 401
    got = httpx.get(base + url, headers=headers)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("model/gltf+json")
    assert (
        httpx.get(f"{base}/models/{LINE_TWIN}/models/press.bin", headers=headers).status_code == 200
    )
    # Only model files, and only from beside the scenario.
    assert httpx.get(f"{base}/models/{LINE_TWIN}/secret.txt", headers=headers).status_code == 404
    assert httpx.get(f"{base}/models/{LINE_TWIN}/line.yaml", headers=headers).status_code == 404
    escape = f"{base}/models/{LINE_TWIN}/..%2F..%2Fetc%2Fpasswd"
    assert httpx.get(escape, headers=headers).status_code == 404


def test_a_machine_with_a_gltf_model_is_drawn_with_it_and_keeps_its_live_colour(
    server: tuple[str, Workspace], browser: Any
) -> None:
    base, _ = server
    ann = Visitor(browser, base, "Ann", "ann")
    try:
        ann.enter(LINE_TWIN, SITE)
        ann.wait(f"window.twinverse.factory.models.placed.has('{OP010}')", timeout_ms=10_000)
        box = ann.js(
            f"""async () => {{ const THREE = await import('three');
            const b = new THREE.Box3().setFromObject(window.twinverse.factory.models.placed.get('{OP010}'));
            return {{min: b.min.toArray(), max: b.max.toArray()}}; }}"""
        )
        (x0, y0, z0), (x1, y1, z1) = box["min"], box["max"]
        # Centred on the machine (scene x = east, scene z = -north), standing on the floor.
        assert abs((x0 + x1) / 2 - PRESS_AT[0]) < 0.05
        assert abs((z0 + z1) / 2 + PRESS_AT[1]) < 0.05
        assert 0 <= y0 < 0.2
        # Scaled as a whole to fit the footprint: the 4 × 4 × 3 pyramid fills the 2.6 m depth.
        width, depth, height = PRESS_FOOTPRINT
        assert x1 - x0 <= width + 1e-6 and z1 - z0 <= depth + 1e-6 and y1 - y0 <= height + 1e-6
        assert max(x1 - x0, z1 - z0) == pytest.approx(min(width, depth), abs=0.01)
        # The model is what a pointer hits there, and it stands for the machine.
        hit = ann.js(
            f"""async () => {{ const THREE = await import('three');
            const f = window.twinverse.factory, h = window.twinverse.host;
            h.raycaster.set(new THREE.Vector3({PRESS_AT[0]}, 20, {-PRESS_AT[1]}), new THREE.Vector3(0, -1, 0));
            return f.idOfHit(h.raycaster.intersectObjects(f.pickables(), false)[0]); }}"""
        )
        assert hit == OP010
        # The body under it shrinks to a plinth that still shows the live state.
        assert ann.js(f"window.twinverse.factory.field.isModelled('{OP010}')") is True
        ann.js(f"window.twinverse.factory.applyChange('{OP010}', 'state', 'down')")
        assert ann.js(f"window.twinverse.factory.field.colourOf('{OP010}')") == DOWN
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        ann.js(
            f"""(() => {{ const h = window.twinverse.host;
            h.controls.target.set({PRESS_AT[0]}, 0, {-PRESS_AT[1]}); h.camera.position.set({PRESS_AT[0] + 6}, 7, {-PRESS_AT[1] + 9}); }})()"""
        )
        ann.page.wait_for_timeout(800)
        ann.page.screenshot(path=str(ARTIFACTS / "factory-gltf.png"))
        assert expected_errors(ann) == []
    finally:
        ann.close()


def test_a_model_that_does_not_load_leaves_the_parametric_mesh(
    server: tuple[str, Workspace], browser: Any
) -> None:
    base, _ = server
    ann = Visitor(browser, base, "Ann", "ann")
    try:
        ann.enter(LINE_TWIN, SITE)
        ann.wait(f"window.twinverse.factory.models.placed.has('{OP010}')", timeout_ms=10_000)
        other = f"{LINE_TWIN}/changzhou/hall-2/ie3-line/op020"
        failed = ann.js(
            f"""window.twinverse.factory.models.load([{{...window.twinverse.factory.items.get('{other}'),
            model: '/models/{LINE_TWIN}/models/missing.gltf'}}]).then(() => [...window.twinverse.factory.models.failed.keys()])"""
        )
        assert other in failed
        assert ann.js(f"window.twinverse.factory.field.isModelled('{other}')") is False
    finally:
        ann.close()
