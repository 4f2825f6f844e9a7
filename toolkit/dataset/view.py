"""The dataset stage's view: an ``ExportResult`` and an ``ExportDiff`` as render sections (``toolkit.render``).

``toolkit export`` and ``toolkit export-diff`` print them (``render.console``, plain lines,
no rules). Lines under a summary line are indented by two spaces of their own (four for
the items under them), as the commands have always printed them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.render import Code, Data, Line, Section, count, plural

if TYPE_CHECKING:
    from toolkit.dataset.diff import ArticleChange, ExportDiff
    from toolkit.dataset.exporting import ExportResult

# Lost spans named under the counts; the loss report in the version folder has them all.
SHOWN_LOSSES = 20
# Articles named per kind of change; --json lists them all.
SHOWN_CHANGES = 20


def _load_with(result: ExportResult) -> Line:
    return Line(("Load it with: ", Code(f"datasets.load_from_disk({str(result.path)!r})")))


def _latest(result: ExportResult) -> Line:
    return Line(
        ("  ", Code(str(result.root / "LATEST")), f" -> {result.version}; card ", Code(str(result.path / "README.md")))
    )


def _unchanged(result: ExportResult) -> tuple[Line, ...]:
    rows = result.manifest.get("counts", {}).get("rows", 0)
    said = (
        f"Nothing changed since {result.version} (same pull, ledger, config and toolkit version): no new version; ",
        Code(str(result.root / "LATEST")),
        f" stays {result.version} ({plural(rows, 'row')})",
    )
    return Line(said), _load_with(result)


def _empty(result: ExportResult) -> tuple[Line, ...]:
    loader = Code(f"datasets.load_from_disk({str(result.path)!r})")
    return (
        Line(("Nothing annotated yet: wrote an empty dataset (every column, no rows) to ", Code(str(result.path)))),
        _latest(result),
        Line(
            (
                "  ",
                loader,
                " reads it; datasets.load_dataset cannot yet (a version without rows has no parquet files)",
            )
        ),
        Line(("Next: annotate in Label Studio, then pull and export again (`make run` does both)",)),
    )


def exported(result: ExportResult) -> Section:
    """Everything ``toolkit export`` says of a version it wrote (or found unchanged)."""
    if result.unchanged:
        return Section("export", None, _unchanged(result))
    if result.stats.articles == 0:
        return Section("export", None, _empty(result))
    stats = result.stats
    splits = ", ".join(f"{name} {count(stats.rows_per_split.get(name, 0))}" for name in result.splits)
    model = f" + {count(stats.model_rows)} model-only" if result.with_predictions else ""
    lines = [
        Line(
            (
                f"Wrote {plural(stats.articles, 'article')} ({count(stats.human_rows)} human{model}) to ",
                Code(str(result.path)),
                f" ({splits})",
            )
        ),
        Line(
            (
                f"  {plural(stats.spans, 'span')}: {count(stats.aligned_strict)} on token boundaries, "
                f"{count(stats.aligned_non_strict)} snapped ({result.alignment_fallback}), "
                f"{count(len(stats.lost))} lost",
            )
        ),
    ]
    lines += [Line(("    lost: ", Data(lost.line())), note=True) for lost in stats.lost[:SHOWN_LOSSES]]
    if len(stats.lost) > SHOWN_LOSSES:
        more = f"    ... and {count(len(stats.lost) - SHOWN_LOSSES)} more in "
        lines.append(Line((more, Code(str(result.path / "loss_report.jsonl")))))
    lines.append(_latest(result))
    lines += [Line((f"  {what}: ", Code(str(path)))) for what, path in result.attached]
    lines.append(_load_with(result))
    return Section("export", None, tuple(lines))


def pushed(result: ExportResult, url: str) -> Section:
    return Section("pushed", None, (Line((f"Pushed {result.version} to ", Code(url))),))


def _change(change: ArticleChange) -> Line:
    parts = [f"+{s}-{e} {label}" for s, e, label in change.added]
    parts += [f"-{s}-{e} {label}" for s, e, label in change.removed]
    if change.text_changed:
        parts.append("text changed")
    if change.tags_changed:
        parts.append("tokens or ner_tags changed")
    if change.split:
        parts.append(f"split {change.split[0]} -> {change.split[1]}")
    return Line(("    ~ ", Data(change.article_id), ": ", Data(", ".join(parts))))


def difference(diff: ExportDiff) -> tuple[Section, ...]:
    """Everything ``toolkit export-diff`` says: the schema's change first (with other
    ``ner_tags`` ids the same article reads differently in the two versions), then the rows."""
    sections = []
    if diff.schema is not None:
        schema = [Line(("Schema changed:",), note=True)]
        schema += [Line(("  ", Data(line)), note=True) for line in diff.schema.lines()]
        schema.append(Line(("  (rows below are compared by tag names, not ids)",)))
        sections.append(Section("schema", None, tuple(schema)))
    lines = [
        Line((Code(str(diff.old)), " -> ", Code(str(diff.new)))),
        Line(
            (
                f"  articles: {count(len(diff.added))} added, {count(len(diff.removed))} removed, "
                f"{count(len(diff.changed))} changed, {count(diff.unchanged)} unchanged",
            )
        ),
        Line((f"  spans in changed articles: {count(diff.spans_added)} added, {count(diff.spans_removed)} removed",)),
    ]
    lines += [Line(("    + ", Data(article_id))) for article_id in diff.added[:SHOWN_CHANGES]]
    lines += [Line(("    - ", Data(article_id))) for article_id in diff.removed[:SHOWN_CHANGES]]
    lines += [_change(change) for change in diff.changed[:SHOWN_CHANGES]]
    hidden = sum(max(0, len(shown) - SHOWN_CHANGES) for shown in (diff.added, diff.removed, diff.changed))
    if hidden:
        lines.append(Line((f"    ... and {count(hidden)} more (--json lists them all)",)))
    sections.append(Section("rows", None, tuple(lines)))
    return tuple(sections)
