"""Errors of the industrial-AI package: bad data files, mismatched models, unknown questions."""

from __future__ import annotations

from pathlib import Path

from twinverse.errors import TwinverseError


class AiError(TwinverseError):
    """Base class of the errors raised by :mod:`twinverse.ai`."""

    code = "ai-error"


class DataFormatError(AiError):
    """A data file does not have the expected shape: names the file, the line and the fix."""

    code = "ai-data-format"

    def __init__(self, path: Path | str, message: str, *, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


class ModelFileError(AiError):
    """A saved model cannot be read, or does not match the data or the code it is used with."""

    code = "ai-model-file"

    def __init__(self, path: Path | str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = str(path)


class MissingExtraError(AiError):
    """An optional dependency (e.g. PyTorch for the sequence model) is not installed."""

    code = "ai-missing-extra"

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package} is not installed; install the optional extra: pip install 'twinverse[{extra}]'"
        )
        self.package = package
        self.extra = extra
