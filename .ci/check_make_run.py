"""What two `make run`s on a clean clone must leave: checked by CI after running them.

Usage: check_make_run.py FIRST.log SECOND.log (run from the repository root, with the
`make run` server still up).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import datasets
import yaml

from toolkit.labelstudio import localserver
from toolkit.labelstudio.client import ServerSettings, connect

ROOT = Path(__file__).resolve().parents[1]
EXPORT_ROOT = ROOT / "exports" / "news-ner"
PREDICTIONS = ROOT / "build" / "predictions.jsonl"
NEXT = "Next: annotate in Label Studio (the URL and login are above), then run `make run` again."

failures: list[str] = []


def check(condition: bool, what: str) -> None:
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        failures.append(what)


def main(first_log: Path, second_log: Path) -> int:
    first, second = first_log.read_text(), second_log.read_text()
    articles = [json.loads(line) for line in PREDICTIONS.read_text().splitlines() if line.strip()]
    n = len(articles)
    check(n == 7, f"{PREDICTIONS.name} holds the 7 sample articles (has {n})")
    check(any(a.get("title") for a in articles), "a sample article has a title (the headline above the text)")

    check(f"{n} new tasks, 0 articles already in the project" in first, "first run: every article pushed as a task")
    check("Nothing annotated yet: wrote an empty dataset" in first, "first run: an empty dataset, not an error")
    check("annotators log in at http://127.0.0.1:8080/user/login/ as " in first, "first run: prints where to log in")
    check(first.rstrip().endswith(NEXT), "first run: ends with what to do next")

    check(f"0 new tasks, {n} articles already in the project" in second, "second run: no new task")
    check("0 new prediction sets on existing tasks" in second, "second run: no new prediction set")
    check("no new version; " in second and "LATEST stays v1" in second, "second run: no new export version")
    check(second.rstrip().endswith(NEXT), "second run: ends with what to do next")

    versions = sorted(p.name for p in EXPORT_ROOT.iterdir() if not p.name.startswith("."))
    check(versions == ["LATEST", "v1"], f"{EXPORT_ROOT.name}/ holds LATEST and v1 only (holds {versions})")
    check((EXPORT_ROOT / "LATEST").read_text().strip() == "v1", "LATEST names v1")
    dataset = datasets.load_from_disk(str(EXPORT_ROOT / "v1"))
    check(sum(len(split) for split in dataset.values()) == 0, "v1 loads and has no rows (nothing annotated)")
    names = dataset["train"].features["ner_tags"].feature.names
    check(names[0] == "O" and len(names) > 1, f"v1 has the full schema (ner_tags {names[:3]}...)")

    credentials = localserver.read_credentials(ROOT / ".labelstudio")
    check(credentials is not None, "the make run server's credentials exist")
    if credentials is not None:
        client = connect(ServerSettings(url=credentials.url, api_key=credentials.api_key, origin="make run server"))
        title = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())["project"]["title"]
        projects = [p for p in client.projects.list() if p.title == title]
        check(len(projects) == 1, f"one project titled {title!r} (found {len(projects)})")
        if projects:
            tasks = list(client.tasks.list(project=projects[0].id, fields="all"))
            predictions = sum(len(task.predictions or []) for task in tasks)
            check(len(tasks) == n, f"the project holds {n} tasks after two runs (holds {len(tasks)})")
            check(predictions == n, f"the project holds {n} prediction sets after two runs (holds {predictions})")
    if failures:
        print(f"{len(failures)} make run check(s) failed", file=sys.stderr)
        return 1
    print("make run: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
