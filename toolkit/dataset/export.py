"""Export annotated articles as a versioned Hugging Face dataset: annotated articles -> dataset.

Layout of an export root (``--out``)::

    exports/news-ner/
      LATEST                 the name of the newest complete version ("v3")
      v1/ v2/ v3/            one folder per export, never changed once written
      .tmp-<pid>-<random>/   a version being built (removed when its process is gone)

A version is built in a ``.tmp-*`` folder and renamed into place only when every file
is written, so a kill half-way leaves the earlier versions as they were and nothing that
looks like a version. Inside a version::

    dataset_dict.json, train/, ...   the ``save_to_disk`` dataset (``load_from_disk``)
    data/{split}-00000-of-00001.parquet
    README.md                        the dataset card (YAML metadata + prose)
    manifest.json                    input hashes, versions, counts, file hashes
    loss_report.jsonl                every span the tags could not carry
    spacy/{split}-NNNNN.spacy        DocBin shards (``spacy train`` takes the folder)
    conll/{split}.conll              CoNLL-2003 style text
    report.html                      the annotation report of the same pull (plots)

Rows are built by ``Dataset.from_generator`` one split at a time straight from the
pulled file, so memory does not grow with the corpus. Spans are aligned to the tokens of
the pre-annotation tokenizer with ``Doc.char_span``; a round-trip audit turns the tags
back into spans and lists every pulled span they do not give back exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from toolkit import __version__
from toolkit._testing.faults import kill_at
from toolkit.config import Config
from toolkit.errors import InputError, OutputError
from toolkit.io.atomic import atomic_output
from toolkit.io.hashing import sha256_file
from toolkit.io.jsonl import read_json_lines, read_records, validation_message
from toolkit.metrics.edits import corrections
from toolkit.nlp.alignment import LostSpan, Tokens, align, tag_names
from toolkit.records import AnnotatedArticle, LedgerEntry, PredictedArticle, ledger_path, record_mismatch

if TYPE_CHECKING:
    from datasets import DatasetDict, Features
    from spacy.tokens import Doc
    from spacy.tokens import Span as SpacySpan

LATEST = "LATEST"
# The annotation report (toolkit report) of the same pull, as a page with plots.
REPORT_PAGE = "report.html"
TEMP_PREFIX = ".tmp-"
MANIFEST = "manifest.json"
LOSS_REPORT = "loss_report.jsonl"
VERSION_PATTERN = re.compile(r"^v(\d+)$")
WHITESPACE = re.compile(r"\s")
# Docs per DocBin file: a DocBin holds its docs in memory until it is written.
DOCBIN_SHARD_SIZE = 2000
# Rows per Arrow write batch: articles are long, so fewer than datasets' default 1000.
WRITER_BATCH_SIZE = 500

ProgressCallback = Callable[[str, int], None]


@dataclass
class ExportStats:
    articles: int = 0
    human_rows: int = 0
    model_rows: int = 0
    rows_per_split: Counter[str] = field(default_factory=Counter)
    source_per_split: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    labels_per_split: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    spans: int = 0
    aligned_strict: int = 0
    # Spans whose offsets are not on token boundaries and were snapped by the fallback.
    aligned_non_strict: int = 0
    lost: list[LostSpan] = field(default_factory=list)
    # Submitted annotations per anonymous annotator id.
    annotations_per_annotator: Counter[str] = field(default_factory=Counter)
    # Human rows that started from a prediction, and of those the ones left unchanged.
    rows_with_prediction: int = 0
    rows_unchanged: int = 0
    corrections: int = 0
    spans_from_model_unchanged: int = 0
    spans_added_by_humans: int = 0
    spans_removed_by_humans: int = 0
    # From the ledger and the records: skips and drafts never become data.
    skipped_annotations: int = 0
    only_skipped_tasks: int = 0
    drafts: int = 0
    ledger: Counter[str] = field(default_factory=Counter)
    ledger_found: bool = False


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


def features(labels: list[str]) -> Features:
    from datasets import ClassLabel, Features, List, Value

    return Features(
        {
            "id": Value("string"),
            "text": Value("string"),
            "title": Value("string"),
            "date": Value("string"),
            "tokens": List(Value("string")),
            "ner_tags": List(ClassLabel(names=tag_names(labels))),
            "spans": List({"start": Value("int32"), "end": Value("int32"), "label": Value("string")}),
            # Provenance: "human" (pulled from Label Studio) or "model" (--include-predictions).
            "source": Value("string"),
            "n_annotators": Value("int32"),
            "annotators": List(Value("string")),
            "model_version": Value("string"),
            # Spans the humans changed against the prediction they started from (see
            # corrections()); null when there was no prediction to compare with.
            "n_corrections": Value("int32"),
        }
    )


def split_of(article_id: str, splits: dict[str, float]) -> str:
    """The split an article belongs to, from a hash of its id alone.

    It does not depend on the other articles, so a split never changes when articles
    are added, and an article never sits in two splits.
    """
    point = int.from_bytes(hashlib.sha256(article_id.encode("utf-8")).digest()[:8], "big") / 2**64
    cumulative = 0.0
    for name, share in splits.items():
        cumulative += share
        if point < cumulative:
            return name
    return list(splits)[-1]


# ---------------------------------------------------------------- reading the inputs


@dataclass
class _Plan:
    """What the first pass over the inputs found: which lines go to which split."""

    human_lines: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    model_lines: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    input_sha256: str = ""
    predictions_sha256: str | None = None
    ledger_sha256: str | None = None
    skipped_ids: set[str] = field(default_factory=set)


def _read_ledger(annotations: Path, stats: ExportStats, plan: _Plan) -> None:
    path = ledger_path(annotations)
    if not path.is_file():
        return
    stats.ledger_found = True
    plan.ledger_sha256 = plan.ledger_sha256 or sha256_file(path)
    for entry in read_records(path, LedgerEntry):
        stats.ledger[entry.kind] += 1
        if entry.kind == "task_only_skipped" and entry.article_id:
            plan.skipped_ids.add(entry.article_id)
    stats.skipped_annotations = stats.ledger["annotation_skipped"]
    stats.only_skipped_tasks = stats.ledger["task_only_skipped"]


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


def _plan(
    annotations: Path,
    predictions: Path | None,
    config: Config,
    stats: ExportStats,
    on_article: Callable[[AnnotatedArticle], None] | None = None,
    hashed: _Plan | None = None,
) -> _Plan:
    """Check every input record before any work is done, and assign each line a split.

    ``on_article`` sees each checked annotated article (the report is built from them);
    ``hashed`` holds the inputs' SHA-256 already computed (``_hashed_inputs``).
    """
    plan = hashed if hashed is not None else _Plan()
    splits = dict(config.export.splits)
    labels = set(config.labels)
    _read_ledger(annotations, stats, plan)
    seen: dict[str, int] = {}
    seen_records: dict[tuple[str, tuple[int, ...]], int] = {}
    skipped_by = 0
    for number, value in read_json_lines(annotations):
        try:
            article = AnnotatedArticle.model_validate(value)
        except ValidationError as error:
            message, hint = record_mismatch(
                f"{annotations}:{number}", value, "AnnotatedArticle", validation_message(error)
            )
            raise InputError(message, hint=hint) from None
        # Pull's `all` policy writes one record per annotator: the same article id on several
        # lines, one row each (the hash of the id keeps them in one split). Any other repeat
        # is a broken file.
        key = (article.id, tuple(article.chosen) if article.policy == "all" else ())
        if key in seen_records or (article.policy != "all" and article.id in seen):
            first = seen_records.get(key, seen.get(article.id))
            raise InputError(
                f"{annotations}:{number}: article id {article.id!r} again (first on line {first})",
                hint="pull writes each article once (or once per annotator with pull.policy: all); re-run `toolkit pull`",
            )
        seen_records[key] = number
        seen.setdefault(article.id, number)
        _check_spans(article, labels, f"{annotations}:{number}")
        skipped_by += len(article.skipped_by)
        stats.drafts += article.drafts
        plan.human_lines[split_of(article.id, splits)].add(number)
        if on_article is not None:
            on_article(article)
    if not stats.ledger_found:
        # Without a ledger, the skips recorded on the articles themselves are all we know.
        stats.skipped_annotations = skipped_by
    if not seen and not stats.ledger_found:
        # A pull always writes its ledger: an empty file without one is not a pull.
        raise InputError(
            f"{annotations}: no annotated articles in it, and no pull ledger next to it",
            hint="write it with `toolkit pull --out FILE.jsonl`",
        )
    plan.input_sha256 = plan.input_sha256 or sha256_file(annotations)
    if predictions is not None:
        model_seen: set[str] = set()
        for number, value in read_json_lines(predictions):
            try:
                article = PredictedArticle.model_validate(value)
            except ValidationError as error:
                message, hint = record_mismatch(
                    f"{predictions}:{number}", value, "PredictedArticle", validation_message(error)
                )
                raise InputError(message, hint=hint) from None
            _check_spans(article, labels, f"{predictions}:{number}")
            # A human row wins over the model's; a task every annotator skipped is not
            # usable text, so its prediction is left out too.
            if article.id in seen or article.id in plan.skipped_ids or article.id in model_seen:
                continue
            model_seen.add(article.id)
            plan.model_lines[split_of(article.id, splits)].add(number)
        plan.predictions_sha256 = plan.predictions_sha256 or sha256_file(predictions)
    return plan


def _selected_lines(path: Path, numbers: set[int]) -> Iterator[dict[str, Any]]:
    """The JSON objects on the given line numbers; other lines are not parsed at all."""
    if not numbers:
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number in numbers:
                yield json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))


# ---------------------------------------------------------------- building the rows


def _fast_docbin_type() -> type:
    import numpy
    from spacy.attrs import ENT_IOB, ENT_TYPE, ORTH
    from spacy.strings import get_string_id
    from spacy.tokens import DocBin

    if DocBin(attrs=["ENT_IOB", "ENT_TYPE"]).attrs != [ORTH, ENT_IOB, ENT_TYPE]:  # pragma: no cover
        raise RuntimeError("this spaCy's DocBin stores other columns; update _fast_docbin_type")

    class FastDocBin(DocBin):
        """A DocBin that takes a doc's arrays from the caller instead of reading the doc.

        ``DocBin.add`` iterates the doc's Token objects and looks up nine strings per
        token (tag, lemma, dep, ...) that these docs do not have; that was a third of the
        export's time. The arrays and the file are DocBin's own (read back with
        ``DocBin().from_disk``), for ``attrs=["ENT_IOB", "ENT_TYPE"]``.
        """

        def add_arrays(self, tokens: Tokens, entities: list[tuple[int, int, str]], empty_spans: bytes) -> None:
            # Columns in DocBin's order: ORTH, ENT_IOB, ENT_TYPE.
            annotations = numpy.zeros((len(tokens.texts), 3), dtype="uint64")
            annotations[:, 0] = tokens.orth
            annotations[:, 1] = 2  # ENT_IOB "O": annotated as outside an entity, not missing
            for start, end, label in entities:
                annotations[start, 1] = 3  # "B"
                annotations[start + 1 : end, 1] = 1  # "I"
                annotations[start:end, 2] = get_string_id(label)
                self.strings.add(label)
            self.tokens.append(annotations)
            self.spaces.append(numpy.asarray(tokens.trailing_space, dtype=bool).reshape((-1, 1)))
            self.flags.append({"has_unknown_spaces": False})
            self.strings.update(tokens.texts)
            self.cats.append({})
            self.span_groups.append(empty_spans)

    return FastDocBin


class _Sinks:
    """The spaCy DocBin and CoNLL files of one split, written from the same alignment as the rows.

    The n-th doc of ``spacy/{split}-*.spacy`` (shards in name order) is the n-th row of the
    split. Article ids are not stored in the docs: DocBin's user data costs more than the
    rest of a doc.
    """

    def __init__(self, folder: Path, split: str) -> None:
        self.split = split
        self.spacy_dir = folder / "spacy"
        self.spacy_dir.mkdir(parents=True, exist_ok=True)
        (folder / "conll").mkdir(parents=True, exist_ok=True)
        self.conll = (folder / "conll" / f"{split}.conll").open("w", encoding="utf-8")
        self._docbin_type = _fast_docbin_type()
        self.empty_spans: bytes | None = None
        self.shard = 0
        self.docbin = self._new_docbin()

    def _new_docbin(self) -> Any:
        return self._docbin_type(attrs=["ENT_IOB", "ENT_TYPE"])

    def add(self, doc: Doc, tokens: Tokens, kept: list[SpacySpan], tags: list[str]) -> None:
        if self.empty_spans is None:
            self.empty_spans = doc.spans.to_bytes()
        self.docbin.add_arrays(tokens, [(span.start, span.end, span.label_) for span in kept], self.empty_spans)
        if len(self.docbin) >= DOCBIN_SHARD_SIZE:
            self._flush()
        texts = tokens.texts
        # Paragraph breaks end sentences: CoNLL readers expect short sequences.
        breaks = {i for i, flag in enumerate(tokens.space) if flag and "\n" in texts[i]}
        words = [texts[i] for i in tokens.words]
        if any(" " in word or not word.isprintable() for word in words):
            words = [WHITESPACE.sub("_", word) for word in words]  # columns are separated by spaces
        lines = ["-DOCSTART- -X- -X- O\n\n"]
        previous = -1
        for index, word, tag in zip(tokens.words, words, tags):
            if breaks and previous >= 0 and any(previous < i < index for i in breaks):
                lines.append("\n")
            lines.append(f"{word} -X- _ {tag}\n")
            previous = index
        if words:
            lines.append("\n")
        self.conll.write("".join(lines))

    def _flush(self) -> None:
        self.docbin.to_disk(self.spacy_dir / f"{self.split}-{self.shard:05d}.spacy")
        self.shard += 1
        self.docbin = self._new_docbin()

    def close(self) -> None:
        if len(self.docbin) or self.shard == 0:
            self._flush()
        self.conll.close()


def _human_provenance(value: dict[str, Any], stats: ExportStats) -> tuple[list[str], str | None, int | None]:
    """``(annotators, model_version, n_corrections)`` of a validated AnnotatedArticle dict."""
    annotations = value["annotations"]
    annotators = sorted({a["annotator"] for a in annotations})
    for annotation in annotations:
        stats.annotations_per_annotator[annotation["annotator"]] += 1
    chosen = set(value["chosen"])
    predictions = value.get("predictions") or []
    # As AnnotatedArticle.model_version: the prediction the chosen annotation started from.
    model_version = next(
        (a["model_version"] for a in annotations if a["id"] in chosen and a.get("model_version")), None
    )
    model_version = model_version or next((p["model_version"] for p in predictions), None)
    prediction = next((p for p in predictions if p["model_version"] == model_version), None)
    if prediction is None:
        return annotators, model_version, None
    unchanged, added, removed = corrections(
        [(s["start"], s["end"], s["label"]) for s in value["spans"]],
        [(s["start"], s["end"], s["label"]) for s in prediction["spans"]],
    )
    stats.rows_with_prediction += 1
    stats.rows_unchanged += added + removed == 0
    stats.corrections += added + removed
    stats.spans_from_model_unchanged += unchanged
    stats.spans_added_by_humans += added
    stats.spans_removed_by_humans += removed
    return annotators, model_version, added + removed


def _rows(
    annotations: str,
    predictions: str | None,
    human_lines: set[int],
    model_lines: set[int],
    split: str,
    config: Config,
    make_doc: Any,
    stats: ExportStats,
    sinks: _Sinks,
    on_progress: ProgressCallback | None,
) -> Iterator[dict[str, Any]]:
    # Every line was validated by _plan; here the records are read as plain dicts, which
    # is several times faster than validating them again.
    mode, fallback = config.export.alignment, config.export.alignment_fallback
    tag_ids = {name: index for index, name in enumerate(tag_names(config.labels))}
    sources: list[tuple[str, set[int], str]] = [("human", human_lines, annotations)]
    if predictions is not None:
        sources.append(("model", model_lines, predictions))
    for source, lines, path in sources:
        for value in _selected_lines(Path(path), lines):
            article_id, text = value["id"], value["text"]
            if source == "human":
                annotators, model_version, n_corrections = _human_provenance(value, stats)
                task_id: int | None = value["task_id"]
                stats.human_rows += 1
            else:
                annotators, n_corrections, task_id = [], None, None
                model_version = f"{value['model']['name']}-{value['model']['version']}"  # ModelInfo.model_version
                stats.model_rows += 1
            doc = make_doc(text)
            tokens = Tokens.of(doc, text)
            spans = sorted((s["start"], s["end"], s["label"]) for s in value["spans"])
            aligned = align(
                doc,
                spans,
                mode=mode,
                fallback=fallback,
                article_id=article_id,
                task_id=task_id,
                tokens=tokens,
                text=text,
            )
            stats.spans += aligned.spans
            stats.aligned_strict += aligned.strict
            stats.aligned_non_strict += aligned.snapped
            stats.lost.extend(aligned.lost)
            tags = aligned.tags
            sinks.add(doc, tokens, aligned.kept, tags)
            stats.articles += 1
            stats.rows_per_split[split] += 1
            stats.source_per_split[split][source] += 1
            stats.labels_per_split[split].update(label for _, _, label in spans)
            if on_progress is not None:
                on_progress(split, 1)
            yield {
                "id": article_id,
                "text": text,
                "title": value.get("title"),
                "date": value.get("date"),
                "tokens": [tokens.texts[i] for i in tokens.words],
                # Tag ids, not names: ClassLabel's str2int per tag was a tenth of the time.
                "ner_tags": [tag_ids[tag] for tag in tags],
                "spans": [{"start": start, "end": end, "label": label} for start, end, label in spans],
                "source": source,
                "n_annotators": len(annotators),
                "annotators": annotators,
                "model_version": model_version,
                "n_corrections": n_corrections,
            }


def build_dataset(
    annotations: Path,
    *,
    config: Config,
    make_doc: Any,
    stats: ExportStats,
    folder: Path,
    predictions: Path | None = None,
    on_progress: ProgressCallback | None = None,
    plan: _Plan | None = None,
) -> DatasetDict:
    """Build the ``DatasetDict`` (and the DocBin and CoNLL files under ``folder``)."""
    from datasets import Dataset, DatasetDict
    from datasets.utils.logging import disable_progress_bar

    # The library reports through ExportStats and on_progress; the CLI draws progress.
    disable_progress_bar()
    if plan is None:
        plan = _plan(annotations, predictions, config, stats)
    fingerprint = hashlib.sha256(
        "|".join([plan.input_sha256, plan.predictions_sha256 or "", config.model_dump_json(), __version__]).encode()
    ).hexdigest()[:32]
    schema = features(config.labels)
    dataset = {}
    for split in config.export.splits:
        sinks = _Sinks(folder, split)
        human, model = plan.human_lines.get(split, set()), plan.model_lines.get(split, set())
        if not human and not model:
            # from_generator cannot build an empty dataset; an empty split keeps its features.
            dataset[split] = Dataset.from_dict({name: [] for name in schema}, features=schema, split=split)
            sinks.close()
            continue
        dataset[split] = Dataset.from_generator(
            _rows,
            features=schema,
            gen_kwargs={
                "annotations": str(annotations),
                "predictions": str(predictions) if predictions is not None else None,
                "human_lines": human,
                "model_lines": model,
                "split": split,
                "config": config,
                "make_doc": make_doc,
                "stats": stats,
                "sinks": sinks,
                "on_progress": on_progress,
            },
            cache_dir=str(folder / ".cache"),
            # The fingerprint names the inputs, not the generator: a changed input file
            # is never answered from a stale cache.
            fingerprint=f"{fingerprint}-{split}",
            split=split,
            writer_batch_size=WRITER_BATCH_SIZE,
        )
        sinks.close()
    return DatasetDict(dataset)


# ---------------------------------------------------------------- versions on disk


def versions(root: Path) -> list[str]:
    """The complete versions under an export root, oldest first."""
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p.name) for p in root.iterdir() if p.is_dir() and (m := VERSION_PATTERN.match(p.name))]
    return [name for _, name in sorted(found)]


def latest_version(root: Path) -> Path | None:
    """The version ``LATEST`` names, else the highest complete one, else None."""
    pointer = root / LATEST
    if pointer.is_file():
        name = pointer.read_text(encoding="utf-8").strip()
        if VERSION_PATTERN.match(name) and (root / name / MANIFEST).is_file():
            return root / name
    complete = [name for name in versions(root) if (root / name / MANIFEST).is_file()]
    return root / complete[-1] if complete else None


def resolve_version(path: Path) -> Path:
    """A version folder from either a version folder or an export root (its latest version)."""
    if (path / MANIFEST).is_file():
        return path
    latest = latest_version(path)
    if latest is None:
        raise InputError(f"{path}: not an export version nor an export root", hint="write one with `toolkit export`")
    return latest


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temps(root: Path) -> list[Path]:
    """Remove ``.tmp-<pid>-*`` folders whose export process is gone (killed half-way)."""
    removed = []
    if not root.is_dir():
        return removed
    for path in root.iterdir():
        if not path.name.startswith(TEMP_PREFIX) or not path.is_dir():
            continue
        pid = path.name[len(TEMP_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and _pid_alive(int(pid)) and int(pid) != os.getpid():
            continue  # another export is building right now
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _check_root(root: Path) -> None:
    if (root / "dataset_dict.json").is_file():
        raise OutputError(
            f"{root}: holds a dataset in the old single-folder layout",
            hint=f"move it away (e.g. `mv {root} {root}-old`); exports now go to {root}/vN/",
        )
    if root.exists() and not root.is_dir():
        raise OutputError(f"{root}: exists and is not a folder")
    if root.is_dir():
        names = [p.name for p in root.iterdir()]
        if LATEST in names or any(VERSION_PATTERN.match(name) for name in names):
            return  # an export root; other files next to the versions (e.g. a report page) are left alone
        foreign = [name for name in names if not name.startswith(TEMP_PREFIX)]
        if foreign:
            raise OutputError(
                f"{root}: exists and is not an export folder (it holds {', '.join(sorted(foreign)[:3])})",
                hint="choose another --out, or an empty folder",
            )


def _file_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def _package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def export(
    annotations: Path,
    *,
    config: Config,
    out: Path,
    make_doc: Any,
    model: dict[str, str] | None = None,
    predictions: Path | None = None,
    max_loss: int | None = None,
    extra_sections: list[tuple[str, str] | str] | None = None,
    with_report: bool = True,
    on_progress: ProgressCallback | None = None,
) -> ExportResult:
    """Write a new version of the dataset under the export root ``out`` and point ``LATEST`` at it.

    ``model`` names the tokenizer's pipeline (``{"name": ..., "version": ...}``) for the
    manifest and card. ``extra_sections`` are ``(title, markdown)`` sections, or markdown
    with its own ``##`` heading (e.g. the report's ``report_markdown``), appended to the
    dataset card. Raises InputError when more than ``max_loss`` spans are lost.
    """
    from toolkit.dataset.card import dataset_card

    _check_root(out)
    stats = ExportStats()
    # The inputs' hashes first: when they are those of the latest version, nothing needs
    # reading, checking or tokenizing (they were checked when that version was written).
    hashed = _hashed_inputs(annotations, predictions)
    fingerprint = _inputs_fingerprint(
        hashed, config=config, model=model, with_report=with_report, extra_sections=extra_sections
    )
    latest = latest_version(out)
    if latest is not None:
        previous = json.loads((latest / MANIFEST).read_text(encoding="utf-8"))
        if previous.get("inputs_fingerprint") == fingerprint:
            # The same inputs give the same dataset: a second copy would only make every
            # `export-diff` of the two say "nothing changed". The loss limit still holds.
            lost = int(previous.get("counts", {}).get("lost_spans", 0))
            if max_loss is not None and lost > max_loss:
                raise InputError(
                    f"{lost:,} spans lost in the alignment, more than --max-loss {max_loss} "
                    f"(the inputs are those of {latest.name}; its loss_report.jsonl lists them); nothing written",
                    hint="fix the spans in Label Studio, or allow more with --max-loss",
                )
            return ExportResult(
                version=latest.name, path=latest, root=out, stats=stats, manifest=previous, unchanged=True
            )
    # The report is built while the input is checked: the pull is read and validated once.
    builder = _report_builder(annotations, config=config, make_doc=make_doc) if with_report else None
    # The input is checked before the export root is created: bad input leaves no folder.
    plan = _plan(
        annotations, predictions, config, stats, on_article=builder.add if builder is not None else None, hashed=hashed
    )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{out}: cannot create the folder ({error.strerror})") from None
    clean_stale_temps(out)
    work = out / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        work.mkdir()
    except OSError as error:
        # The root exists but refuses new entries (read-only mount, permissions, immutable).
        raise OutputError(
            f"{out}: cannot write into the export root ({error.strerror})",
            hint="make the folder writable, or choose another --out",
        ) from None
    try:
        dataset = build_dataset(
            annotations,
            config=config,
            make_doc=make_doc,
            stats=stats,
            folder=work,
            predictions=predictions,
            on_progress=on_progress,
            plan=plan,
        )
        if max_loss is not None and len(stats.lost) > max_loss:
            shown = "\n".join(f"  lost: {lost.line()}" for lost in stats.lost[:20])
            more = f"\n  ... and {len(stats.lost) - 20:,} more" if len(stats.lost) > 20 else ""
            raise InputError(
                f"{len(stats.lost):,} spans lost in the alignment, more than --max-loss {max_loss}; nothing written\n{shown}{more}",
                hint="fix the spans in Label Studio, or allow more with --max-loss",
            )
        arrow_files = _save_to_disk(dataset, work)
        del dataset
        kill_at("after-save")
        (work / "data").mkdir()
        for name, files in arrow_files.items():
            if files:  # load_dataset("parquet") fails on an empty file: the card lists only splits with rows
                _arrow_to_parquet(files, work / "data" / f"{name}-00000-of-00001.parquet")
        shutil.rmtree(work / ".cache", ignore_errors=True)
        with (work / LOSS_REPORT).open("w", encoding="utf-8") as handle:
            for lost in stats.lost:
                handle.write(json.dumps(lost.to_json_dict(), ensure_ascii=False) + "\n")
        manifest = _manifest(annotations, predictions, config, stats, plan, model)
        manifest["inputs_fingerprint"] = fingerprint
        sections = list(extra_sections or [])
        if builder is not None:
            sections.append(_write_report(builder, folder=work))
        (work / "README.md").write_text(
            dataset_card(config=config, stats=stats, manifest=manifest, extra_sections=sections),
            encoding="utf-8",
        )
        kill_at("before-manifest")
        manifest["files"] = _file_hashes(work)
        # The manifest is written last: a folder with a manifest is complete.
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        kill_at("before-rename")
        target = _publish(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    manifest["version"] = target.name
    return ExportResult(version=target.name, path=target, root=out, stats=stats, manifest=manifest)


def _hashed_inputs(annotations: Path, predictions: Path | None) -> _Plan:
    """A plan holding only the SHA-256 of the input files that exist (``_plan`` reads the rest)."""
    plan = _Plan()
    if annotations.is_file():
        plan.input_sha256 = sha256_file(annotations)
    if ledger_path(annotations).is_file():
        plan.ledger_sha256 = sha256_file(ledger_path(annotations))
    if predictions is not None and predictions.is_file():
        plan.predictions_sha256 = sha256_file(predictions)
    return plan


def _inputs_fingerprint(
    plan: _Plan,
    *,
    config: Config,
    model: dict[str, str] | None,
    with_report: bool,
    extra_sections: list[tuple[str, str] | str] | None,
) -> str:
    """A hash of everything a version is made from: the pull and its ledger, the model's
    rows, the config, the tokenizer's pipeline, the toolkit's version and the options."""
    parts = {
        "annotations": plan.input_sha256,
        "ledger": plan.ledger_sha256,
        "predictions": plan.predictions_sha256,
        "config": config.model_dump(mode="json"),
        "model": model,
        "toolkit": __version__,
        "report": with_report,
        "extra_sections": [list(item) if isinstance(item, tuple) else item for item in extra_sections or []],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _report_builder(annotations: Path, *, config: Config, make_doc: Any) -> Any:
    from toolkit.report.build import report_builder

    return report_builder(annotations, config=config, make_doc=make_doc, tokenizer="the export's tokenizer")


def _write_report(builder: Any, *, folder: Path) -> str:
    """Write the annotation report's page into the version folder; return its markdown for the card.

    It is built inside the export so the page, the card and the dataset come from the same
    pull and are published (or lost) together.
    """
    from toolkit.report import report_markdown, write_html

    result = builder.finish()
    write_html(result, folder / REPORT_PAGE)
    return report_markdown(result)


def _save_to_disk(dataset: DatasetDict, folder: Path) -> dict[str, list[Path]]:
    """``DatasetDict.save_to_disk``'s layout, with the Arrow files moved from the build cache.

    ``save_to_disk`` reads every row back through a memory map to write a copy, and the
    pages it touches count as the process's memory: the peak grew with the corpus. The
    files ``from_generator`` wrote are already the Arrow files ``load_from_disk`` reads,
    so they are moved, and the two JSON files are written as ``save_to_disk`` writes them.
    Returns the Arrow files of each split (none for an empty split).
    """
    from datasets.utils.py_utils import asdict  # the one save_to_disk uses (it serializes features)

    written: dict[str, list[Path]] = {}
    for name, split in dataset.items():
        target = folder / name
        sources = [Path(entry["filename"]) for entry in split.cache_files]
        if not sources or len(split) == 0:
            # An empty split is in memory; it needs one explicit (empty) shard for load_from_disk.
            split.save_to_disk(str(target), num_shards=1)
            written[name] = []
            continue
        target.mkdir()
        files = [target / f"data-{i:05d}-of-{len(sources):05d}.arrow" for i in range(len(sources))]
        for source, file in zip(sources, files):
            source.rename(file)
        state = {
            key: split.__dict__[key]
            for key in ("_fingerprint", "_format_columns", "_format_kwargs", "_format_type", "_output_all_columns")
        }
        state["_split"] = name
        state["_data_files"] = [{"filename": file.name} for file in files]
        (target / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        info = asdict(split.info)
        (target / "dataset_info.json").write_text(
            json.dumps({key: info[key] for key in sorted(info)}, indent=2), encoding="utf-8"
        )
        written[name] = files
    (folder / "dataset_dict.json").write_text(json.dumps({"splits": list(dataset)}), encoding="utf-8")
    return written


def _arrow_to_parquet(files: list[Path], target: Path) -> None:
    """Copy Arrow stream files to one parquet file, batch by batch, read without a memory map.

    The schema keeps datasets' ``huggingface`` metadata, so the ClassLabel names survive.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for file in files:
            with pa.OSFile(str(file)) as source:
                reader = pa.ipc.open_stream(source)
                if writer is None:
                    writer = pq.ParquetWriter(str(target), reader.schema)
                for batch in reader:
                    writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()


def _publish(work: Path, out: Path) -> Path:
    """Rename the finished folder to the next free ``vN`` and point ``LATEST`` at it."""
    while True:
        existing = versions(out)
        number = int(existing[-1][1:]) + 1 if existing else 1
        target = out / f"v{number}"
        manifest = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
        manifest["version"] = target.name
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        try:
            # rename() of a folder onto an existing non-empty folder fails: another
            # export took this number first, so take the next.
            work.rename(target)
        except OSError:
            if target.exists():
                continue
            raise
        break
    with atomic_output(out / LATEST) as handle:
        handle.write(target.name + "\n")
    (out / LATEST).chmod(0o644)  # the temp file it came from was private
    return target


def _manifest(
    annotations: Path,
    predictions: Path | None,
    config: Config,
    stats: ExportStats,
    plan: _Plan,
    model: dict[str, str] | None,
) -> dict[str, Any]:
    return {
        "name": config.export.name,
        "version": None,  # set when the folder gets its version name
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "input": {"file": annotations.name, "sha256": plan.input_sha256},
        "predictions": {"file": predictions.name, "sha256": plan.predictions_sha256} if predictions else None,
        "ledger": ledger_path(annotations).name if stats.ledger_found else None,
        "config_sha256": hashlib.sha256(config.model_dump_json().encode()).hexdigest(),
        "labels": list(config.labels),
        "tags": tag_names(config.labels),
        "splits": {
            "method": "sha256 of the article id, first 8 bytes as a fraction of 2**64, cut at the cumulative shares",
            "shares": dict(config.export.splits),
            "rows": {name: stats.rows_per_split.get(name, 0) for name in config.export.splits},
        },
        "alignment": {"mode": config.export.alignment, "fallback": config.export.alignment_fallback},
        "counts": {
            "rows": stats.articles,
            "human_rows": stats.human_rows,
            "model_rows": stats.model_rows,
            "spans": stats.spans,
            "aligned_strict": stats.aligned_strict,
            "aligned_non_strict": stats.aligned_non_strict,
            "lost_spans": len(stats.lost),
            "annotators": len(stats.annotations_per_annotator),
            "skipped_annotations": stats.skipped_annotations,
            "only_skipped_tasks": stats.only_skipped_tasks,
            "drafts": stats.drafts,
            "corrections": stats.corrections,
        },
        "versions": {
            "toolkit": __version__,
            "datasets": _package_version("datasets"),
            "spacy": _package_version("spacy"),
            "pyarrow": _package_version("pyarrow"),
            "huggingface_hub": _package_version("huggingface_hub"),
            "model": model,
        },
    }


# ---------------------------------------------------------------- the Hugging Face Hub


def check_hub_repo(repo_id: str) -> str:
    """Check a ``--push-to-hub`` repo id and that a token is at hand, before any work is done."""
    from huggingface_hub import get_token
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if repo_id.count("/") != 1:
        raise OutputError(f"--push-to-hub {repo_id!r}: expected OWNER/NAME, e.g. my-org/news-ner")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise OutputError(f"--push-to-hub {repo_id!r}: not a valid repo id ({str(error).splitlines()[0]})") from None
    if not get_token():
        raise OutputError(
            "--push-to-hub needs a Hugging Face token", hint="set HF_TOKEN, or log in with `hf auth login`"
        )
    return repo_id


def push_to_hub(version: Path, repo_id: str, *, private: bool = True) -> str:
    """Upload an export version: the parquet files through ``DatasetDict.push_to_hub``, then its card.

    ``push_to_hub`` writes only YAML into a new README; the card with the prose is
    uploaded after it, so the Hub shows the same card as the export folder.
    """
    from datasets import load_from_disk
    from huggingface_hub import DatasetCard
    from huggingface_hub.errors import HfHubHTTPError

    manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    message = f"toolkit export {manifest.get('name')} {manifest.get('version')} (input sha256 {manifest['input']['sha256'][:12]})"
    try:
        load_from_disk(str(version)).push_to_hub(repo_id, private=private, commit_message=message)
        DatasetCard.load(version / "README.md").push_to_hub(
            repo_id, repo_type="dataset", commit_message=f"{message}: card"
        )
    except HfHubHTTPError as error:
        raise OutputError(
            f"--push-to-hub {repo_id}: the Hub refused the upload ({str(error).splitlines()[0]})"
        ) from None
    return f"https://huggingface.co/datasets/{repo_id}"
