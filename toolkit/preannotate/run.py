"""Pre-annotate articles with a spaCy pipeline: articles -> predicted articles.

Only the components that named-entity recognition needs are run (the NER component
and the embedding layer it listens to, if any), which gives the same entities as the
full pipeline in less time. Documents are processed inside ``nlp.memory_zone()``, one
zone per chunk of articles, so the strings a long stream adds to the vocabulary are
freed again and memory stays flat; with ``n_process > 1`` the worker processes are
started afresh for each chunk, which frees theirs too.

With ``spacy.scores`` (the default) the NER decodes with a beam over the same weights
and each span gets a confidence in [0, 1] and each article a task score; see
``toolkit.nlp.scoring`` for what they mean. An optional EntityRuler patterns file
(``spacy.patterns``) adds rule-based entities; on overlap the pattern's entity wins
(``spacy.patterns_win: false`` lets the model's win instead). Pattern entities carry
no score: they are not the model's guess.

``preannotate_to_file`` writes the output incrementally and resumes: a rerun with the
same output skips the articles already in it, so an interrupted run loses at most the
last batch.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from toolkit.config import Config
from toolkit.errors import InputError, OutputError
from toolkit.records import Article, ModelInfo, PredictedArticle, Span

if TYPE_CHECKING:  # spaCy takes a second to import: only where a pipeline is loaded
    from spacy.tokens import Doc

    from toolkit.nlp.pipeline import Pipeline
    from toolkit.preannotate.readers import ReadStats

# Articles per memory zone (and per set of worker processes with n_process > 1): large
# enough that starting workers is a small share of the time, small enough that the
# vocabulary of one zone is a small share of the memory.
ZONE_SIZE = 5000


@dataclass
class PreannotateStats:
    articles: int = 0
    words: int = 0
    spans: int = 0
    trimmed: int = 0
    dropped_by_label: Counter[str] = field(default_factory=Counter)
    dropped_empty: int = 0
    pattern_spans: int = 0
    resumed: int = 0  # articles already in the output, not run again
    truncated_tail: bool = False  # a half-written last line of an interrupted run was dropped


def _trim(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Token bounds without leading or trailing whitespace and punctuation tokens."""
    while start < end and (doc[start].is_space or doc[start].is_punct):
        start += 1
    while end > start and (doc[end - 1].is_space or doc[end - 1].is_punct):
        end -= 1
    return start, end


def _candidate_scores(doc: Doc, config: Config) -> tuple[dict[tuple[int, int, str], float], set[tuple[int, int, str]]]:
    """Beam candidates by trimmed token span and project label: summed probability, and the best parse's keys."""
    from toolkit.nlp.scoring import SCORES_KEY

    summed: dict[tuple[int, int, str], float] = {}
    best: set[tuple[int, int, str]] = set()
    for start, end, label, prob, in_best in doc.user_data.get(SCORES_KEY, ()):
        project = config.project_label(label)
        if project is None:
            continue
        start, end = _trim(doc, start, end)
        if start == end:
            continue
        key = (start, end, project)
        summed[key] = summed.get(key, 0.0) + prob
        if in_best:
            best.add(key)
    return summed, best


def count_words(doc: Doc) -> int:
    """Tokens that are not whitespace, counted in one pass over spaCy's arrays (no Token objects)."""
    from spacy.attrs import IS_SPACE

    return len(doc) - int(doc.to_array(IS_SPACE).sum()) if len(doc) else 0


def doc_spans(doc: Doc, config: Config, stats: PreannotateStats) -> list[Span]:
    """The project spans of a parsed doc: labels mapped, whitespace and stray punctuation trimmed.

    Trimming works on whole tokens (a leading or trailing space or punctuation token),
    so an abbreviation such as ``U.S.`` keeps its final period. Spans carry the beam's
    score when the pipeline computed one.
    """
    spans, _ = scored_doc_spans(doc, config, stats)
    return spans


def scored_doc_spans(
    doc: Doc, config: Config, stats: PreannotateStats, text: str | None = None
) -> tuple[list[Span], float | None]:
    """The project spans of a parsed doc and the doc's task score (None without scores).

    ``text`` is the doc's text when the caller has it: ``Doc.text`` joins every token
    again on each call.
    """
    from toolkit.nlp.scoring import SCORES_KEY, task_score

    text = doc.text if text is None else text
    scored = SCORES_KEY in doc.user_data
    summed, best = _candidate_scores(doc, config) if scored else ({}, set())
    spans = []
    kept: set[tuple[int, int, str]] = set()
    span_scores: list[float] = []
    for ent in doc.ents:
        label = config.project_label(ent.label_)
        if label is None:
            stats.dropped_by_label[ent.label_] += 1
            continue
        start, end = _trim(doc, ent.start, ent.end)
        if start == end:
            stats.dropped_empty += 1
            continue
        start_char = doc[start].idx
        end_char = doc[end - 1].idx + len(doc[end - 1].text)
        if (start_char, end_char) != (ent.start_char, ent.end_char):
            stats.trimmed += 1
        key = (start, end, label)
        score = None
        if scored and key in summed:
            score = round(min(summed[key], 1.0), 4)
            span_scores.append(score)
            kept.add(key)
        elif scored:
            stats.pattern_spans += 1
        spans.append(Span(start=start_char, end=end_char, label=label, text=text[start_char:end_char], score=score))
    if not scored:
        return spans, None
    # Candidates the best parse left out (and that no kept span covers exactly): the
    # model's doubt about not predicting them.
    rejected = [prob for key, prob in summed.items() if key not in kept and key not in best]
    return spans, task_score(span_scores, rejected)


def _chunks(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def preannotate(
    articles: Iterable[Article],
    *,
    config: Config,
    pipeline: Pipeline,
    stats: PreannotateStats | None = None,
    on_article: Callable[[PredictedArticle], None] | None = None,
    n_process: int | None = None,
    batch_size: int | None = None,
    zone_size: int = ZONE_SIZE,
) -> Iterator[PredictedArticle]:
    """Run the pipeline over the articles, yielding one predicted article per article, in order."""
    stats = stats if stats is not None else PreannotateStats()
    nlp = pipeline.nlp
    n_process = n_process or config.spacy.n_process
    batch_size = batch_size or config.spacy.batch_size
    # spaCy refuses texts longer than nlp.max_length (1,000,000 by default) with E088,
    # which would stop the whole batch; input.max_chars is the limit the user set, and
    # the readers already hold every article to it.
    nlp.max_length = max(nlp.max_length, config.input.max_chars)
    for chunk in _chunks(articles, zone_size):
        # Docs (and the strings they added) are only valid inside the zone: each one is
        # turned into a record before the zone closes.
        with nlp.memory_zone():
            # Plain texts, not as_tuples: spaCy's as_tuples tokenizes in the main process
            # (it makes Docs to carry the context), which with n_process > 1 is serial
            # work the workers then wait for. nlp.pipe keeps the order, so zip is exact.
            texts = (article.text for article in chunk)
            docs = nlp.pipe(texts, batch_size=batch_size, n_process=n_process)
            for doc, article in zip(docs, chunk, strict=True):
                spans, score = scored_doc_spans(doc, config, stats, article.text)
                predicted = PredictedArticle(**article.model_dump(), model=pipeline.model, spans=spans, score=score)
                stats.articles += 1
                stats.words += count_words(doc)
                stats.spans += len(spans)
                if on_article is not None:
                    on_article(predicted)
                yield predicted


# --- the output file: incremental, resumable ---------------------------------------


def done_ids(out: Path, model: ModelInfo, stats: PreannotateStats | None = None) -> dict[str, int]:
    """The articles an earlier run already wrote to ``out``: id -> ``hash()`` of the text.

    A record counts as done only when its line is complete. A last line without its
    newline (the run was killed while writing it, or a hand edit left it so) is cut
    off, so that the next record starts on a line of its own; that article is run
    again. Any other unreadable line, or records of another model, stop the run.
    The text hashes are only compared within this process (``hash`` is salted per
    process), to notice an input whose text changed under the same id.
    """
    if not out.exists():
        return {}
    done: dict[str, int] = {}
    good_end = 0
    with out.open("rb+") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):  # only the last line can lack it
                handle.truncate(good_end)
                if stats is not None:
                    stats.truncated_tail = True
                break
            if not raw.strip():
                good_end += len(raw)
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
                if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                    raise ValueError("no article id")
                if not isinstance(record.get("text"), str):
                    raise ValueError("no article text")
            except (UnicodeDecodeError, ValueError):
                raise OutputError(
                    f"{out}:{number}: not a prediction record, so the run cannot resume from this file",
                    hint="pass --fresh to start the output over",
                ) from None
            written_by = record.get("model") or {}
            if (written_by.get("name"), written_by.get("version")) != (model.name, model.version):
                raise OutputError(
                    f"{out}:{number}: written by model {written_by.get('name')} {written_by.get('version')}, "
                    f"this run uses {model.name} {model.version}",
                    hint="pass --fresh to start the output over, or choose another --out",
                )
            done[record["id"]] = hash(record["text"])
            good_end += len(raw)
    return done


def scan_inputs(
    inputs: Sequence[Path | str],
    *,
    config: Config,
    on_error: Literal["fail", "skip"],
    done: Mapping[str, int],
    stats: ReadStats,
    out: Path | None = None,
) -> int:
    """Read every input once without the model, so that the first bad input fails here,
    before any output is written; returns how many articles are left to do.

    An article already done (in ``done``, from :func:`done_ids`) whose text has changed
    since is refused, whatever ``on_error``: the output would keep the old text.
    """
    from toolkit.preannotate.readers import read_articles

    todo = 0
    for article in read_articles(inputs, stats, options=config.input, on_error=on_error):
        previous = done.get(article.id)
        if previous is None:
            todo += 1
        elif previous != hash(article.text):
            raise InputError(
                f"{article.source}: article {article.id!r} has another text than in {out or 'the output'}, "
                "where it was pre-annotated before",
                hint="pass --fresh to start the output over, or give the changed article a new id",
            )
    return todo


def preannotate_to_file(
    inputs: Sequence[Path | str],
    *,
    out: Path,
    config: Config,
    pipeline: Pipeline,
    on_error: Literal["fail", "skip"] | None = None,
    fresh: bool = False,
    n_process: int | None = None,
    batch_size: int | None = None,
    stats: PreannotateStats | None = None,
    read_stats: ReadStats | None = None,
    on_start: Callable[[int], None] | None = None,
    on_article: Callable[[PredictedArticle], None] | None = None,
) -> int:
    """Pre-annotate the inputs into ``out`` (JSONL), resuming a run that wrote part of it.

    All inputs are read once before the model runs, so bad input stops the command
    (``on_error="fail"``) before anything is written. Records are appended and flushed
    batch by batch; a rerun skips the ids already in ``out`` (``fresh`` starts over).
    ``on_start`` receives the number of articles to do. Returns how many were written.
    """
    from toolkit.preannotate.readers import ReadStats, expand_inputs, read_articles

    stats = stats if stats is not None else PreannotateStats()
    on_error = on_error or config.input.on_error
    # The output is never an input, even when it sits in a folder being read: it grows
    # while the inputs are read a second time.
    inputs = [path for path in expand_inputs(inputs) if os.path.realpath(path) != os.path.realpath(out)]
    if not inputs:
        raise InputError(f"{out}: the only input is the output file itself")
    read_stats = read_stats if read_stats is not None else ReadStats()
    done = {} if fresh else done_ids(out, pipeline.model, stats)
    todo = scan_inputs(inputs, config=config, on_error=on_error, done=done, stats=read_stats, out=out)
    stats.resumed = read_stats.articles - todo
    if read_stats.articles == 0 and not done:
        # Nothing to write, and nothing from an earlier run: an empty output would be
        # pushed as an empty project. (on_error="fail" stopped at the first bad input.)
        first = read_stats.skipped_examples[0] if read_stats.skipped_examples else None
        if not first:
            raise InputError("the inputs hold no article; nothing to pre-annotate")
        raise InputError(
            f"every input was bad ({read_stats.skipped_total:,} skipped: {read_stats.skipped_reasons()}); nothing to pre-annotate",
            hint=f"the first: {first}",
        )
    if on_start is not None:
        on_start(todo)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle = out.open("w" if fresh or not out.exists() else "a", encoding="utf-8")
    except OSError as error:
        raise OutputError(f"{out}: cannot write ({error.strerror})") from None
    written = 0
    flush_every = batch_size or config.spacy.batch_size
    with handle:
        # The second read: same articles, same order (the scan's counts are the ones reported).
        again = read_articles(inputs, ReadStats(), options=config.input, on_error=on_error)
        articles = (article for article in again if article.id not in done)
        for predicted in preannotate(
            articles,
            config=config,
            pipeline=pipeline,
            stats=stats,
            on_article=on_article,
            n_process=n_process,
            batch_size=batch_size,
        ):
            handle.write(json.dumps(predicted.to_json_dict(), ensure_ascii=False) + "\n")
            written += 1
            if written % flush_every == 0:
                handle.flush()
        handle.flush()
        os.fsync(handle.fileno())
    return written
