"""Benchmark: `toolkit pull` of N annotated tasks vs the raw export download of the same project.

Creates a project of N news articles (Reuters-21578 from the development corpus when
present, else generated sentences) with a model prediction each, and annotations made
through the SDK: most imported with their task, some by a second annotator and some
skips through ``annotations.create``. Then, in alternating rounds on the same server,
times

- raw: ``projects.exports.download_sync(export_type="JSON", download_all_tasks=True)``,
  every byte read (Label Studio's own export, nothing done with it);
- pull: ``toolkit.pull.pull(...)``: the same export, streamed to a kept gzip with its sha256,
  stream parse, policy, span hygiene, output + ledger + manifest + state written.

and prints the medians and the ratio (pull throughput / raw throughput; target >= 0.9).

    python benchmarks/bench_pull.py [--tasks 2000] [--rounds 3] [--port 8152]

The server is LABEL_STUDIO_URL/LABEL_STUDIO_API_KEY when set, else a local server in
``.labelstudio/bench-server`` started (and stopped) here. The corpus folder is
``TOOLKIT_CORPUS_DIR`` (default ``../shared/corpus`` next to the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.config import parse_config  # noqa: E402 - after the sys.path entry above
from toolkit.labelstudio import localserver  # noqa: E402
from toolkit.labelstudio.client import ServerSettings, connect  # noqa: E402
from toolkit.labelstudio.labeling import labeling_config  # noqa: E402

NAME = re.compile(r"\b[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})*\b")


def corpus_texts(limit: int) -> list[str]:
    folder = Path(os.environ.get("TOOLKIT_CORPUS_DIR", ROOT.parent / "shared" / "corpus")) / "reuters-21578"
    texts: list[str] = []
    for path in sorted(folder.glob("*.json")):
        for record in json.loads(path.read_text(encoding="utf-8", errors="replace")):
            body = (record.get("body") or "").replace("\r\n", "\n").strip()
            if len(body) > 200 and body not in texts:
                texts.append(body[:4000])
            if len(texts) >= limit:
                return texts
    # No corpus here: generated sentences, so the benchmark still runs.
    words = ["Reuters", "London", "Tokyo", "General Motors", "Paris", "Bank of Japan", "Chrysler", "Ottawa"]
    while len(texts) < limit:
        i = len(texts)
        texts.append(" ".join(f"{words[(i + k) % len(words)]} said on day {k} that trade rose." for k in range(20)))
    return texts


def items(text: str, prefix: str, labels: list[str], *, origin: str | None = None, limit: int = 15) -> list[dict]:
    out = []
    for index, match in enumerate(NAME.finditer(text)):
        if index >= limit:
            break
        item = {
            "id": f"{prefix}{index}",
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "value": {
                "start": match.start(),
                "end": match.end(),
                "text": match.group(),
                "labels": [labels[index % len(labels)]],
            },
        }
        if origin:
            item["origin"] = origin
        out.append(item)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8152)
    parser.add_argument("--home", type=Path, default=ROOT / ".labelstudio" / "bench-server")
    args = parser.parse_args()

    url, key = os.environ.get("LABEL_STUDIO_URL"), os.environ.get("LABEL_STUDIO_API_KEY")
    started = False
    if url and key:
        from pydantic import SecretStr

        settings = ServerSettings(url=url.rstrip("/"), api_key=SecretStr(key), origin="environment")
    else:
        credentials = localserver.read_credentials(args.home)
        if credentials is None or not localserver.is_up(credentials):
            print(f"starting a Label Studio server in {args.home} on port {args.port} ...", flush=True)
            credentials = localserver.up(home=args.home, port=args.port)
            started = True
        settings = ServerSettings(url=credentials.url, api_key=credentials.api_key, origin="bench server")

    work = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    data["project"] = {"title": f"toolkit bench pull {uuid.uuid4().hex[:8]}"}
    data["pull"] = {**data.get("pull", {}), "state_dir": str(work / "state"), "secret_file": str(work / "secret")}
    config = parse_config(data)
    client = connect(settings, timeout=1800)
    project = client.projects.create(title=config.project.title, label_config=labeling_config(config))
    try:
        me = client.users.whoami().id
        texts = corpus_texts(args.tasks)
        t0 = time.perf_counter()
        task_ids: list[int] = []
        for begin in range(0, len(texts), 500):
            payload = []
            for offset, text in enumerate(texts[begin : begin + 500]):
                prediction = items(text, "p", config.labels)
                annotation = items(text, "h", config.labels, origin="prediction")
                if (begin + offset) % 7 == 0 and annotation:
                    annotation[0]["origin"] = "prediction-changed"
                    annotation[0]["value"]["labels"] = [config.labels[-1]]
                payload.append(
                    {
                        "data": {
                            "text": text,
                            "article_id": f"bench-{begin + offset}",
                            "title": "",
                            "date": "",
                            "source": "reuters",
                        },
                        "predictions": [{"model_version": "bench-1", "result": prediction}],
                        "annotations": [{"result": annotation, "completed_by": me, "lead_time": 10.0}],
                    }
                )
            response = client.projects.import_tasks(
                id=project.id,
                request=payload,
                return_task_ids=True,
                request_options={"timeout": 1800, "max_retries": 0},
            )
            task_ids += response.task_ids
        print(f"imported {len(task_ids)} annotated tasks in {time.perf_counter() - t0:.1f} s", flush=True)
        name = f"bench-{uuid.uuid4().hex[:8]}"
        second = client.users.create(username=name, email=f"{name}@example.com", password=uuid.uuid4().hex)
        t0 = time.perf_counter()
        extra = 0
        for index, task_id in enumerate(task_ids[: max(1, len(task_ids) // 10)]):
            if index % 2:
                client.annotations.create(id=task_id, result=[], was_cancelled=True, completed_by=second.id)
            else:
                result = items(texts[index], "s", list(reversed(config.labels)), origin="manual")
                client.annotations.create(id=task_id, result=result, was_cancelled=False, completed_by=second.id)
            extra += 1
        print(
            f"created {extra} more annotations (second annotator, skips) through the SDK in "
            f"{time.perf_counter() - t0:.1f} s",
            flush=True,
        )

        from toolkit.pull import pull

        def raw() -> float:
            t = time.perf_counter()
            size = 0
            for chunk in client.projects.exports.download_sync(
                id=project.id,
                export_type="JSON",
                download_all_tasks=True,
                request_options={"timeout": 1800, "chunk_size": 1 << 20},
            ):
                size += len(chunk)
            assert size > 0
            return time.perf_counter() - t

        downloads: list[float] = []

        def toolkit_pull() -> float:
            t = time.perf_counter()
            summary = pull(config=config, settings=settings, out=work / "annotations.jsonl")
            elapsed = time.perf_counter() - t
            assert summary.counts.tasks == len(task_ids)
            downloads.append(summary.download_seconds)
            counts.update(records=summary.counts.records, spans=summary.counts.spans_out, ledger=summary.ledger_entries)
            return elapsed

        counts: dict[str, int] = {}

        raw(), toolkit_pull()  # warm-up: caches, connections, the first snapshot
        timings: dict[str, list[float]] = {"raw": [], "pull": []}
        for round_ in range(args.rounds):
            order = [("raw", raw), ("pull", toolkit_pull)]
            for label, function in order if round_ % 2 == 0 else reversed(order):
                timings[label].append(function())
            print(f"round {round_ + 1}: raw {timings['raw'][-1]:.2f} s, pull {timings['pull'][-1]:.2f} s", flush=True)
        raw_s, pull_s = statistics.median(timings["raw"]), statistics.median(timings["pull"])
        n = len(task_ids)
        print(f"\n{n} annotated tasks, {args.rounds} rounds, medians:")
        print(f"  raw export download: {raw_s:.2f} s = {n / raw_s:,.0f} tasks/s")
        print(
            f"  toolkit pull:        {pull_s:.2f} s = {n / pull_s:,.0f} tasks/s "
            f"(of which export + streamed download {statistics.median(downloads[1:]):.2f} s)"
        )
        print(
            f"  pull output: {counts['records']:,} records, {counts['spans']:,} spans, "
            f"{counts['ledger']:,} ledger entries"
        )
        print(f"  ratio (pull / raw throughput): {raw_s / pull_s:.2f}x (target >= 0.9x)")
        return 0
    finally:
        client.projects.delete(id=project.id)
        shutil.rmtree(work, ignore_errors=True)
        if started:
            localserver.down(home=args.home)


if __name__ == "__main__":
    raise SystemExit(main())
