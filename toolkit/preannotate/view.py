"""Pre-annotate's view: a job's model, its cluster and its ``PreannotateResult`` as render
sections (``toolkit.render``), which ``toolkit preannotate`` prints as plain lines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.render import Code, Data, Line, Section, count, number, plural

if TYPE_CHECKING:
    from toolkit.preannotate.backends.ray import Cluster
    from toolkit.preannotate.job import PreannotateJob, PreannotateResult

# Examples of duplicates and of skipped inputs shown; the rest are counted.
SHOWN = 10


def model(job: PreannotateJob) -> Section:
    """The model the job runs, said before it runs."""
    pipeline = job.pipeline
    where = "on Ray" if job.backend is not None else plural(job.n_process, "process", "processes")
    said = (
        "Model: ",
        Data(f"{pipeline.model.name} {pipeline.model.version}"),
        " (components: ",
        Data(", ".join(pipeline.nlp.pipe_names)),
        f"; scores {'on' if pipeline.scores else 'off'}; {where})",
    )
    lines = [Line(said)]
    if job.current is not None:
        promoted = (job.current.promoted_at or "?")[:10]
        lines.append(
            Line(
                (
                    "  the current model of project ",
                    Data(repr(job.config.project.title)),
                    f", made current {promoted} (`toolkit models list`; --model to run another)",
                )
            )
        )
    return Section("model", None, tuple(lines))


def cluster(cluster: Cluster) -> Section:
    """The Ray cluster, said once it is up."""
    where = ("local cluster",) if cluster.address is None else ("cluster at ", Code(cluster.address))
    cpus = plural(int(cluster.cpus) if cluster.cpus.is_integer() else cluster.cpus, "CPU")  # type: ignore[arg-type]
    said = (f"Ray: {plural(cluster.workers, 'worker')} on a ", *where, f" of {cpus}, up in ")
    return Section("cluster", None, (Line((*said, f"{number(cluster.startup_seconds, 1)} s")),))


def _resumed(result: PreannotateResult, out: Code) -> list[Line]:
    stats = result.stats
    if result.written == 0 and stats.resumed:
        already = plural(stats.resumed, "article is", "articles are")
        return [Line((f"Nothing new: all {already} already in ", out, " (pass --fresh to redo them)"))]
    if stats.resumed:
        return [Line((f"Resumed: {plural(stats.resumed, 'article')} already in ", out, " (pass --fresh to redo them)"))]
    return []


def _examples(lines: list[str], total: int) -> list[Line]:
    shown = [Line(("    ", Data(line))) for line in lines[:SHOWN]]
    if total > SHOWN:
        shown.append(Line((f"    ... and {count(total - SHOWN)} more",)))
    return shown


def summary(result: PreannotateResult, *, config_path: Path) -> Section:
    """What a run did, and the next command."""
    out = Code(str(result.out))
    stats, spans, read = result.stats, result.stats.spans, result.read_stats
    lines = _resumed(result, out)
    if stats.truncated_tail:
        lines.append(Line(("  dropped the half-written last line an interrupted run left in ", out)))
    if result.written or not stats.resumed:
        rates = f"{number(result.rate(stats.articles), 1)} articles/s, {number(result.rate(stats.words), 0)} words/s"
        wrote = f"Wrote {plural(result.written, 'article')} with {plural(spans.kept, 'span')} to "
        lines.append(Line((wrote, out, f" ({rates})")))
    if spans.trimmed:
        lines.append(Line((f"  {plural(spans.trimmed, 'span')} trimmed of surrounding whitespace or punctuation",)))
    if spans.dropped_empty:
        lines.append(Line((f"  {plural(spans.dropped_empty, 'span')} dropped: nothing left after trimming",)))
    if spans.dropped_by_label:
        dropped = ", ".join(f"{label} {count(n)}" for label, n in spans.dropped_by_label.most_common())
        lines.append(Line(("  not pre-annotated (label not in the config): ", Data(dropped))))
    if read.dates_not_parsed:
        lines.append(Line((f"  {plural(read.dates_not_parsed, 'date')} not understood: kept as date_original only",)))
    if read.duplicates:
        lines.append(Line((f"  {plural(len(read.duplicates), 'exact duplicate')} kept once:",)))
        lines += _examples(read.duplicates, len(read.duplicates))
    if read.skipped:
        lines.append(Line((f"Skipped {plural(read.skipped_total, 'bad input')}: {read.skipped_reasons()}",)))
        lines += _examples(read.skipped_examples, 0)  # the examples kept; the counts are by reason above
    lines.append(Line(("Next: ", Code(f"toolkit push {result.out} --config {config_path}"))))
    return Section("summary", None, tuple(lines))
