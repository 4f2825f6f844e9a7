"""The shared CLI vocabulary: the app, common options, the console, error formatting.

The library raises typed errors (``toolkit.errors``); they are formatted once, here,
as ``Error: ...`` plus a hint. A traceback is shown only with ``--debug`` or
``TOOLKIT_DEBUG=1``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.main
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from toolkit.errors import ToolkitError
from toolkit.render.format import plural  # noqa: F401  (re-exported: the commands' one plural)
from toolkit.render.terminal import SafeConsole, safe

if TYPE_CHECKING:
    from toolkit.config import Config

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


def _enable_debug(_ctx: Any, _param: Any, value: bool) -> None:
    if value:
        os.environ["TOOLKIT_DEBUG"] = "1"


# Taken by the app and by every command (``toolkit --debug export`` = ``toolkit export --debug``).
DebugOpt = Annotated[
    bool, typer.Option("--debug", help="Show full tracebacks for errors.", callback=_enable_debug, is_eager=True)
]


def _debug_option() -> Any:
    """The ``--debug`` option as Typer builds it (taken from a one-option command, so no
    private Typer or click class is constructed here)."""
    holder = typer.Typer()

    @holder.command()
    def _holder(debug: DebugOpt = False) -> None:
        pass

    option = next(param for param in typer.main.get_command(holder).params if param.name == "debug")
    option.expose_value = False
    return option


# Typer ships its own copy of click: the commands here are of its classes, so they are
# recognised by what they are, not by click's types.
def _finish_command(command: Any) -> Any:
    """What every command shares, added in one place: a ``--debug`` option (so that
    ``toolkit export --debug`` works as well as ``toolkit --debug export``) and a usage
    line with the arguments' names in upper case."""
    if getattr(command, "_toolkit_finished", False):
        return command
    command._toolkit_finished = True  # type: ignore[attr-defined]
    if isinstance(getattr(command, "commands", None), dict):  # a group: its commands
        for sub in command.commands.values():
            _finish_command(sub)
        return command
    command.collect_usage_pieces = lambda _ctx: _usage_pieces(command)
    if not any("--debug" in param.opts for param in command.params):
        command.params.append(_debug_option())
    return command


def _usage_pieces(command: Any) -> list[str]:
    """``[OPTIONS] ANNOTATIONS``, ``[OPTIONS] INPUTS...``: the usual way, not Typer's ``{annotations}``."""
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.params:
        if param.param_type_name == "argument" and param.name:
            name = param.name.upper() + ("..." if param.nargs != 1 else "")
            pieces.append(name if param.required else f"[{name}]")
    return pieces


class _ToolkitGroup(TyperGroup):
    """Turns library errors into a message and an exit code, for every command."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        return _finish_command(command) if command is not None else None

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # click cuts each description at about 45 characters ("Build a Hugging Face
        # dataset (tokens, IOB2 ner_tags,..."); the whole first sentence is wrapped instead.
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ToolkitError as error:
            if debug_enabled():
                raise
            print_error(error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            # Ctrl-C: one line instead of click's silent exit. What a command writes is
            # whole or resumable (docs/reliability.md), so running it again finishes the work.
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
def _main(debug: DebugOpt = False) -> None:
    pass


def load_config_for_cli(path: Path) -> Config:
    from toolkit.config import load_config

    return load_config(path)
