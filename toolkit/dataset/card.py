"""The dataset card (README.md) of an export version: Hub YAML metadata plus prose.

The YAML is built with huggingface_hub's ``DatasetCardData`` and datasets'
``DatasetInfosDict`` (features with the ClassLabel names, split sizes) plus a
``configs`` entry that points the Hub and ``load_dataset`` at ``data/*.parquet``. The
prose is built from the export's counts; the caller adds sections through
``extra_sections`` (the CLI: the annotation report's figures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.config import Config
from toolkit.dataset.schema import features
from toolkit.io.markdown import markdown_code, markdown_text
from toolkit.metrics.edits import EDIT_KINDS

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


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(markdown_text(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _prose(config: Config, stats: ExportStats, manifest: dict[str, Any]) -> list[tuple[str, str]]:
    splits = list(config.export.splits)
    name = config.export.name
    sections = []
    if stats.articles == 0:
        sections.append(
            (
                "Nothing is annotated yet",
                "This version has every column and split but no rows: no article in the pull it was "
                "exported from had a submitted annotation. `datasets.load_from_disk` reads it; `datasets.load_dataset` "
                "cannot yet (a version without rows has no parquet files). Annotate in Label Studio, then pull "
                "and export again.",
            )
        )
    sections.append(
        (
            "Dataset",
            f"Named entities in news articles: {stats.articles:,} articles "
            f"({stats.human_rows:,} corrected by humans in Label Studio"
            + (
                f", {stats.model_rows:,} with the model's predictions only, marked `source=model`"
                if stats.model_rows
                else ""
            )
            + "), pre-annotated by a spaCy pipeline and exported by the toolkit.\n\n"
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
            + (
                f" {stats.stale_decisions:,} adjudicated article{'s' if stats.stale_decisions != 1 else ''} "
                "changed by an annotator after the decision (`decision_stale`): worth adjudicating again."
                if stats.stale_decisions
                else ""
            )
            + "\n\n"
            "```python\nimport datasets\n"
            'dataset = datasets.load_dataset("parquet", data_files={"train": "data/train-*.parquet"})\n'
            'names = dataset["train"].features["ner_tags"].feature.names\n'
            '# or, from the export folder: datasets.load_from_disk("exports/' + name + '/vN")\n```\n\n'
            "Needs `datasets>=4` (the features are written as `List`).",
        )
    )
    shares = ", ".join(f"{split} {share:g}" for split, share in config.export.splits.items())
    sections.append(
        (
            "Splits",
            "Each article goes to a split by the SHA-256 of its id (the first 8 bytes as a fraction of 2^64, "
            f"cut at the cumulative shares: {shares}). An article never sits in two splits, and the split of "
            "an article does not change when articles are added.\n\n"
            + _table(
                ["split", "articles", "human", "model"],
                [
                    [
                        s,
                        f"{stats.rows_per_split.get(s, 0):,}",
                        f"{stats.source_per_split[s]['human']:,}",
                        f"{stats.source_per_split[s]['model']:,}",
                    ]
                    for s in splits
                ],
            ),
        )
    )
    labels_rows = [[label, *(f"{stats.labels_per_split[s][label]:,}" for s in splits)] for label in config.labels]
    labels_rows.append(["total", *(f"{sum(stats.labels_per_split[s].values()):,}" for s in splits)])
    sections.append(
        (
            "Labels",
            f"Tags: {', '.join(markdown_code(t) for t in manifest['tags'])}.\n\nEntities per split:\n\n"
            + _table(["label", *splits], labels_rows),
        )
    )
    annotators = stats.annotations_per_annotator
    sections.append(
        (
            "Annotators and skips",
            f"{len(annotators):,} annotators (anonymous ids) submitted {sum(annotators.values()):,} annotations. "
            + (
                "Annotations per annotator: "
                + ", ".join(f"{markdown_text(a)} {n:,}" for a, n in annotators.most_common(20))
                + ".\n\n"
                if annotators
                else "\n\n"
            )
            + f"Skips are not data: {stats.skipped_annotations:,} skipped annotations, "
            f"{stats.only_skipped_tasks:,} tasks every annotator skipped (left out"
            + (", also from the model-only rows" if stats.model_rows else "")
            + f"), {stats.drafts:,} drafts never submitted."
            + (
                ""
                if stats.ledger_found
                else " (No pull ledger was found next to the input: skip counts come from the records.)"
            ),
        )
    )
    edits = ", ".join(f"{kind} {stats.edits[kind]:,}" for kind in EDIT_KINDS)
    sections.append(
        (
            "Model versus human",
            f"{stats.rows_with_prediction:,} human rows started from a model prediction; {stats.rows_unchanged:,} of "
            f"them were accepted unchanged. Their spans against the prediction, each predicted span paired with at "
            f"most one human span: {edits}. The `n_corrections` column counts spans added plus spans deleted by "
            "exact offsets and label, so a boundary fixed or a span relabelled counts as one of each: "
            f"{stats.corrections:,} in all.",
        )
    )
    lost = stats.lost
    loss_lines = "\n".join(f"- {markdown_text(item.line())}" for item in lost[:CARD_LOSSES])
    more = f"\n- ... and {len(lost) - CARD_LOSSES:,} more (see `loss_report.jsonl`)" if len(lost) > CARD_LOSSES else ""
    sections.append(
        (
            "Alignment and loss report",
            f"Spans are aligned to tokens with spaCy's `Doc.char_span`, in `{config.export.alignment}` mode, "
            f"falling back to `{config.export.alignment_fallback}`. Of {stats.spans:,} spans, "
            f"{stats.aligned_strict:,} lie on token boundaries and {stats.aligned_non_strict:,} were snapped to "
            "other boundaries. A round trip turns the tags back into spans and compares them with the pulled spans: "
            f"**{len(lost):,} spans are lost** (not given back exactly by the tags; the `spans` column keeps them "
            "as annotated)." + (f"\n\n{loss_lines}{more}" if lost else ""),
        )
    )
    versions = manifest["versions"]
    model = versions.get("model") or {}
    sections.append(
        (
            "Versions",
            _table(
                ["component", "version"],
                [
                    ["toolkit", versions["toolkit"]],
                    ["tokenizer pipeline", f"{model.get('name', '?')} {model.get('version', '?')}"],
                    ["spaCy", versions["spacy"]],
                    ["datasets", versions["datasets"]],
                    ["pyarrow", versions["pyarrow"]],
                ],
            )
            + f"\n\nInput {markdown_text(manifest['input']['file'])} sha256 `{manifest['input']['sha256']}`; "
            f"created {manifest['created_at']}.",
        )
    )
    return sections


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
    parts = [f"## {title}\n\n{text.strip()}" for title, text in _prose(config, stats, manifest)]
    parts += [
        item.strip() if isinstance(item, str) else f"## {item[0]}\n\n{item[1].strip()}" for item in extra_sections
    ]
    body = "\n\n".join(parts)
    content = f"---\n{data.to_yaml()}\n---\n\n# {config.export.name}\n\n{body}\n"
    # DatasetCard parses the YAML back: a card it cannot read fails here, not on the Hub.
    return str(DatasetCard(content))
