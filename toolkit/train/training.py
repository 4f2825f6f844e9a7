"""Train spaCy NER on an export: the train split, early stopping on validation, the best checkpoint kept.

``train`` checks the export (labels, rows per split) and the output before any work,
writes the export's human rows into ``train.spacy`` / ``dev.spacy`` and a generated
``config.cfg`` in a hidden work folder next to the output, and runs spaCy's own training
(``spacy.training.initialize.init_nlp`` and ``spacy.training.loop.train``: the same
batching, optimizer, evaluation and ``patience`` as ``spacy train``). spaCy keeps the best
checkpoint as ``model-best``; that folder gets the toolkit's ``meta.json`` section and a
``TRAINING.md`` and is renamed to the output only then, so an interrupted or killed
training never leaves a half-written model there.

The output is locked for the whole run (:func:`toolkit.io.locks.output_lock`): a second
training on the same folder is refused at once. Only a model's own files are replaced:
what else a user put in the folder (notes, an evaluation page) is carried into the new
one; a folder that holds anything but a model of ours is refused. A symlinked output
stays a link: the folder it points to is the one written.

Validation is scored ``train.evals_per_epoch`` times an epoch and ``train.patience`` counts
epochs (the generated config: :mod:`toolkit.train.generated_config`). The model version
ends in a hash of the weights: two trainings that differ never share it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit import __version__
from toolkit.config import Config
from toolkit.errors import InputError, ModelError, OutputError, Remedy
from toolkit.io.atomic import pid_alive
from toolkit.io.exports import ExportVersion, open_export
from toolkit.io.hashing import sha256_file
from toolkit.io.locks import output_lock
from toolkit.nlp.calibration import DECISIONS_FILE, HISTORY_DIR
from toolkit.nlp.calibration import FILE_NAME as CALIBRATION_FILE
from toolkit.nlp.pipeline import TRAINED_KEY, load_model, with_model
from toolkit.nlp.seen import ARTICLES_FILE, META_KEY, SPLITS, write_training_articles
from toolkit.progress import OnProgress, emit
from toolkit.records import ModelInfo
from toolkit.render import count, number, plural
from toolkit.render.markdown import markdown_document
from toolkit.train import start as starts
from toolkit.train import view
from toolkit.train.generated_config import LOGGER, epoch_batches, spacy_config
from toolkit.train.result import EvalPoint, TrainResult

if TYPE_CHECKING:
    from spacy.language import Language

PHASE = "training"
WORK_PREFIX = ".tmp-train-"
TRAINING_MD = "TRAINING.md"
# Files that describe a model rather than being it: left out of the weights' hash.
# The calibration files change after training (each pull refits them): never a part of the version.
CALIBRATION_FILES = {CALIBRATION_FILE, DECISIONS_FILE, HISTORY_DIR}
NOT_WEIGHTS = {"meta.json", "config.cfg", TRAINING_MD, ARTICLES_FILE, *CALIBRATION_FILES}
# What `nlp.to_disk` writes besides one entry per component, and what train adds (the
# articles it saw, the calibration: replaced with the model, never carried over as a user's file).
MODEL_FILES = {"meta.json", "config.cfg", "tokenizer", "vocab", TRAINING_MD, ARTICLES_FILE, *CALIBRATION_FILES}
# Fewer human-annotated articles than these and train refuses: a model from a handful of
# articles, validated on one, says nothing (the README and docs/train.md state them).
MIN_TRAIN_ROWS = 10
MIN_VALIDATION_ROWS = 2


# -- the checks done before any work ------------------------------------------------------


def is_our_model(path: Path) -> bool:
    import json

    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(meta, dict) and isinstance(meta.get(TRAINED_KEY), dict)


def model_entries(folder: Path) -> set[str]:
    """The names in a model folder that are the model (its meta.json names its components)."""
    import json

    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return set(MODEL_FILES)
    names = set(MODEL_FILES)
    for key in ("pipeline", "components", "disabled"):
        names.update(name for name in meta.get(key) or [] if isinstance(name, str))
    return names


def check_output(out: Path) -> tuple[bool, list[str]]:
    """Whether ``out`` holds a model of ours (to be replaced), and the names of the other
    files in it (kept); raises when it holds something that is not a model of ours."""
    if not out.exists():
        return False, []
    if not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder", hint=Remedy("choose another model folder", "out"))
    names = sorted(path.name for path in out.iterdir())
    if not names:
        return False, []
    if is_our_model(out):
        ours = model_entries(out)
        return True, [name for name in names if name not in ours]
    shown = ", ".join(names[:5]) + (f" and {count(len(names) - 5)} more" if len(names) > 5 else "")
    raise OutputError(
        f"{out}: holds something that is not a model `toolkit train` wrote ({shown}); nothing there is replaced",
        hint=(Remedy("choose another model folder, a new or empty one", "out"), ", or move those files away"),
    )


def model_folder(out: Path) -> Path:
    """Where the model is written: ``out``, or the folder a symlinked ``out`` points to (the
    link stays a link)."""
    return Path(os.path.realpath(out)) if out.is_symlink() else out


def check_export(version: ExportVersion, config: Config) -> tuple[int, int]:
    """The human rows of the train and validation splits; raises when training cannot use them."""
    if version.labels != list(config.labels):
        raise InputError(
            f"{version.path}: exported with the labels {', '.join(version.labels) or 'none'}, "
            f"the config's labels are {', '.join(config.labels)}",
            hint="train with the config the export was made with, or export again with this one",
        )
    for split in ("train", "validation"):
        if split not in version.splits:
            raise InputError(f"{version.path}: has no {split!r} split; training needs train and validation")
    train_rows, validation_rows = version.human_rows("train"), version.human_rows("validation")
    if train_rows == 0:
        raise InputError(
            f"{version.path}: the train split has no human-annotated rows; nothing to train on",
            hint="annotate articles in Label Studio, then `toolkit pull` and `toolkit export` again",
        )
    if validation_rows == 0:
        share = config.export.splits.get("validation", 0)
        raise InputError(
            f"{version.path}: the validation split has no human-annotated rows; early stopping needs some",
            hint=f"articles go to validation by a hash of their id (export.splits validation: {share:g}): annotate "
            "more articles, or raise that share, then pull and export again",
        )
    for split, rows, least in (
        ("train", train_rows, MIN_TRAIN_ROWS),
        ("validation", validation_rows, MIN_VALIDATION_ROWS),
    ):
        if rows < least:
            share = config.export.splits.get(split, 0)
            about = (
                f" (about {math.ceil(least / share)} annotated articles in all at its share {share:g})" if share else ""
            )
            raise InputError(
                f"{version.path}: the {split} split has only {plural(rows, 'human-annotated article')}; "
                f"training needs at least {least}",
                hint=f"annotate more articles{about}, then `toolkit pull` and `toolkit export` again",
            )
    return train_rows, validation_rows


def _resolve_base(spec: str, config: Config) -> tuple[Language | None, ModelInfo | None, str | None]:
    """The base pipeline (None for blank), its name and version, and its NER component's name."""
    if spec == "blank":
        return None, None, None
    # A slip of a keyword gets it suggested; evaluate's `base` is this command's `model`.
    near = {"model": "model", "blank": "blank", "base": "model"}
    nlp, info = load_model(config if spec == "model" else with_model(config, spec, near=near))
    ner = [name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory in {"ner", "beam_ner"}]
    if not ner:
        where = "[spacy.model]" if spec == "model" else "--base"
        raise ModelError(f"{where} {info.name} has no NER to fine-tune (pipeline: {', '.join(nlp.pipe_names)})")
    return nlp, info, ner[0]


# -- the work folder ---------------------------------------------------------------------


def remove_stale_work(parent: Path) -> None:
    """Remove the work folders of trainings that are gone (killed) from ``parent``."""
    for stale in parent.glob(f"{WORK_PREFIX}*"):
        pid = stale.name[len(WORK_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            # A link (an earlier version renamed a symlinked --out away) is removed, not followed.
            if stale.is_symlink() or not stale.is_dir():
                with contextlib.suppress(OSError):  # best effort, as rmtree below
                    stale.unlink(missing_ok=True)
            else:
                shutil.rmtree(stale, ignore_errors=True)


def _new_work_folder(out: Path) -> Path:
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_work(parent)
        work = parent / f"{WORK_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        work.mkdir()
    except OSError as error:
        raise OutputError(f"{parent}: cannot write ({error.strerror})") from None
    return work


def _write_docbin(docs: list, path: Path) -> int:
    from spacy.tokens import DocBin

    DocBin(docs=docs, attrs=["ENT_IOB", "ENT_TYPE"]).to_disk(path)
    return sum(len(doc) for doc in docs)


# -- progress through spaCy's logger slot ---------------------------------------------------

_LOG: dict[str, Any] = {}


def _register_logger() -> None:
    from spacy.util import registry

    if LOGGER in registry.loggers:
        return

    def progress_logger() -> Any:
        def setup(_nlp: Any, _stdout: Any = None, _stderr: Any = None) -> Any:
            def log_step(info: dict[str, Any] | None) -> None:
                if info is not None:
                    _LOG["step"](info)

            return log_step, lambda: None

        return setup

    registry.loggers.register(LOGGER, func=progress_logger)


class _Curve:
    """Turns spaCy's per-evaluation ``info`` into curve points and progress events."""

    def __init__(self, on_progress: OnProgress | None, epochs: int, evals_per_epoch: int = 1) -> None:
        self.on_progress, self.epochs, self.evals_per_epoch = on_progress, epochs, evals_per_epoch
        self.points: list[EvalPoint] = []
        self.started = time.perf_counter()
        self.best_f1 = -1.0
        self.shown = 0  # epochs counted on the progress bar (several validations may fall in one)

    def __call__(self, info: dict[str, Any]) -> None:
        f1 = float(info.get("other_scores", {}).get("ents_f") or 0.0)
        loss = float(sum((info.get("losses") or {}).values()))
        best = f1 > self.best_f1
        self.best_f1 = max(self.best_f1, f1)
        elapsed = time.perf_counter() - self.started
        epoch = int(info["epoch"])
        self.points.append(EvalPoint(epoch, int(info["step"]), loss, f1, elapsed, best))
        # Validation runs every `eval_frequency` batches, a share of the first epoch's
        # batches: about `evals_per_epoch` times an epoch (a shuffled epoch batches a little
        # differently). The bar counts epochs, so it advances only when one more is reached.
        done = min(epoch + 1, self.epochs)
        left = elapsed / len(self.points) * self.evals_per_epoch * max(self.epochs - done, 0)
        best_point = max(self.points, key=lambda point: (point.f1, -point.step))
        note = (
            f"Training: epoch {done}/{self.epochs}, loss {number(loss, 1)}, validation F1 {number(f1)}, "
            f"best {number(best_point.f1)} (epoch {best_point.epoch + 1}), at most {_duration(left)} left"
        )
        emit(self.on_progress, PHASE, done - self.shown, total=self.epochs, note=note)
        self.shown = done


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds + 0.5), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


# -- the training ------------------------------------------------------------------------


def train(
    export: Path,
    *,
    config: Config,
    out: Path,
    base: str | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    warm_start: bool | None = None,
    on_progress: OnProgress | None = None,
) -> TrainResult:
    """Train on ``export``'s train split and write the best checkpoint to ``out``.

    ``base``: ``model`` (the configured pipeline), ``blank`` or a pipeline path; the
    others default to ``train.*`` of the config. Raises InputError (the export),
    ModelError (the base), OutputError (``out`` holds something else, or another training
    writes it: OutputLockedError) before any work.
    """
    version = open_export(export)
    rows = check_export(version, config)
    folder = model_folder(out)
    # Held until the model is in place: a second training on this folder is refused at once.
    with output_lock(folder, what="model folder"):
        return _train_locked(
            version, rows, config=config, out=out, folder=folder, base=base, epochs=epochs, seed=seed,
            warm_start=warm_start, on_progress=on_progress,
        )  # fmt: skip


def _train_locked(
    version: ExportVersion,
    rows: tuple[int, int],
    *,
    config: Config,
    out: Path,
    folder: Path,
    base: str | None,
    epochs: int | None,
    seed: int | None,
    warm_start: bool | None,
    on_progress: OnProgress | None,
) -> TrainResult:
    import spacy
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as spacy_train
    from spacy.vocab import Vocab

    base = base or config.train.base
    epochs = epochs or config.train.max_epochs
    seed = config.train.seed if seed is None else seed
    warm = config.train.warm_start if warm_start is None else warm_start
    train_rows, validation_rows = rows
    replaced, kept = check_output(folder)
    if folder != out:  # a symlinked --out: an earlier version left its leftovers beside the link
        remove_stale_work(out.parent)
    base_nlp, base_info, base_ner = _resolve_base(base, config)
    lang = base_nlp.lang if base_nlp is not None else config.export.language
    base_labels = list(base_nlp.get_pipe(base_ner).labels) if base_nlp is not None else []
    sources = starts.label_sources(list(config.labels), base_labels, dict(config.label_map), warm=warm)
    start_name = "blank" if base_nlp is None else ("warm start" if warm else "same-name rows")

    work = _new_work_folder(folder)
    try:
        vocab = Vocab()
        train_docs = version.read_docs("train", vocab)
        dev_docs = version.read_docs("validation", vocab)
        words = _write_docbin(train_docs, work / "train.spacy")
        _write_docbin(dev_docs, work / "dev.spacy")
        validation_spans = sum(len(doc.ents) for doc in dev_docs)
        eval_every = epoch_batches(train_docs, config)
        cfg = spacy_config(
            lang=lang,
            labels=list(config.labels),
            ner_model=starts.ner_model_config(base_nlp, base_ner),
            config=config,
            epochs=epochs,
            seed=seed,
            eval_every=eval_every,
        )
        cfg["paths"]["train"] = str(work / "train.spacy")
        cfg["paths"]["dev"] = str(work / "dev.spacy")
        cfg.to_disk(work / "config.cfg")
        starts.register()
        _register_logger()
        curve = _Curve(on_progress, epochs, config.train.evals_per_epoch)
        starts._START = starts.Start(labels=list(config.labels), base=base_nlp, base_ner=base_ner, sources=sources)
        _LOG["step"] = curve
        emit(on_progress, PHASE, 0, total=epochs, note=f"Training: preparing {plural(train_rows, 'article')}")
        began = time.perf_counter()
        try:
            nlp = init_nlp(spacy.util.load_config(work / "config.cfg", interpolate=False))
            copied = starts._START.copied_rows
            (work / "output").mkdir()
            spacy_train(nlp, work / "output", use_gpu=-1, stdout=io.StringIO(), stderr=io.StringIO())
        finally:
            starts._START = None
            _LOG.pop("step", None)
        seconds = time.perf_counter() - began
        best_dir = work / "output" / "model-best"
        result = TrainResult(
            out=out,
            model=ModelInfo(name="", version=""),
            base=base_info,
            start=start_name,
            export=version,
            train_rows=train_rows,
            validation_rows=validation_rows,
            words=words,
            seed=seed,
            curve=curve.points,
            copied_rows=copied,
            seconds=seconds,
            replaced=replaced,
            kept=kept,
            validation_spans=validation_spans,
        )
        # Ids and texts of what it trained and validated on: evaluate leaves those out.
        seen = {split: [(row.id, row.text) for row in version.gold_rows(split)] for split in SPLITS}
        record = write_training_articles(best_dir, seen)
        _finish_model(best_dir, result, config=config, sources=sources, settings=cfg, articles=record)
        result.calibration_id = _calibrate(best_dir, config, train_docs, dev_docs)
        _move_into_place(best_dir, folder, keep=kept)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _calibrate(folder: Path, config: Config, train_docs: list, dev_docs: list) -> str | None:
    """Fit the span-score calibration on the validation split (human decisions the model did not
    train on) and save it beside the model; its id, or None when the split cannot teach one
    (scores off, or every predicted span right or every one wrong: the raw beam scores stay).
    The decisions and the lexicon are kept beside it: each pull refits on them and the pulled ones."""
    if not config.spacy.scores:
        return None
    from toolkit.nlp import calibration
    from toolkit.nlp.pipeline import load_pipeline

    model_config = with_model(config, folder)
    pipeline = load_pipeline(model_config, scores=True)
    lexicon = calibration.Lexicon.from_articles(
        (doc.text, [(e.start_char, e.end_char, e.label_) for e in doc.ents]) for doc in train_docs
    )
    spans: list = []
    candidates: list = []
    texts = [doc.text for doc in dev_docs]
    for doc, gold_doc in zip(pipeline.nlp.pipe(texts, batch_size=config.spacy.batch_size), dev_docs):
        gold = {(e.start_char, e.end_char, e.label_) for e in gold_doc.ents}
        found, left_out = calibration.doc_decisions(doc, model_config, gold)
        spans += found
        candidates += left_out
    calibration.save_decisions(calibration.Decisions(lexicon, (spans, candidates)), folder)
    fitted = calibration.fit(list(config.labels), lexicon, spans, candidates)
    if fitted is None:
        return None
    calibration.save(fitted, folder)
    return fitted.calibration_id


def weights_hash(folder: Path) -> str:
    """SHA-256 over the model's files (names and contents), the descriptive ones left out."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.relative_to(folder).parts[0] not in NOT_WEIGHTS:
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + sha256_file(path).encode())
    return digest.hexdigest()


def model_name(config: Config) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", config.export.name).strip("_").lower() or "ner"


def _finish_model(
    folder: Path, result: TrainResult, *, config: Config, sources: dict, settings: Any, articles: dict[str, Any]
) -> None:
    """The toolkit's meta section (``articles``: the pointer to the record of the articles it
    saw, ``toolkit.nlp.seen``), the model version, a clean config.cfg and TRAINING.md."""
    import json

    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    performance = meta.get("performance") or {}
    result.scores = {
        "f1": performance.get("ents_f"),
        "precision": performance.get("ents_p"),
        "recall": performance.get("ents_r"),
        "per_label": performance.get("ents_per_type") or {},
    }
    # A model trained from one of ours keeps its base's release, not its hash: 3.8.0+<new hash>.
    base_version = result.base.version.split("+", 1)[0] if result.base else "0.0.0"
    version = f"{base_version}+{weights_hash(folder)[:12]}"
    meta.update(
        {
            "name": model_name(config),
            "version": version,
            "description": f"NER for {', '.join(config.labels)}, trained by toolkit train on {result.export.path}",
            "labels": {"ner": list(config.labels)},
        }
    )
    result.settings = {
        "max_epochs": settings["training"]["max_epochs"],
        "patience_epochs": config.train.patience,
        "dropout": config.train.dropout,
        "learning_rate": config.train.learning_rate,
        "batch_words": config.train.batch_words,
        "batch_start": config.train.batch_start,
        "warmup_steps": config.train.warmup_steps,
        "average_weights": config.train.average_weights,
        "evals_per_epoch": config.train.evals_per_epoch,
        "warm_start": result.start == "warm start",
    }
    best = result.best
    meta[TRAINED_KEY] = {
        "labels": list(config.labels),
        "base": {"name": result.base.name, "version": result.base.version} if result.base else None,
        "start": result.start,
        "label_sources": sources,
        "training_data": {
            "export": str(result.export.path),
            "name": result.export.name,
            "version": result.export.version,
            "manifest_sha256": result.export.manifest_sha256,
            "train_rows": result.train_rows,
            "validation_rows": result.validation_rows,
            "train_words": result.words,
        },
        META_KEY: articles,
        "seed": result.seed,
        "settings": result.settings,
        "validation": result.scores,
        "best_epoch": best.epoch + 1 if best else None,
        "epochs_run": result.epochs_run,
        "validations": len(result.curve),
        "curve": [
            {"epoch": p.epoch + 1, "step": p.step, "loss": round(p.loss, 4), "f1": round(p.f1, 4)} for p in result.curve
        ],
        "toolkit_version": __version__,
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    # The saved config without the work folder's paths and the toolkit's hooks: `spacy train`
    # and `spacy.load` read it without the toolkit.
    saved = settings.copy()
    saved["paths"]["train"] = None
    saved["paths"]["dev"] = None
    saved["initialize"]["before_init"] = None
    saved["initialize"]["after_init"] = None
    saved["training"]["logger"] = {"@loggers": "spacy.ConsoleLogger.v1", "progress_bar": False}
    saved.to_disk(folder / "config.cfg")
    result.model = ModelInfo(name=f"{meta['lang']}_{meta['name']}", version=version)
    (folder / TRAINING_MD).write_text(markdown_document(view.training_file(result)), encoding="utf-8")


def _move_into_place(folder: Path, out: Path, *, keep: list[str]) -> None:
    """Rename the finished model to ``out``; an earlier model of ours there is replaced, the
    files ``keep`` (a user's, beside that model) carried into the new folder first."""
    clash = sorted(name for name in keep if (folder / name).exists() or (folder / name).is_symlink())
    if clash:
        raise OutputError(
            f"{out}: {', '.join(clash)} beside the model would be overwritten by the new model's own files; "
            "nothing was replaced",
            hint="move those files out of the model folder, then train again",
        )
    try:
        for name in keep:
            _carry(out / name, folder / name)
    except OSError as error:
        raise OutputError(f"{out}: cannot carry {name} into the new model folder ({error.strerror})") from None
    old = None
    if out.exists():
        old = out.parent / f"{WORK_PREFIX}{os.getpid()}-old-{secrets.token_hex(4)}"
        out.rename(old)
    try:
        folder.rename(out)
    except OSError as error:
        if old is not None:
            old.rename(out)
        raise OutputError(f"{out}: cannot write ({error.strerror})") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _carry(source: Path, target: Path) -> None:
    """``source`` at ``target`` too: hard links (no copy of the data; the original stays until
    the old folder goes), a copy where the file system has none; links stay links."""
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    elif source.is_dir():
        shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(source, target)


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
