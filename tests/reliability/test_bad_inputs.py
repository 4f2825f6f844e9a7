"""One corpus of bad inputs, generated here into a temporary folder, run through every reading command.

Each input has its expected exit code and message (naming the file, and the line or
record where there is one), or its counted skip. Never a traceback (``run`` checks),
never a silent drop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.reliability import tally
from tests.reliability.conftest import ROOT, delete_project, project_by_title, run, title_of, write_config
from tests.reliability.data import article, read_jsonl

pytestmark = pytest.mark.integration

LABELS = "PERSON, ORG, GPE, LOC, NORP, EVENT"


def _jsonl(*records: object) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records).encode(
        "utf-8"
    )


def _predicted(**changes: object) -> dict:
    record = article(1, "bad")
    record.update(changes)
    return record


def _annotated(**changes: object) -> dict:
    record = article(1, "bad")
    record.pop("model")
    record |= {
        "task_id": 1,
        "chosen": [1],
        "annotations": [{"id": 1, "annotator": "annotator-1", "spans": record["spans"]}],
    }
    record.update(changes)
    return record


GOOD_ARTICLE = {"id": "good-1", "text": "Anna Smith flew to Paris.", "title": "Flight"}


@dataclass(frozen=True)
class Case:
    name: str
    command: str  # preannotate | push | export
    file: str
    content: bytes
    exit: int
    message: str  # expected in stderr (errors) or stdout (counted skips)


CASES = [
    # Articles, read by preannotate.
    Case(
        "binary",
        "preannotate",
        "photo.txt",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        1,
        "photo.txt: looks like a binary file",
    ),
    Case(
        "non-utf8 txt",
        "preannotate",
        "latin1.txt",
        "date 2024-01-02 Müller met Gómez in Zürich.".encode("latin-1"),
        1,
        "latin1.txt:1: not valid UTF-8",
    ),
    Case(
        "non-utf8 jsonl line",
        "preannotate",
        "latin1.jsonl",
        _jsonl(GOOD_ARTICLE, {"id": "b", "text": "ok"}) + '{"text": "Gómez"}\n'.encode("latin-1"),
        1,
        "latin1.jsonl:3: not valid UTF-8",
    ),
    Case("empty txt", "preannotate", "empty.txt", b"", 1, "empty.txt: empty file"),
    Case(
        "only a date",
        "preannotate",
        "dateonly.txt",
        b"date 2024-01-02   \n\n",
        1,
        "dateonly.txt: empty article (no text after the date)",
    ),
    Case(
        "empty jsonl text",
        "preannotate",
        "blank.jsonl",
        _jsonl({"id": "a", "text": "  \r\n "}),
        1,
        "blank.jsonl:1: empty article",
    ),
    Case(
        "5 MB article",
        "preannotate",
        "huge.txt",
        ("Anna Smith met Tom Ellis in Osaka. " * 150_000).encode()[:5_000_000],
        1,
        "huge.txt: file of 5,000,000 bytes is longer than input.max_chars (1,000,000)",
    ),
    Case(
        "5 MB jsonl article",
        "preannotate",
        "huge.jsonl",
        _jsonl(GOOD_ARTICLE, {"id": "huge", "text": "Anna Smith met Tom Ellis. " * 200_000}),
        1,
        "huge.jsonl:2: article of 5,199,999 characters",
    ),
    Case(
        "json line broken mid-way",
        "preannotate",
        "broken.jsonl",
        _jsonl(GOOD_ARTICLE) + b'{"id": "b2", "text": "Anna Smith fl' + b"\n" + _jsonl({"id": "c", "text": "x"}),
        1,
        "broken.jsonl:2: broken JSON",
    ),
    Case(
        "missing text",
        "preannotate",
        "notext.jsonl",
        _jsonl({"id": "a", "title": "No text"}),
        1,
        "notext.jsonl:1: missing field 'text'",
    ),
    Case(
        "text is a number",
        "preannotate",
        "numtext.jsonl",
        _jsonl({"id": "a", "text": 42}),
        1,
        "numtext.jsonl:1: field 'text' must be a string, got int",
    ),
    Case(
        "title is a list",
        "preannotate",
        "listtitle.jsonl",
        _jsonl({"id": "a", "text": "Hi there.", "title": ["a"]}),
        1,
        "listtitle.jsonl:1: field 'title' must be a string, got list",
    ),
    Case(
        "impossible date is a counted skip",
        "preannotate",
        "baddate.jsonl",
        _jsonl({"id": "a", "text": "Hi there.", "date": "2024-02-30"}),
        0,
        "1 date not understood: kept as date_original",
    ),
    Case(
        "line is not an object",
        "preannotate",
        "array.jsonl",
        _jsonl(GOOD_ARTICLE, "[1, 2]"),
        1,
        "array.jsonl:2: expected an object, got list",
    ),
    Case(
        "id reused for another text",
        "preannotate",
        "reused.jsonl",
        _jsonl(GOOD_ARTICLE, {**GOOD_ARTICLE, "text": "Another text."}),
        1,
        "is already used by",
    ),
    Case(
        "unsupported file type",
        "preannotate",
        "article.pdf",
        b"%PDF-1.4",
        1,
        "article.pdf: unsupported file type '.pdf'",
    ),
    # Predictions, read by push (all refused before anything reaches the server).
    Case(
        "predictions: broken line",
        "push",
        "broken.jsonl",
        _jsonl(_predicted()) + b'{"id": "x", "text": "Ann',
        1,
        "broken.jsonl:2: broken JSON",
    ),
    Case(
        "predictions: missing model",
        "push",
        "nomodel.jsonl",
        _jsonl({k: v for k, v in _predicted().items() if k != "model"}),
        1,
        "nomodel.jsonl:1: not a predicted article record (model: Field required)",
    ),
    Case(
        "predictions: offsets are strings",
        "push",
        "strspan.jsonl",
        _jsonl(_predicted(spans=[{"start": "zero", "end": 4, "label": "PERSON"}])),
        1,
        "strspan.jsonl:1: not a predicted article record (spans.0.start",
    ),
    Case(
        "predictions: span beyond the text",
        "push",
        "beyond.jsonl",
        _jsonl(_predicted(spans=[{"start": 10, "end": 9999, "label": "PERSON"}])),
        1,
        "beyond.jsonl record 1 (article 'bad-0001'): span 10-9999 PERSON ends beyond the text (115 characters)",
    ),
    Case(
        "predictions: label not in the labeling config",
        "push",
        "label.jsonl",
        _jsonl(_predicted(spans=[{"start": 11, "end": 21, "label": "ANIMAL"}])),
        1,
        f"label.jsonl record 1 (article 'bad-0001'): span 11-21 has label 'ANIMAL', "
        f"which is not in the config's labels ({LABELS})",
    ),
    Case("predictions: binary", "push", "binary.jsonl", b"\x00\x01\x02\xff\xfe", 1, "binary.jsonl:1: not valid UTF-8"),
    # Annotated articles, read by export.
    Case(
        "annotations: broken line",
        "export",
        "broken.jsonl",
        _jsonl(_annotated()) + b'{"id": "x", "te',
        1,
        "broken.jsonl:2: broken JSON",
    ),
    Case(
        "annotations: task id mistyped",
        "export",
        "taskid.jsonl",
        _jsonl(_annotated(task_id="seven")),
        1,
        "taskid.jsonl:1: not an annotated article record (task_id",
    ),
    Case(
        "annotations: no annotations",
        "export",
        "noann.jsonl",
        _jsonl(_annotated(annotations=[])),
        1,
        "noann.jsonl:1: not an annotated article record (annotations",
    ),
    Case(
        "annotations: label not in the labeling config",
        "export",
        "label.jsonl",
        _jsonl(_annotated(spans=[{"start": 11, "end": 21, "label": "ANIMAL"}])),
        1,
        "label.jsonl:1: span label 'ANIMAL' is not in the config's labels",
    ),
    Case(
        "annotations: span beyond the text",
        "export",
        "beyond.jsonl",
        _jsonl(_annotated(spans=[article(1, "bad")["spans"][0], {"start": 70, "end": 900, "label": "GPE"}])),
        1,
        "beyond.jsonl:1: span 70-900 ends beyond the text (115 characters)",
    ),
    Case("annotations: empty file", "export", "empty.jsonl", b"", 1, "empty.jsonl: no annotated articles in it"),
    Case(
        "annotations: overlapping span is a counted loss",
        "export",
        "notoken.jsonl",
        _jsonl(_annotated(spans=[article(1, "bad")["spans"][0], {"start": 10, "end": 15, "label": "GPE"}])),
        0,
        "1 lost",
    ),
]


ARGS = {
    "preannotate": lambda case: ["preannotate", case.file, "--out", "predictions.jsonl"],
    "push": lambda case: ["push", case.file],
    "export": lambda case: ["export", case.file, "--out", "dataset"],
}


def _folder(root: Path, case: Case) -> Path:
    return root / case.name.replace(" ", "_").replace(":", "").replace("/", "")


# Session scope, not module: under xdist the worker that holds these cases may run other
# modules' tests between them, and a module fixture would run every case again each time.
@pytest.fixture(scope="session")
def outcomes(tmp_path_factory, server) -> dict[str, tuple[Path, object]]:
    """Every case run once by the real command, a few at a time (each loads the model)."""
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path_factory.mktemp("bad-inputs")
    config = write_config(root / "config.yaml")
    key = server.api_key.get_secret_value()

    def one(case: Case) -> object:
        folder = _folder(root, case)
        folder.mkdir()
        (folder / case.file).write_bytes(case.content)
        return run(*ARGS[case.command](case), "--config", str(config), cwd=folder, url=server.url, key=key, expect=None)

    with ThreadPoolExecutor(max_workers=4) as pool:
        done = dict(zip([case.name for case in CASES], pool.map(one, CASES)))
    return {case.name: (_folder(root, case), done[case.name]) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(case, outcomes):
    folder, done = outcomes[case.name]
    assert done.returncode == case.exit, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    if case.exit:
        assert case.message in done.stderr
        # Nothing is written when the input is bad, not even an empty export folder.
        assert not (folder / "predictions.jsonl").exists()
        assert not (folder / "dataset").exists()
        tally.add("bad_input_errors")
    else:
        assert case.message in done.stdout
        tally.add("bad_input_skips")
    tally.add("bad_inputs")


def test_crlf_bom_and_emoji_are_read_with_honest_offsets(tmp_path):
    """Odd but valid input: CRLF line ends, a BOM, emoji (non-BMP) before the entities."""
    text_file = (
        "\ufeffdate 2024-03-04 🎉🎉 Anna Smith met Tom Ellis in Paris.\r\n\r\n"
        "The 👩‍👩‍👧 family of Mei Tanaka flew to Osaka.\r\n"
    )
    (tmp_path / "odd.txt").write_bytes(text_file.encode("utf-8"))
    (tmp_path / "odd.jsonl").write_bytes(
        b"\xef\xbb\xbf"
        + json.dumps({"id": "odd-j", "text": "🚢 Ada Okafor\r\nvisited Nairobi 🙂."}, ensure_ascii=False).encode()
        + b"\r\n"
    )
    config = write_config(tmp_path / "config.yaml")
    run("preannotate", "odd.txt", "odd.jsonl", "--config", str(config), "--out", "predictions.jsonl", cwd=tmp_path)
    records = {Path(r["source"].split(":")[0]).name: r for r in read_jsonl(tmp_path / "predictions.jsonl")}
    txt, jsonl = records["odd.txt"], records["odd.jsonl"]
    assert txt["date"] == "2024-03-04"
    assert txt["text"].startswith("🎉🎉 Anna Smith") and "\r" not in txt["text"] and "\ufeff" not in txt["text"]
    assert jsonl["text"] == "🚢 Ada Okafor\nvisited Nairobi 🙂."
    for record in (txt, jsonl):
        assert record["spans"], record
        for span in record["spans"]:
            assert record["text"][span["start"] : span["end"]] == span["text"]
    found = {span["text"] for span in txt["spans"]}
    assert {"Anna Smith", "Paris"} <= found
    tally.add("bad_inputs", 2)
    tally.add("bad_input_read", 2)


# --- configs -----------------------------------------------------------------------


def _config_variants(folder: Path) -> dict[str, tuple[Path, list[str], str]]:
    """name -> (config, commands expected to refuse it, expected message)."""
    base = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    variants = {}

    def variant(name: str, data: object, commands: list[str], message: str, raw: bytes | None = None) -> None:
        path = folder / f"{name}.yaml"
        path.write_bytes(raw if raw is not None else yaml.safe_dump(data).encode())
        variants[name] = (path, commands, message)

    everything = ["preannotate", "push", "pull", "export"]
    unknown = json.loads(json.dumps(base))
    unknown["spacy"]["modle"] = "en_core_web_sm"
    unknown["colour"] = "red"
    variant("unknown keys", unknown, everything, "[spacy.modle]")
    wrong = json.loads(json.dumps(base))
    wrong["push"]["batch_size"] = "many"
    wrong["labels"] = "PERSON"
    variant("wrong types", wrong, everything, "[push.batch_size]")
    model = json.loads(json.dumps(base))
    model["spacy"] |= {"model": "xx_no_such_model_sm"}
    variant(
        "unknown spaCy model",
        model,
        ["preannotate", "export"],
        "[spacy.model] xx_no_such_model_sm is not installed",
    )
    variant("not YAML", None, everything, "", raw=b"project: [unclosed\n  labels: {\n")
    variant("binary", None, everything, "", raw=b"\x00\x01\x02\xff")
    return variants


def test_bad_configs_are_refused_by_every_command(tmp_path, server):
    variants = _config_variants(tmp_path)
    (tmp_path / "articles.jsonl").write_bytes(_jsonl(GOOD_ARTICLE))
    (tmp_path / "predictions.jsonl").write_bytes(_jsonl(_predicted()))
    (tmp_path / "annotations.jsonl").write_bytes(_jsonl(_annotated()))
    args = {
        "preannotate": ["preannotate", "articles.jsonl", "--out", "out.jsonl"],
        "push": ["push", "predictions.jsonl"],
        "pull": ["pull", "--out", "pulled.jsonl"],
        "export": ["export", "annotations.jsonl", "--out", "dataset"],
    }
    from concurrent.futures import ThreadPoolExecutor

    runs = [(name, command) for name, (_, commands, _) in variants.items() for command in commands]

    def one(pair: tuple[str, str]) -> object:
        name, command = pair
        config = variants[name][0]
        return run(
            *args[command],
            "--config",
            str(config),
            cwd=tmp_path,
            url=server.url,
            key=server.api_key.get_secret_value(),
            expect=1,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, runs))
    for (name, command), done in zip(runs, results):
        config, _, message = variants[name]
        assert str(config.name) in done.stderr or "spacy.model" in done.stderr, (name, command, done.stderr)
        assert message in done.stderr, (name, command, done.stderr)
    assert not any((tmp_path / out).exists() for out in ("out.jsonl", "pulled.jsonl", "dataset"))
    tried = len(runs)
    tally.add("bad_inputs", tried)
    tally.add("bad_input_errors", tried)


# --- a label the labeling config does not have, in Label Studio itself ----------------


def test_annotation_with_label_not_in_labeling_config_is_a_counted_skip(server, client, tmp_path):
    """A human span whose label the config does not know (e.g. the config changed):
    pull leaves it out and says so; the other spans of the annotation arrive."""
    config = write_config(tmp_path / "config.yaml")
    (tmp_path / "predictions.jsonl").write_bytes(_jsonl(_predicted()))
    key = server.api_key.get_secret_value()
    try:
        run("push", "predictions.jsonl", "--config", str(config), cwd=tmp_path, url=server.url, key=key)
        project = project_by_title(client, title_of(config))
        (task,) = list(client.tasks.list(project=project.id, fields="all"))
        (prediction,) = task.predictions
        result = [dict(item) for item in prediction.result]
        odd = json.loads(json.dumps(result[0]))
        odd["id"] = "odd"
        odd["value"]["labels"] = ["ANIMAL"]
        client.annotations.create(id=task.id, result=[*result[1:], odd], was_cancelled=False)
        done = run("pull", "--config", str(config), "--out", "annotations.jsonl", cwd=tmp_path, url=server.url, key=key)
        # Said in the output, or (once pull writes one) in the ledger next to the file.
        ledger = tmp_path / "annotations.ledger.jsonl"
        told = "label not in the config 1" in done.stdout or (ledger.exists() and "ANIMAL" in ledger.read_text())
        assert told, done.stdout
        (record,) = read_jsonl(tmp_path / "annotations.jsonl")
        assert len(record["spans"]) == len(result) - 1
        assert all(span["label"] != "ANIMAL" for span in record["spans"])
        tally.add("bad_inputs")
        tally.add("bad_input_skips")
    finally:
        delete_project(client, title_of(config))
