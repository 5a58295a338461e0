"""What `twinverse watch` shows for a twin's machines."""

from __future__ import annotations

from rich.console import Console

from twinverse.cli.live import machine_table


def _text(entities: dict[str, dict[str, object]]) -> str:
    console = Console(record=True, width=200)
    console.print(machine_table("t", entities))
    return console.export_text()


def test_rul_columns_appear_only_where_a_monitor_estimates_it() -> None:
    line = {"x/op010": {"kind": "machine", "state": "running", "parts": 12, "temperature": 41.0}}
    assert "RUL" not in _text(line)
    engines = {
        **line,
        "x/esn-41": {
            "kind": "machine",
            "state": "running",
            "rul": 57.4,
            "rul_low": 31.2,
            "rul_high": 80.9,
            "health": 0.46,
            "maintenance_due": True,
        },
        "x/sensor": {"kind": "buffer", "rul": 1},
    }
    text = _text(engines)
    assert "RUL cycles" in text and "57 (31–81)" in text and "0.46" in text
    assert "sensor" not in text
    row = next(line for line in text.splitlines() if "esn-41" in line)
    assert "●" in row  # maintenance due stands out


def test_dids_print_as_they_are() -> None:
    from twinverse.cli.render import console

    with console.capture() as captured:
        console.print("sold to did:key:z6MkraYXqMh9RGtseYF8f5ervuunVuabGbAnfpm21gWVdqac")
    assert "did:key:z6Mk" in captured.get()
