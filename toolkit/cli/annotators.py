"""``toolkit annotators``: annotators' accounts on the project's Label Studio server (``toolkit.team``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, ToolkitTyper, console, load_config_for_cli
from toolkit.labelstudio.localserver import DEFAULT_HOME

annotators_app = ToolkitTyper(
    help="Annotators' Label Studio accounts, named by their anonymous ids: add them, list them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

EmailsArg = Annotated[list[str], typer.Argument(help="The annotators' email addresses (they log in with them).")]
HomeOpt = Annotated[
    Path,
    typer.Option(
        "--home",
        file_okay=False,
        help="The local server's folder (`toolkit labelstudio up --home`): on that server accounts get passwords.",
    ),
]
ResetOpt = Annotated[
    bool,
    typer.Option("--reset-password", help="Give existing accounts a new password too (the local server only)."),
]


@annotators_app.command("add")
def add_cli(
    emails: EmailsArg,
    config_path: ConfigOpt = DEFAULT_CONFIG,
    home: HomeOpt = DEFAULT_HOME,
    reset_password: ResetOpt = False,
) -> None:
    """Create an account for each email, named by its anonymous id, and say once how each person signs in."""
    from toolkit.labelstudio.client import resolve_server
    from toolkit.render.console import print_document
    from toolkit.team import add_annotators, view

    config = load_config_for_cli(config_path)
    settings = resolve_server(home=home)
    result = add_annotators(emails, config=config, settings=settings, home=home, reset_password=reset_password)
    print_document(console, view.added(result))


@annotators_app.command("list")
def list_cli(config_path: ConfigOpt = DEFAULT_CONFIG, home: HomeOpt = DEFAULT_HOME) -> None:
    """Every account: email -> anonymous id (for the organisation's owner only)."""
    from toolkit.labelstudio.client import resolve_server
    from toolkit.render.console import print_document
    from toolkit.team import list_annotators, view

    config = load_config_for_cli(config_path)
    print_document(console, view.listed(list_annotators(config=config, settings=resolve_server(home=home))))
