"""Stages composed: the one module above the stages, and the only one that joins two of them.

A stage never imports another (tests/unit/architecture/test_layers.py); where a command
needs two, they meet here, and the CLI calls this module as it calls a stage.

- ``export_with_report`` (``toolkit export``): the dataset stage's export of a pull, with
  the report stage's annotation report of the same pull published in the version
  (``ReportAttachment``: a section of the dataset card and ``report.html``).
- ``train_and_promote`` (``toolkit train``): the train stage's model, registered, and
  compared with the project's current model by the evaluate stage on the export's test
  split; promoted when the comparison shows it better.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.config import Config
    from toolkit.dataset import ExportResult
    from toolkit.io.models_registry import Promotion
    from toolkit.progress import OnProgress
    from toolkit.records import AnnotatedArticle
    from toolkit.train import TrainResult

# The annotation report's page in each version folder.
REPORT_PAGE = "report.html"


class ReportAttachment:
    """The annotation report (``toolkit report``) of the pull being exported, published with the version
    (a ``toolkit.dataset.Attachment``).

    Built from the articles the export checks (the pull is read once); ``finish`` writes
    ``report.html`` into the version folder and returns the report's card section. The
    builder is made on the first article (or at ``finish``), so an export that writes
    nothing (the inputs are those of the latest version) reads no ledger for it.
    """

    files = (("annotation report", REPORT_PAGE),)

    def __init__(self, annotations: Path, *, config: Config, make_doc: Callable[[str], Any]) -> None:
        self.annotations, self.config, self.make_doc = annotations, config, make_doc
        self.builder: Any = None

    def _builder(self) -> Any:
        if self.builder is None:
            from toolkit.report import report_builder

            self.builder = report_builder(
                self.annotations, config=self.config, make_doc=self.make_doc, tokenizer="the export's tokenizer"
            )
        return self.builder

    def add(self, article: AnnotatedArticle) -> None:
        self._builder().add(article)

    def finish(self, folder: Path) -> str:
        from toolkit.report import report_markdown, write_html

        result = self._builder().finish()
        write_html(result, folder / REPORT_PAGE)
        return report_markdown(result)


def export_with_report(
    annotations: Path,
    *,
    config: Config,
    out: Path,
    predictions: Path | None = None,
    max_loss: int | None = None,
    with_report: bool = True,
    on_progress: OnProgress | None = None,
) -> ExportResult:
    """``toolkit.dataset.export`` of ``annotations`` with the configured tokenizer, and
    (``with_report``) the annotation report of the same pull in the card and the version."""
    from toolkit.dataset import check_input_files, export
    from toolkit.nlp.pipeline import load_tokenizer

    # Before the tokenizer is loaded: a missing file is said at once (the export checks again).
    check_input_files(annotations, predictions)
    # The report tokenizes with the export's tokenizer: its tokens are the dataset's.
    tokenizer = load_tokenizer(config)
    attachment = ReportAttachment(annotations, config=config, make_doc=tokenizer.make_doc) if with_report else None
    return export(
        annotations,
        config=config,
        out=out,
        make_doc=tokenizer.make_doc,
        model={"name": tokenizer.model.name, "version": tokenizer.model.version},
        predictions=predictions,
        max_loss=max_loss,
        attachment=attachment,
        on_progress=on_progress,
    )


# -- `toolkit train`: train, then the promotion check -------------------------------------


@dataclass
class TrainAndPromote:
    """``toolkit train``'s outcome: the training, and whether the model became the project's current one."""

    train: TrainResult
    promotion: Promotion


def train_and_promote(
    export: Path,
    *,
    config: Config,
    out: Path,
    promote: bool | None = None,
    on_progress: OnProgress | None = None,
    **train_options: Any,
) -> TrainAndPromote:
    """``toolkit.train.train``, then the new model registered in the project's model registry
    (``toolkit.io.models_registry``) and compared with the current one (the registry's, else the
    configured spacy.model) on the export's test split by ``toolkit.evaluate.evaluate``.

    The rule (``promote`` None): the new model becomes current only when the paired bootstrap
    95% interval of its micro F1 minus the current model's lies above 0 (its low end > 0): the
    test articles show it better, not just a higher point estimate that a resample of the
    same articles would undo. ``promote`` True forces it (said so), False skips the check.
    """
    from toolkit.io import models_registry
    from toolkit.io.models_registry import Promotion
    from toolkit.train import train

    result = train(export, config=config, out=out, on_progress=on_progress, **train_options)
    version = result.model.model_version
    if promote is False:
        promotion = Promotion(version, False, "skipped", "--no-promote: not compared", _reference_name(config))
    else:
        promotion = _promotion_check(result.export.path, result.out, version, config=config, force=bool(promote))
    models_registry.register(
        config,
        result.out,
        version=version,
        trained_on={"export": str(result.export.path), "name": result.export.name, "version": result.export.version},
        base=result.base.model_version if result.base else "blank",
        validation_f1=result.scores.get("f1"),
        test_f1=promotion.new_f1,
        promote=promotion.how if promotion.promoted else None,
    )
    return TrainAndPromote(result, promotion)


def _reference_name(config: Config) -> str:
    from toolkit.io import models_registry

    current = models_registry.current_model(config)
    return current.version if current is not None else f"{config.spacy.model} (spacy.model)"


def _promotion_check(data: Path, model: Path, version: str, *, config: Config, force: bool) -> Promotion:
    """The new model against the current one on the test split (see ``train_and_promote``)."""
    from toolkit.errors import InputError, ModelError
    from toolkit.evaluate import evaluate
    from toolkit.io import models_registry
    from toolkit.io.models_registry import Promotion
    from toolkit.metrics.spans import OVERALL

    current = models_registry.current_model(config)
    reference = current.version if current is not None else f"{config.spacy.model} (spacy.model)"
    try:
        evaluation = evaluate([current.path if current else "base", str(model)], data=data, config=config)
    # No test split, no human rows in it, or the current model cannot load: nothing shows the
    # new one better. The model is written and registered all the same (said in the output).
    except (InputError, ModelError) as error:
        how = "forced" if force else "not evaluated"
        return Promotion(version, force, how, f"not compared: {error}", reference)
    old, new = evaluation.models
    comparison = evaluation.comparisons[0]
    figures = {
        "test_articles": evaluation.articles,
        "new_f1": new.exact.prf(OVERALL).f1,
        "reference_f1": old.exact.prf(OVERALL).f1,
        "difference": comparison.difference,
        "low": comparison.low,
        "high": comparison.high,
    }
    better = comparison.low is not None and comparison.low > 0
    if better:
        reason = "better than the current model on the test split: the 95% interval of the F1 difference is above 0"
    elif comparison.low is None:
        reason = f"not shown better: {comparison.note}"
    else:
        reason = "not shown better on the test split: the 95% interval of the F1 difference does not lie above 0"
    promoted = better or force
    how = "evaluated" if better else ("forced" if force else "evaluated")
    return Promotion(version, promoted, how, reason, reference, **figures)
