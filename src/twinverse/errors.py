"""The root of every error twinverse raises on purpose.

Each error carries a stable machine-readable ``code`` (used by the API's
problem+json bodies and the CLI's exit handling) and a human message that says
what was expected, what was found and which object it concerns.
"""

from __future__ import annotations


class TwinverseError(Exception):
    """Base class: a failure twinverse understands and can explain."""

    code: str = "twinverse-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message
