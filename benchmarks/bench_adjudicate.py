"""Benchmark `toolkit adjudicate` against `toolkit pull` on the same project, as whole processes a user runs.

One project of N short articles, each answered by two annotators (imported with the
tasks, so setting up costs no per-annotation request); a share D of them disagree. In
one run, each step a separate process timed from start to exit (the SDK import is
paid by both):

1. pull, before any review project exists (the baseline: one export download);
2. adjudicate --dry-run (the same export, plus reading the review project: none);
3. adjudicate (creates the review project and D review tasks);
4. adjudicate again (nothing new: the export and a read of the review project);
5. pull with the review project (reads the review tasks as well).

Ratios are to step 1, printed side by side, repeated ROUNDS times on fresh projects.

    LABEL_STUDIO_URL=... LABEL_STUDIO_API_KEY=... python benchmarks/bench_adjudicate.py

Environment: TOOLKIT_BENCH_ARTICLES (1000), TOOLKIT_BENCH_DISPUTED (0.2), TOOLKIT_BENCH_ROUNDS (2).
The projects are deleted afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = int(os.environ.get("TOOLKIT_BENCH_ARTICLES", "1000"))
DISPUTED = float(os.environ.get("TOOLKIT_BENCH_DISPUTED", "0.2"))
ROUNDS = int(os.environ.get("TOOLKIT_BENCH_ROUNDS", "2"))
TOOLKIT = [sys.executable, "-m", "toolkit"]


def item(text: str, needle: str, label: str) -> dict:
    start = text.index(needle)
    return {
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": start + len(needle), "text": needle, "labels": [label]},
    }


def tasks(second_user: int) -> list[dict]:
    out = []
    for number in range(ARTICLES):
        person, city = f"Person{number} Smith", f"City{number % 50}"
        text = f"{person} met officials of Acme{number} in {city} on Monday."
        first = [item(text, person, "PERSON"), item(text, f"Acme{number}", "ORG"), item(text, city, "GPE")]
        second = list(first) if number >= ARTICLES * DISPUTED else first[:2]
        out.append(
            {
                "data": {"text": text, "article_id": f"bench-{number}", "title": "", "date": "", "source": ""},
                "annotations": [{"result": first}, {"result": second, "completed_by": second_user}],
            }
        )
    return out


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([*TOOLKIT, *args], cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds


def main() -> None:
    from label_studio_sdk import LabelStudio

    from toolkit.config import parse_config
    from toolkit.labelstudio.labeling import labeling_config

    url, key = os.environ["LABEL_STUDIO_URL"], os.environ["LABEL_STUDIO_API_KEY"]
    ls = LabelStudio(base_url=url, api_key=key, timeout=600)
    second = ls.users.create(username=f"bench-{uuid.uuid4().hex[:8]}", email=f"{uuid.uuid4().hex[:8]}@example.com")
    env = {**os.environ, "TOOLKIT_ANNOTATOR_SECRET": "bench", "PYTHONPATH": str(ROOT)}
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    print(f"{dt.date.today()}: {ARTICLES:,} articles, two annotators, {DISPUTED:.0%} disputed; load {os.getloadavg()}")
    steps = ["pull", "adjudicate --dry-run", "adjudicate (creates)", "adjudicate (again)", "pull (review project)"]
    for round_number in range(ROUNDS):
        title = f"bench adjudicate {uuid.uuid4().hex[:8]}"
        data["project"]["title"] = title
        config = parse_config(data)
        project = ls.projects.create(title=title, label_config=labeling_config(config))
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            (work / "config.yaml").write_text(yaml.safe_dump(data))
            try:
                ls.projects.import_tasks(id=project.id, request=tasks(second.id), request_options={"timeout": 600})
                c = ["--config", "config.yaml"]
                seconds = [
                    timed(["pull", *c, "--out", "a.jsonl"], work, env),
                    timed(["adjudicate", *c, "--dry-run"], work, env),
                    timed(["adjudicate", *c], work, env),
                    timed(["adjudicate", *c], work, env),
                    timed(["pull", *c, "--out", "b.jsonl", "--full"], work, env),
                ]
                decided = sum(1 for line in (work / "b.jsonl").open() if '"pending"' in line)
            finally:
                for found in ls.projects.list(title=title):
                    if found.title.startswith(title):
                        ls.projects.delete(id=found.id)
        print(f"round {round_number + 1}: {decided:,} records say pending (review tasks made)")
        for step, value in zip(steps, seconds):
            print(f"  {step:<24} {value:6.2f} s  {value / seconds[0]:5.2f}x pull")
    print(json.dumps({"load_after": os.getloadavg()}))


if __name__ == "__main__":
    main()
