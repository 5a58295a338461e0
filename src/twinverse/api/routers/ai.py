"""Industrial AI at the edge: ask a twin a question; list RUL models; predict RUL for a machine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from twinverse.ai.ask import ask
from twinverse.ai.errors import AiError, ModelFileError
from twinverse.api.deps import PrincipalDep, WorkspaceDep
from twinverse.config import Settings

router = APIRouter()

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
CYCLE_WIDTH = 24  # 3 operating settings + 21 sensors, the C-MAPSS row without unit and cycle


class AskIn(BaseModel):
    question: str = Field(min_length=1, max_length=500, description="English or Chinese")


class RowOut(BaseModel):
    id: str
    name: str
    value: float | None = None
    shown: str = ""


class AnswerOut(BaseModel):
    question: str
    language: str
    answered: bool
    text: str
    intent: str | None
    query: str | None = Field(description="the twin query that ran (the evidence)")
    condition: str | None = Field(description="the comparison applied to the values read")
    rows: list[RowOut] = Field(description="the entities the answer touched")
    suggestions: list[str]


class RulModelOut(BaseModel):
    name: str
    subset: str
    data_hash: str
    seed: int
    features: int
    metrics: dict[str, Any]


class RulIn(BaseModel):
    cycles: list[Annotated[list[float], Field(min_length=CYCLE_WIDTH, max_length=CYCLE_WIDTH)]] = (
        Field(
            min_length=1,
            max_length=100_000,
            description="one machine's history, oldest first: per cycle 3 settings + 21 sensors",
        )
    )


class RulOut(BaseModel):
    cycles: int
    rul: float
    low: float
    high: float
    level: float
    health: float


def models_dir(request: Request) -> Path:
    """Where saved RUL models live: ``app.state.ai_models`` if set, else the data directory."""
    configured = getattr(request.app.state, "ai_models", None)
    return Path(configured) if configured else Settings().data_dir / "models"


ModelsDir = Annotated[Path, Depends(models_dir)]


@router.post("/twins/{prefix}/ask", tags=["ai"])
def ask_twin(prefix: str, body: AskIn, ws: WorkspaceDep, who: PrincipalDep) -> AnswerOut:
    """Answer a question about the twin, with the query that ran and the entities it touched."""
    graph = ws.graph(prefix, principal=who)
    return AnswerOut.model_validate(ask(graph, body.question).to_dict())


@router.get("/ai/rul/models", tags=["ai"])
def list_rul_models(folder: ModelsDir, _: PrincipalDep) -> list[RulModelOut]:
    from twinverse.ai.rul import RulModel

    out = []
    for path in sorted(folder.glob("*.npz")) if folder.is_dir() else []:
        try:
            model = RulModel.load(path)
        except ModelFileError:
            continue  # a damaged file is not a model; `twinverse rul evaluate` explains why
        info = model.info
        out.append(
            RulModelOut(
                name=path.stem,
                subset=info.subset,
                data_hash=info.data_hash,
                seed=info.seed,
                features=len(info.features),
                metrics=info.metrics,
            )
        )
    return out


@router.post("/ai/rul/models/{name}/predict", tags=["ai"])
def predict_rul(name: str, body: RulIn, folder: ModelsDir, _: PrincipalDep) -> RulOut:
    """RUL after the last cycle of one machine's history, with its interval and health index."""
    import numpy as np

    from twinverse.ai.cmapss import Fleet
    from twinverse.ai.rul import RulModel

    if not _MODEL_NAME.match(name):
        raise AiError(f"model name {name!r} must be letters, digits, '.', '_' or '-'")
    model = RulModel.load(folder / f"{name}.npz")
    table = np.asarray(body.cycles, dtype=np.float64)
    if not np.isfinite(table).all():
        raise AiError("cycles: every value must be a finite number", code="ai-bad-input")
    n = len(table)
    fleet = Fleet(
        np.ones(n, np.int64), np.arange(1, n + 1, dtype=np.int64), table[:, :3], table[:, 3:]
    )
    found = model.predict(fleet)
    return RulOut(
        cycles=n,
        rul=float(found.rul[0]),
        low=float(found.low[0]),
        high=float(found.high[0]),
        level=found.level,
        health=float(found.health[0]),
    )
