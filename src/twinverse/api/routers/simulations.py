"""What-if studies over HTTP: start one, watch its progress, read its result (docs/simulation-api.md).

A study runs on a background thread (one at a time per server, queued
otherwise) on the scenario document the twin was last loaded from, optionally
starting from the twin's state now or at a past time. Studies are kept in
memory, the newest 50 per server; a restart forgets them.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from twinverse.api.deps import PrincipalDep, WorkspaceDep
from twinverse.errors import TwinverseError
from twinverse.identity import Principal
from twinverse.sim.network.model import compile_network
from twinverse.sim.network.state import read_state
from twinverse.sim.report import to_html, to_json
from twinverse.sim.study import BASELINE, Study, StudyError, run_study
from twinverse.twin.errors import EntityNotFoundError
from twinverse.twin.instant import format_instant, parse_instant
from twinverse.workspace import Workspace

router = APIRouter(tags=["simulation"])

KEEP = 50
MAX_REPLICATIONS = 20_000


class SimulationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenarios: list[str] = Field(
        default_factory=list, description="named scenarios to compare with the baseline; [] = all"
    )
    replications: int = Field(200, ge=2, le=MAX_REPLICATIONS, description="runs per scenario")
    seed: int | None = Field(None, ge=0, description="random seed (default: the scenario's)")
    from_state: str | None = Field(
        None,
        description="start from the twin's stock and machine states: 'now' or an ISO 8601 time",
    )


class ProgressOut(BaseModel):
    done: int
    total: int


class ErrorOut(BaseModel):
    code: str
    message: str


class SimulationOut(BaseModel):
    id: str
    twin: str
    status: Literal["queued", "running", "done", "failed"]
    created: str
    scenarios: list[str]
    replications: int
    progress: ProgressOut
    seconds: float | None = None
    result: dict[str, Any] | None = None
    error: ErrorOut | None = None
    links: dict[str, str]


@dataclass
class Job:
    id: str
    twin: str
    tenant: str
    request: SimulationIn
    names: list[str]
    created: int
    status: Literal["queued", "running", "done", "failed"] = "queued"
    done: int = 0
    total: int = 0
    seconds: float | None = None
    study: Study | None = None
    error: ErrorOut | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def out(self, *, with_result: bool = True) -> SimulationOut:
        links = {"self": f"/simulations/{self.id}"}
        if self.status == "done":
            links["report"] = f"/simulations/{self.id}/report.html"
        return SimulationOut(
            id=self.id,
            twin=self.twin,
            status=self.status,
            created=format_instant(self.created),
            scenarios=self.names,
            replications=self.request.replications,
            progress=ProgressOut(done=self.done, total=self.total),
            seconds=self.seconds,
            result=to_json(self.study) if with_result and self.study is not None else None,
            error=self.error,
            links=links,
        )


class Jobs:
    """The server's studies: a single worker thread and the newest :data:`KEEP` records."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="twinverse-sim")
        self._ids = itertools.count(1)

    def submit(self, ws: Workspace, job: Job) -> None:
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, ws, job)

    def new_id(self) -> str:
        return f"sim-{int(time.time())}-{next(self._ids)}"

    def get(self, job_id: str, who: Principal) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.tenant != who.tenant:  # another company's study does not exist here
            raise EntityNotFoundError(f"no simulation {job_id!r}")
        return job

    def of_twin(self, twin: str) -> list[Job]:
        with self._lock:
            return [j for j in reversed(self._jobs.values()) if j.twin == twin]

    def _run(self, ws: Workspace, job: Job) -> None:
        job.status = "running"
        started = time.perf_counter()
        try:
            loaded = ws.scenario(job.twin)
            start = None
            when = job.request.from_state
            if when is not None:
                at = ws.clock() if when == "now" else parse_instant(when)
                graph = ws.graph(job.twin, as_of=None if when == "now" else at)
                start = read_state(compile_network(loaded.scenario), graph, at)

            def progress(done: int, total: int) -> None:
                job.done, job.total = done, total

            job.study = run_study(
                loaded.scenario,
                job.names,
                replications=job.request.replications,
                seed=job.request.seed,
                source=loaded.file,
                progress=progress,
                start=start,
            )
            job.status = "done"
        except TwinverseError as err:
            job.error = ErrorOut(code=err.code, message=err.message)
            job.status = "failed"
        except Exception as err:  # a bug must fail the study, not the worker thread
            job.error = ErrorOut(code="internal", message=f"{type(err).__name__}: {err}")
            job.status = "failed"
        finally:
            job.seconds = time.perf_counter() - started


def _jobs(request: Request) -> Jobs:
    jobs: Jobs | None = getattr(request.app.state, "simulations", None)
    if jobs is None:
        jobs = request.app.state.simulations = Jobs()
    return jobs


@router.post("/twins/{prefix}/simulations", status_code=202)
def start_simulation(
    prefix: str, body: SimulationIn, request: Request, ws: WorkspaceDep, who: PrincipalDep
) -> SimulationOut:
    """Start a study of the twin's network: the baseline and the named scenarios."""
    info = ws.twin_info(prefix, who)
    scenario = ws.scenario(prefix, who).scenario
    known = [s.id for s in scenario.scenarios]
    unknown = [n for n in body.scenarios if n not in known and n != BASELINE]
    if unknown:
        raise StudyError(
            f"unknown scenario(s) {', '.join(map(repr, unknown))}; "
            f"the twin's scenario declares: {', '.join(known) or 'none'}"
        )
    if body.from_state not in (None, "now"):
        at = parse_instant(body.from_state)
        if at < info.created_ts:
            raise StudyError(
                f"twin {prefix!r} did not exist at {format_instant(at)}; "
                f"it was created at {format_instant(info.created_ts)}"
            )
    names = list(body.scenarios) or known
    jobs = _jobs(request)
    job = Job(jobs.new_id(), prefix, info.tenant, body, names, ws.clock())
    job.total = body.replications * (1 + len([n for n in names if n != BASELINE]))
    jobs.submit(ws, job)
    return job.out()


@router.get("/simulations/{job_id}")
def get_simulation(job_id: str, request: Request, who: PrincipalDep) -> SimulationOut:
    return _jobs(request).get(job_id, who).out()


@router.get("/simulations/{job_id}/report.html", response_class=HTMLResponse)
def simulation_report(job_id: str, request: Request, who: PrincipalDep) -> HTMLResponse:
    job = _jobs(request).get(job_id, who)
    if job.study is None:
        raise StudyError(f"simulation {job_id!r} is {job.status}; its report comes when it is done")
    return HTMLResponse(to_html(job.study))


@router.get("/twins/{prefix}/simulations")
def list_simulations(
    prefix: str, request: Request, ws: WorkspaceDep, who: PrincipalDep
) -> list[SimulationOut]:
    """The twin's studies kept by this server, newest first (without their full results)."""
    ws.twin_info(prefix, who)
    return [j.out(with_result=False) for j in _jobs(request).of_twin(prefix)]
