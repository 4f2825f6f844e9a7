"""Which articles a trained model saw: the record ``toolkit train`` writes and evaluation reads.

Train writes ``training_articles.json`` into the model folder: the ids of the human rows of
the export's train and validation splits, and a hash of each one's text (an id can be
reused by another export, and the same article can come back under another id: either
match counts as seen). It is a file of its own, not a part of meta.json: the record grows
with the data (about 40 bytes an article) while meta.json stays a page a person reads (and
spaCy loads with the model). meta.json's toolkit section points to it, with its SHA-256,
so a model whose record went missing or was edited is told from a model of an older
toolkit, which has none.

The format lives here, below the stages, because the writer (``toolkit.train``) and the
readers (``toolkit.evaluate``, and whatever promotes a model) must agree on it.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.errors import ModelError
from toolkit.nlp.pipeline import TRAINED_KEY

ARTICLES_FILE = "training_articles.json"
FORMAT = 1
# The key of meta.json's toolkit section that points to the file.
META_KEY = "training_articles"
SPLITS = ("train", "validation")
HASH_CHARS = 16  # 64 bits: no two articles of a corpus collide by chance
TEXT_HASH = (
    f"the first {HASH_CHARS} hex digits of the SHA-256 of the text in Unicode NFC, "
    "each run of white space as one space, stripped"
)
_SPACE = re.compile(r"\s+")


def text_hash(text: str) -> str:
    """The text's hash, blind to what a re-export may change (Unicode composition, spacing)."""
    normal = _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:HASH_CHARS]


@dataclass(frozen=True)
class TrainingArticles:
    """The articles a model was trained and validated on: their ids and their texts' hashes."""

    ids: frozenset[str]
    texts: frozenset[str]
    articles: int  # rows recorded (train and validation)

    def saw(self, article_id: str, text: str) -> bool:
        return article_id in self.ids or text_hash(text) in self.texts


def write_training_articles(folder: Path, splits: Mapping[str, Iterable[tuple[str, str]]]) -> dict[str, Any]:
    """Write the record of ``splits`` (split -> its rows' (id, text)) into ``folder``; returns
    what meta.json's toolkit section keeps of it (``META_KEY``)."""
    record: dict[str, Any] = {"format": FORMAT, "text_hash": TEXT_HASH, "splits": {}}
    articles = 0
    for split, rows in splits.items():
        rows = list(rows)
        articles += len(rows)
        record["splits"][split] = {
            "ids": sorted({article_id for article_id, _ in rows}),
            "texts": sorted({text_hash(text) for _, text in rows}),
        }
    data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    (folder / ARTICLES_FILE).write_bytes(data)
    return {"file": ARTICLES_FILE, "articles": articles, "sha256": hashlib.sha256(data).hexdigest()}


def is_trained(meta: Mapping[str, Any]) -> bool:
    """Whether ``meta`` (a model's meta.json) is of a model ``toolkit train`` wrote."""
    return isinstance(meta.get(TRAINED_KEY), dict)


def training_articles(folder: Path | None, meta: Mapping[str, Any]) -> TrainingArticles | None:
    """The record of the model in ``folder`` whose meta.json is ``meta``; None when it has none
    (a model not trained by the toolkit, or by a toolkit older than the record).

    Raises ModelError when meta.json points to a record that is missing, edited or unreadable:
    what the model saw cannot be told then, and a score could flatter it.
    """
    trained = meta.get(TRAINED_KEY)
    pointer = trained.get(META_KEY) if isinstance(trained, dict) else None
    if not isinstance(pointer, dict):
        return None
    where = (folder or Path(".")) / str(pointer.get("file") or ARTICLES_FILE)
    hint = "train the model again (`toolkit train`): it records the articles it saw"
    try:
        data = where.read_bytes()
    except OSError as error:
        raise ModelError(
            f"{where}: cannot read ({error.strerror}); the model's meta.json says it records the articles "
            "the model saw there",
            hint=hint,
        ) from None
    if hashlib.sha256(data).hexdigest() != pointer.get("sha256"):
        raise ModelError(f"{where}: its SHA-256 is not the one in the model's meta.json (changed)", hint=hint)
    try:
        record = json.loads(data)
        splits = record["splits"]
        ids = frozenset(str(i) for split in splits.values() for i in split["ids"])
        texts = frozenset(str(h) for split in splits.values() for h in split["texts"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ModelError(f"{where}: not a record of training articles ({error})", hint=hint) from None
    return TrainingArticles(ids=ids, texts=texts, articles=int(pointer.get("articles") or 0))


def seen_articles(folder: Path) -> TrainingArticles | None:
    """The record of the model folder ``folder`` (reads its meta.json); None when it has none."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelError(f"{folder / 'meta.json'}: cannot read ({error})") from None
    return training_articles(folder, meta if isinstance(meta, dict) else {})
