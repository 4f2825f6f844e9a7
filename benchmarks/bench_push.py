"""Benchmark `toolkit push` against the plain SDK, as whole processes a user runs.

In one run, against one local Label Studio server, each into a fresh project, at each size
(``--sizes``, default 1,500 and 10,000 tasks):

1. toolkit:  `toolkit push predictions.jsonl` of N Reuters-21578 articles with predictions
             (scores on, near-duplicate grouping on: the defaults);
2. single:   a script that reads the same file and sends all tasks with their
             predictions in one `projects.import_tasks` call;
3. naive:    a script that sends `tasks.create` + `predictions.create` per article,
             over the first M articles (once, at the first size).

Every one is timed as a separate process from start to exit: importing
label_studio_sdk alone takes 1-2 s (it loads pandas), and users pay that too. toolkit and
single alternate, ``--rounds`` (5) times per size; the ratio is taken per round (the two
ran next to each other) and the median and the spread (min-max) of the rounds' ratios are
printed. A third push per round, the toolkit's with near-duplicate grouping off, says what
grouping adds to the push (push groups in a worker process beside its set-up, so its own
time is not what the push waits for; that is printed too). Targets: toolkit >= 0.9x single
at every size, >= 40x naive, grouping <= 5% of the push. Run it alone on a
quiet machine. The projects are deleted at the end of the run, not after each push: a push
into a server whose newest project was just deleted waits up to 1 s for that id, which
Label Studio cannot tell from a concurrent creation not yet committed (docs/push.md); a
user's server rarely has just lost its newest project, this benchmark would every round.

    python benchmarks/bench_push.py [--sizes 1500,10000] [--rounds 5]   # or: make bench-push

Environment: TOOLKIT_BENCH_CORPUS (default ../shared/corpus), TOOLKIT_BENCH_NAIVE (200),
TOOLKIT_BENCH_LS_PORT (8082; a server of its own under .labelstudio/bench-server, started
when not running, left running), or LABEL_STUDIO_URL + LABEL_STUDIO_API_KEY for another
server. Predictions come from the configured spaCy model once, for the largest size, and
are cached in build/bench-push/ (git-ignored); a smaller size pushes the file's first N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench-push"
CORPUS = Path(os.environ.get("TOOLKIT_BENCH_CORPUS", ROOT.parent / "shared" / "corpus"))
NAIVE = int(os.environ.get("TOOLKIT_BENCH_NAIVE", "200"))
PORT = int(os.environ.get("TOOLKIT_BENCH_LS_PORT", "8082"))
HOME = ROOT / ".labelstudio" / "bench-server"
TOOLKIT = [sys.executable, "-m", "toolkit"]

# The baselines, as a user would write them with the SDK alone. They read the same
# predictions file and build the same task JSON as push (data + one prediction set).
_COMMON = r"""
import json, os, sys
from label_studio_sdk import LabelStudio
ls = LabelStudio(base_url=os.environ["LABEL_STUDIO_URL"], api_key=os.environ["LABEL_STUDIO_API_KEY"], timeout=600)
records = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")][: int(sys.argv[4])]
def result(r):
    return [{"id": f"p{i}", "from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": s["start"], "end": s["end"], "text": r["text"][s["start"]:s["end"]],
                       "labels": [s["label"]]}}
            for i, s in enumerate(r["spans"])]
def data(r):
    return {"text": r["text"], "article_id": r["id"], "title": r.get("title") or "", "date": r.get("date") or "",
            "source": r.get("source") or ""}
version = lambda r: r["model"]["name"] + "-" + r["model"]["version"]
project = ls.projects.create(title=sys.argv[2], label_config=open(sys.argv[3], encoding="utf-8").read())
"""
SINGLE = (
    _COMMON
    + r"""
tasks = [{"data": data(r), "predictions": [{"model_version": version(r), "result": result(r)}]} for r in records]
ls.projects.import_tasks(id=project.id, request=tasks, request_options={"max_retries": 0, "timeout": 600})
"""
)
NAIVE_LOOP = (
    _COMMON
    + r"""
for r in records:
    task = ls.tasks.create(project=project.id, data=data(r))
    ls.predictions.create(task=task.id, result=result(r), model_version=version(r))
"""
)


def reuters_articles(limit: int) -> list[dict]:
    """The first ``limit`` Reuters-21578 records with a body, as toolkit JSONL articles."""
    folder = CORPUS / "reuters-21578"
    if not folder.is_dir():
        sys.exit(f"Reuters-21578 not found at {folder}: set TOOLKIT_BENCH_CORPUS to the corpus folder")
    articles = []
    # Reuters repeats stories word for word; preannotate counts a repeated text once, so
    # repeats would leave fewer than ``limit`` tasks to push.
    seen: set[str] = set()
    for path in sorted(folder.glob("*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            body = (record.get("body") or "").strip()
            if not body or " ".join(body.split()) in seen:
                continue
            seen.add(" ".join(body.split()))
            date = dt.datetime.strptime(record["date"].split()[0], "%d-%b-%Y").date().isoformat()
            articles.append(
                {
                    "id": f"reuters-{record['attrs']['newid']}",
                    "text": body,
                    "title": record.get("title") or "",
                    "date": date,
                }
            )
            if len(articles) == limit:
                return articles
    return articles


def predictions_file(articles: int) -> Path:
    """Predictions for the benchmark articles, made once by `toolkit preannotate` and cached."""
    WORK.mkdir(parents=True, exist_ok=True)
    predictions = WORK / f"predictions-{articles}.jsonl"
    if predictions.exists():
        return predictions
    source = WORK / f"articles-{articles}.jsonl"
    source.write_text("".join(json.dumps(a) + "\n" for a in reuters_articles(articles)), encoding="utf-8")
    print(f"Pre-annotating {articles} articles once (cached in {predictions.relative_to(ROOT)}) ...", flush=True)
    subprocess.run([*TOOLKIT, "preannotate", str(source), "--out", str(predictions)], cwd=ROOT, check=True)
    return predictions


def first_lines(source: Path, count: int) -> Path:
    """The first ``count`` predictions of ``source`` as a file of their own (what push reads)."""
    target = WORK / f"{source.stem}-first-{count}.jsonl"
    if not target.exists():
        with source.open(encoding="utf-8") as lines:
            target.write_text("".join(line for _, line in zip(range(count), lines, strict=False)), encoding="utf-8")
    return target


def server_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TOOLKIT_TEST_")}
    if env.get("LABEL_STUDIO_URL") and env.get("LABEL_STUDIO_API_KEY"):
        return env
    subprocess.run([*TOOLKIT, "labelstudio", "up", "--home", str(HOME), "--port", str(PORT)], cwd=ROOT, check=True)
    credentials = json.loads((HOME / "credentials.json").read_text())
    return {**env, "LABEL_STUDIO_URL": credentials["url"], "LABEL_STUDIO_API_KEY": credentials["api_key"]}


CPU: dict[str, float] = {}  # client CPU seconds (user + system) of the last run of each command


def timed(command: list[str], env: dict[str, str], cwd: Path, name: str = "") -> float:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[name] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1500,10000", help="tasks per push, comma-separated")
    parser.add_argument("--rounds", type=int, default=5, help="toolkit and single, alternating, per size")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    biggest = predictions_file(max(sizes))
    env = server_env()
    run = uuid.uuid4().hex[:8]
    config = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    config.setdefault("push", {})
    config_path = WORK / "config.yaml"
    sys.path.insert(0, str(ROOT))
    from toolkit.config import parse_config
    from toolkit.labelstudio.labeling import labeling_config

    label_config = WORK / "label_config.xml"
    label_config.write_text(labeling_config(parse_config(config)))
    threshold = parse_config(config).push.near_duplicates
    scripts = {}
    for name, code in (("single", SINGLE), ("naive", NAIVE_LOOP)):
        scripts[name] = WORK / f"baseline_{name}.py"
        scripts[name].write_text(code)

    naive_rate = None
    summary = []
    pushed: dict[str, int] = {}  # project title -> tasks it must hold, checked and deleted at the end
    for size in sizes:
        predictions = biggest if size == max(sizes) else first_lines(biggest, size)
        ratios, seconds = [], {"toolkit": [], "single": [], "ungrouped": []}
        for round_ in range(args.rounds):
            for name in ("toolkit", "single", "ungrouped"):
                title = f"bench push {name} {run} n{size} r{round_}"
                if name in ("toolkit", "ungrouped"):
                    config["project"]["title"] = title
                    # ungrouped: the same push with near-duplicate grouping off, for what grouping adds.
                    config["push"]["near_duplicates"] = None if name == "ungrouped" else threshold
                    config_path.write_text(yaml.safe_dump(config))
                    command = [*TOOLKIT, "push", str(predictions), "--config", str(config_path)]
                else:
                    command = [sys.executable, str(scripts["single"]), str(predictions), title, str(label_config)]
                    command.append(str(size))
                took = timed(command, env, ROOT, name)
                seconds[name].append(took)
                print(f"  {size:6,} {name:8} round {round_ + 1}: {took:6.1f} s (client CPU {CPU[name]:.1f} s)")
                pushed[title] = size
            ratios.append(seconds["single"][-1] / seconds["toolkit"][-1])  # throughput ratio of the round
        summary.append((size, seconds, ratios))
        if naive_rate is None:
            title = f"bench push naive {run}"
            naive = timed([sys.executable, str(scripts["naive"]), str(predictions), title, str(label_config)]
                          + [str(NAIVE)], env, ROOT, "naive")  # fmt: skip
            assert check_and_clean(env, {"naive": title}) == {"naive": NAIVE}
            naive_rate = NAIVE / naive
    counts = check_and_clean(env, {title: title for title in pushed})
    assert counts == pushed, f"projects missing tasks: {set(pushed.items()) - set(counts.items())}"
    helps = {" ".join(["toolkit", *command, "--help"]): help_seconds(command, env) for command in ([], ["push"])}
    print(f"Push benchmark: Reuters-21578 articles with predictions, whole processes, {args.rounds} rounds per size")
    for size, seconds, ratios in summary:
        median, single = statistics.median(seconds["toolkit"]), statistics.median(seconds["single"])
        print(
            f"  {size:6,} tasks: toolkit median {median:6.1f} s, single median {single:6.1f} s;"
            f" toolkit / single call {statistics.median(ratios):.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f}x;"
            " target >= 0.9x)"
        )
        print(f"          toolkit / naive loop {size / median / naive_rate:.1f}x (target >= 40x)")
        # Per round: the grouped push against the same push ungrouped, run next to each other.
        added = statistics.median(on - off for on, off in zip(seconds["toolkit"], seconds["ungrouped"]))
        ungrouped = statistics.median(seconds["ungrouped"])
        print(
            f"          near-duplicate grouping adds {added:+.2f} s to the push, {added / median:+.1%} (median of the"
            f" rounds' grouped - ungrouped; ungrouped median {ungrouped:.1f} s; target <= 5%)"
        )
        grouping = grouping_seconds(biggest if size == max(sizes) else first_lines(biggest, size))
        print(f"          grouping alone, in one process: {grouping:.2f} s ({grouping / median:.1%} of the push)")
    for command, seconds_taken in helps.items():
        print(f"  {command}: {seconds_taken:.2f} s, whole process, median of 5 (target < 0.5 s)")


def help_seconds(command: list[str], env: dict[str, str]) -> float:
    """A whole ``toolkit ... --help`` process, start to exit (median of 5): what a user waits to read it."""
    took = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([*TOOLKIT, *command, "--help"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        took.append(time.perf_counter() - start)
    return statistics.median(took)


def grouping_seconds(predictions: Path) -> float:
    """What push's near-duplicate grouping of these articles takes in-process (median of 3)."""
    from toolkit.config import parse_config
    from toolkit.nlp.duplicates import near_duplicate_groups

    threshold = parse_config(yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())).push.near_duplicates
    with predictions.open(encoding="utf-8") as lines:
        articles = [(record["id"], record["text"]) for record in map(json.loads, lines)]
    took = []
    for _ in range(3):
        start = time.perf_counter()
        near_duplicate_groups(articles, threshold=threshold)
        took.append(time.perf_counter() - start)
    return statistics.median(took)


def check_and_clean(env: dict[str, str], titles: dict[str, str]) -> dict[str, int]:
    """How many tasks each project got; then the benchmark projects are deleted."""
    from label_studio_sdk import LabelStudio

    ls = LabelStudio(base_url=env["LABEL_STUDIO_URL"], api_key=env["LABEL_STUDIO_API_KEY"], timeout=600)
    counts = {}
    for name, title in titles.items():
        for project in ls.projects.list(title=title):
            if project.title == title:
                counts[name] = project.task_number
                if not os.environ.get("TOOLKIT_BENCH_KEEP"):
                    ls.projects.delete(id=project.id)
    return counts


if __name__ == "__main__":
    main()
