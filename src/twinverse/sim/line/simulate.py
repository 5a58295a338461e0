"""Running a line model: settings checked, engine chosen, replications seeded and spread over threads.

Randomness is injected: replication ``r`` draws from
``Generator(PCG64(SeedSequence(seed).spawn(replications)[r]))``, so the same seed
gives the same results however many threads run them, and replications draw
from independent streams. The kernels release the GIL, so replications run in
parallel on ``workers`` threads.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import numpy as np

from twinverse.sim.line.encoding import EncodedLine
from twinverse.sim.line.engine import N_STATES, des_replication
from twinverse.sim.line.errors import FlowLineError, RunSettingsError
from twinverse.sim.line.flowline import flow_line_obstacles, flowline_replication
from twinverse.sim.line.model import LineModel
from twinverse.sim.line.results import LineResults, Method, RunSettings, assemble

# `parts=None` (run to the horizon) is passed to the kernels as a count never reached.
_NO_PART_LIMIT: Final = 1 << 62
_N_SCALARS: Final = 9


def choose_method(model: LineModel, method: Method | str = Method.AUTO) -> Method:
    """The engine that will run ``model``; raises FlowLineError when the recursion is forced but cannot."""
    chosen = Method(method)
    obstacles = flow_line_obstacles(model)
    if chosen is Method.AUTO:
        return Method.DES if obstacles else Method.RECURSION
    if chosen is Method.RECURSION and obstacles:
        raise FlowLineError(obstacles)
    return chosen


def simulate_line(
    model: LineModel,
    *,
    parts: int | None,
    warmup: int = 0,
    replications: int = 1,
    seed: int = 0,
    horizon: float | None = None,
    method: Method | str = Method.AUTO,
    workers: int | None = None,
) -> LineResults:
    """Simulate ``replications`` independent runs of ``model``.

    A run ends when the ``parts``-th good part leaves the line or at ``horizon``
    seconds, whichever comes first; statistics cover the time from the moment the
    ``warmup``-th good part leaves. ``method`` picks the engine (``auto``: the
    flow-line recursion when the model qualifies, else the event simulation).
    ``workers`` threads run replications (default: one per CPU, at most one per
    replication). Raises RunSettingsError for impossible settings and FlowLineError
    when ``method='recursion'`` is asked for a model it cannot run.
    """
    settings = _checked(parts, warmup, replications, seed, horizon)
    chosen = choose_method(model, method)
    if workers is None:
        workers = min(os.cpu_count() or 1, replications)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise RunSettingsError("workers", "a whole number >= 1", workers)

    line = EncodedLine.of(model)
    n_st = len(model.stations)
    scalars = np.zeros((replications, _N_SCALARS))
    state_time = np.zeros((replications, n_st, N_STATES))
    processed = np.zeros((replications, n_st), np.int64)
    run = _replication_runner(line, chosen, settings)
    streams = np.random.SeedSequence(seed).spawn(replications)

    def one(r: int) -> None:
        rng = np.random.Generator(np.random.PCG64(streams[r]))
        scalars[r] = run(rng, state_time[r], processed[r])

    started = time.perf_counter()
    if workers == 1:
        for r in range(replications):
            one(r)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="line-sim") as pool:
            for _ in pool.map(one, range(replications)):
                pass
    wall = time.perf_counter() - started
    return assemble(model, chosen, settings, scalars, state_time, processed, wall)


def _checked(
    parts: int | None, warmup: int, replications: int, seed: int, horizon: float | None
) -> RunSettings:
    def whole(value: object) -> bool:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)

    if parts is not None and (not whole(parts) or parts < 1):
        raise RunSettingsError("parts", "a whole number >= 1, or None to run to the horizon", parts)
    if horizon is not None and (
        isinstance(horizon, bool) or not isinstance(horizon, int | float) or not horizon > 0
    ):
        raise RunSettingsError("horizon", "a time in seconds above 0, or None", horizon)
    if parts is None and (horizon is None or not math.isfinite(horizon)):
        raise RunSettingsError("horizon", "a finite horizon when parts is None", horizon)
    if not whole(warmup) or warmup < 0 or (parts is not None and warmup >= parts):
        raise RunSettingsError("warmup", f"a whole number from 0 to parts - 1 ({parts})", warmup)
    if not whole(replications) or replications < 1:
        raise RunSettingsError("replications", "a whole number >= 1", replications)
    if not whole(seed) or seed < 0:
        raise RunSettingsError("seed", "a whole number >= 0", seed)
    return RunSettings(
        parts=None if parts is None else int(parts),
        warmup=int(warmup),
        horizon=None if horizon is None else float(horizon),
        replications=int(replications),
        seed=int(seed),
    )


def _replication_runner(
    line: EncodedLine, method: Method, settings: RunSettings
) -> Callable[[np.random.Generator, np.ndarray, np.ndarray], tuple[Any, ...]]:
    """A function running one replication with a generator into its output rows."""
    parts = _NO_PART_LIMIT if settings.parts is None else settings.parts
    horizon = math.inf if settings.horizon is None else settings.horizon
    warmup = settings.warmup
    if method is Method.RECURSION:

        def recursion(rng: np.random.Generator, st: np.ndarray, pr: np.ndarray) -> tuple[Any, ...]:
            return flowline_replication(  # type: ignore[no-any-return]
                rng,
                line.buffer_cap,
                line.proc_kind,
                line.proc_par,
                line.fails,
                line.mtbf_kind,
                line.mtbf_par,
                line.mttr_kind,
                line.mttr_par,
                line.arrival_kind,
                line.arrival_par,
                parts,
                warmup,
                horizon,
                st,
                pr,
            )

        return recursion

    def des(rng: np.random.Generator, st: np.ndarray, pr: np.ndarray) -> tuple[Any, ...]:
        return des_replication(  # type: ignore[no-any-return]
            rng,
            line.station_of,
            line.first_server,
            line.queue_cap,
            line.proc_kind,
            line.proc_par,
            line.fails,
            line.mtbf_kind,
            line.mtbf_par,
            line.mttr_kind,
            line.mttr_par,
            line.scrap,
            line.skill,
            line.arrival_kind,
            line.arrival_par,
            line.op_qual,
            line.op_time,
            line.op_scrap,
            line.shift_period,
            line.shift_bounds,
            parts,
            warmup,
            horizon,
            st,
            pr,
        )

    return des
