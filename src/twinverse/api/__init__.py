"""The HTTP edge: FastAPI app factory, routers, wire schemas, problem+json errors."""

from twinverse.api.app import create_app

__all__ = ["create_app"]
