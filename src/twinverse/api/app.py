"""The FastAPI application factory.

``create_app(settings)`` opens the workspace in the app's lifespan and closes it
at shutdown; ``create_app(workspace=ws)`` serves a workspace the caller owns
(tests, the demo). Nothing is opened at import or construction time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from twinverse import __version__
from twinverse.api import errors
from twinverse.api.routers import ai as ai_router
from twinverse.api.routers import live as live_router
from twinverse.api.routers import schedule, simulations, system, twins, web
from twinverse.api.routers import trust as trust_router
from twinverse.config import Settings
from twinverse.workspace import Workspace


def create_app(settings: Settings | None = None, *, workspace: Workspace | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if workspace is not None:
            app.state.workspace = workspace
            yield
            return
        opened = Workspace.open(settings or Settings())
        app.state.workspace = opened
        try:
            yield
        finally:
            opened.close()

    app = FastAPI(
        title="twinverse",
        version=__version__,
        description="The live, shared digital twin of a manufacturing enterprise.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(system.router)
    app.include_router(twins.router)
    app.include_router(schedule.router)
    app.include_router(simulations.router)
    app.include_router(trust_router.router)
    app.include_router(live_router.router)
    app.include_router(ai_router.router)
    app.include_router(web.router)
    return app
