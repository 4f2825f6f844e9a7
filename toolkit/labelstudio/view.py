"""The Label Studio views: which server a command talks to (``server``, the first line of push,
pull and adjudicate: its ``public_url``, credentials hidden), and what ``toolkit labelstudio
up|down|status`` say, as render blocks.

Built from ``toolkit.labelstudio.localserver``'s results; never a secret (the password
and the API key stay in the credentials file, which is named instead).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from toolkit.render import Code, Data, Document, Line, Section, plural

if TYPE_CHECKING:
    from toolkit.labelstudio.client import ServerSettings
    from toolkit.labelstudio.localserver import Credentials, ServerStatus


class PhaseState(Protocol):
    phase: str
    done: int

    @property
    def elapsed(self) -> float: ...


def install_progress(state: PhaseState) -> str:
    """The progress line of a first install (pip's packages collected so far, and the time)."""
    if state.phase != "install":
        return ""
    minutes, seconds = divmod(int(state.elapsed), 60)
    return f"Installing Label Studio: {plural(state.done, 'package')} collected ({minutes}:{seconds:02d})"


def _indented(*pieces: str) -> Line:
    return Line(("  ", *pieces))


def started(credentials: Credentials, credentials_file: Path) -> Document:
    login = ("log in as ", Data(credentials.username), "; the password is in ", Code(str(credentials_file)))
    return Document(
        f"Label Studio is up at {credentials.url}", (Section("login", None, (_indented(*login),)),), rules=False
    )


def stopped(was_running: bool) -> Section:
    return Section("down", None, (Line(("Label Studio stopped" if was_running else "Label Studio was not running",)),))


def server_status(status: ServerStatus) -> Section:
    """Whether the server runs, where annotators log in, where the password is; else how to start it."""
    if not status.running:
        said = (
            "Label Studio is not running (home ",
            Code(str(status.home)),
            "); start it with `toolkit labelstudio up`",
        )
        return Section("status", None, (Line(said),))
    version = f" {status.version}" if status.version else ""
    return Section(
        "status",
        None,
        (
            Line((f"Label Studio{version} is running at {status.url} (pid {status.pid})",)),
            _indented(f"annotators log in at {status.url}/user/login/ as ", Data(status.username or "")),
            _indented("the password is in ", Code(str(status.credentials_file))),
        ),
    )


def server(settings: ServerSettings) -> Section:
    return Section("server", None, (Line(("Label Studio: ", Code(settings.public_url), f" ({settings.origin})")),))
