"""A line model as flat numeric arrays, the input of the compiled kernels.

Stations, servers, buffers, operators and shift boundaries become int64/float64
arrays indexed by station, server or operator number; strings become indices.
Both engines read this one encoding, so they cannot disagree about what the
model says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twinverse.sim.line.model import LineModel
from twinverse.sim.line.sampling import encode_all

UNLIMITED = -1


@dataclass(frozen=True, slots=True, eq=False)
class EncodedLine:
    """The arrays; ``queue_cap[k]`` is the room in front of station ``k`` (``k = 0``: the input queue)."""

    station_of: (
        np.ndarray
    )  # int64[servers]: station of each server, servers numbered station by station
    first_server: np.ndarray  # int64[stations + 1]: servers of station i are first[i]:first[i+1]
    queue_cap: np.ndarray  # int64[stations]: -1 unlimited; [0] is the input queue (unlimited)
    buffer_cap: np.ndarray  # int64[stations]: buffer after station i, -1 unlimited ([-1] unused)
    proc_kind: np.ndarray
    proc_par: np.ndarray
    fails: np.ndarray  # bool[stations]
    mtbf_kind: np.ndarray
    mtbf_par: np.ndarray
    mttr_kind: np.ndarray
    mttr_par: np.ndarray
    scrap: np.ndarray
    skill: np.ndarray  # int64[stations]: skill index, -1 when no operator is needed
    arrival_kind: np.ndarray  # int64[1]; -1: saturated source
    arrival_par: np.ndarray  # float64[1, 3]
    op_qual: np.ndarray  # bool[operators, skills]
    op_time: np.ndarray
    op_scrap: np.ndarray
    shift_bounds: np.ndarray  # float64[2 * windows]: start0, end0, start1, …; empty: no shifts
    shift_period: float
    servers: np.ndarray  # int64[stations]

    @classmethod
    def of(cls, model: LineModel) -> EncodedLine:
        stations = model.stations
        servers = np.array([s.servers for s in stations], np.int64)
        first = np.zeros(len(stations) + 1, np.int64)
        first[1:] = np.cumsum(servers)
        caps = np.array([UNLIMITED if b is None else b for b in model.buffers], np.int64)
        queue_cap = np.concatenate([[UNLIMITED], caps]).astype(np.int64)
        buffer_cap = np.concatenate([caps, [UNLIMITED]]).astype(np.int64)
        proc_kind, proc_par = encode_all([s.process for s in stations])
        mtbf_kind, mtbf_par = encode_all([s.mtbf for s in stations])
        mttr_kind, mttr_par = encode_all([s.mttr for s in stations])
        needed = model.operators_needed
        skills = sorted({s.skill for s in stations if s.skill is not None}) if needed else []
        skill_index = {name: n for n, name in enumerate(skills)}
        operators = model.operators if needed else ()
        op_qual = np.zeros((len(operators), max(len(skills), 1)), np.bool_)
        for o, operator in enumerate(operators):
            for name in operator.skills:
                if name in skill_index:
                    op_qual[o, skill_index[name]] = True
        arrival_kind, arrival_par = encode_all([model.arrival])
        shifts = model.shifts
        bounds = (
            np.array([x for window in shifts.windows for x in window], np.float64)
            if shifts
            else np.zeros(0)
        )
        return cls(
            station_of=np.repeat(np.arange(len(stations), dtype=np.int64), servers),
            first_server=first,
            queue_cap=queue_cap,
            buffer_cap=buffer_cap,
            proc_kind=proc_kind,
            proc_par=proc_par,
            fails=np.array([s.fails for s in stations], np.bool_),
            mtbf_kind=mtbf_kind,
            mtbf_par=mtbf_par,
            mttr_kind=mttr_kind,
            mttr_par=mttr_par,
            scrap=np.array([s.scrap for s in stations], np.float64),
            skill=np.array(
                [skill_index.get(s.skill, -1) if s.skill else -1 for s in stations], np.int64
            ),
            arrival_kind=arrival_kind,
            arrival_par=arrival_par,
            op_qual=op_qual,
            op_time=np.array([o.time_factor for o in operators], np.float64),
            op_scrap=np.array([o.scrap_factor for o in operators], np.float64),
            shift_bounds=bounds,
            shift_period=shifts.period if shifts else 0.0,
            servers=servers,
        )
