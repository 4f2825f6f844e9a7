"""Export annotated articles as a versioned Hugging Face dataset: annotated articles -> dataset.

Inside a version (see ``versions`` for the export root around it)::

    dataset_dict.json, train/, ...   the ``save_to_disk`` dataset (``load_from_disk``)
    data/{split}-00000-of-00001.parquet
    README.md                        the dataset card (YAML metadata + prose)
    manifest.json                    input hashes, versions, counts, file hashes
    loss_report.jsonl                every span the tags could not carry
    spacy/{split}-NNNNN.spacy        DocBin shards (``spacy train`` takes the folder)
    conll/{split}.conll              CoNLL-2003 style text
    report.html                      what an attachment adds (``toolkit.compose``'s: the annotation report)

The steps, in order: the inputs' hashes (an unchanged pull writes nothing), the check of
every record, the one pass that writes the rows (``build``), the loss limit, parquet,
the loss report, the card, the manifest, and the rename into place.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from toolkit import hooks
from toolkit.config import Config
from toolkit.dataset.build import write_rows
from toolkit.dataset.formats.parquet import arrow_to_parquet, parquet_name
from toolkit.dataset.inputs import check_input_files, check_inputs, hash_inputs, inputs_fingerprint
from toolkit.dataset.manifest import build_manifest, file_hashes, write_manifest
from toolkit.dataset.stats import ExportStats
from toolkit.dataset.versions import check_root, new_work_folder, publish
from toolkit.errors import LossOverLimitError
from toolkit.io.exports import latest_version, read_manifest
from toolkit.io.locks import output_lock
from toolkit.progress import OnProgress
from toolkit.records import AnnotatedArticle

if TYPE_CHECKING:
    from spacy.tokens import Doc

LOSS_REPORT = "loss_report.jsonl"


class Attachment(Protocol):
    """Something published with a version, made from the same pull in the same pass.

    ``add`` sees each annotated article as it is checked (the pull is read and validated
    once); ``finish`` is called when the version's files are written, writes its own
    files into the version folder and returns a markdown section (with its ``##``
    heading) for the dataset card. The card, the files and the dataset are published,
    or lost, together. ``files`` names what it writes: ``(what, file name)`` pairs, said
    in the result (``ExportResult.attached``).
    """

    files: tuple[tuple[str, str], ...]

    def add(self, article: AnnotatedArticle) -> None: ...

    def finish(self, folder: Path) -> str: ...


@dataclass(frozen=True)
class ExportResult:
    version: str
    path: Path
    root: Path
    stats: ExportStats
    manifest: dict[str, Any]
    # True when the inputs are those of the latest version: no new version was written
    # and ``version``/``path`` name that one.
    unchanged: bool = False
    # How it was made, for whoever shows the result (``dataset.view``).
    splits: tuple[str, ...] = ()
    alignment_fallback: str = ""
    with_predictions: bool = False
    # ``(what, path)`` of each file an attachment wrote into the version folder.
    attached: tuple[tuple[str, Path], ...] = ()

    @property
    def pushable(self) -> bool:
        """Whether ``push_to_hub`` should upload it: a new version without rows stays local
        (the Hub's parquet loader cannot read a dataset without data files)."""
        return self.unchanged or self.stats.articles > 0


def export(
    annotations: Path,
    *,
    config: Config,
    out: Path,
    make_doc: Callable[[str], Doc],
    model: dict[str, str] | None = None,
    predictions: Path | None = None,
    max_loss: int | None = None,
    extra_sections: list[tuple[str, str] | str] | None = None,
    attachment: Attachment | None = None,
    on_progress: OnProgress | None = None,
) -> ExportResult:
    """Write a new version of the dataset under the export root ``out`` and point ``LATEST`` at it.

    ``model`` names the tokenizer's pipeline (``{"name": ..., "version": ...}``) for the
    manifest and card. ``extra_sections`` are ``(title, markdown)`` sections, or markdown
    with its own ``##`` heading, appended to the dataset card; ``attachment``'s section
    comes after them. Raises LossOverLimitError when more than ``max_loss`` spans are lost,
    OutputLockedError when another export writes to ``out``, InputError when an input file
    is not there.
    """
    check_input_files(annotations, predictions)
    # Held to the end: two exports of one pull would both write a version, and the slower
    # one's LATEST could name the older version.
    with output_lock(out, what="export root"):
        return _export_locked(
            annotations, config=config, out=out, make_doc=make_doc, model=model, predictions=predictions,
            max_loss=max_loss, extra_sections=extra_sections, attachment=attachment, on_progress=on_progress,
        )  # fmt: skip


def _export_locked(
    annotations: Path,
    *,
    config: Config,
    out: Path,
    make_doc: Callable[[str], Doc],
    model: dict[str, str] | None,
    predictions: Path | None,
    max_loss: int | None,
    extra_sections: list[tuple[str, str] | str] | None,
    attachment: Attachment | None,
    on_progress: OnProgress | None,
) -> ExportResult:
    check_root(out)
    # The inputs' hashes first: when they are those of the latest version, nothing needs
    # reading, checking or tokenizing (they were checked when that version was written).
    hashes = hash_inputs(annotations, predictions)
    fingerprint = inputs_fingerprint(
        hashes, config=config, model=model, with_report=attachment is not None, extra_sections=extra_sections
    )
    made: dict[str, Any] = {
        "splits": tuple(config.export.splits),
        "alignment_fallback": config.export.alignment_fallback,
        "with_predictions": predictions is not None,
    }
    latest = latest_version(out)
    if latest is not None:
        previous = read_manifest(latest)
        if previous.get("inputs_fingerprint") == fingerprint:
            # The same inputs give the same dataset: a second copy would only make every
            # `export-diff` of the two say "nothing changed". The loss limit still holds.
            lost = int(previous.get("counts", {}).get("lost_spans", 0))
            if max_loss is not None and lost > max_loss:
                raise LossOverLimitError(lost, max_loss, same_as=latest.name)
            return ExportResult(
                version=latest.name,
                path=latest,
                root=out,
                stats=ExportStats(),
                manifest=previous,
                unchanged=True,
                **made,
            )
    # The input is checked before the export root is created: bad input leaves no folder.
    plan, input_counts = check_inputs(
        annotations,
        predictions,
        config=config,
        on_article=attachment.add if attachment is not None else None,
        on_progress=on_progress,
    )
    step = hooks.current().export_step  # called at each named step below (toolkit.hooks.ExportStep)
    work = new_work_folder(out)
    try:
        stats = input_counts + write_rows(
            annotations,
            predictions,
            plan,
            config=config,
            make_doc=make_doc,
            folder=work,
            fingerprint=fingerprint,
            on_progress=on_progress,
        )
        if max_loss is not None and len(stats.lost) > max_loss:
            raise LossOverLimitError(len(stats.lost), max_loss, lines=[lost.line() for lost in stats.lost])
        step("after-save")
        _write_parquet(work, stats, list(config.export.splits))
        _write_loss_report(work, stats)
        manifest = build_manifest(
            annotations, predictions, config=config, stats=stats, hashes=hashes, model=model, fingerprint=fingerprint
        )
        sections = list(extra_sections or [])
        if attachment is not None:
            sections.append(attachment.finish(work))
        _write_card(work, config=config, stats=stats, manifest=manifest, sections=sections)
        step("before-manifest")
        manifest["files"] = file_hashes(work)
        write_manifest(work, manifest)  # last: a folder with a manifest is complete
        step("before-rename")
        target = publish(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    manifest["version"] = target.name
    attached = tuple((what, target / name) for what, name in attachment.files) if attachment is not None else ()
    return ExportResult(
        version=target.name, path=target, root=out, stats=stats, manifest=manifest, attached=attached, **made
    )


def _write_parquet(work: Path, stats: ExportStats, splits: list[str]) -> None:
    (work / "data").mkdir()
    for name in splits:
        if stats.rows_per_split.get(name, 0):  # load_dataset("parquet") fails on an empty file
            arrow_to_parquet(sorted((work / name).glob("*.arrow")), work / "data" / parquet_name(name))


def _write_loss_report(work: Path, stats: ExportStats) -> None:
    with (work / LOSS_REPORT).open("w", encoding="utf-8") as handle:
        for lost in stats.lost:
            handle.write(json.dumps(lost.to_json_dict(), ensure_ascii=False) + "\n")


def _write_card(
    work: Path, *, config: Config, stats: ExportStats, manifest: dict[str, Any], sections: list[tuple[str, str] | str]
) -> None:
    from toolkit.dataset.card import dataset_card

    text = dataset_card(config=config, stats=stats, manifest=manifest, extra_sections=sections)
    (work / "README.md").write_text(text, encoding="utf-8")
