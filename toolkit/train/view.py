"""Train's view: a ``TrainResult`` as render blocks (``toolkit.render``).

``toolkit train`` prints ``summary`` (what was trained and how it scores) and ``written``
(where the model went, what to do next); ``training_file`` is the TRAINING.md written
beside the model (``training`` renders it as markdown). Pure functions: no renderer, no
import of the stage (``training`` imports this module).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolkit.io.models_registry import ModelEntry, ProjectModels, Promotion
from toolkit.render import Bullets, Code, Data, Document, Line, Row, Section, Table, number, plural
from toolkit.train.result import TrainResult

# What each start means, said under "start:".
START_MEANING = {
    "same-name rows": "labels the base predicts under the same name begin from its weights",
    "warm start": "labels begin from the base's weights of the same name and of the labels label_map maps to them",
    "blank": "every weight begins at random",
}


def _base(result: TrainResult) -> str:
    return f"{result.base.name} {result.base.version}" if result.base else "blank"


def _best_epoch(result: TrainResult) -> str:
    return str(result.best.epoch + 1) if result.best else "n/a"


def summary(result: TrainResult) -> Document:
    """What was trained, from what, and the best checkpoint's validation scores."""
    scores = result.scores
    title = (
        f"Trained on {plural(result.train_rows, 'article')} of {result.export.path}, "
        f"from {_base(result)}, seed {result.seed}"
    )
    blocks: list[Line] = [
        Line((f"start: {result.start} ({START_MEANING[result.start]})",)),
        Line(
            (
                f"{plural(result.epochs_run, 'epoch')} in {number(result.seconds, 1)} s "
                f"({number(result.words_per_second, 0)} words/s); best validation F1 {number(scores.get('f1') or 0)} "
                f"at epoch {_best_epoch(result)}, on {plural(result.validation_rows, 'article')} "
                f"({plural(result.validation_spans, 'span')})",
            )
        ),
    ]
    for label, row in sorted((scores.get("per_label") or {}).items()):
        said = f": P {number(row['p'])} R {number(row['r'])} F1 {number(row['f'])}"
        blocks.append(Line(("  ", Data(label), said)))  # under the line it breaks down
    if note := result.small_validation_note:
        blocks.append(Line((f"Note: {note}.",), note=True))
    # The sections' prose is indented under the title (a section without a heading draws no rule).
    return Document(title, (Section("training", None, tuple(blocks)),))


def written(result: TrainResult, *, export: Path, config: Path, promoted: bool = False) -> Section:
    """Where the model went and the next commands (``export``, ``config``: as the user gave them;
    ``promoted``: the model is the project's current one, which preannotate runs without --model)."""
    verb = "Replaced" if result.replaced else "Wrote"
    model = (" (model version ", Data(result.model.model_version), "; TRAINING.md beside it)")
    blocks = [Line((f"{verb} ", Code(str(result.out)), *model))]
    if result.kept:
        blocks.append(Line(("  kept the other files in it: ", Data(", ".join(result.kept)))))
    blocks.append(
        Line(
            (
                f"Next: toolkit evaluate base {result.out} --data {export} --config {config}, then "
                + (
                    f"toolkit preannotate INPUT --config {config} (it runs the project's current model, this one)"
                    if promoted
                    else f"toolkit preannotate INPUT --model {result.out} --config {config}"
                ),
            )
        )
    )
    return Section("written", None, tuple(blocks))


def _f1(value: float | None) -> str:
    return number(value) if value is not None else "n/a"


def promotion(promotion: Promotion) -> Section:
    """The promotion check: the new model against the current one, and what was decided."""
    version, reference = Data(promotion.version), Data(promotion.reference)
    blocks: list[Line] = []
    if promotion.difference is not None:
        interval = (
            f", 95% interval [{number(promotion.low)}, {number(promotion.high)}]" if promotion.low is not None else ""
        )
        blocks.append(
            Line(
                (
                    f"Test split ({plural(promotion.test_articles, 'article')}): F1 {_f1(promotion.new_f1)} against ",
                    reference,
                    f" {_f1(promotion.reference_f1)}; difference {number(promotion.difference)}{interval} "
                    "(paired bootstrap over articles)",
                )
            )
        )
    if promotion.how == "forced":
        said = ("Promoted (forced by --promote; ", promotion.reason, "): ", version, " is the project's current model")
    elif promotion.promoted:
        said = ("Promoted: ", version, " is the project's current model (", promotion.reason, ")")
    elif promotion.how == "skipped":
        said = ("Not promoted (--no-promote): ", reference, " stays the project's current model")
    else:
        said = ("Not promoted (", promotion.reason, "): ", reference, " stays the project's current model")
    blocks.append(Line(said))
    if not promotion.promoted:
        use = ("  registered all the same: `toolkit models use ", Data(promotion.version), "` makes it current")
        blocks.append(Line(use))
    return Section("promotion", None, tuple(blocks))


def _trained_on(entry: ModelEntry) -> str:
    on = entry.trained_on
    return f"{on.get('name') or '?'} {on.get('version') or '?'}"


def models(project: ProjectModels, *, base: str) -> Document:
    """``toolkit models list``: the project's models, newest first, the current one marked ``*``
    (one line each: versions are long, a table would wrap them)."""
    lines = []
    for entry in reversed(project.models):
        promoted = f"; last made current {entry.promoted_at[:16].replace('T', ' ')}" if entry.promoted_at else ""
        lines.append(
            Line(
                (
                    "* " if entry.version == project.current else "  ",
                    Data(entry.version),
                    ": trained on ",
                    Data(_trained_on(entry)),
                    f" from {entry.base or '?'}; validation F1 {_f1(entry.validation_f1)}, "
                    f"test F1 {_f1(entry.test_f1)}{promoted}",
                )
            )
        )
    lines.append(Line(("* " if project.current is None else "  ", Data(base), " (configured spacy.model)")))
    title = (
        f"Models of project {project.title!r}: {plural(len(project.models), 'trained model')} "
        "(* current: what toolkit preannotate runs without --model)"
    )
    return Document(title, (Section("models", None, tuple(lines)),))


def model_chosen(project: ProjectModels, before: str | None, *, base: str) -> Section:
    """``toolkit models use``: what is current now, and what was."""
    now = Data(project.current or f"{base} (configured spacy.model)")
    was = Data(before or f"{base} (configured spacy.model)")
    return Section(
        "chosen",
        None,
        (
            Line(("Current model of project ", Data(repr(project.title)), " is now ", now, " (was ", was, ")")),
            Line(("Next: toolkit preannotate INPUT --fresh, then toolkit push (annotators then see its suggestions)",)),
        ),
    )


def training_file(result: TrainResult) -> Document:
    """TRAINING.md: where the model came from and how it scores."""
    scores, export, copied = result.scores, result.export, result.copied_rows
    curve = Table(
        "curve",
        None,
        ("epoch", "loss", "F1"),
        tuple(
            Row((str(p.epoch + 1), number(p.loss, 2), number(p.f1) + (" (best)" if p.best else "")))
            for p in result.curve
        ),
    )
    rows = [
        Row((Data(label), number(row.get("p")), number(row.get("r")), number(row.get("f"))))
        for label, row in sorted((scores.get("per_label") or {}).items())
    ]
    micro = (number(scores.get("precision")), number(scores.get("recall")), number(scores.get("f1")))
    rows.append(Row(("micro", *micro), "overall"))
    labels = Table("scores", None, ("label", "precision", "recall", "F1"), tuple(rows), frozenset({"label"}))
    data = (
        Line(
            (f"export: `{export.path}` ({export.name} {export.version}), manifest sha256 `{export.manifest_sha256}`",)
        ),
        Line(
            (
                f"train: {plural(result.train_rows, 'human-annotated article')} ({plural(result.words, 'token')}); "
                f"validation: {result.validation_rows:,}",
            )
        ),
    )
    settings = (
        Line((f"base: {_base(result)} ({result.start}; {plural(copied, 'output row')} taken from the base)",)),
        Line(
            (
                f"seed {result.seed}; {plural(result.epochs_run, 'epoch')} run "
                f"({plural(len(result.curve), 'validation')}); best at epoch {_best_epoch(result)}",
            )
        ),
        Line((_settings_line(result.settings),)),
        Line((f"{number(result.seconds, 1)} s of training",)),
    )
    use = (
        'A spaCy NER trained by `toolkit train`. Load it with `spacy.load("<this folder>")`; '
        "pre-annotate with it by `toolkit preannotate INPUT --model <this folder>`."
    )
    sections = (
        Section("use", None, (Line((use,)),)),
        Section("data", "Data", (Bullets(data),)),
        Section("settings", "Settings", (Bullets(settings),)),
        Section("curve", "Curve (validation, exact entity spans)", (curve,)),
        Section("scores", "Validation scores of this checkpoint", (labels,)),
    )
    return Document(result.model.model_version, sections)


def _settings_line(settings: dict[str, Any]) -> str:
    batch = f"{settings.get('batch_words')} words"
    if settings.get("batch_start"):
        batch = f"{settings['batch_start']} -> {settings['batch_words']} words (compounding)"
    rate = f"learning rate {settings.get('learning_rate')}"
    if settings.get("warmup_steps"):
        rate += f" (warmup {settings['warmup_steps']} steps, then linear decay)"
    return (
        f"dropout {settings.get('dropout')}, {rate}, batches of {batch}, "
        f"{plural(settings.get('evals_per_epoch', 1), 'validation')} per epoch, "
        f"patience {plural(settings.get('patience_epochs'), 'epoch')}, "
        f"weight averaging {'on' if settings.get('average_weights') else 'off'}"
    )
