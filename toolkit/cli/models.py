"""``toolkit models``: the project's trained models (``toolkit.io.models_registry``), and going back to one."""

from __future__ import annotations

from typing import Annotated

import typer

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, ToolkitTyper, console, load_config_for_cli

models_app = ToolkitTyper(
    help="The project's trained models: which one annotators see (current), and going back to another.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

VersionArg = Annotated[
    str, typer.Argument(help="A model version from `toolkit models list`, or `base` (the configured spacy.model).")
]


@models_app.command("list")
def list_cli(config_path: ConfigOpt = DEFAULT_CONFIG) -> None:
    """The project's models, newest first: version, trained on, validation and test F1, which is current."""
    from toolkit.io.models_registry import project_models
    from toolkit.render.console import print_document
    from toolkit.train import view

    config = load_config_for_cli(config_path)
    print_document(console, view.models(project_models(config), base=config.spacy.model))


@models_app.command("use")
def use_cli(version: VersionArg, config_path: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Make VERSION the project's current model on purpose (recorded in the registry's history)."""
    from toolkit.io.models_registry import use
    from toolkit.render.console import print_sections
    from toolkit.train import view

    config = load_config_for_cli(config_path)
    project, before = use(config, version)
    print_sections(console, [view.model_chosen(project, before, base=config.spacy.model)], rules=False)
