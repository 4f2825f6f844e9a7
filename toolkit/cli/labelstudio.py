from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._app import ToolkitTyper, console
from toolkit.labelstudio.localserver import DEFAULT_HOME
from toolkit.render.progress import progress_lines

labelstudio_app = ToolkitTyper(
    name="labelstudio",
    help="Manage the local Label Studio server (installed on first use, bound to 127.0.0.1).",
    no_args_is_help=True,
)

HomeOpt = Annotated[Path, typer.Option("--home", help="Folder for the server's data and credentials.", file_okay=False)]


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
    from toolkit.labelstudio import view
    from toolkit.labelstudio.localserver import credentials_file, up
    from toolkit.render.console import print_document

    # Not a terminal (a log, CI): plain lines, so the minutes of a first install are not silent.
    with progress_lines(describe=view.install_progress) as on_progress:
        credentials = up(home=home, port=port, on_progress=on_progress)
    print_document(console, view.started(credentials, credentials_file(home)))


@labelstudio_app.command("down")
def down_cli(home: HomeOpt = DEFAULT_HOME) -> None:
    """Stop the local server."""
    from toolkit.labelstudio import view
    from toolkit.labelstudio.localserver import down
    from toolkit.render.console import print_sections

    print_sections(console, [view.stopped(down(home=home))], rules=False)


@labelstudio_app.command("status")
def status_cli(
    home: HomeOpt = DEFAULT_HOME,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Say whether the local server runs, where, and how to log in. Exit code 3 when it does not run."""
    from toolkit.labelstudio import view
    from toolkit.labelstudio.localserver import status
    from toolkit.render.console import print_sections
    from toolkit.render.terminal import json_text

    state = status(home=home)
    if as_json:
        typer.echo(json_text(state.to_json(), indent=2))
    else:
        print_sections(console, [view.server_status(state)], rules=False)
    if not state.running:
        raise typer.Exit(3)
