"""Scheduling: solve orders on a scenario, watch the solver's progress, re-plan after events.

``POST /schedule/jobs`` starts a solve in a worker thread and returns its id;
``GET /schedule/jobs/{id}`` gives the progress so far (best objective, bound,
gap) and, once done, the checked plan; ``POST /schedule/jobs/{id}/replan``
re-plans a finished job from ``now`` after breakdowns, with started operations
frozen. The registry of jobs lives on ``app.state`` and is created on first use;
a company sees only its own jobs.

With ``twin`` set, the plan leaves free the capacity that twin's site has sold in
settled trades (``capacity_commitments``, see :mod:`twinverse.twin.commitments`).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from twinverse.api.deps import PrincipalDep, WorkspaceDep
from twinverse.errors import TwinverseError
from twinverse.identity import Principal
from twinverse.scenario import ScenarioError, parse_text, validate_document
from twinverse.schedule import (
    Breakdown,
    LotPolicy,
    Objective,
    ObjectiveKind,
    Order,
    Problem,
    Progress,
    Replan,
    SolveResult,
    SolverSettings,
    Strategy,
    order_rows,
    problem_from_scenario,
    replan,
    solve,
    validate,
)
from twinverse.twin.commitments import Commitment, read_commitments
from twinverse.twin.model import EntityKind

router = APIRouter(prefix="/schedule", tags=["schedule"])

MAX_TIME_LIMIT = 300.0
MAX_WORKERS = 8


class ScheduleJobNotFoundError(TwinverseError):
    code = "schedule-job-not-found"


class ScheduleJobStateError(TwinverseError):
    code = "schedule-job-not-ready"


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order: str = Field(min_length=1)
    product: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    due: dt.datetime
    release: dt.datetime | None = None
    weight: float = Field(default=1.0, ge=0)


class SolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(
        description="the scenario file's text (YAML or JSON)", max_length=20_000_000
    )
    orders: list[OrderIn] = Field(min_length=1, max_length=100_000)
    time_limit: float = Field(default=10.0, gt=0, le=MAX_TIME_LIMIT)
    workers: int = Field(default=2, ge=1, le=MAX_WORKERS)
    seed: int = 0
    objective: ObjectiveKind = ObjectiveKind.COMBINED
    strategy: Strategy = Strategy.AUTO
    max_lot: int = Field(default=60, ge=1)
    merge_hours: float = Field(default=12.0, ge=0)
    start: dt.datetime | None = None
    twin: str | None = Field(
        default=None,
        description="twin prefix whose site's sold capacity (settled trades) the plan leaves free",
    )


class BreakdownIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["breakdown"] = "breakdown"
    machine: str
    start: int = Field(ge=0, description="time units from the plan start")
    end: int = Field(gt=0)


class ReplanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: int = Field(ge=0, description="time units from the plan start")
    events: list[BreakdownIn] = Field(min_length=1, max_length=1000)
    time_limit: float = Field(default=10.0, gt=0, le=MAX_TIME_LIMIT)


class JobOut(BaseModel):
    id: str
    state: Literal["running", "done", "failed"]
    progress: list[dict[str, Any]]
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    notes: list[str] = Field(default_factory=list)


@dataclass
class _Job:
    id: str
    tenant: str
    problem: Problem
    settings: SolverSettings
    notes: list[str] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)
    result: SolveResult | None = None
    replanned: Replan | None = None
    error: TwinverseError | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def out(self) -> JobOut:
        state: Literal["running", "done", "failed"] = (
            "failed" if self.error else "done" if self.done.is_set() else "running"
        )
        body: dict[str, Any] | None = None
        if self.result is not None and self.done.is_set():
            problem = self.replanned.problem if self.replanned else self.problem
            body = {
                "plan": self.result.to_dict(),
                "orders": order_rows(self.result.schedule, problem),
                "violations": [str(v) for v in validate(self.result.schedule, problem)],
            }
            if self.replanned is not None:
                body["replan"] = {
                    k: v for k, v in self.replanned.to_dict().items() if k != "result"
                }
        return JobOut(
            id=self.id,
            state=state,
            progress=[p.to_dict() for p in list(self.progress)],
            result=body,
            error=None
            if self.error is None
            else {"code": self.error.code, "detail": self.error.message},
            notes=self.notes,
        )


class _Jobs:
    """The jobs of one app: bounded, oldest finished ones dropped first."""

    LIMIT = 200

    def __init__(self) -> None:
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    def add(self, job: _Job) -> None:
        with self._lock:
            if len(self._jobs) >= self.LIMIT:
                for key, old in list(self._jobs.items()):
                    if old.done.is_set():
                        del self._jobs[key]
                        break
            self._jobs[job.id] = job

    def get(self, job_id: str, who: Principal) -> _Job:
        with self._lock:
            found = self._jobs.get(job_id)
        if found is None or found.tenant != who.tenant:  # another company's job does not exist
            raise ScheduleJobNotFoundError(f"no schedule job {job_id!r}")
        return found


def _jobs(request: Request) -> _Jobs:
    state = request.app.state
    with _REGISTRY_LOCK:
        if not hasattr(state, "schedule_jobs"):
            state.schedule_jobs = _Jobs()
    jobs: _Jobs = state.schedule_jobs
    return jobs


_REGISTRY_LOCK = threading.Lock()


def _run(job: _Job, work: Any) -> None:
    try:
        work()
    except TwinverseError as err:
        job.error = err
    finally:
        job.done.set()


def _problem(body: SolveIn, sold: list[Commitment]) -> Problem:
    document = parse_text(body.scenario.encode("utf-8"), "<request scenario>")
    scenario, issues = validate_document(document)
    if issues or scenario is None:
        raise ScenarioError(issues)
    tz = ZoneInfo(scenario.sites[0].timezone)

    def local(when: dt.datetime | None) -> dt.datetime | None:
        if when is None:
            return None
        return when if when.tzinfo else when.replace(tzinfo=tz)

    orders = []
    for o in body.orders:
        due = local(o.due)
        assert due is not None
        orders.append(Order(o.order, o.product, o.quantity, due, local(o.release), o.weight))
    return problem_from_scenario(
        scenario,
        orders,
        start=local(body.start),
        lots=LotPolicy(max_lot=body.max_lot, merge_window=dt.timedelta(hours=body.merge_hours)),
        sold=sold,
    )


@router.post("/jobs", status_code=202)
def start_solve(body: SolveIn, request: Request, who: PrincipalDep, ws: WorkspaceDep) -> JobOut:
    sold: list[Commitment] = []
    notes: list[str] = []
    if body.twin is not None:
        graph = ws.graph(body.twin, principal=who)
        sold, notes = read_commitments(graph.entities(EntityKind.SITE))
        notes += [f"sold capacity left free: {sale.describe()}" for sale in sold]
    problem = _problem(body, sold)  # bad input fails here, with the request, not later
    settings = SolverSettings(
        time_limit=body.time_limit,
        workers=body.workers,
        seed=body.seed,
        objective=Objective.of(body.objective),
        strategy=body.strategy,
    )
    job = _Job(uuid.uuid4().hex[:12], who.tenant, problem, settings, notes)

    def work() -> None:
        job.result = solve(problem, settings, on_progress=job.progress.append)

    _jobs(request).add(job)
    threading.Thread(target=_run, args=(job, work), name=f"schedule-{job.id}", daemon=True).start()
    return job.out()


@router.get("/jobs/{job_id}")
def get_job(job_id: str, request: Request, who: PrincipalDep) -> JobOut:
    return _jobs(request).get(job_id, who).out()


@router.post("/jobs/{job_id}/replan", status_code=202)
def start_replan(job_id: str, body: ReplanIn, request: Request, who: PrincipalDep) -> JobOut:
    base = _jobs(request).get(job_id, who)
    if not base.done.is_set() or base.result is None:
        raise ScheduleJobStateError(f"schedule job {job_id!r} has no finished plan yet")
    problem = base.replanned.problem if base.replanned else base.problem
    previous = base.result.schedule
    settings = SolverSettings(
        time_limit=body.time_limit,
        workers=base.settings.workers,
        seed=base.settings.seed,
        objective=base.settings.objective,
    )
    events = [Breakdown(e.machine, e.start, e.end) for e in body.events]
    job = _Job(uuid.uuid4().hex[:12], who.tenant, problem, settings, base.notes)

    def work() -> None:
        done = replan(
            problem, previous, body.now, events, settings, on_progress=job.progress.append
        )
        job.replanned = done
        job.result = done.result

    _jobs(request).add(job)
    threading.Thread(target=_run, args=(job, work), name=f"schedule-{job.id}", daemon=True).start()
    return job.out()
