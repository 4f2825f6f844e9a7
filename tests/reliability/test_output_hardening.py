"""What export writes and what every command prints, against hostile data and a hostile machine.

- an export root that became read-only;
- HTML and markdown in article ids, span text and annotator ids, which reach the
  dataset card (``README.md``, what ``--push-to-hub`` uploads);
- terminal escape sequences in article ids and text, which reach the terminal;
- labels with inner whitespace, which break the CoNLL columns;
- a span whose ``text`` is not the article's text at its offsets;
- Ctrl-C (a real SIGINT) in the middle of a command.

Every case runs the real command line in a subprocess (``run``); no server is needed.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.reliability import tally
from tests.reliability.conftest import ROOT, run, write_config
from tests.reliability.data import article, read_jsonl

pytestmark = pytest.mark.integration

# Anything a terminal would act on: C0 controls other than newline and tab, DEL, C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _jsonl(*records: dict) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def _annotated(number: int = 1, prefix: str = "out", **changes: object) -> dict:
    """A pulled record (what `toolkit pull` writes) for the generated article ``number``."""
    record = article(number, prefix)
    record.pop("model")
    annotator = changes.pop("annotator", "ann-0001")
    record |= {"task_id": number + 1, "chosen": [number + 1]}
    record.update(changes)
    record["annotations"] = [{"id": number + 1, "annotator": annotator, "spans": record["spans"]}]
    return record


def _with_text(text: str, pieces: list[tuple[str, str | None]]) -> tuple[str, list[dict]]:
    """``text`` followed by the pieces, with a span (and its text) for each labelled piece."""
    spans = []
    for piece, label in pieces:
        if label:
            spans.append({"start": len(text), "end": len(text) + len(piece), "label": label, "text": piece})
        text += piece
    return text, spans


# --- 7. a read-only export root ----------------------------------------------------------


def _make_read_only(folder: Path) -> str:
    """Make ``folder`` refuse new entries, honestly also for root; returns how, or skips."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return "chmod 555"
    # Root writes through any mode bits; the immutable attribute stops root too.
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root without chattr: cannot make a folder read-only for root")
    done = subprocess.run([chattr, "+i", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"running as root and chattr +i is not supported here ({done.stderr.strip()})")
    return "chattr +i"


def _make_writable(folder: Path) -> None:
    if os.geteuid() == 0 and shutil.which("chattr"):
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


def test_an_export_root_that_became_read_only_is_a_clean_error(tmp_path):
    config = write_config(tmp_path / "config.yaml")
    (tmp_path / "annotations.jsonl").write_text(_jsonl(_annotated(1), _annotated(2)), encoding="utf-8")
    out = tmp_path / "exports" / "news"
    run("export", "annotations.jsonl", "--config", str(config), "--out", str(out), "--no-report", cwd=tmp_path)
    before = sorted(p.name for p in out.iterdir())
    # A new article: an export of unchanged inputs would have nothing to write.
    (tmp_path / "more.jsonl").write_text(_jsonl(_annotated(1), _annotated(2), _annotated(3)), encoding="utf-8")
    how = _make_read_only(out)
    try:
        assert not os.access(out, os.W_OK) or os.geteuid() == 0
        done = run(
            "export", "more.jsonl", "--config", str(config), "--out", str(out), "--no-report", cwd=tmp_path, expect=1
        )
    finally:
        _make_writable(out)
    assert f"{out}: cannot write into the export root" in done.stderr, (how, done.stderr)
    assert sorted(p.name for p in out.iterdir()) == before  # v1 and LATEST as they were, no temp folder
    tally.add("faults")


# --- 11. HTML and markdown from the data in the dataset card ----------------------------

HOSTILE_ID = "<img src=x onerror=alert(3)>"
HOSTILE_ANNOTATOR = "ann-[x](https://evil.example)|<b>bold</b>*"
HOSTILE_VERSION = "en_core_web_sm-3.8.0<script>alert(1)</script>"


def _hostile_record() -> dict:
    text, spans = _with_text("Anna Smith saw ", [("<img src=x onerror=alert(3)> in Paris", "ORG")])
    text, more = _with_text(text, [(" and ", None), ("Tom Ellis", "PERSON"), (".", None)])
    # A second span inside the first: the tags cannot carry it, so it is listed as lost
    # in the card, with its text.
    tag = "<img src=x onerror=alert(3)>"
    inner = {"start": spans[0]["start"], "end": spans[0]["start"] + len(tag), "label": "GPE", "text": tag}
    spans = [*spans, inner, *more]
    prediction = {"model_version": HOSTILE_VERSION, "spans": [spans[0]]}
    return {
        "id": HOSTILE_ID,
        "text": text,
        "title": "<h1>title</h1>",
        "task_id": 7,
        "chosen": [70],
        "spans": spans,
        "annotations": [
            {
                "id": 70,
                "annotator": HOSTILE_ANNOTATOR,
                "spans": spans,
                "model_version": HOSTILE_VERSION,
                "lead_time": 2.0,
            }
        ],
        "predictions": [prediction],
    }


def _rendered(markdown: str) -> str:
    """The card as a CommonMark renderer (with GFM tables, as the Hub) shows it."""
    from markdown_it import MarkdownIt

    body = markdown.split("\n---\n", 1)[1]  # the prose after the YAML front matter
    return MarkdownIt("commonmark").enable("table").render(body)


def test_html_and_markdown_from_the_data_stay_text_in_the_dataset_card(tmp_path):
    config = write_config(tmp_path / "config.yaml")
    (tmp_path / "annotations.jsonl").write_text(_jsonl(_hostile_record(), _annotated(2)), encoding="utf-8")
    done = run("export", "annotations.jsonl", "--config", str(config), "--out", "dataset", cwd=tmp_path)
    assert "1 lost" in done.stdout
    card = (tmp_path / "dataset" / "v1" / "README.md").read_text(encoding="utf-8")
    for tag in ("<img", "<script", "<b>"):  # not even inside a code span
        assert tag not in card, tag
    page = _rendered(card)
    # No tag, link or emphasis from the data becomes markup...
    for tag in ("<img", "<script", "<b>", "<h1>title", "<a "):
        assert tag not in page, (tag, page)
    assert "<em>" not in page and "<strong>bold" not in page
    # ... and each value is still there, shown as the text it is.
    assert html.escape(HOSTILE_ID, quote=False) in page  # the article id in the loss list
    assert f"<td>{html.escape(HOSTILE_ANNOTATOR, quote=False)}</td>" in page  # one table cell, not split at |
    assert html.escape(HOSTILE_VERSION, quote=False) in page  # the report's model versions
    # The report page next to the card escapes too; the dataset keeps the data as it is.
    report_page = (tmp_path / "dataset" / "v1" / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in report_page and "<script>alert(1)" not in report_page
    rows = _dataset_rows(tmp_path / "dataset" / "v1")
    assert HOSTILE_ID in {row["id"] for row in rows}
    tally.add("bad_inputs")
    tally.add("bad_input_read")


def _dataset_rows(version: Path) -> list[dict]:
    import datasets

    loaded = datasets.load_from_disk(str(version))
    return [row for split in loaded.values() for row in split]


# --- 14. terminal escape sequences in what the commands print ------------------------------

TITLE_ESCAPE = "\x1b]0;pwned\x07"  # sets the terminal's title
COLOUR = "\x1b[31m"


def test_terminal_escapes_in_the_data_are_printed_as_visible_text(tmp_path):
    config = write_config(tmp_path / "config.yaml")
    evil_id = f"evil{TITLE_ESCAPE}-1"
    text, spans = _with_text("Report: ", [(f"Ada{COLOUR} Okafor", "PERSON")])
    text, more = _with_text(text, [(" spoke in ", None), ("Lisbon", "GPE"), ("\x9b2J today.", None)])
    inner = {"start": spans[0]["start"], "end": spans[0]["start"] + 3, "label": "ORG", "text": "Ada"}  # lost: overlaps
    record = {**_annotated(1), "id": evil_id, "text": text, "spans": [*spans, inner, *more]}
    record["annotations"][0]["spans"] = record["spans"]
    (tmp_path / "annotations.jsonl").write_text(_jsonl(record, _annotated(2)), encoding="utf-8")
    args = ("--config", str(config), "--no-report")
    exported = run("export", "annotations.jsonl", "--out", "dataset", *args, cwd=tmp_path)
    assert "lost: article evil\\x1b]0;pwned\\x07-1" in exported.stdout, exported.stdout
    # An error that names the article: the same id reused in one file.
    (tmp_path / "twice.jsonl").write_text(_jsonl(record, record), encoding="utf-8")
    failed = run("export", "twice.jsonl", "--config", str(config), "--out", "again", cwd=tmp_path, expect=1)
    assert "evil\\x1b]0;pwned\\x07-1" in failed.stderr
    # preannotate's messages about the articles it reads.
    (tmp_path / "articles.jsonl").write_text(
        _jsonl({"id": evil_id, "text": "Anna Smith flew to Paris."}, {"id": evil_id, "text": f"Another{COLOUR} text."}),
        encoding="utf-8",
    )
    refused = run("preannotate", "articles.jsonl", "--config", str(config), "--out", "p.jsonl", cwd=tmp_path, expect=1)
    assert "is already used by" in refused.stderr
    for done in (exported, failed, refused):
        assert not CONTROL.search(done.stdout + done.stderr), repr(done.stdout + done.stderr)
    tally.add("bad_inputs", 3)
    tally.add("bad_input_read")
    tally.add("bad_input_errors", 2)


# --- labels that break the CoNLL columns ----------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labels": ["NEWS ORG"]}, "[labels] label 'NEWS ORG' must be"),
        ({"labels": ["PER\nSON"]}, "[labels] label 'PER\\nSON' must be"),
        ({"labels": ["ORG\tX"]}, "[labels] label 'ORG\\tX' must be"),
        ({"label_map": {"FAC": "NEWS ORG"}}, "[label_map] label 'NEWS ORG' must be"),
    ],
    ids=["inner space", "newline", "tab", "label_map value"],
)
def test_labels_with_inner_whitespace_are_refused_by_the_config(tmp_path, change, message):
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    data["labels"] += change.get("labels", [])  # the bundled labels stay: label_map maps to them
    data["label_map"] |= change.get("label_map", {})
    data["project"]["title"] = "labels"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "annotations.jsonl").write_text(_jsonl(_annotated(1)), encoding="utf-8")
    done = run("export", "annotations.jsonl", "--config", "config.yaml", "--out", "dataset", cwd=tmp_path, expect=1)
    assert "config.yaml: invalid config" in done.stderr and message in done.stderr, done.stderr
    assert not (tmp_path / "dataset").exists()
    tally.add("bad_inputs")
    tally.add("bad_input_errors")


# --- a span whose text is not the article's text there --------------------------------------


def test_a_span_whose_text_differs_from_the_article_is_refused_by_export(tmp_path):
    config = write_config(tmp_path / "config.yaml")
    good = _annotated(1)
    bad = _annotated(2)
    person = bad["spans"][0]
    bad["spans"][0] = {**person, "text": "Someone Else"}
    (tmp_path / "annotations.jsonl").write_text(_jsonl(good, bad), encoding="utf-8")
    done = run("export", "annotations.jsonl", "--config", str(config), "--out", "dataset", cwd=tmp_path, expect=1)
    covered = bad["text"][person["start"] : person["end"]]
    expected = (
        f"annotations.jsonl:2 (article 'out-0002'): span {person['start']}-{person['end']} PERSON has text "
        f"'Someone Else', but the article's text there is {covered!r}"
    )
    assert expected in done.stderr, done.stderr
    assert not (tmp_path / "dataset").exists()
    tally.add("bad_inputs")
    tally.add("bad_input_errors")


# --- Ctrl-C --------------------------------------------------------------------------------


def _start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    # The environment run() gives a command.
    hidden = {"TOOLKIT_DEBUG", "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"}
    env = {name: value for name, value in os.environ.items() if name not in hidden}
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_ctrl_c_reaches_it,
    )


def _ctrl_c_reaches_it() -> None:
    # As in a terminal. A suite started in the background by a script (`cmd &`, no job control)
    # inherits SIGINT ignored, and Python then installs no KeyboardInterrupt for it: the
    # command would never see the interrupt these tests send.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_when(process: subprocess.Popen[str], ready, timeout: float = 240) -> tuple[str, str]:
    """Send SIGINT (what Ctrl-C sends) once ``ready()`` holds; return the output."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, f"finished before it could be interrupted: {process.communicate()}"
        assert time.monotonic() < deadline, "never got to the point of the interrupt"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    return stdout, stderr


def _assert_interrupted(process: subprocess.Popen[str], stdout: str, stderr: str) -> None:
    output = f"exit {process.returncode}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    assert process.returncode == 130, output
    assert "Traceback" not in stdout + stderr, output
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error: interrupted"), output


def test_ctrl_c_in_export_says_so_and_leaves_no_half_written_version(tmp_path):
    config = write_config(tmp_path / "config.yaml")
    (tmp_path / "annotations.jsonl").write_text(_jsonl(*(_annotated(n) for n in range(3000))), encoding="utf-8")
    out = tmp_path / "dataset"
    process = _start("export", "annotations.jsonl", "--config", str(config), "--out", str(out), cwd=tmp_path)

    # Interrupted while the version is being built (its temp folder exists).
    def building() -> bool:
        return out.is_dir() and any(p.name.startswith(".tmp-") for p in out.iterdir())

    stdout, stderr = _interrupt_when(process, building)
    _assert_interrupted(process, stdout, stderr)
    assert list(out.iterdir()) == []  # no version, no temp folder
    tally.add("faults")


def test_ctrl_c_in_preannotate_says_so_and_leaves_whole_lines(tmp_path):
    config = write_config(tmp_path / "config.yaml", spacy={"batch_size": 16})
    (tmp_path / "articles.jsonl").write_text(
        _jsonl(*({"id": f"a-{n}", "text": f"Anna Smith {n} flew to Paris with Tom Ellis."} for n in range(5000))),
        encoding="utf-8",
    )
    out = tmp_path / "predictions.jsonl"
    process = _start("preannotate", "articles.jsonl", "--config", str(config), "--out", str(out), cwd=tmp_path)
    stdout, stderr = _interrupt_when(process, lambda: out.is_file() and out.stat().st_size > 0)
    _assert_interrupted(process, stdout, stderr)
    written = read_jsonl(out)  # every line whole (a half-written last line would not parse)
    assert 0 < len(written) < 5000
    tally.add("faults")


# --- two runs on one output (issue 27, item 10) ----------------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from toolkit.io.locks import output_lock
with output_lock(Path(sys.argv[1]), what=sys.argv[2]):
    print("held", flush=True)
    time.sleep(120)
"""


def _hold(output: Path, what: str) -> subprocess.Popen[str]:
    """Another run holding ``output``'s lock, as the toolkit's own runs take it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(output), what], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout.readline().strip() == "held"
    return process


def _assert_refused(done: subprocess.CompletedProcess[str], out: Path, what: str, pid: int) -> None:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[0].startswith(f"Error: {out}: another run is writing this {what} (pid {pid} on "), done.stderr
    assert len(lines) == 2 and lines[1].strip().startswith("hint: wait for it to finish"), done.stderr


def test_two_preannotate_runs_on_one_output_the_second_is_refused_and_the_first_ends_exact(tmp_path):
    config = write_config(tmp_path / "config.yaml")
    count = 6000
    (tmp_path / "articles.jsonl").write_text(
        _jsonl(*({"id": f"a-{n}", "text": f"Anna Smith {n} flew to Paris with Tom Ellis."} for n in range(count))),
        encoding="utf-8",
    )
    out = tmp_path / "predictions.jsonl"
    args = ("preannotate", "articles.jsonl", "--config", str(config), "--out", str(out), "--no-scores")
    first = _start(*args, cwd=tmp_path)
    deadline = time.monotonic() + 240
    while not (out.is_file() and out.stat().st_size > 0):  # the first run is writing
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    second = run(*args, cwd=tmp_path, expect=1)
    still_running = first.poll() is None
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert still_running, "the first run ended before the second was refused: the test proves nothing"
    _assert_refused(second, out, "predictions file", first.pid)
    assert "Wrote" not in second.stdout and "Model:" not in second.stdout  # refused before the model loaded
    assert f"Wrote {count:,} articles" in stdout
    ids = [record["id"] for record in read_jsonl(out)]
    assert len(ids) == len(set(ids)) == count  # every line whole, no article twice
    assert not (tmp_path / ".predictions.jsonl.lock").exists()
    tally.add("faults")


@pytest.mark.parametrize("command", ["preannotate --format parquet --backend ray", "pull", "export"])
def test_an_output_another_run_writes_is_refused_at_once(tmp_path, command):
    config = write_config(tmp_path / "config.yaml")
    (tmp_path / "articles.jsonl").write_text(_jsonl({"id": "a-1", "text": "Anna Smith flew to Paris."}))
    (tmp_path / "annotations.jsonl").write_text(_jsonl(_annotated(1), _annotated(2)), encoding="utf-8")
    options = ("--config", str(config))
    if command == "pull":
        out, what = tmp_path / "annotations-new.jsonl", "annotations file"
        args = ("pull", *options, "--out", str(out))
    elif command == "export":
        out, what = tmp_path / "exports" / "news", "export root"
        args = ("export", "annotations.jsonl", *options, "--out", str(out), "--no-report")
    else:
        out, what = tmp_path / "predictions", "predictions folder"
        args = ("preannotate", "articles.jsonl", *options, "--out", str(out), "--format", "parquet", "--backend", "ray")
    holder = _hold(out, what)
    try:
        # A pull would ask this address first; refused before, it never does.
        done = run(*args, cwd=tmp_path, url="http://127.0.0.1:9", key="unused", expect=1, timeout=120)
        _assert_refused(done, out, what, holder.pid)
        assert done.seconds < 30, done.seconds  # no cluster started, no server asked
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    tally.add("faults")


# --- two trainings on one model folder, and what train --out may touch (issue 27, 10 and 11) --


@pytest.fixture(scope="module")
def export_root(tmp_path_factory) -> tuple[Path, Path]:
    """A small export made by `toolkit export`, and the config it was made with."""
    from tests.unit.train.exports import articles

    folder = tmp_path_factory.mktemp("train-export")
    config = write_config(folder / "config.yaml", train={"patience": 1000})
    (folder / "annotations.jsonl").write_text(_jsonl(*articles(40)), encoding="utf-8")
    run("export", "annotations.jsonl", "--config", str(config), "--out", "dataset", "--no-report", cwd=folder)
    return folder / "dataset", config


def _train(export_root: tuple[Path, Path], out: Path, *more: str, expect: int | None = 0, start: bool = False):
    dataset, config = export_root
    args = ("train", str(dataset), "--config", str(config), "--out", str(out), "--base", "blank", *more)
    return _start(*args, cwd=out.parent) if start else run(*args, cwd=out.parent, expect=expect)


def _meta(folder: Path) -> dict:
    return json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def _leftovers(*folders: Path) -> list[str]:
    return sorted(p.name for folder in folders for p in folder.iterdir() if p.name.startswith(".tmp-"))


def test_a_second_training_on_one_model_folder_is_refused_and_an_interrupted_one_keeps_the_model(tmp_path, export_root):
    out = tmp_path / "model"
    _train(export_root, out, "--epochs", "1")
    version = _meta(out)["version"]
    # A long training to replace it; while it trains, a second one on the same folder.
    first = _train(export_root, out, "--epochs", "500", start=True)
    deadline = time.monotonic() + 240
    while not _leftovers(tmp_path):  # its work folder: it is training
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    second = _train(export_root, out, "--epochs", "1", expect=1)
    assert first.poll() is None, "the first training ended before the second was refused"
    _assert_refused(second, out, "model folder", first.pid)
    # The long one interrupted: the model there is still the first, nothing of either run left.
    first.send_signal(signal.SIGINT)
    stdout, stderr = first.communicate(timeout=120)
    _assert_interrupted(first, stdout, stderr)
    assert _meta(out)["version"] == version
    # Beside it, the model registry (train.models_dir, from the working folder): the first model only.
    assert _leftovers(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["model", "models"]
    registry = json.loads((tmp_path / "models" / "registry.json").read_text(encoding="utf-8"))
    assert [m["version"] for p in registry["projects"].values() for m in p["models"]] == [f"en_news_ner-{version}"]
    tally.add("faults", 2)


def test_train_keeps_a_users_files_beside_the_model_and_refuses_a_folder_of_other_files(tmp_path, export_root):
    out = tmp_path / "model"
    _train(export_root, out, "--epochs", "1", "--seed", "1")
    (out / "NOTES.md").write_text("# why this model\n", encoding="utf-8")
    (out / "evaluate.html").write_text("<html>scores</html>", encoding="utf-8")
    (out / "plots").mkdir()
    (out / "plots" / "curve.svg").write_text("<svg/>", encoding="utf-8")
    before = _meta(out)["version"]
    again = _train(export_root, out, "--epochs", "1", "--seed", "2")
    assert f"Replaced {out}" in again.stdout
    assert "kept the other files in it: NOTES.md, evaluate.html, plots" in again.stdout, again.stdout
    assert _meta(out)["version"] != before  # the model is the new one ...
    assert (out / "NOTES.md").read_text(encoding="utf-8") == "# why this model\n"  # ... the user's files stay
    assert (out / "evaluate.html").read_text(encoding="utf-8") == "<html>scores</html>"
    assert (out / "plots" / "curve.svg").read_text(encoding="utf-8") == "<svg/>"
    assert _leftovers(tmp_path) == []
    # A folder that is not a model of ours: refused, its files named, nothing touched.
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("x", encoding="utf-8")
    refused = _train(export_root, notes, "--epochs", "1", expect=1)
    assert f"{notes}: holds something that is not a model `toolkit train` wrote (todo.txt)" in refused.stderr
    assert [p.name for p in notes.iterdir()] == ["todo.txt"] and _leftovers(tmp_path) == []
    tally.add("bad_inputs", 2)
    tally.add("bad_input_read")
    tally.add("bad_input_errors")


def test_a_symlinked_model_folder_stays_a_link_and_no_temp_folder_is_left(tmp_path, export_root):
    target = tmp_path / "store" / "model-v1"
    (tmp_path / "models").mkdir()
    link = tmp_path / "models" / "current"
    link.symlink_to(target, target_is_directory=True)  # dangling until the first training
    # What an earlier version left when it replaced a link: a hidden link named like a work folder.
    dead = 4_000_000
    while Path(f"/proc/{dead}").exists():
        dead += 1
    stale = tmp_path / "models" / f".tmp-train-{dead}-old-0123abcd"
    stale.symlink_to(target, target_is_directory=True)
    _train(export_root, link, "--epochs", "1", "--seed", "1")
    first = _meta(target)["version"]
    (target / "NOTES.md").write_text("mine", encoding="utf-8")
    again = _train(export_root, link, "--epochs", "1", "--seed", "2")
    assert f"Replaced {link}" in again.stdout
    assert link.is_symlink() and os.readlink(link) == str(target)  # still the link the user made
    assert _meta(target)["version"] != first and _meta(link)["version"] == _meta(target)["version"]
    assert (target / "NOTES.md").read_text(encoding="utf-8") == "mine"
    assert _leftovers(tmp_path / "models", tmp_path / "store") == []
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["model-v1"]
    tally.add("bad_inputs")
    tally.add("bad_input_read")
