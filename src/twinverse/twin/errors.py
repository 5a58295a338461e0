"""Errors of the twin graph."""

from __future__ import annotations

from twinverse.errors import TwinverseError


class TwinError(TwinverseError):
    code = "twin-error"


class InvalidIdError(TwinError):
    code = "invalid-id"


class UnitError(TwinError):
    """A quantity could not be parsed, or has the wrong dimension."""

    code = "invalid-quantity"


class EntityNotFoundError(TwinError):
    code = "entity-not-found"

    def __init__(self, entity_id: str) -> None:
        super().__init__(f"no entity with id {entity_id!r}")
        self.entity_id = entity_id


class GraphConflictError(TwinError):
    """An event does not fit the graph it is applied to (duplicate id, dangling relation…)."""

    code = "graph-conflict"


class QuerySyntaxError(TwinError):
    code = "invalid-query"

    def __init__(self, message: str, *, query: str, position: int) -> None:
        pointer = " " * position + "^"
        super().__init__(f"{message}\n  {query}\n  {pointer}")
        self.query = query
        self.position = position
