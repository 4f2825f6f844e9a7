"""The project config: one YAML file, validated with pydantic.

Unknown keys and bad values are reported as ``[where] what`` lines, all at once, so a
user fixes the whole file in one pass (the style of weasel's ``validate``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from toolkit.errors import ConfigError, validation_errors

# The default pipeline: en_core_web_md (en_core_web_sm is the light choice). Where the
# official package is not installed, its pinned PyPI re-upload is loaded by path after a
# check of its meta.json (toolkit/nlp/models.py): the official packages are on GitHub only.
DEFAULT_MODEL = "en_core_web_md"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverlapConfig(_Strict):
    """How many annotators the labeling stream serves a task to, and for which share of the tasks."""

    annotators: int = Field(
        ge=1, le=20, title="Annotators the stream serves each overlapping task to (Label Studio's maximum_annotations)"
    )
    share: float = Field(
        default=1.0,
        gt=0,
        le=1,
        title="Share of the tasks that overlap, 0-1 (1.0: every task; Label Studio's overlap_cohort_percentage)",
    )

    @property
    def percentage(self) -> int:
        """Label Studio's ``overlap_cohort_percentage`` (a whole number; at least 1 for any share above 0)."""
        return max(1, round(self.share * 100))


class ProjectConfig(_Strict):
    title: str = Field(min_length=1, title="Exact title of the Label Studio project")
    id: int | None = Field(default=None, ge=1, title="Label Studio project id; wins over the title")
    description: str = Field(default="", title="Project description shown in Label Studio")
    instructions: str = Field(default="", title="Instructions shown to annotators")
    # Left out: push leaves the project's overlap settings as they are (Label Studio's default:
    # one annotation per task, so the stream never serves a task to a second annotator).
    overlap: OverlapConfig | None = Field(
        default=None,
        title="Serve a share of the tasks to several annotators ({annotators: 2, share: 0.2}); set by every push",
    )


class SpacyConfig(_Strict):
    model: str = Field(default=DEFAULT_MODEL, min_length=1, title="Pipeline package name or path")
    fallback_models: dict[str, list[str]] = Field(
        default_factory=dict,
        title="Your own copies of a pipeline by its name ({my_pipeline: [my_pipeline_copy]}): tried in order "
        "when `model` is that name and is not installed (the re-uploads of en_core_web_md and _sm are built in)",
    )
    version: str | None = Field(default=None, title="Expected pipeline version; loading fails on a mismatch")
    batch_size: int = Field(default=64, ge=1, title="Texts per nlp.pipe batch")
    # --- pre-annotation at scale ---
    n_process: int = Field(default=1, ge=1, title="Worker processes for nlp.pipe")
    scores: bool = Field(default=True, title="Per-span confidences and a task score from beam search over the NER")
    beam_width: int = Field(default=8, ge=2, le=64, title="Parses kept by the beam that computes the scores")
    patterns: str | None = Field(default=None, title="EntityRuler patterns file (JSONL), merged with the model")
    patterns_win: bool = Field(
        default=True, title="On overlap, a pattern match replaces the model's entity (false: the model's wins)"
    )
    backend: Literal["local", "ray"] = Field(
        default="local", title="Where pre-annotation runs: local (this machine) or ray (a Ray cluster; see `ray`)"
    )

    @field_validator("fallback_models", mode="before")
    @classmethod
    def _fallbacks_name_their_original(cls, value: object) -> object:
        # The old form, a plain list, stood in for any spacy.model, a misspelt one included.
        if isinstance(value, list):
            if not value:
                return {}
            copies = ", ".join(map(str, value))
            raise ValueError(
                f"give the pipeline the fallbacks are copies of, e.g. {{my_pipeline: [{copies}]}}: "
                "a fallback stands in for that name only"
            )
        return value


class InputFields(_Strict):
    """Where the article's parts are in a structured record (JSON, JSONL, CSV, Parquet, HF dataset).

    A dotted name reaches into nested objects: ``attrs.newid``.
    """

    text: str = Field(default="text", min_length=1, title="Field holding the article text (required)")
    id: str | None = Field(default="id", title="Field holding the article id (else a hash of the text)")
    title: str | None = Field(default="title", title="Field holding the headline")
    date: str | None = Field(default="date", title="Field holding the date")


class InputConfig(_Strict):
    """How `toolkit preannotate` reads its inputs."""

    txt_format: Literal["seed", "headline"] = Field(
        default="seed",
        title="`.txt` first line: seed = optional `date YYYY-MM-DD` prefix; headline = the title",
    )
    fields: InputFields = Field(default_factory=InputFields)
    date_formats: list[str] = Field(
        default_factory=lambda: ["%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%d %B %Y", "%B %d, %Y", "%d/%m/%Y"],
        title="strptime formats tried after ISO 8601 when normalising dates",
    )
    max_chars: int = Field(default=1_000_000, ge=1, title="Longest article accepted, in characters")
    on_error: Literal["fail", "skip"] = Field(default="fail", title="Bad input: stop before writing, or skip and count")


class PushConfig(_Strict):
    batch_size: int = Field(default=500, ge=1, le=10_000, title="Tasks per import request")
    # Label Studio refuses request bodies over its DATA_UPLOAD_MAX_MEMORY_SIZE (250 MB
    # by default); batches are also cut by size so long articles never reach that.
    max_request_mb: float = Field(default=50, gt=0, le=1000, title="Largest import request body, in MB")
    # A control added in Label Studio (e.g. a Choices) is not in the generated config;
    # replacing the config would drop it, and its annotations with it from the UI.
    replace_labeling_config: bool = Field(
        default=False, title="Replace a labeling config edited in Label Studio, dropping controls push did not create"
    )
    # What "Label All Tasks" serves next: the lowest task score first (Label Studio's
    # uncertainty sampling), the task order, or at random. Set on the project at each push.
    order: Literal["uncertainty", "sequential", "random"] = Field(
        default="uncertainty", title="Labeling stream order: lowest task score first, task order, or random"
    )
    # MinHash estimate of the Jaccard similarity of word 4-gram sets above which two
    # articles are one near-duplicate group; null turns grouping off.
    near_duplicates: float | None = Field(
        default=0.7, ge=0.5, le=1.0, title="Similarity (Jaccard of word 4-grams) from which articles are one group"
    )


class ExportConfig(_Strict):
    name: str = Field(default="news-ner", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", title="Dataset name")
    language: str = Field(default="en", title="Language code written into the dataset card")
    license: str = Field(default="other", title="License written into the dataset card")
    splits: dict[str, float] = Field(
        default_factory=lambda: {"train": 0.8, "validation": 0.1, "test": 0.1},
        title="Split name -> share of articles, assigned by a hash of the article id",
    )
    alignment: Literal["strict", "contract", "expand"] = Field(
        default="strict", title="Doc.char_span alignment mode tried first for each span"
    )
    alignment_fallback: Literal["expand", "contract", "none"] = Field(
        default="expand",
        title="Doc.char_span mode tried when the first gives no span (counted); none: the span is lost",
    )

    @field_validator("splits")
    @classmethod
    def _splits_sum_to_one(cls, splits: dict[str, float]) -> dict[str, float]:
        if not splits:
            raise ValueError("needs at least one split")
        for name, share in splits.items():
            if not name.isidentifier():
                raise ValueError(f"split name {name!r} must be a plain identifier such as 'train'")
            if not 0 < share <= 1:
                raise ValueError(f"share of split {name!r} must be in (0, 1], got {share}")
        if abs(sum(splits.values()) - 1.0) > 1e-6:
            raise ValueError(f"shares must add up to 1, they add up to {sum(splits.values()):g}")
        return splits


class PullConfig(_Strict):
    policy: Literal["ground_truth", "latest", "majority", "all"] = Field(
        default="latest",
        title="Which annotation(s) of a task become the record: ground_truth (else latest), latest, "
        "majority (span-level vote, ties to the newest) or all (one record per annotator)",
    )
    overlaps: Literal["keep", "longest", "drop"] = Field(
        default="keep",
        title="Overlapping spans in one answer: keep them (counted), keep the longest, or drop them all",
    )
    unknown_labels: Literal["drop", "fail"] = Field(
        default="drop", title="A span whose label is not in `labels`: drop it (ledger) or stop the pull"
    )
    reanchor_window: int = Field(
        default=40,
        ge=0,
        le=10_000,
        title="Characters either side of a span searched for its value.text when the offsets do not match",
    )
    state_dir: Path = Field(
        default=Path(".toolkit/pulls"), title="Raw pulls, manifests and the incremental-pull watermark (git-ignored)"
    )
    secret_file: Path = Field(
        default=Path(".toolkit/annotator-secret"),
        title="Per-install secret for anonymous annotator ids (created on first pull; "
        "TOOLKIT_ANNOTATOR_SECRET overrides it)",
    )
    export: Literal["direct", "snapshot"] = Field(
        default="direct",
        title="direct: the project's export endpoint (as fast as Label Studio's own export); snapshot: an export "
        "snapshot with all predictions expanded, deleted after the download (slower)",
    )
    timeout: float = Field(default=1800, gt=0, title="Seconds to wait for the export of a large project")
    retries: int = Field(default=3, ge=0, le=10, title="Extra attempts when the export download fails")
    keep_raw: bool = Field(default=True, title="Keep each raw pull, gzip-compressed, with a manifest")


class ReportConfig(_Strict):
    # An annotator is flagged when all three hold: they may be accepting the model's
    # spans without reading the article.
    accept_share: float = Field(
        default=0.95, ge=0, le=1, title="Flag annotators who accept at least this share of predicted spans unchanged"
    )
    fast_lead_time: float = Field(
        default=10.0, ge=0, title="... with a median lead time per task of at most this many seconds"
    )
    min_tasks: int = Field(default=5, ge=1, title="... over at least this many tasks")
    examples: int = Field(default=3, ge=0, le=100, title="Examples shown per edit type")


def _check_label_name(label: str) -> None:
    # A label is one token of the tags (B-LABEL) in CoNLL's space-separated columns, and an
    # attribute value in the labeling config: whitespace or a control character would split
    # a column or a line, and <>"&' would need escaping in XML.
    if not label or any(c.isspace() or not c.isprintable() or c in "<>\"&'" for c in label):
        raise ValueError(f"label {label!r} must be a non-empty name without whitespace, control characters or <>\"&'")


class TrainConfig(_Strict):
    # `toolkit train`: spaCy's own training loop over the export's DocBin files.
    base: str = Field(
        default="model",
        min_length=1,
        title="Start from: `model` (the configured spacy.model's NER), `blank`, or a pipeline path or package",
    )
    # Measured on 4-label news (BENCHMARKS.md): faster at first, not better at the end.
    warm_start: bool = Field(
        default=False,
        title="Also begin a label's output weights from the base labels label_map maps to it (PERSON -> PER)",
    )
    max_epochs: int = Field(default=30, ge=1, title="Most passes over the train split")
    # Defaults measured on 200 articles of 4-label news, 3 seeds (BENCHMARKS.md): growing
    # batches, dropout 0.2 and weight averaging beat fixed 1,000-word batches, dropout 0.1
    # and no averaging (patience 4): 0.786 against 0.780 micro F1, every seed above the old ones.
    patience: int = Field(default=3, ge=1, title="Stop after this many epochs without a better validation F1")
    dropout: float = Field(default=0.2, ge=0, lt=1, title="Dropout rate")
    learning_rate: float = Field(default=0.001, gt=0, title="Adam learning rate")
    batch_words: int = Field(default=1000, ge=10, title="Words per training batch (with batch_start: the last size)")
    batch_start: int | None = Field(
        default=100,
        ge=10,
        title="Words per batch at the first step, growing x1.001 a step to batch_words (spaCy's compounding.v1); "
        "none: every batch batch_words",
    )
    warmup_steps: int = Field(
        default=0,
        ge=0,
        title="Steps over which the learning rate rises from 0, then falls linearly to 0 at max_epochs "
        "(spaCy's warmup_linear.v1); 0: a constant rate",
    )
    average_weights: bool = Field(
        default=True, title="Keep a moving average of the weights and save that (Adam's use_averages)"
    )
    # 2 measured on 200 articles, 3 seeds (BENCHMARKS.md): 0.7885 against 0.7861 with 1, never
    # below it on a seed; the best checkpoint is picked from twice the validations.
    evals_per_epoch: int = Field(default=2, ge=1, le=20, title="Validations per epoch (patience still counts epochs)")
    seed: int = Field(default=0, ge=0, title="Random seed: the same export, base and seed give the same model")
    # The project's models (toolkit.io.models_registry): registry.json and a copy of each trained
    # model under versions/, so that a model stays usable after its --out folder is trained over.
    models_dir: str = Field(
        default="models",
        min_length=1,
        title="Folder of the model registry (registry.json: each trained model, its scores, the project's current "
        "one) and of the registered models' copies",
    )


class AdjudicateConfig(_Strict):
    title: str | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        title="Title of the review project in Label Studio (default: the project's title + ' (adjudication)')",
    )
    instructions: str = Field(default="", title="Instructions shown to the adjudicator, above how to adjudicate")
    prefill: Literal["agreed", "majority"] = Field(
        default="agreed",
        title="The review task's starting answer: the spans every annotator has (agreed) or the majority's",
    )


class RayConfig(_Strict):
    """Pre-annotation on a Ray cluster (`spacy.backend: ray`, the `ray` extra)."""

    address: str | None = Field(
        default=None,
        title="Cluster to join: `auto` or its GCS `HOST:PORT` (not `ray://`); none starts a local cluster for the run",
    )
    num_workers: int = Field(default=2, ge=1, le=10_000, title="Actors, each with one loaded pipeline")
    cpus_per_worker: float = Field(default=1.0, gt=0, title="CPUs Ray reserves for each actor")
    batch_size: int | None = Field(
        default=None, ge=1, title="Articles per batch sent to an actor (a batch re-runs when its actor dies)"
    )


class Config(_Strict):
    project: ProjectConfig
    labels: list[str] = Field(min_length=1, title="Entity labels, in the order used for ner_tags")
    label_map: dict[str, str] = Field(default_factory=dict, title="spaCy label -> project label")
    spacy: SpacyConfig = Field(default_factory=SpacyConfig)
    input: InputConfig = Field(default_factory=InputConfig)
    push: PushConfig = Field(default_factory=PushConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    pull: PullConfig = Field(default_factory=PullConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    adjudicate: AdjudicateConfig = Field(default_factory=AdjudicateConfig)
    ray: RayConfig = Field(default_factory=RayConfig)

    @field_validator("labels")
    @classmethod
    def _labels_are_names(cls, labels: list[str]) -> list[str]:
        seen: set[str] = set()
        for label in labels:
            _check_label_name(label)
            if label == "O" or label.startswith(("B-", "I-")):
                raise ValueError(f"label {label!r} clashes with the IOB2 tags; choose another name")
            if label in seen:
                raise ValueError(f"label {label!r} is listed twice")
            seen.add(label)
        return labels

    @field_validator("label_map")
    @classmethod
    def _label_map_targets_are_names(cls, label_map: dict[str, str]) -> dict[str, str]:
        for target in label_map.values():
            _check_label_name(target)
        return label_map

    @model_validator(mode="after")
    def _label_map_targets_are_labels(self) -> Config:
        unknown = sorted({target for target in self.label_map.values() if target not in self.labels})
        if unknown:
            raise ValueError(f"label_map maps to {', '.join(unknown)}, which is not in labels")
        return self

    def project_label(self, model_label: str) -> str | None:
        """The project label for a label the model predicts, or None when it is not kept."""
        mapped = self.label_map.get(model_label, model_label)
        return mapped if mapped in self.labels else None


def format_validation_errors(error: ValidationError) -> list[str]:
    """Turn pydantic's errors into ``[where] what`` lines."""
    lines = []
    for where, message, kind in validation_errors(error):
        if kind == "extra_forbidden":
            message = "unknown key (check the spelling, or see configs/news-ner.yaml for the keys)"
        lines.append(f"[{where or 'config'}] {message}")
    return lines


def parse_config(data: Any, *, source: str = "config") -> Config:
    """Validate a config already read into Python objects."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the config must be a YAML mapping, not {type(data).__name__}")
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{source}: invalid config", errors=format_validation_errors(error)) from None


def _config_hint(missing: Path) -> str:
    """Where the bundled config is, as it must be typed from here: a relative path named in
    the hint would fail again from another folder, as ``missing`` did."""
    bundled = Path(__file__).resolve().parent.parent / "configs" / "news-ner.yaml"
    if not bundled.is_file():  # installed without the repository: no bundled config to name
        return "pass --config PATH (a YAML config; the repository's configs/news-ner.yaml documents every key)"
    where = os.path.relpath(bundled)
    if where.startswith(os.pardir):
        where = str(bundled)
    if not missing.is_absolute() and Path(where) != missing:
        return f"{missing} is looked for in {Path.cwd()}; the bundled config is {where}: pass --config {where}"
    return f"the bundled config is {where}: pass --config {where}"


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found", hint=_config_hint(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the config ({error})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{where}: not valid YAML ({problem})") from None
    return parse_config(data, source=str(path))
