"""Typed errors raised by the library.

Each error carries a one-line message and, where there is one, a hint naming what to
do next. The CLI formats them once, at the top (``toolkit.cli._app``); the library
never prints or exits.
"""

from __future__ import annotations

from typing import Any


class ToolkitError(Exception):
    """Base class of every expected failure: shown to the user without a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(ToolkitError):
    """The config file is missing, unreadable or invalid."""

    def __init__(self, message: str, *, errors: list[str] | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.errors = errors or []

    def __str__(self) -> str:
        return "\n".join([self.message, *self.errors])


class InputError(ToolkitError):
    """An input file or record cannot be used; the message names the file and line or record."""


class ModelError(ToolkitError):
    """The spaCy pipeline cannot be loaded or is not the one the config expects."""


class ServerError(ToolkitError):
    """The Label Studio server cannot be reached, refuses the credentials, or answers an error."""

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status  # the HTTP status the server answered, if it answered


class ProjectError(ToolkitError):
    """The Label Studio project is missing, ambiguous or not usable as configured."""


class LocalServerError(ToolkitError):
    """The local Label Studio server cannot be installed, started or stopped."""


class OutputError(ToolkitError):
    """An output path cannot be written, or holds what the run cannot build on (another model's records)."""


def validation_errors(error: Any) -> list[tuple[str, str, str]]:
    """pydantic's ``ValidationError`` as ``(where, what, kind)`` per error (the one reading of
    its error list; the config and the record readers format them each their own way)."""
    return [
        (".".join(str(part) for part in item["loc"]), item["msg"].removeprefix("Value error, "), item["type"])
        for item in error.errors()
    ]
