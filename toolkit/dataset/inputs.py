"""The export's inputs, checked before any work: the pull, its ledger and the predictions.

Every record is validated here, once; the rows are built afterwards from the same lines
read as plain dicts. The inputs' hashes and the fingerprint made from them tell whether
the latest version was made from the same inputs (then nothing needs reading at all).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from toolkit import __version__
from toolkit.config import Config
from toolkit.dataset.schema import split_of
from toolkit.dataset.stats import ExportStats
from toolkit.errors import InputError
from toolkit.io.hashing import sha256_file
from toolkit.io.jsonl import read_json_lines, read_records, validation_message
from toolkit.progress import OnProgress, emit
from toolkit.records import AnnotatedArticle, LedgerEntry, PredictedArticle, ledger_path, record_mismatch

# Records checked between two progress events.
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class InputHashes:
    """SHA-256 of the input files that exist (``""`` / None for the ones that do not)."""

    annotations: str = ""
    ledger: str | None = None
    predictions: str | None = None


def check_input_files(annotations: Path, predictions: Path | None) -> None:
    """InputError, naming the command that writes it, for an input file that is not there."""
    if not annotations.is_file():
        raise InputError(f"{annotations}: file not found", hint="write it with `toolkit pull --out FILE.jsonl`")
    if predictions is not None and not predictions.is_file():
        raise InputError(f"{predictions}: file not found", hint="write it with `toolkit preannotate --out FILE.jsonl`")


def hash_inputs(annotations: Path, predictions: Path | None) -> InputHashes:
    ledger = ledger_path(annotations)
    return InputHashes(
        annotations=sha256_file(annotations) if annotations.is_file() else "",
        ledger=sha256_file(ledger) if ledger.is_file() else None,
        predictions=sha256_file(predictions) if predictions is not None and predictions.is_file() else None,
    )


def inputs_fingerprint(
    hashes: InputHashes,
    *,
    config: Config,
    model: dict[str, str] | None,
    with_report: bool,
    extra_sections: list[tuple[str, str] | str] | None,
) -> str:
    """A hash of everything a version is made from: the pull and its ledger, the model's
    rows, the config, the tokenizer's pipeline, the toolkit's version and the options."""
    parts = {
        "annotations": hashes.annotations,
        "ledger": hashes.ledger,
        "predictions": hashes.predictions,
        "config": config.model_dump(mode="json"),
        "model": model,
        "toolkit": __version__,
        "report": with_report,
        "extra_sections": [list(item) if isinstance(item, tuple) else item for item in extra_sections or []],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class Plan:
    """What the check found: how many rows each split gets, and which prediction lines are rows."""

    rows_per_split: Counter[str] = field(default_factory=Counter)
    # Line numbers of the predictions file that become model rows (first of an id no human annotated).
    model_lines: set[int] = field(default_factory=set)


def _read_ledger(annotations: Path) -> tuple[ExportStats, set[str]]:
    """The ledger's counts, and the ids of the tasks every annotator skipped."""
    stats, skipped_ids = ExportStats(), set()
    path = ledger_path(annotations)
    if not path.is_file():
        return stats, skipped_ids
    stats.ledger_found = True
    for entry in read_records(path, LedgerEntry):
        stats.ledger[entry.kind] += 1
        if entry.kind == "task_only_skipped" and entry.article_id:
            skipped_ids.add(entry.article_id)
    stats.skipped_annotations = stats.ledger["annotation_skipped"]
    stats.only_skipped_tasks = stats.ledger["task_only_skipped"]
    return stats, skipped_ids


def _check_spans(article: AnnotatedArticle | PredictedArticle, labels: set[str], where: str) -> None:
    for span in article.spans:
        if span.end > len(article.text):
            raise InputError(
                f"{where}: span {span.start}-{span.end} ends beyond the text ({len(article.text)} characters)"
            )
        # A span's text, when the record carries it, is what the annotator saw: offsets
        # that cover something else would put the tags on the wrong words.
        if span.text is not None and article.text[span.start : span.end] != span.text:
            raise InputError(
                f"{where} (article {article.id!r}): span {span.start}-{span.end} {span.label} has text {span.text!r}, "
                f"but the article's text there is {article.text[span.start : span.end]!r}",
                hint="the offsets and the text disagree; pull again (pull re-anchors such spans) or fix the record",
            )
        if span.label not in labels:
            raise InputError(
                f"{where}: span label {span.label!r} is not in the config's labels",
                hint="add it to `labels` in the config, or pull again with this config",
            )


def _validated(value: dict, record_type: type, where: str) -> AnnotatedArticle | PredictedArticle:
    try:
        return record_type.model_validate(value)
    except ValidationError as error:
        message, hint = record_mismatch(where, value, record_type.__name__, validation_message(error))
        raise InputError(message, hint=hint) from None


def check_inputs(
    annotations: Path,
    predictions: Path | None,
    *,
    config: Config,
    on_article: Callable[[AnnotatedArticle], None] | None = None,
    on_progress: OnProgress | None = None,
) -> tuple[Plan, ExportStats]:
    """Check every input record before any work is done; the plan and the inputs' own counts.

    ``on_article`` sees each checked annotated article (the report is built from them).
    """
    plan = Plan()
    splits = dict(config.export.splits)
    labels = set(config.labels)
    stats, skipped_ids = _read_ledger(annotations)
    seen: dict[str, int] = {}
    seen_records: dict[tuple[str, tuple[int, ...]], int] = {}
    task_of: dict[str, int] = {}  # article id -> the Label Studio task of its first record
    skipped_by = 0
    emit(on_progress, "check", note=f"Checking {annotations.name}")
    for number, value in read_json_lines(annotations):
        article = _validated(value, AnnotatedArticle, f"{annotations}:{number}")
        # Pull's `all` policy writes one record per annotator: the same article id on several
        # lines, one row each (the hash of the id keeps them in one split). Any other repeat
        # is a broken file.
        key = (article.id, tuple(article.chosen) if article.policy == "all" else ())
        first_task = task_of.setdefault(article.id, article.task_id)
        if first_task != article.task_id:
            # Two Label Studio tasks carry this article id: pulling again writes the same two.
            raise InputError(
                f"{annotations}:{number}: article id {article.id!r} again, from Label Studio task "
                f"{article.task_id} (first on line {seen[article.id]}, from task {first_task}): two tasks carry "
                "this article id",
                hint=f"in Label Studio, give task {article.task_id} its own data.article_id (or delete it if it "
                "is a copy), then `toolkit pull` again",
            )
        if key in seen_records or (article.policy != "all" and article.id in seen):
            first = seen_records.get(key, seen.get(article.id))
            raise InputError(
                f"{annotations}:{number}: article id {article.id!r} again (first on line {first})",
                hint="pull writes each article once (or once per annotator with pull.policy: all); "
                "re-run `toolkit pull`",
            )
        seen_records[key] = number
        seen.setdefault(article.id, number)
        _check_spans(article, labels, f"{annotations}:{number}")
        skipped_by += len(article.skipped_by)
        stats.drafts += article.drafts
        plan.rows_per_split[split_of(article.group or article.id, splits)] += 1
        if on_article is not None:
            on_article(article)
        if len(seen_records) % PROGRESS_EVERY == 0:
            emit(on_progress, "check", PROGRESS_EVERY)
    if not stats.ledger_found:
        # Without a ledger, the skips recorded on the articles themselves are all we know.
        stats.skipped_annotations = skipped_by
    if not seen and not stats.ledger_found:
        # A pull always writes its ledger: an empty file without one is not a pull.
        raise InputError(
            f"{annotations}: no annotated articles in it, and no pull ledger next to it",
            hint="write it with `toolkit pull --out FILE.jsonl`",
        )
    if predictions is not None:
        model_seen: set[str] = set()
        for number, value in read_json_lines(predictions):
            article = _validated(value, PredictedArticle, f"{predictions}:{number}")
            _check_spans(article, labels, f"{predictions}:{number}")
            # A human row wins over the model's; a task every annotator skipped is not
            # usable text, so its prediction is left out too.
            if article.id in seen or article.id in skipped_ids or article.id in model_seen:
                continue
            model_seen.add(article.id)
            plan.model_lines.add(number)
            plan.rows_per_split[split_of(article.id, splits)] += 1
    return plan, stats
