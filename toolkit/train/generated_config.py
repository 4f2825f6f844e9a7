"""The ``config.cfg`` of a training: spaCy's own config system, generated from ``train.*``.

One NER over spaCy's ``Corpus`` readers, Adam, batches by words; the start (base weights,
label-map warm start) comes in through the ``[initialize]`` callbacks of
:mod:`toolkit.train.start`, and progress through the logger registered as :data:`LOGGER`.
The file is saved with the model, so ``spacy train`` can repeat the training.
"""

from __future__ import annotations

from typing import Any

from toolkit.config import Config
from toolkit.train import start as starts

# The training's logger slot in the config: ``toolkit.train.training`` registers it.
LOGGER = "toolkit.train_progress.v1"


def batch_sizes(config: Config) -> Any:
    """The batcher's ``size``: ``train.batch_words``, or spaCy's compounding schedule from ``train.batch_start``."""
    train = config.train
    if train.batch_start is None:
        return train.batch_words
    return {"@schedules": "compounding.v1", "start": train.batch_start, "stop": train.batch_words, "compound": 1.001}


def epoch_batches(docs: list, config: Config) -> int:
    """The batches of the first epoch, as spaCy's batcher cuts them (the unit of validation and patience)."""
    from spacy.training.batchers import minibatch_by_words
    from thinc.api import registry

    # The same size schedule the generated config gives spaCy, resolved by spaCy's registry.
    size = registry.resolve({"size": batch_sizes(config)})["size"]
    return max(1, sum(1 for _ in minibatch_by_words(docs, size=size, tolerance=0.2)))


def learn_rate(config: Config, total_steps: int) -> Any:
    train = config.train
    if not train.warmup_steps:
        return train.learning_rate
    return {
        "@schedules": "warmup_linear.v1",
        "initial_rate": train.learning_rate,
        "warmup_steps": train.warmup_steps,
        "total_steps": max(total_steps, train.warmup_steps + 1),
    }


def spacy_config(
    *, lang: str, labels: list[str], ner_model: dict[str, Any], config: Config, epochs: int, seed: int, eval_every: int
) -> Any:
    """The ``config.cfg`` of the training: one NER, spaCy's Corpus readers, Adam, batch by words.

    ``eval_every`` is the batches of one epoch (:func:`epoch_batches`): validation runs
    ``train.evals_per_epoch`` times in that many steps, ``train.patience`` epochs are that
    many steps times the patience, and a warmup schedule decays to 0 at ``epochs`` of them.
    (With growing batches later epochs have fewer steps, so they are validated more often.)
    """
    from thinc.api import Config as ThincConfig

    train = config.train
    eval_frequency = max(1, round(eval_every / train.evals_per_epoch))
    return ThincConfig(
        {
            "paths": {"train": None, "dev": None, "vectors": None, "init_tok2vec": None},
            "system": {"gpu_allocator": None, "seed": seed},
            "nlp": {
                "lang": lang,
                "pipeline": ["ner"],
                "batch_size": 256,
                "disabled": [],
                "before_creation": None,
                "after_creation": None,
                "after_pipeline_creation": None,
                "tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"},
                "vectors": {"@vectors": "spacy.Vectors.v1"},
            },
            "components": {
                "ner": {
                    "factory": "ner",
                    "incorrect_spans_key": None,
                    "moves": None,
                    "scorer": {"@scorers": "spacy.ner_scorer.v1"},
                    "update_with_oracle_cut_size": 100,
                    "model": ner_model,
                }
            },
            "corpora": {
                name: {
                    "@readers": "spacy.Corpus.v1",
                    "path": f"${{paths.{name}}}",
                    "max_length": 0,
                    "gold_preproc": False,
                    "limit": 0,
                    "augmenter": None,
                }
                for name in ("train", "dev")
            },
            "training": {
                "dev_corpus": "corpora.dev",
                "train_corpus": "corpora.train",
                "seed": "${system.seed}",
                "gpu_allocator": "${system.gpu_allocator}",
                "dropout": train.dropout,
                "accumulate_gradient": 1,
                "patience": train.patience * eval_every,
                "max_epochs": epochs,
                "max_steps": 0,
                "eval_frequency": eval_frequency,
                "frozen_components": [],
                "annotating_components": [],
                "before_to_disk": None,
                "before_update": None,
                "batcher": {
                    "@batchers": "spacy.batch_by_words.v1",
                    "discard_oversize": False,
                    "tolerance": 0.2,
                    "get_length": None,
                    "size": batch_sizes(config),
                },
                "logger": {"@loggers": LOGGER},
                "optimizer": {
                    "@optimizers": "Adam.v1",
                    "beta1": 0.9,
                    "beta2": 0.999,
                    "L2_is_weight_decay": True,
                    "L2": 0.01,
                    "grad_clip": 1.0,
                    "use_averages": train.average_weights,
                    "eps": 1e-8,
                    "learn_rate": learn_rate(config, epochs * eval_every),
                },
                "score_weights": {"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
            },
            "pretraining": {},
            "initialize": {
                "vectors": None,
                "init_tok2vec": None,
                "vocab_data": None,
                "lookups": None,
                "before_init": {"@callbacks": starts.BEFORE_INIT},
                "after_init": {"@callbacks": starts.AFTER_INIT},
                "components": {},
                "tokenizer": {},
            },
        }
    )
