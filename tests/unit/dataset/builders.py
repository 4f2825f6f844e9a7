"""Records and files for the export's tests: pulled articles as pull writes them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import datasets

from tests import faults

ROOT = Path(__file__).resolve().parents[3]
CONFIG = str(ROOT / "configs" / "news-ner.yaml")

TEXT = "Angela Merkel visited Paris."
PERSON = {"start": 0, "end": 13, "label": "PERSON"}
GPE = {"start": 22, "end": 27, "label": "GPE"}


def annotated(
    article_id: str,
    spans: list[dict],
    *,
    text: str = TEXT,
    task_id: int = 1,
    predicted: list[dict] | None = None,
    **extra,
) -> dict:
    record = {
        "id": article_id,
        "text": text,
        "task_id": task_id,
        "spans": spans,
        "chosen": [task_id],
        "annotations": [{"id": task_id, "annotator": "annotator-1", "spans": spans, "model_version": "m-1"}],
        **extra,
    }
    if predicted is not None:
        record["predictions"] = [{"model_version": "m-1", "spans": predicted}]
    return record


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def rows_of(version: Path) -> dict[str, dict]:
    loaded = datasets.load_from_disk(str(version))
    return {row["id"]: {**row, "split": name} for name, split in loaded.items() for row in split}


def add_article(source: Path, article_id: str = "new") -> None:
    """A new annotated article in the pull: the next export has something new to write."""
    with source.open("a") as handle:
        handle.write(json.dumps(annotated(article_id, [PERSON], task_id=500)) + "\n")


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``toolkit ARGS`` in a process of its own: for a fault that kills it (``tests.faults``)."""
    environment = {**os.environ, **(env or {})}
    environment.pop("TOOLKIT_DEBUG", None)
    toolkit, environment = faults.command(environment)  # the fault launcher when env asks for a fault
    return subprocess.run([*toolkit, *args], capture_output=True, text=True, env=environment, cwd=cwd, timeout=300)


def invoke_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``toolkit ARGS`` run in this process (``typer.testing``), answered as ``run_cli`` answers:
    the same exit code, stdout and stderr, without a new interpreter's two seconds of imports."""
    from contextlib import chdir, nullcontext

    from typer.testing import CliRunner

    from toolkit.cli import app

    with chdir(cwd) if cwd is not None else nullcontext():
        done = CliRunner().invoke(app, list(args), env={"TOOLKIT_DEBUG": None, **(env or {})})
    return subprocess.CompletedProcess(list(args), done.exit_code, done.stdout, done.stderr)
