"""A what-if study: the baseline and named scenarios of a network, replicated, compared.

:func:`run_study` compiles the scenario file's network once, draws each named
scenario's disruptions per replication, runs replications in blocks (so memory
stays bounded and blocks could run elsewhere), and keeps for each scenario the
per-replication KPIs, daily bands of the fill rate and inventory value, and per
node the **time-to-survive** (days from the first disruption until the node
first fails its customers: backorders above half a day of its demand) and
**time-to-recover** (days from the first disruption until its last failing
day). Random streams come from ``numpy.random.SeedSequence(seed)``: each block
gets its own child, and every scenario reuses the same children (common random
numbers), so differences between scenarios are due to the disruptions, not to
luck.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from twinverse.errors import TwinverseError
from twinverse.scenario.schema import NamedScenario, Scenario
from twinverse.sim.disruptions import Plan, make_plan
from twinverse.sim.network.engine import FAIL_DAYS, BlockResult, Compiled, compile_arrays, run_block
from twinverse.sim.network.model import NetworkModel, compile_network
from twinverse.sim.network.state import StartState
from twinverse.sim.stats import Estimate
from twinverse.sim.stats import confidence_interval as estimate

BLOCK = 250
BASELINE = "baseline"

Progress = Callable[[int, int], None]


class StudyError(TwinverseError):
    code = "simulation-study"


@dataclass(slots=True)
class ScenarioResult:
    name: str
    title: str
    disruptions: list[str]
    mitigations: list[str]
    kpis: dict[str, np.ndarray]
    fill_band: np.ndarray  # (3, T): 5th percentile, mean, 95th percentile
    inventory_band: np.ndarray  # (3, T)
    nodes: list[str]
    time_to_survive: np.ndarray  # (R, nodes), NaN: never failed
    time_to_recover: np.ndarray  # (R, nodes), 0: never failed; NaN: no disruption
    seconds: float = 0.0

    def estimate(self, kpi: str) -> Estimate:
        return estimate(self.kpis[kpi])

    def survival(self) -> dict[str, tuple[Estimate, Estimate, float]]:
        """Per node: time-to-survive, time-to-recover (days) and the share of runs it never failed."""
        out = {}
        for j, node in enumerate(self.nodes):
            tts = self.time_to_survive[:, j]
            ttr = self.time_to_recover[:, j]
            disrupted = ~np.isnan(ttr)
            never = float(np.mean(np.isnan(tts[disrupted]))) if disrupted.any() else float("nan")
            out[node] = (estimate(tts), estimate(ttr), never)
        return out


@dataclass(slots=True)
class Study:
    """Everything a report needs: the network, its scenarios' results, how it was run."""

    source: str
    enterprise: str
    model: NetworkModel
    replications: int
    seed: int
    results: list[ScenarioResult] = field(default_factory=list)
    seconds: float = 0.0
    start: StartState | None = None  # the twin state it started from, if not steady state

    def result(self, name: str) -> ScenarioResult:
        for r in self.results:
            if r.name == name:
                return r
        raise StudyError(f"no scenario {name!r} in this study")


def scenario_names(scenario: Scenario) -> list[str]:
    return [s.id for s in scenario.scenarios]


def run_study(
    scenario: Scenario,
    names: Sequence[str] | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    source: str = "",
    progress: Progress | None = None,
    start: StartState | None = None,
    ray: bool = False,
) -> Study:
    """Run the baseline and the named scenarios (all of them when ``names`` is None).

    With ``ray`` the blocks of replications run as Ray tasks, on the cluster at
    ``RAY_ADDRESS`` or a local one (``pip install 'twinverse[scale]'``); the
    results are the same as on threads, run for run.

    With ``start`` the runs begin from a twin's state (stock on hand, machines
    down) rather than from steady state; see :mod:`twinverse.sim.network.state`.
    """
    named = {s.id: s for s in scenario.scenarios}
    chosen = list(named) if names is None else list(names)
    for name in chosen:
        if name not in named and name != BASELINE:
            known = ", ".join(named) or "none"
            raise StudyError(f"unknown scenario {name!r}; the file declares: {known}")
    reps = replications or scenario.simulation.replications
    if reps < 2:
        raise StudyError("a study needs at least 2 replications for confidence intervals")
    seed = scenario.simulation.seed if seed is None else seed
    started = time.perf_counter()
    model = compile_network(scenario)
    if start is not None:
        model = start.apply(model)
    arrays = compile_arrays(model)
    study = Study(source, scenario.enterprise.name, model, reps, seed, start=start)
    plans: list[NamedScenario | None] = [None] + [named[n] for n in chosen if n != BASELINE]
    blocks = [min(BLOCK, reps - b) for b in range(0, reps, BLOCK)]
    # The same streams for every scenario (common random numbers): block b of each
    # scenario draws the same demand, lead times and disruption timings.
    streams = [child.spawn(2) for child in np.random.SeedSequence(seed).spawn(len(blocks))]

    def jobs(spec: NamedScenario | None) -> list[tuple[Plan, int, np.random.SeedSequence]]:
        out = []
        for size, (sim_seq, plan_seq) in zip(blocks, streams, strict=True):
            plan = make_plan(scenario, model, spec, size, np.random.default_rng(plan_seq))
            model.notes += [n for n in plan.notes if n not in model.notes]
            if start is not None:
                start.add_known(plan, size)
            out.append((plan, size, sim_seq))
        return out

    total = len(plans) * reps
    if ray:
        every = [job for spec in plans for job in jobs(spec)]
        parts_all = _on_ray(arrays, every, total, progress)
        for i, spec in enumerate(plans):
            result = _combine(spec, parts_all[i * len(blocks) : (i + 1) * len(blocks)], arrays)
            result.seconds = (time.perf_counter() - started) / len(plans)
            study.results.append(result)
        study.seconds = time.perf_counter() - started
        return study
    done = 0
    for spec in plans:
        t0 = time.perf_counter()
        parts: list[BlockResult] = []
        for plan, size, sim_seq in jobs(spec):
            parts.append(run_block(arrays, plan, size, np.random.default_rng(sim_seq)))
            done += size
            if progress is not None:
                progress(done, total)
        result = _combine(spec, parts, arrays)
        result.seconds = time.perf_counter() - t0
        study.results.append(result)
    study.seconds = time.perf_counter() - started
    return study


def _remote_block(
    c: Compiled, plan: Plan, size: int, seq: np.random.SeedSequence
) -> BlockResult:  # pragma: no cover - runs in a Ray worker process
    return run_block(c, plan, size, np.random.default_rng(seq), workers=1)


def _on_ray(
    arrays: Compiled,
    jobs: list[tuple[Plan, int, np.random.SeedSequence]],
    total: int,
    progress: Progress | None,
) -> list[BlockResult]:
    """Run the blocks as Ray tasks (on ``RAY_ADDRESS``'s cluster, or a local one), in order."""
    try:
        import ray as ray_api
    except ImportError as err:
        raise StudyError(
            "Ray is not installed; install the scale extra: pip install 'twinverse[scale]'"
        ) from err
    if not ray_api.is_initialized():
        ray_api.init(include_dashboard=False, log_to_driver=False)
    shared = ray_api.put(arrays)
    task = ray_api.remote(num_cpus=1)(_remote_block)
    futures = [task.remote(shared, plan, size, seq) for plan, size, seq in jobs]
    sizes = {f: size for f, (_, size, _) in zip(futures, jobs, strict=True)}
    pending, done = list(futures), 0
    while pending:
        ready, pending = ray_api.wait(pending, num_returns=1)
        done += sum(sizes[f] for f in ready)
        if progress is not None:
            progress(done, total)
    results: list[BlockResult] = ray_api.get(futures)
    return results


def _combine(spec: NamedScenario | None, parts: list[BlockResult], c: Compiled) -> ScenarioResult:
    kpis = {k: np.concatenate([p.kpis[k] for p in parts]) for k in parts[0].kpis}
    fill = np.concatenate([p.daily_fill for p in parts if p.daily_fill is not None])
    value = np.concatenate(
        [p.daily_inventory_value for p in parts if p.daily_inventory_value is not None]
    )
    tts, ttr = [], []
    for p in parts:
        a, b = _survival(p)
        tts.append(a)
        ttr.append(b)
    return ScenarioResult(
        name=spec.id if spec else BASELINE,
        title=(spec.name or spec.id) if spec else "Baseline (no disruption)",
        disruptions=list(spec.disruptions) if spec else [],
        mitigations=list(spec.mitigations) if spec else [],
        kpis=kpis,
        fill_band=_band(fill),
        inventory_band=_band(value),
        nodes=list(c.nodes),
        time_to_survive=np.concatenate(tts),
        time_to_recover=np.concatenate(ttr),
    )


def _band(x: np.ndarray) -> np.ndarray:
    return np.vstack([np.percentile(x, 5, axis=0), x.mean(axis=0), np.percentile(x, 95, axis=0)])


def _survival(p: BlockResult) -> tuple[np.ndarray, np.ndarray]:
    """Time-to-survive and time-to-recover per replication and node, counted from the first disruption."""
    assert p.daily_backlog is not None and p.first_start is not None
    R, T, N = p.daily_backlog.shape
    tts = np.full((R, N), np.nan)
    ttr = np.full((R, N), np.nan)
    day = np.arange(T)[None, :, None]
    start = p.first_start[:, None, None]
    failing = (p.daily_backlog > FAIL_DAYS) & (day >= start) & (start >= 0)
    hit = failing.any(axis=1)
    first = np.argmax(failing, axis=1)
    last = T - 1 - np.argmax(failing[:, ::-1, :], axis=1)
    s = p.first_start[:, None].astype(float)
    disrupted = p.first_start >= 0
    tts = np.where(hit, first - s, np.nan)
    ttr = np.where(hit, last + 1 - s, 0.0)
    ttr[~disrupted, :] = np.nan
    return tts, ttr
