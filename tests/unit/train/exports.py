"""Small exports for the training and evaluation tests: synthetic news sentences, annotated."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.conftest import light_config_path
from toolkit.config import Config, load_config
from toolkit.dataset import export
from toolkit.dataset.schema import split_of

ROOT = Path(__file__).resolve().parents[3]
CONFIG = light_config_path()  # its base model is en_core_web_sm, the light one

PEOPLE = ["Angela Merkel", "Ada Okafor", "Pedro Sanchez", "Mary Smith", "John Baker", "Li Wei", "Olaf Scholz"]
ORGS = ["Reuters", "Siemens", "the United Nations", "Acme Corp", "the World Bank", "Toyota"]
PLACES = ["Paris", "Berlin", "Lagos", "Madrid", "Tokyo", "Ohio", "Kenya"]
TEMPLATES = [
    "{person} met officials from {org} in {place} on Monday.",
    "{org} said on Tuesday that {person} will visit {place} next week.",
    "In {place}, {person} told reporters that {org} had no comment.",
    "{person}, a spokesperson for {org}, arrived in {place} late on Friday.",
]


def config(**changes: object) -> Config:
    base = load_config(CONFIG)
    return base.model_copy(update=changes) if changes else base


def articles(count: int, *, seed: int = 0, prefix: str = "art") -> list[dict]:
    """Annotated articles as pull writes them: two or three sentences, PERSON/ORG/GPE spans."""
    rng = random.Random(seed)
    records = []
    for number in range(count):
        text, spans = "", []
        for _ in range(rng.randint(2, 3)):
            template = rng.choice(TEMPLATES)
            values = {"person": rng.choice(PEOPLE), "org": rng.choice(ORGS), "place": rng.choice(PLACES)}
            labels = {"person": "PERSON", "org": "ORG", "place": "GPE"}
            sentence, cursor = "", 0
            for piece in template.replace("{", "\0{").split("\0"):
                if piece.startswith("{"):
                    name, rest = piece[1:].split("}", 1)
                    start = len(text) + len(sentence)
                    sentence += values[name]
                    spans.append({"start": start, "end": start + len(values[name]), "label": labels[name]})
                    sentence += rest
                else:
                    sentence += piece
                cursor += 1
            text += sentence + " "
        text = text.rstrip()
        task = number + 1
        records.append(
            {
                "id": f"{prefix}-{number}",
                "text": text,
                "task_id": task,
                "spans": spans,
                "chosen": [task],
                "annotations": [{"id": task, "annotator": "ann-1", "spans": spans, "model_version": "m-1"}],
            }
        )
    return records


def write_export(tmp_path: Path, records: list[dict], cfg: Config | None = None, name: str = "exports") -> Path:
    """An export root with one version of ``records``, tokenized by a blank English tokenizer."""
    import spacy

    cfg = cfg or config()
    source = tmp_path / f"{name}-annotations.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    out = tmp_path / name
    export(source, config=cfg, out=out, make_doc=spacy.blank("en").make_doc)
    return out


def ids_in(split: str, count: int, cfg: Config, *, prefix: str = "art") -> list[int]:
    """Numbers n whose id ``{prefix}-{n}`` lands in ``split``."""
    found, number = [], 0
    while len(found) < count:
        if split_of(f"{prefix}-{number}", dict(cfg.export.splits)) == split:
            found.append(number)
        number += 1
    return found
