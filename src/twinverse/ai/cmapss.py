"""NASA C-MAPSS turbofan run-to-failure data: reading a subset and its evaluation protocol.

A *subset* (``FD001`` … ``FD004``) is three files in one folder: ``train_FD00x.txt``
(engines run to failure), ``test_FD00x.txt`` (engines cut off some time before
failure) and ``RUL_FD00x.txt`` (the true remaining life of each test engine at its
last cycle). Rows are ``unit cycle setting1..3 sensor1..21`` separated by spaces.

The standard protocol (Heimes 2008, Zheng 2017 and the papers after them): the
training target is the piecewise-linear RUL capped at :data:`RUL_CAP` cycles, and a
model is judged on the last cycle of every test engine by RMSE and by the NASA
asymmetric score, which punishes late predictions more than early ones.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from twinverse.ai.errors import DataFormatError

Array = npt.NDArray[np.float64]

RUL_CAP = 125
"""Cycles: above this the engine is taken as healthy and its target RUL held constant."""

N_SETTINGS = 3
N_SENSORS = 21
N_COLUMNS = 2 + N_SETTINGS + N_SENSORS
SUBSET_PATTERN = re.compile(r"^FD\d{3}$")


@dataclass(frozen=True, slots=True)
class Fleet:
    """Trajectories of several engines: one row per (engine, cycle), rows ordered by engine.

    ``settings`` has the three operating settings, ``sensors`` the 21 sensor channels;
    ``starts[i]:starts[i+1]`` are the rows of the i-th engine.
    """

    units: npt.NDArray[np.int64]
    cycles: npt.NDArray[np.int64]
    settings: Array
    sensors: Array

    @property
    def starts(self) -> npt.NDArray[np.int64]:
        change = np.flatnonzero(np.diff(self.units)) + 1
        return np.concatenate(([0], change, [len(self.units)])).astype(np.int64)

    @property
    def engine_count(self) -> int:
        return len(self.starts) - 1

    def lengths(self) -> npt.NDArray[np.int64]:
        return np.diff(self.starts)

    def select(self, engines: npt.NDArray[np.int64]) -> Fleet:
        """The fleet of the given engine positions (0-based, in this fleet's order)."""
        starts = self.starts
        rows = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in engines])
        return Fleet(self.units[rows], self.cycles[rows], self.settings[rows], self.sensors[rows])


@dataclass(frozen=True, slots=True)
class Subset:
    """One C-MAPSS subset: training fleet, test fleet and the test engines' true RUL."""

    name: str
    train: Fleet
    test: Fleet
    test_rul: npt.NDArray[np.int64]
    data_hash: str
    """SHA-256 over the three files, so a saved model knows which data trained it."""


def training_targets(fleet: Fleet, cap: int = RUL_CAP) -> Array:
    """Piecewise-linear RUL of every row of a run-to-failure fleet, capped at ``cap``."""
    starts = fleet.starts
    rul = np.empty(len(fleet.units), dtype=np.float64)
    for i in range(fleet.engine_count):
        n = starts[i + 1] - starts[i]
        rul[starts[i] : starts[i + 1]] = np.arange(n - 1, -1, -1)
    return np.minimum(rul, cap)


def nasa_score(predicted: Array, actual: Array) -> float:
    """The PHM08 asymmetric score: sum of exp(-d/13)-1 for early and exp(d/10)-1 for late."""
    d = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sum(np.where(d < 0, np.expm1(-d / 13.0), np.expm1(d / 10.0))))


def rmse(predicted: Array, actual: Array) -> float:
    d = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(d * d)))


def read_fleet(path: Path) -> Fleet:
    """Read a ``train_``/``test_`` file; raises :class:`DataFormatError` naming file and line."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as err:
        raise DataFormatError(path, "file not found") from err
    except (UnicodeDecodeError, OSError) as err:
        raise DataFormatError(path, f"cannot read as ASCII text ({err})") from err
    table = _parse_table(path, text)
    units = table[:, 0].astype(np.int64)
    cycles = table[:, 1].astype(np.int64)
    order = np.lexsort((cycles, units))
    if not np.array_equal(order, np.arange(len(order))):
        raise DataFormatError(path, "rows must be ordered by unit, then by cycle")
    return Fleet(units, cycles, table[:, 2:5].copy(), table[:, 5:].copy())


def _parse_table(path: Path, text: str) -> Array:
    """Parse fast with numpy; on failure, walk the lines to say which one is wrong."""
    try:
        table = np.loadtxt(text.splitlines(), dtype=np.float64, ndmin=2)
    except ValueError:
        table = None
    if table is not None and table.shape[1:] == (N_COLUMNS,) and np.isfinite(table).all():
        return table
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != N_COLUMNS:
            raise DataFormatError(
                path,
                f"expected {N_COLUMNS} numbers (unit, cycle, 3 settings, 21 sensors), "
                f"got {len(fields)}",
                line=number,
            )
        try:
            values = np.asarray([float(f) for f in fields])
        except ValueError as err:
            raise DataFormatError(path, f"not a number: {err}", line=number) from err
        if not np.isfinite(values).all():
            raise DataFormatError(path, "NaN or infinite value", line=number)
    raise DataFormatError(path, "no data rows")


def read_rul(path: Path, expected: int) -> npt.NDArray[np.int64]:
    """Read ``RUL_FD00x.txt``: one non-negative integer per test engine."""
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="ascii").splitlines()]
    except FileNotFoundError as err:
        raise DataFormatError(path, "file not found") from err
    except (UnicodeDecodeError, OSError) as err:
        raise DataFormatError(path, f"cannot read as ASCII text ({err})") from err
    values: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        if not line.isdigit():
            raise DataFormatError(
                path, f"expected a whole number of cycles, got {line!r}", line=number
            )
        values.append(int(line))
    if len(values) != expected:
        raise DataFormatError(
            path, f"expected {expected} values (one per test engine), got {len(values)}"
        )
    return np.asarray(values, dtype=np.int64)


def subset_files(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """The train, test and RUL files of subset ``name`` in ``folder``."""
    if not SUBSET_PATTERN.match(name):
        raise DataFormatError(folder, f"subset must look like FD001, got {name!r}")
    return (
        folder / f"train_{name}.txt",
        folder / f"test_{name}.txt",
        folder / f"RUL_{name}.txt",
    )


def hash_files(paths: tuple[Path, ...]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_subset(folder: Path, name: str) -> Subset:
    """Read one subset from a C-MAPSS-format folder; raises :class:`DataFormatError`."""
    if not folder.is_dir():
        raise DataFormatError(folder, "not a folder of C-MAPSS files")
    train_path, test_path, rul_path = subset_files(folder, name)
    train = read_fleet(train_path)
    test = read_fleet(test_path)
    rul = read_rul(rul_path, test.engine_count)
    return Subset(name, train, test, rul, hash_files((train_path, test_path, rul_path)))
