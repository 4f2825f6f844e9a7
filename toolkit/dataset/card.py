"""The dataset card (README.md) of an export version: Hub YAML metadata plus prose.

The YAML is built with huggingface_hub's ``DatasetCardData`` and datasets'
``DatasetInfosDict`` (features with the ClassLabel names, split sizes) plus a
``configs`` entry that points the Hub and ``load_dataset`` at ``data/*.parquet``. The
prose is built from the export's counts as render sections (``card_sections``) and
written by the shared markdown renderer; the caller adds sections through
``extra_sections`` (the CLI: the annotation report's figures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.config import Config
from toolkit.dataset.schema import features
from toolkit.metrics.edits import EDIT_KINDS
from toolkit.render import Block, Bullets, Data, Line, Listing, Row, Section, Table, count, plural
from toolkit.render.markdown import markdown_code, markdown_sections

if TYPE_CHECKING:
    from toolkit.dataset.stats import ExportStats

# Lost spans listed in the card itself; loss_report.jsonl in the version has them all.
CARD_LOSSES = 50


def _size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "1M<n<10M"


def card_data(config: Config, stats: ExportStats) -> Any:
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    data = DatasetCardData(
        language=[config.export.language],
        license=config.export.license,
        task_categories=["token-classification"],
        task_ids=["named-entity-recognition"],
        annotations_creators=["expert-generated", "machine-generated"] if stats.model_rows else ["expert-generated"],
        size_categories=[_size_category(stats.articles)],
        pretty_name=config.export.name,
        configs=[
            {
                "config_name": "default",
                # A split without rows has no parquet file (load_dataset fails on an empty one).
                "data_files": [
                    {"split": name, "path": f"data/{name}-*.parquet"}
                    for name in config.export.splits
                    if stats.rows_per_split.get(name, 0)
                ],
            }
        ],
    )
    splits = SplitDict()
    for name in config.export.splits:
        if not stats.rows_per_split.get(name, 0):
            continue  # as in `configs`: the Hub's split list must match the files
        splits.add(SplitInfo(name=name, num_examples=stats.rows_per_split.get(name, 0)))
    info = DatasetInfo(features=features(config.labels), splits=splits)
    DatasetInfosDict({"default": info}).to_dataset_card_data(data)
    return data


COLUMNS = (
    "Columns: `id`, `text`, `title`, `date`; `tokens` (the tokenizer of the pre-annotation pipeline, "
    "whitespace tokens left out); `ner_tags` (IOB2 `ClassLabel`, `O` at index 0); `spans` "
    "(`{start, end, label}` character offsets into `text`, end exclusive); provenance: `source` "
    "(`human` or `model`), `n_annotators`, `annotators` (anonymous ids), `model_version` "
    "(the prediction the annotators started from) and `n_corrections` (spans added plus spans deleted "
    "against that prediction, by exact offsets and label: a boundary fixed or a span relabelled counts as "
    "one of each; empty without a prediction), `decision` (with several annotators: `agreed`, "
    "`adjudicated`, or `pending`/`disputed` when the pull policy chose), `adjudicated_by` (the "
    "adjudicator's anonymous id) and `decision_stale` (an adjudicated row whose annotators changed, added "
    "or deleted an answer after the decision, which stands; null without a decision)."
)


def _nothing_yet() -> Section:
    said = (
        "This version has every column and split but no rows: no article in the pull it was "
        "exported from had a submitted annotation. `datasets.load_from_disk` reads it; `datasets.load_dataset` "
        "cannot yet (a version without rows has no parquet files). Annotate in Label Studio, then pull "
        "and export again."
    )
    return Section("empty", "Nothing is annotated yet", (Line((said,)),))


def _dataset(config: Config, stats: ExportStats) -> Section:
    model = (
        f", {stats.model_rows:,} with the model's predictions only, marked `source=model`" if stats.model_rows else ""
    )
    stale = (
        f" {plural(stats.stale_decisions, 'adjudicated article')} changed by an annotator after the decision "
        "(`decision_stale`): worth adjudicating again."
        if stats.stale_decisions
        else ""
    )
    load = (
        "import datasets\n"
        'dataset = datasets.load_dataset("parquet", data_files={"train": "data/train-*.parquet"})\n'
        'names = dataset["train"].features["ner_tags"].feature.names\n'
        f'# or, from the export folder: datasets.load_from_disk("exports/{config.export.name}/vN")'
    )
    return Section(
        "dataset",
        "Dataset",
        (
            Line(
                (
                    f"Named entities in news articles: {plural(stats.articles, 'article')} "
                    f"({stats.human_rows:,} corrected by humans in Label Studio{model}), "
                    "pre-annotated by a spaCy pipeline and exported by the toolkit.",
                )
            ),
            Line((COLUMNS + stale,)),
            Listing(load, "python"),
            Line(("Needs `datasets>=4` (the features are written as `List`).",)),
        ),
    )


def _splits(config: Config, stats: ExportStats) -> Section:
    shares = ", ".join(f"{split} {share:g}" for split, share in config.export.splits.items())
    rows = tuple(
        Row(
            (
                Data(split),
                count(stats.rows_per_split.get(split, 0)),
                count(stats.source_per_split[split]["human"]),
                count(stats.source_per_split[split]["model"]),
            )
        )
        for split in config.export.splits
    )
    said = (
        "Each article goes to a split by the SHA-256 of its id (the first 8 bytes as a fraction of 2^64, "
        f"cut at the cumulative shares: {shares}). An article never sits in two splits, and the split of "
        "an article does not change when articles are added."
    )
    table = Table("splits", None, ("split", "articles", "human", "model"), rows, frozenset({"split"}))
    return Section("splits", "Splits", (Line((said,)), table))


def _labels(config: Config, stats: ExportStats, tags: list[str]) -> Section:
    splits = list(config.export.splits)
    rows = [Row((Data(label), *(count(stats.labels_per_split[s][label]) for s in splits))) for label in config.labels]
    rows.append(Row(("total", *(count(sum(stats.labels_per_split[s].values())) for s in splits)), "overall"))
    table = Table("labels", None, ("label", *splits), tuple(rows), frozenset({"label"}))
    # The tags as code spans: a label cannot hold <>& (the config's check), so they show as they are.
    tagged = Line((f"Tags: {', '.join(markdown_code(tag) for tag in tags)}.",))
    return Section("labels", "Labels", (tagged, Line(("Entities per split:",)), table))


def _annotators(stats: ExportStats) -> Section:
    annotators = stats.annotations_per_annotator
    who: list[str] = [
        f"{plural(len(annotators), 'annotator')} (anonymous ids) submitted "
        f"{plural(sum(annotators.values()), 'annotation')}."
    ]
    if annotators:
        who.append(" Annotations per annotator: ")
        for index, (annotator, n) in enumerate(annotators.most_common(20)):
            who += [", " if index else "", Data(annotator), f" {n:,}"]
        who.append(".")
    skips = (
        f"Skips are not data: {plural(stats.skipped_annotations, 'skipped annotation')}, "
        f"{plural(stats.only_skipped_tasks, 'task')} every annotator skipped (left out"
        + (", also from the model-only rows" if stats.model_rows else "")
        + f"), {plural(stats.drafts, 'draft')} never submitted."
        + (
            ""
            if stats.ledger_found
            else " (No pull ledger was found next to the input: skip counts come from the records.)"
        )
    )
    return Section("annotators", "Annotators and skips", (Line(tuple(who)), Line((skips,))))


def _model(stats: ExportStats) -> Section:
    edits = ", ".join(f"{kind} {stats.edits[kind]:,}" for kind in EDIT_KINDS)
    said = (
        f"{plural(stats.rows_with_prediction, 'human row')} started from a model prediction; "
        f"{stats.rows_unchanged:,} of them were accepted unchanged. Their spans against the prediction, each "
        f"predicted span paired with at most one human span: {edits}. The `n_corrections` column counts spans added "
        "plus spans deleted by exact offsets and label, so a boundary fixed or a span relabelled counts as one of "
        f"each: {stats.corrections:,} in all."
    )
    return Section("model", "Model versus human", (Line((said,)),))


def _alignment(config: Config, stats: ExportStats) -> Section:
    lost = stats.lost
    are = "span is" if len(lost) == 1 else "spans are"
    said = (
        f"Spans are aligned to tokens with spaCy's `Doc.char_span`, in `{config.export.alignment}` mode, "
        f"falling back to `{config.export.alignment_fallback}`. Of {plural(stats.spans, 'span')}, "
        f"{stats.aligned_strict:,} {'lies' if stats.aligned_strict == 1 else 'lie'} on token boundaries and "
        f"{stats.aligned_non_strict:,} {'was' if stats.aligned_non_strict == 1 else 'were'} snapped to "
        "other boundaries. A round trip turns the tags back into spans and compares them with the pulled spans: "
        f"**{len(lost):,} {are} lost** (not given back exactly by the tags; the `spans` column keeps them "
        "as annotated)."
    )
    blocks: list[Block] = [Line((said,))]
    if lost:
        items = [Line((Data(item.line()),)) for item in lost[:CARD_LOSSES]]
        if len(lost) > CARD_LOSSES:
            items.append(Line((f"... and {len(lost) - CARD_LOSSES:,} more (see `loss_report.jsonl`)",)))
        blocks.append(Bullets(tuple(items)))
    return Section("alignment", "Alignment and loss report", tuple(blocks))


def _versions(manifest: dict[str, Any]) -> Section:
    versions = manifest["versions"]
    model = versions.get("model") or {}
    rows = (
        ("toolkit", versions["toolkit"]),
        ("tokenizer pipeline", f"{model.get('name', '?')} {model.get('version', '?')}"),
        ("spaCy", versions["spacy"]),
        ("datasets", versions["datasets"]),
        ("pyarrow", versions["pyarrow"]),
    )
    table = Table(
        "versions", None, ("component", "version"), tuple(Row(row) for row in rows), frozenset({"component", "version"})
    )
    source = manifest["input"]
    said = ("Input ", Data(source["file"]), f" sha256 `{source['sha256']}`; created {manifest['created_at']}.")
    return Section("versions", "Versions", (table, Line(said)))


def card_sections(config: Config, stats: ExportStats, manifest: dict[str, Any]) -> tuple[Section, ...]:
    """The card's prose: what the dataset holds, built from the export's counts."""
    return (
        *((_nothing_yet(),) if stats.articles == 0 else ()),
        _dataset(config, stats),
        _splits(config, stats),
        _labels(config, stats, manifest["tags"]),
        _annotators(stats),
        _model(stats),
        _alignment(config, stats),
        _versions(manifest),
    )


def dataset_card(
    *,
    config: Config,
    stats: ExportStats,
    manifest: dict[str, Any],
    extra_sections: list[tuple[str, str] | str] = (),  # type: ignore[assignment]
) -> str:
    """The README.md text: YAML metadata, then prose sections, then ``extra_sections``.

    An extra section is ``(title, markdown)``, or markdown that brings its own ``##``
    heading (e.g. ``toolkit.report.report_markdown(...)``), appended as it is.
    """
    from huggingface_hub import DatasetCard

    data = card_data(config, stats)
    parts = [markdown_sections(card_sections(config, stats, manifest), level=2)]
    parts += [
        item.strip() if isinstance(item, str) else f"## {item[0]}\n\n{item[1].strip()}" for item in extra_sections
    ]
    body = "\n\n".join(parts)
    content = f"---\n{data.to_yaml()}\n---\n\n# {config.export.name}\n\n{body}\n"
    # DatasetCard parses the YAML back: a card it cannot read fails here, not on the Hub.
    return str(DatasetCard(content))
