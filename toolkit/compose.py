"""Stages composed: the one module above the stages, and the only one that joins two of them.

A stage never imports another (tests/unit/architecture/test_layers.py); where a command
needs two, they meet here, and the CLI calls this module as it calls a stage.

- ``export_with_report`` (``toolkit export``): the dataset stage's export of a pull, with
  the report stage's annotation report of the same pull published in the version
  (``ReportAttachment``: a section of the dataset card and ``report.html``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.config import Config
    from toolkit.dataset import ExportResult
    from toolkit.progress import OnProgress
    from toolkit.records import AnnotatedArticle

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
