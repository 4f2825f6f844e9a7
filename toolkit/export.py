"""Export annotated articles as a Hugging Face ``DatasetDict``: annotated articles -> dataset.

Rows are built by ``Dataset.from_generator`` straight from the pulled file, one split
at a time, so memory does not grow with the corpus. Spans are aligned to the tokens of
the same spaCy tokenizer used for pre-annotation with ``Doc.char_span``: strict first,
then expanded to whole tokens (counted). A span that cannot be carried by the tags
(one that overlaps another) is reported, never dropped silently.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.config import Config
from toolkit.errors import InputError, OutputError
from toolkit.jsonl import read_records
from toolkit.records import AnnotatedArticle, Span

if TYPE_CHECKING:
    from datasets import DatasetDict, Features
    from spacy.tokens import Doc


@dataclass
class ExportStats:
    articles: int = 0
    rows_per_split: Counter[str] = field(default_factory=Counter)
    spans: int = 0
    aligned_strict: int = 0
    aligned_expanded: int = 0
    lost: list[str] = field(default_factory=list)


def tag_names(labels: list[str]) -> list[str]:
    """IOB2 tag names: ``O`` first, then ``B-``/``I-`` per label in config order."""
    return ["O"] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]


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
            "source": Value("string"),
            "annotator": Value("string"),
            "model_version": Value("string"),
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


def align(doc: Doc, spans: list[Span], stats: ExportStats, where: str) -> list[str]:
    """IOB2 tags, one per non-whitespace token of the doc.

    Whitespace tokens (spaCy keeps runs of newlines as tokens) are not words and are
    left out of ``tokens`` and ``ner_tags``.
    """
    tags = ["O"] * len(doc)
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        stats.spans += 1
        aligned = doc.char_span(span.start, span.end, label=span.label, alignment_mode="strict")
        if aligned is None:
            aligned = doc.char_span(span.start, span.end, label=span.label, alignment_mode="expand")
            if aligned is None:
                stats.lost.append(f"{where}: span {span.start}-{span.end} {span.label} matches no token")
                continue
            stats.aligned_expanded += 1
        else:
            stats.aligned_strict += 1
        if any(tags[i] != "O" for i in range(aligned.start, aligned.end)):
            stats.lost.append(f"{where}: span {span.start}-{span.end} {span.label} overlaps another span")
            continue
        tags[aligned.start] = f"B-{span.label}"
        for i in range(aligned.start + 1, aligned.end):
            tags[i] = f"I-{span.label}"
    return [tag for token, tag in zip(doc, tags) if not token.is_space]


def _rows(path: str, split: str, splits: dict[str, float], make_doc: Any, stats: ExportStats) -> Iterator[dict[str, Any]]:
    for article in read_records(Path(path), AnnotatedArticle):
        if split_of(article.id, splits) != split:
            continue
        doc = make_doc(article.text)
        tags = align(doc, article.spans, stats, f"article {article.id} (task {article.task_id})")
        stats.articles += 1
        stats.rows_per_split[split] += 1
        yield {
            "id": article.id,
            "text": article.text,
            "title": article.title,
            "date": article.date,
            "tokens": [token.text for token in doc if not token.is_space],
            "ner_tags": tags,
            "spans": [{"start": s.start, "end": s.end, "label": s.label} for s in article.spans],
            "source": "human",
            "annotator": ",".join(a.annotator for a in article.chosen_annotations),
            "model_version": article.model_version,
        }


def build_dataset(annotations: Path, *, config: Config, make_doc: Any, stats: ExportStats, cache_dir: Path) -> DatasetDict:
    from datasets import Dataset, DatasetDict
    from datasets.utils.logging import disable_progress_bar

    # The library reports through ExportStats; the CLI draws its own progress.
    disable_progress_bar()

    # Read the input up front once, so that bad records fail before any work is done.
    splits = dict(config.export.splits)
    digest = hashlib.sha256()
    sizes: Counter[str] = Counter()
    for number, article in enumerate(read_records(annotations, AnnotatedArticle), start=1):
        unknown = sorted({span.label for span in article.spans} - set(config.labels))
        if unknown:
            # The ner_tags ClassLabel has no tag for it: datasets would fail mid-write.
            raise InputError(
                f"{annotations}: record {number} (article {article.id}): label {', '.join(map(repr, unknown))} "
                f"is not in the config's labels ({', '.join(config.labels)})",
                hint="export with the config the project was annotated with",
            )
        digest.update(article.model_dump_json().encode("utf-8"))
        sizes[split_of(article.id, splits)] += 1
    digest.update(config.model_dump_json().encode("utf-8"))
    dataset = {}
    for split in splits:
        if not sizes[split]:
            # from_generator cannot build an empty dataset; an empty split keeps its features.
            dataset[split] = Dataset.from_dict({name: [] for name in features(config.labels)}, features=features(config.labels), split=split)
            continue
        dataset[split] = Dataset.from_generator(
            _rows,
            features=features(config.labels),
            gen_kwargs={"path": str(annotations), "split": split, "splits": splits, "make_doc": make_doc, "stats": stats},
            cache_dir=str(cache_dir),
            # The fingerprint names the inputs, not the generator: a changed input file
            # is never answered from a stale cache.
            fingerprint=f"{digest.hexdigest()[:32]}-{split}",
            split=split,
        )
    return DatasetDict(dataset)


def export(annotations: Path, *, config: Config, out: Path, make_doc: Any, force: bool = True) -> ExportStats:
    """Write the dataset to ``out`` with ``save_to_disk``, replacing any earlier one whole."""
    if out.exists() and not force:
        raise OutputError(f"{out}: already exists", hint="pass --force to replace it")
    if out.exists() and not (out / "dataset_dict.json").is_file():
        raise OutputError(f"{out}: exists and is not an exported dataset; refusing to replace it")
    stats = ExportStats()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as work:
        work_dir = Path(work)
        dataset = build_dataset(annotations, config=config, make_doc=make_doc, stats=stats, cache_dir=work_dir / "cache")
        staged = work_dir / "dataset"
        # An empty split needs one explicit (empty) shard, or load_from_disk fails on it.
        empty = {name: 1 for name, split in dataset.items() if len(split) == 0}
        dataset.save_to_disk(str(staged), num_shards=empty or None)
        # Swap the finished dataset into place: readers see the old one or the new one.
        previous = work_dir / "previous"
        if out.exists():
            out.rename(previous)
        staged.rename(out)
        shutil.rmtree(previous, ignore_errors=True)
    return stats
