from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._app import console
from toolkit.cli._progress import PhaseState, progress_lines
from toolkit.labelstudio.localserver import DEFAULT_HOME
from toolkit.render.format import plural

labelstudio_app = typer.Typer(
    name="labelstudio",
    help="Manage the local Label Studio server (installed on first use, bound to 127.0.0.1).",
    no_args_is_help=True,
)

HomeOpt = Annotated[Path, typer.Option("--home", help="Folder for the server's data and credentials.", file_okay=False)]


def _describe_install(state: PhaseState) -> str:
    if state.phase != "install":
        return ""
    minutes, seconds = divmod(int(state.elapsed), 60)
    return f"Installing Label Studio: {plural(state.done, 'package')} collected ({minutes}:{seconds:02d})"


@labelstudio_app.command("up")
def up_cli(
    home: HomeOpt = DEFAULT_HOME,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=1,
            max=65535,
            help="Port, remembered for the next `up` "
            "(default: the last one, else TOOLKIT_LABEL_STUDIO_PORT, else 8080).",
        ),
    ] = None,
) -> None:
    """Start the local server, installing Label Studio first if needed."""
    from toolkit.labelstudio.localserver import up

    # Not a terminal (a log, CI): plain lines, so the minutes of a first install are not silent.
    with progress_lines(describe=_describe_install) as on_progress:
        credentials = up(home=home, port=port, on_progress=on_progress)
    console.print(f"Label Studio is up at {credentials.url}")
    console.print(f"  log in as {credentials.username}; the password is in {home / 'credentials.json'}")


@labelstudio_app.command("down")
def down_cli(home: HomeOpt = DEFAULT_HOME) -> None:
    """Stop the local server."""
    from toolkit.labelstudio.localserver import down

    console.print("Label Studio stopped" if down(home=home) else "Label Studio was not running")


@labelstudio_app.command("status")
def status_cli(
    home: HomeOpt = DEFAULT_HOME,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Say whether the local server runs, where, and how to log in. Exit code 3 when it does not run."""
    from toolkit.labelstudio.localserver import read_credentials, status

    state = status(home=home)
    credentials = read_credentials(home)
    if as_json:
        data = {
            "running": state.running,
            "url": state.url,
            "pid": state.pid,
            "version": state.version,
            "home": str(home),
        }
        data["username"] = credentials.username if credentials else None
        console.print_json(json.dumps(data))
    elif state.running and credentials:
        console.print(f"Label Studio {state.version or ''} is running at {state.url} (pid {state.pid})")
        console.print(f"  annotators log in at {state.url}/user/login/ as {credentials.username}")
        console.print(f"  the password is in {home / 'credentials.json'}")
    else:
        console.print(f"Label Studio is not running (home {home}); start it with `toolkit labelstudio up`")
    if not state.running:
        raise typer.Exit(3)
