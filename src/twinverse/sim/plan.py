"""Running a production plan on the shop floor, many times over: how robust is it?

A plan fixes, for every operation, its machine and its place in that machine's
sequence. The shop then works the plan as shops do: each machine takes its
operations in the planned order, starting each one as soon as the job's previous
operation is done, the machine has finished the one before (plus the setup
between them) and the job is released — and only where it fits wholly in the
machine's open time, as the plan required. What differs from the plan is
chance: processing times vary around the planned ones, and machines fail while
they work (operation-dependent failures: the number of failures during ``p``
units of work is Poisson with mean ``p / MTBF``, each repair lasting an
exponential time of mean MTTR, so the downtime is Gamma-distributed).

All replications run at once, one operation at a time in planned start order
(a valid order: the plan respects both job and machine precedence), with numpy
over the replications.

Closed time (breaks, nights, weekends, maintenance) is honoured in one of two
ways (:class:`Disturbance`): work pauses while the machine is closed and goes
on when it opens — the default, as a shop does — or, as the plan placed it, an
operation starts only where it fits wholly in open time; if a stretched one no
longer fits in any window left, it starts at the first open moment and runs on
into the closed time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twinverse.sim.stats import confidence_interval

Int64Array = npt.NDArray[np.int64]
Float64Array = npt.NDArray[np.float64]


class PlanShapeError(ValueError):
    """The arrays describing a plan do not fit together."""


@dataclass(frozen=True)
class PlanArrays:
    """A plan as arrays; operations are in planned start order.

    ``job_prev[i]`` / ``machine_prev[i]`` / ``operator_prev[i]`` are the
    operations before ``i`` in its job / on its machine / by its operator (-1 for
    none); ``setup[i]`` is the setup time before ``i`` on its machine;
    ``open_windows[calendar[i]]`` are the windows ``(start, end)`` in which ``i``
    may run — its machine's open time, cut to its operator's if it has one
    (``None``: always open). ``mtbf[m]`` / ``mttr[m]`` of machine ``m`` are in
    the plan's time units (``inf`` MTBF: never fails).
    """

    machine: Int64Array
    job: Int64Array
    duration: Float64Array
    release: Float64Array
    job_prev: Int64Array
    machine_prev: Int64Array
    setup: Float64Array
    planned_end: Float64Array
    open_windows: tuple[Float64Array | None, ...]
    mtbf: Float64Array
    mttr: Float64Array
    calendar: Int64Array | None = None  # default: the machine's index
    operator_prev: Int64Array | None = None
    fixed: npt.NDArray[np.bool_] | None = None  # operations that already happened: no chance

    def __post_init__(self) -> None:
        n = len(self.machine)
        for name in ("job", "duration", "release", "job_prev", "machine_prev", "setup"):
            if len(getattr(self, name)) != n:
                raise PlanShapeError(f"{name} has {len(getattr(self, name))} rows, expected {n}")
        m = len(self.mtbf)
        if len(self.mttr) != m:
            raise PlanShapeError(f"mtbf and mttr need one value per machine ({m})")
        if n and (self.machine.min() < 0 or self.machine.max() >= m):
            raise PlanShapeError("an operation's machine index is out of range")
        calendar = self.machine if self.calendar is None else self.calendar
        if n and (calendar.min() < 0 or calendar.max() >= len(self.open_windows)):
            raise PlanShapeError("an operation's calendar index is out of range")
        order_ok = (self.job_prev < np.arange(n)) & (self.machine_prev < np.arange(n))
        if self.operator_prev is not None:
            order_ok &= self.operator_prev < np.arange(n)
        if not order_ok.all():
            first = int(np.flatnonzero(~order_ok)[0])
            raise PlanShapeError(
                f"operation {first} comes before its predecessor: not in planned start order"
            )


@dataclass(frozen=True)
class Disturbance:
    """How far the shop floor departs from the plan."""

    cv: float = 0.1  # coefficient of variation of processing times (lognormal, mean = planned)
    failures: bool = True  # machines fail while working, per their MTBF / MTTR
    # True: work stops when the machine closes (a break, the shift's end) and goes
    # on when it opens. False: an operation starts only where it fits wholly in
    # open time, as the plan placed it.
    pause: bool = True

    def __post_init__(self) -> None:
        if not (0.0 <= self.cv < 10.0):
            raise ValueError(f"cv must be in [0, 10), got {self.cv}")


def execute(
    plan: PlanArrays, disturbance: Disturbance, replications: int, seed: int = 0
) -> Float64Array:
    """End times of every operation in every replication: an array (replications, operations)."""
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    rng = np.random.default_rng(seed)
    n = len(plan.machine)
    r = replications
    work = _processing_times(rng, plan.duration, disturbance.cv, r)
    if disturbance.failures:
        work += _downtime(rng, work, plan.mtbf[plan.machine], plan.mttr[plan.machine])
    if plan.fixed is not None:
        work[:, plan.fixed] = plan.duration[plan.fixed]
    end = np.empty((r, n))
    zero = np.zeros(r)
    calendar = plan.machine if plan.calendar is None else plan.calendar
    for i in range(n):
        ready = np.full(r, plan.release[i])
        if plan.job_prev[i] >= 0:
            np.maximum(ready, end[:, plan.job_prev[i]], out=ready)
        if plan.machine_prev[i] >= 0:
            np.maximum(ready, end[:, plan.machine_prev[i]] + plan.setup[i], out=ready)
        elif plan.setup[i] > 0:
            np.maximum(ready, zero + plan.setup[i], out=ready)
        if plan.operator_prev is not None and plan.operator_prev[i] >= 0:
            np.maximum(ready, end[:, plan.operator_prev[i]], out=ready)
        windows = plan.open_windows[calendar[i]]
        if windows is None or len(windows) == 0:
            end[:, i] = ready + work[:, i]
        elif disturbance.pause:
            end[:, i] = _run_in_open_time(ready, work[:, i], windows)
        else:
            end[:, i] = _fit(ready, work[:, i], windows) + work[:, i]
    return end


def _run_in_open_time(
    ready: Float64Array, work: Float64Array, windows: Float64Array
) -> Float64Array:
    """When ``work`` units of open time, counted from the first open moment >= ready, are done."""
    opens, closes = windows[:, 0], windows[:, 1]
    before = np.concatenate(([0.0], np.cumsum(closes - opens)[:-1]))  # open time before each window
    k = np.searchsorted(closes, ready, side="right")  # first window closing after ready
    if (k >= len(opens)).any():  # past the last window: nothing closes any more
        k = np.minimum(k, len(opens) - 1)
    start = np.maximum(ready, opens[k])
    target = before[k] + (start - opens[k]) + work
    # The window in which the open time reaches ``target``, and where in it.
    j = np.maximum(np.searchsorted(before + (closes - opens), target, side="left"), k)
    j = np.minimum(j, len(opens) - 1)
    return np.where(work > 0, opens[j] + (target - before[j]), start)


def _processing_times(
    rng: np.random.Generator, planned: Float64Array, cv: float, r: int
) -> Float64Array:
    if cv == 0.0:
        return np.broadcast_to(planned, (r, len(planned))).copy()
    sigma2 = np.log1p(cv * cv)
    mu = np.log(np.maximum(planned, 1e-300)) - sigma2 / 2
    draws = rng.lognormal(mu, np.sqrt(sigma2), size=(r, len(planned)))
    return np.where(planned > 0, draws, 0.0)


def _downtime(
    rng: np.random.Generator, work: Float64Array, mtbf: Float64Array, mttr: Float64Array
) -> Float64Array:
    rate = np.where(np.isfinite(mtbf) & (mtbf > 0), work / np.where(mtbf > 0, mtbf, 1.0), 0.0)
    failures = rng.poisson(rate)
    down = np.zeros_like(work)
    hit = failures > 0
    if hit.any():
        scale = np.broadcast_to(mttr, work.shape)[hit]
        down[hit] = rng.gamma(failures[hit], scale)
    return down


def _fit(ready: Float64Array, work: Float64Array, windows: Float64Array) -> Float64Array:
    """The earliest start >= ready where ``work`` fits wholly in one open window."""
    opens, closes = windows[:, 0], windows[:, 1]
    # (replications, windows): where the operation could start in each window, and if it fits
    begin = np.maximum(ready[:, None], opens[None, :])
    fits = (begin + work[:, None] <= closes[None, :]) & (closes[None, :] > ready[:, None])
    first = np.argmax(fits, axis=1)
    found = fits[np.arange(len(ready)), first]
    start = begin[np.arange(len(ready)), first]
    if not found.all():
        # Longer than any open window left: start at the first open moment and run on.
        later = np.maximum(ready[:, None], opens[None, :])
        usable = closes[None, :] > ready[:, None]
        nxt = np.where(
            usable.any(axis=1), later[np.arange(len(ready)), np.argmax(usable, 1)], ready
        )
        start = np.where(found, start, nxt)
    return start


@dataclass(frozen=True)
class KpiSpread:
    """One KPI of the plan against its spread over the replications."""

    planned: float
    mean: float
    ci95: float
    p50: float
    p90: float
    p95: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(getattr(self, k)), 3) for k in self.__dataclass_fields__}


def spread(planned: float, values: Float64Array) -> KpiSpread:
    estimate = confidence_interval(values)
    p50, p90, p95 = np.percentile(values, [50, 90, 95])
    return KpiSpread(
        planned, estimate.mean, estimate.half_width, float(p50), float(p90), float(p95)
    )
