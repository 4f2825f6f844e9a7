"""The shared CLI vocabulary: the app, common options, the console, error formatting.

The library raises typed errors (``toolkit.errors``); they are formatted once, here,
as ``Error: ...`` plus a hint. A traceback is shown only with ``--debug`` or
``TOOLKIT_DEBUG=1``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.main
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from toolkit.errors import Remedy, ToolkitError
from toolkit.render.format import plural  # noqa: F401  (re-exported: the commands' one plural)
from toolkit.render.terminal import console, err_console, safe  # noqa: F401  (the commands' consoles)

if TYPE_CHECKING:
    from toolkit.config import Config

DEFAULT_CONFIG = Path("configs/news-ner.yaml")

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Project config (YAML).", dir_okay=False, show_default=True)
]


def debug_enabled() -> bool:
    return os.environ.get("TOOLKIT_DEBUG", "").lower() in {"1", "true", "yes"}


# Where a library hint names a setting (``toolkit.errors.Remedy``), the command line names the
# flag that sets it, when the command that failed has that flag: the one map of settings to flags.
FLAGS = {
    "fresh=True": "--fresh",
    "out": "--out",
    "split": "--split",
    "spacy.backend: ray": "--backend ray",
    "format: jsonl": "--format jsonl",
    "ray.address": "--address",
    "input.on_error: skip": "--on-error skip",
    "push.replace_labeling_config: true": "--replace-labeling-config",
    "allow_model_rollback=True": "--allow-model-rollback",
    "spacy.scores: true": "--scores",
    "spacy.scores: false": "--no-scores",
}


def print_error(error: ToolkitError, options: frozenset[str] = frozenset()) -> None:
    """``Error: ...`` and its hint on stderr; a remedy is said with its flag where ``options`` (the
    failed command's option names) has it, else with the setting the config names."""

    def flag(remedy: Remedy) -> str | None:
        named = FLAGS.get(remedy.setting)
        return named if named is not None and named.split()[0] in options else None

    err_console.print(Text.assemble(("Error: ", "bold red"), safe(str(error))), soft_wrap=True)
    hint = error.hint_with(flag)
    if hint:
        err_console.print(Text.assemble(("  hint: ", "dim"), safe(hint)), soft_wrap=True)


def interrupted() -> None:
    # Ctrl-C: one line instead of click's silent exit. What a command writes is whole or
    # resumable (docs/reliability.md), so running it again finishes the work.
    message = "interrupted (Ctrl-C); run the same command again to finish"
    err_console.print(Text.assemble(("Error: ", "bold red"), message))


def _reporting_errors(invoke: Callable[[], Any], options: frozenset[str] = frozenset()) -> Any:
    """``invoke()``, with a library error or Ctrl-C turned into one message and an exit code."""
    try:
        return invoke()
    except ToolkitError as error:
        if debug_enabled():
            raise
        print_error(error, options)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        interrupted()
        _forget_interrupt_seen_in_exec()
        raise typer.Exit(130) from None


def _forget_interrupt_seen_in_exec() -> None:
    # CPython marks a KeyboardInterrupt raised inside code run by exec()/eval() of a string
    # (dataclasses build their methods so, e.g. during a lazy import) as unhandled even when
    # it is caught; under `python -m toolkit` the interpreter then ends by SIGINT (exit -2),
    # not with 130 (seen in the Ctrl-C tests under load, about one run in a hundred). Each
    # exec() of a string clears that mark first.
    exec("")  # noqa: S102 - an empty string: nothing runs


def _enable_debug(_ctx: Any, _param: Any, value: bool) -> None:
    if value:
        os.environ["TOOLKIT_DEBUG"] = "1"


# Taken by the app and by every command (``toolkit --debug export`` = ``toolkit export --debug``).
DebugOpt = Annotated[
    bool, typer.Option("--debug", help="Show full tracebacks for errors.", callback=_enable_debug, is_eager=True)
]


@functools.cache
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


def _usage_pieces(command: Any) -> list[str]:
    """``[OPTIONS] ANNOTATIONS``, ``[OPTIONS] INPUTS...``: the usual way, not Typer's ``{annotations}``."""
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.params:
        if param.param_type_name == "argument" and param.name:
            name = param.name.upper() + ("..." if param.nargs != 1 else "")
            pieces.append(name if param.required else f"[{name}]")
    return pieces


class ToolkitCommand(TyperCommand):
    """Every command: a ``--debug`` option (``toolkit export --debug`` as well as ``toolkit
    --debug export``), a usage line with the arguments' names in upper case, and the library's
    errors turned into one message (with this command's flags in its hint) and an exit code.
    Given to Typer as each command's class (``Typer.command(cls=...)``), overriding click's own
    extension points only."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        if not any("--debug" in param.opts for param in params):
            params.insert(len(params) - 1 if params and "--help" in params[-1].opts else len(params), _debug_option())
        return params

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _usage_pieces(self)

    def invoke(self, ctx: Any) -> Any:
        options = frozenset(opt for param in self.params for opt in (*param.opts, *param.secondary_opts))
        return _reporting_errors(lambda: super(ToolkitCommand, self).invoke(ctx), options)


class ToolkitTyper(typer.Typer):
    """A Typer app whose commands are ``ToolkitCommand``s unless told otherwise."""

    def command(self, name: str | None = None, *, cls: Any = None, **kwargs: Any) -> Any:
        return super().command(name, cls=cls or ToolkitCommand, **kwargs)


class _ToolkitGroup(TyperGroup):
    """Turns library errors into a message and an exit code, for every command."""

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
        # For errors raised outside a command (a command's own are handled by ToolkitCommand).
        return _reporting_errors(lambda: super(_ToolkitGroup, self).invoke(ctx))


app = ToolkitTyper(
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
