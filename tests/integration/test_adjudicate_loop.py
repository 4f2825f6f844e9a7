"""The review loop against a real Label Studio server and the real model.

30 articles, two annotators through the SDK; 10 disagree (boundary, label, a missing
span, "no entities" against spans), 20 agree. ``adjudicate`` (killed half-way the first
time) makes exactly one review task per dispute, showing both versions; a rerun makes
none; an annotator's change before adjudication refreshes its review task; the test
adjudicates the 10; ``pull`` -> ``export`` holds the decisions for those 10 and the
agreed spans for the 20, with their provenance; a later change on an agreed article
makes exactly one new review task; a review project whose labels drift is refused.
"""

from __future__ import annotations

import json
import uuid

import pytest
import yaml

from tests import faults
from toolkit.labelstudio.review import PREFILL_VERSION

from .test_pull_real import read_jsonl, runner, span  # noqa: F401  (the runner fixture, with env)

pytestmark = pytest.mark.integration

PEOPLE = [
    "Angela Merkel", "Boris Johnson", "Carla Bruni", "David Cameron", "Emma Watson", "Frank Sinatra",
    "Greta Thunberg", "Hillary Clinton", "Ivan Petrov", "Julia Roberts", "Kofi Annan", "Lionel Messi",
    "Maria Sharapova", "Nelson Mandela", "Olaf Scholz", "Pedro Sanchez", "Queen Rania", "Rafael Nadal",
    "Serena Williams", "Tony Blair", "Ursula Leyen", "Vladimir Klitschko", "Warren Buffett", "Xavi Hernandez",
    "Yoko Ono", "Zinedine Zidane", "Alan Turing", "Barack Obama", "Coco Gauff", "Diego Maradona",
]  # fmt: skip
ORGS = ["Siemens", "Reuters", "Google", "Nestle", "Toyota", "Unilever"]
CITIES = ["Berlin", "Paris", "Madrid", "Vienna", "Lisbon", "Dublin"]
BOUNDARY, LABEL, MISSING, EMPTY = range(0, 3), range(3, 6), range(6, 8), range(8, 10)


def article(number: int) -> dict:
    person, org, city = PEOPLE[number], ORGS[number % 6], CITIES[number % 6]
    return {"id": f"art-{number:02d}", "text": f"{person} met officials of {org} in {city} on Monday."}


def full(text: str) -> list[dict]:
    person, rest = text.split(" met officials of ")
    org, rest = rest.split(" in ")
    city = rest.split(" on ")[0]
    return [span(text, person, "PERSON"), span(text, org, "ORG"), span(text, city, "GPE")]


def keys(result: list[dict]) -> list[tuple[int, int, str]]:
    return sorted((r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in result)


def second_version(number: int, text: str) -> list[dict]:
    """The second annotator's answer: the first's, but for the ten disputes."""
    result = full(text)
    if number in BOUNDARY:
        result[0] = span(text, text.split()[0], "PERSON")  # the first name only
    elif number in LABEL:
        result[2] = span(text, result[2]["value"]["text"], "LOC")
    elif number in MISSING:
        result = result[:2]
    elif number in EMPTY:
        result = []
    return result


def decided(number: int, text: str) -> list[dict]:
    """The adjudicator's answer: the first annotator's, except for labels (the second's) and art-09 (none)."""
    if number in LABEL:
        return second_version(number, text)
    return [] if number == 9 else full(text)


@pytest.fixture
def review_cleanup(client, project_config):
    yield
    title = yaml.safe_load(project_config.read_text())["project"]["title"] + " (adjudication)"
    for project in client.projects.list(title=title):
        if project.title == title:
            client.projects.delete(id=project.id)


def test_adjudication_loop(runner, project_config, client, tmp_path, review_cleanup):  # noqa: F811
    data = yaml.safe_load(project_config.read_text())
    data["push"] = {**(data.get("push") or {}), "batch_size": 4}  # review tasks go out in batches of 4
    project_config.write_text(yaml.safe_dump(data))
    config = ["--config", str(project_config)]
    articles = [article(n) for n in range(30)]
    (tmp_path / "articles.jsonl").write_text("".join(json.dumps(a) + "\n" for a in articles))
    runner("preannotate", "articles.jsonl", *config, "--out", "predictions.jsonl", "--no-scores")
    runner("push", "predictions.jsonl", *config)

    main = next(p for p in client.projects.list(title=data["project"]["title"]) if p.title == data["project"]["title"])
    tasks = {t.data["article_id"]: t for t in client.tasks.list(project=main.id, fields="all")}
    assert len(tasks) == 30
    second = client.users.create(username=f"second-{uuid.uuid4().hex[:8]}", email=f"{uuid.uuid4().hex[:8]}@example.com")
    judge = client.users.create(username=f"judge-{uuid.uuid4().hex[:8]}", email=f"{uuid.uuid4().hex[:8]}@example.com")
    own: dict[str, int] = {}
    theirs: dict[str, int] = {}
    for number, one in enumerate(articles):
        task = tasks[one["id"]]
        own[one["id"]] = client.annotations.create(id=task.id, result=full(one["text"]), was_cancelled=False).id
        theirs[one["id"]] = client.annotations.create(
            id=task.id, result=second_version(number, one["text"]), was_cancelled=False, completed_by=second.id
        ).id

    dry = json.loads(runner("adjudicate", *config, "--dry-run", "--json").stdout)
    assert (dry["articles"], dry["agreed"], dry["disputed"], dry["single_annotator"]) == (30, 20, 10, 0)
    assert dry["kinds"] == {"boundary": 3, "label": 3, "missing/extra span": 4}
    assert (dry["no_entities_vs_spans"], dry["new_review_tasks"], dry["review_project"]["id"]) == (2, 10, None)
    shown = runner("adjudicate", *config, "--dry-run").stdout
    assert "20 agree (auto-accepted), 10 disagree" in shown and "would send 10 new review tasks" in shown

    # Killed right after the server answered the second batch: the rerun sends the rest, no task twice.
    runner("adjudicate", *config, expect=-9, env={faults.KILL_AT_WRITE: "after:4"})
    review = next(p for p in client.projects.list(title=main.title + " (adjudication)"))
    assert 0 < len(list(client.tasks.list(project=review.id))) < 10
    runner("adjudicate", *config)
    review_tasks = {t.data["article_id"]: t for t in client.tasks.list(project=review.id, fields="all")}
    assert len(list(client.tasks.list(project=review.id))) == 10
    assert sorted(review_tasks) == [f"art-{n:02d}" for n in range(10)]
    again = json.loads(runner("adjudicate", *config, "--json").stdout)
    assert (again["new_review_tasks"], again["with_review_task"], again["pending"]) == (0, 10, 10)

    # Each review task shows both versions, named by anonymous id, and starts from the agreed spans.
    review = client.projects.get(id=review.id)
    assert review.model_version == PREFILL_VERSION and "How to adjudicate" in review.expert_instruction
    assert review.show_skip_button is False  # a dispute needs a decision: no Skip in the review project
    for article_id, task in review_tasks.items():
        by_version = {p.model_version: p.result for p in task.predictions}
        annotators = task.data["annotators"]
        assert set(by_version) == {PREFILL_VERSION, *annotators} and len(annotators) == 2
        assert all(a.startswith("ann-") for a in annotators)
        assert set(task.data["resolves"]) == {own[article_id], theirs[article_id]}
        text = task.data["text"]
        number = int(article_id.split("-")[1])
        versions = sorted([keys(full(text)), keys(second_version(number, text))])
        assert sorted(keys(by_version[a]) for a in annotators) == versions
        agreed = sorted(set(keys(full(text))) & set(keys(second_version(number, text))))
        assert keys(by_version[PREFILL_VERSION]) == agreed
        assert task.data["disputes"].startswith("<b>Disputed (")
        blob = json.dumps(task.data)
        assert second.email not in blob and second.username not in blob

    # The second annotator changes art-06 before adjudication: its review task is refreshed.
    text6 = articles[6]["text"]
    client.annotations.update(id=theirs["art-06"], result=full(text6)[:1])
    refreshed = json.loads(runner("adjudicate", *config, "--json").stdout)
    assert (refreshed["refreshed"], refreshed["new_review_tasks"]) == (1, 0)
    task6 = client.tasks.get(id=review_tasks["art-06"].id)
    by_version = {p.model_version: p.result for p in task6.predictions}
    assert len(by_version) == 3 and sorted(len(result) for result in by_version.values()) == [1, 1, 3]

    for article_id, task in review_tasks.items():
        number = int(article_id.split("-")[1])
        client.annotations.create(
            id=task.id, result=decided(number, task.data["text"]), was_cancelled=False, completed_by=judge.id
        )

    runner("pull", *config, "--out", "annotations.jsonl")
    records = {r["id"]: r for r in read_jsonl(tmp_path / "annotations.jsonl")}
    ledger = read_jsonl(tmp_path / "annotations.ledger.jsonl")
    runner("export", "annotations.jsonl", *config, "--out", "dataset")
    import datasets

    dataset = datasets.load_from_disk(str(tmp_path / "dataset" / (tmp_path / "dataset" / "LATEST").read_text().strip()))
    rows = {row["id"]: row for split in dataset.values() for row in split}
    assert len(rows) == 30
    judges = set()
    for number, one in enumerate(articles):
        row, record, text = rows[one["id"]], records[one["id"]], one["text"]
        spans = sorted((s["start"], s["end"], s["label"]) for s in row["spans"])
        if number < 10:
            assert row["decision"] == "adjudicated" and spans == keys(decided(number, text)), one["id"]
            judges.add(row["adjudicated_by"])
            d = record["decision"]
            assert d["status"] == "adjudicated" and d["by"] == row["adjudicated_by"]
            assert d["review_task_id"] == review_tasks[one["id"]].id and not d.get("stale")
            assert set(d["resolved"]) == {own[one["id"]], theirs[one["id"]]}
        else:
            assert (row["decision"], row["adjudicated_by"]) == ("agreed", None)
            assert spans == keys(full(text))
            assert set(record["decision"]["resolved"]) == {own[one["id"]], theirs[one["id"]]}
    (judge_id,) = judges
    assert judge_id.startswith("ann-") and judge_id not in {
        a for r in records.values() for a in r["decision"]["annotators"]
    }
    # Every annotator span a decision overruled is in the ledger: the first name only (3),
    # GPE where the adjudicator took LOC (3), art-06's refreshed single span... kept; art-09's three.
    overruled = sorted((e["article_id"], e["span"]["label"]) for e in ledger if e["kind"] == "span_overruled")
    assert overruled == sorted(
        [(f"art-{n:02d}", "PERSON") for n in BOUNDARY]
        + [(f"art-{n:02d}", "GPE") for n in LABEL]
        + [("art-09", "PERSON"), ("art-09", "ORG"), ("art-09", "GPE")]
    )

    report = json.loads(runner("report", "annotations.jsonl", *config, "--json").stdout)["adjudication"]
    assert (report["found"], report["resolved"], report["pending"]) == (10, 10, 0)
    assert report["agreement_after"] > report["agreement_before"]

    # Later: an annotator changes an agreed article (art-12) and an adjudicated one (art-00).
    client.annotations.update(id=own["art-12"], result=full(articles[12]["text"])[:2])
    client.annotations.update(id=theirs["art-00"], result=[])
    later = json.loads(runner("adjudicate", *config, "--json").stdout)
    assert (later["new_review_tasks"], later["changed_after_adjudication"]) == (1, ["art-00"])
    assert len(list(client.tasks.list(project=review.id))) == 11

    # A review project whose labels no longer are the main project's is refused, with the difference.
    label_config = review.label_config.replace('<Label value="EVENT"', '<Label value="EVENTS"')
    client.projects.update(id=review.id, label_config=label_config)
    refused = runner("adjudicate", *config, expect=1)
    assert (
        "only the main project has EVENT" in refused.stderr and "only the review project has EVENTS" in refused.stderr
    )
