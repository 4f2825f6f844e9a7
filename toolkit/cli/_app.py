"""The shared CLI vocabulary: the app, common options, the console, error formatting.

The library raises typed errors (``toolkit.errors``); they are formatted once, here,
as ``Error: ...`` plus a hint. A traceback is shown only with ``--debug`` or
``TOOLKIT_DEBUG=1``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from toolkit.errors import ToolkitError
from toolkit.terminal import SafeConsole, safe

# Markup off: messages carry paths, labels and "[where] what" lines that rich would
# otherwise take for style tags. SafeConsole: what they print from the data (ids, text)
# cannot drive the terminal.
console: Console = SafeConsole(highlight=False, markup=False, soft_wrap=True)
err_console: Console = SafeConsole(stderr=True, highlight=False, markup=False, soft_wrap=True)

DEFAULT_CONFIG = Path("configs/news-ner.yaml")

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Project config (YAML).", dir_okay=False, show_default=True)
]


def debug_enabled() -> bool:
    return os.environ.get("TOOLKIT_DEBUG", "").lower() in {"1", "true", "yes"}


def print_error(error: ToolkitError) -> None:
    err_console.print(Text.assemble(("Error: ", "bold red"), safe(str(error))), soft_wrap=True)
    if error.hint:
        err_console.print(Text.assemble(("  hint: ", "dim"), safe(error.hint)), soft_wrap=True)


class _ToolkitGroup(TyperGroup):
    """Turns library errors into a message and an exit code, for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ToolkitError as error:
            if debug_enabled():
                raise
            print_error(error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            # Ctrl-C: one line instead of click's silent exit. What a command writes is
            # whole or resumable (see the README), so running it again finishes the work.
            message = "interrupted (Ctrl-C); run the same command again to finish"
            err_console.print(Text.assemble(("Error: ", "bold red"), message))
            raise typer.Exit(130) from None


app = typer.Typer(
    name="toolkit",
    cls=_ToolkitGroup,
    help="Pre-annotate news with spaCy, correct in Label Studio, export a Hugging Face dataset.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks for errors.")] = False,
) -> None:
    if debug:
        os.environ["TOOLKIT_DEBUG"] = "1"


def load_config_for_cli(path: Path):  # noqa: ANN201 - the Config type is imported lazily
    from toolkit.config import load_config

    return load_config(path)


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"
