"""Typed errors raised by the library.

Each error carries a one-line message and, where there is one, a hint naming what to
do next. The CLI formats them once, at the top (``toolkit.cli._app``); the library
never prints or exits.

A fix that is a setting is a ``Remedy`` in the hint: the library names the setting
(``start the output over (fresh=True)``), and the CLI, which knows its flags, names the
flag of the command that failed instead (``start the output over (--fresh)``), from one
map (``toolkit.cli._app.FLAGS``). No hint is patched by matching its words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Remedy:
    """A fix that is a setting: ``text`` says what it does, ``setting`` names it as the config or the
    library's parameters write it (``spacy.backend: ray``, ``fresh=True``); ``in_words`` replaces the
    library's ``text (setting)`` where the setting need not be named there. A ``config`` setting is
    a key of the config file: the command line names it beside its flag (either sets it)."""

    text: str
    setting: str
    in_words: str | None = None
    config: bool = False

    def said(self, flag: str | None = None) -> str:
        """In the library's words, or with the command-line flag that sets it."""
        if flag is not None:
            return f"{self.text} ({self.setting}, or {flag})" if self.config else f"{self.text} ({flag})"
        return self.in_words or f"{self.text} ({self.setting})"


# A hint: words, a remedy, or both in order (joined as they are: the pieces carry their
# own ", or " and "; then ").
Hint = str | Remedy | tuple["str | Remedy", ...] | None


def _pieces(hint: Hint) -> tuple[str | Remedy, ...]:
    if hint is None:
        return ()
    return hint if isinstance(hint, tuple) else (hint,)


class ToolkitError(Exception):
    """Base class of every expected failure: shown to the user without a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: Hint = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    @property
    def hint(self) -> str | None:
        """The hint in the library's words (settings named as the config names them)."""
        return self.hint_with(lambda _remedy: None)

    @hint.setter
    def hint(self, value: Hint) -> None:
        self.hint_pieces = tuple(piece for piece in _pieces(value) if piece != "")

    def hint_with(self, flag: Callable[[Remedy], str | None]) -> str | None:
        """The hint with each remedy said by ``flag`` (a command-line flag, or None for the setting)."""
        if not self.hint_pieces:
            return None
        return "".join(piece.said(flag(piece)) if isinstance(piece, Remedy) else piece for piece in self.hint_pieces)

    def __str__(self) -> str:
        return self.message


class ConfigError(ToolkitError):
    """The config file is missing, unreadable or invalid."""

    def __init__(self, message: str, *, errors: list[str] | None = None, hint: Hint = None):
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

    def __init__(self, message: str, *, hint: Hint = None, status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status  # the HTTP status the server answered, if it answered


class ProjectError(ToolkitError):
    """The Label Studio project is missing, ambiguous or not usable as configured."""


class LocalServerError(ToolkitError):
    """The local Label Studio server cannot be installed, started or stopped."""


class AccountError(ToolkitError):
    """An annotator account cannot be created, named or listed (not the organisation's owner, a bad
    email, the local server's password command failed)."""


class OutputError(ToolkitError):
    """An output path cannot be written, or holds what the run cannot build on (another model's records)."""


def validation_errors(error: Any) -> list[tuple[str, str, str]]:
    """pydantic's ``ValidationError`` as ``(where, what, kind)`` per error (the one reading of
    its error list; the config and the record readers format them each their own way)."""
    return [
        (".".join(str(part) for part in item["loc"]), item["msg"].removeprefix("Value error, "), item["type"])
        for item in error.errors()
    ]


class LossOverLimitError(InputError):
    """More spans were lost in the alignment than the limit allows; the export wrote nothing.

    Carries the counts (``lost``, ``limit``), the first lost spans' lines and, when the
    inputs are those of an existing version, its name (``same_as``). The message names the
    limit ``max_loss``; ``name_limit`` says it again with the caller's name for it.
    """

    SHOWN = 20

    def __init__(self, lost: int, limit: int, *, lines: list[str] | None = None, same_as: str | None = None) -> None:
        self.lost, self.limit, self.lines, self.same_as = lost, limit, list(lines or [])[: self.SHOWN], same_as
        super().__init__("")
        self.name_limit("max_loss")

    def name_limit(self, name: str) -> None:
        head = f"{self.lost:,} span{'' if self.lost == 1 else 's'} lost in the alignment, more than {name} {self.limit}"
        if self.same_as is not None:
            self.message = (
                f"{head} (the inputs are those of {self.same_as}; its loss_report.jsonl lists them); nothing written"
            )
        else:
            shown = "\n".join(f"  lost: {line}" for line in self.lines)
            more = f"\n  ... and {self.lost - len(self.lines):,} more" if self.lost > len(self.lines) else ""
            self.message = f"{head}; nothing written\n{shown}{more}"
        self.hint = f"fix the spans in Label Studio, or allow more with {name}"


class ClusterError(ToolkitError):
    """The Ray cluster cannot be reached or started, or the `ray` extra is not installed."""


class StoppedError(ToolkitError):
    """The run was stopped by SIGTERM (``timeout``, ``kill``); what it wrote stays, for the rerun to resume.

    Exit code 143 (128 + SIGTERM), the status a shell reports for a process SIGTERM ended."""

    exit_code = 143
