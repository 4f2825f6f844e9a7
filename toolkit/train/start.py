"""Where training starts: the base model's NER (its embeddings and hidden layer), or blank.

spaCy's ``[initialize]`` callbacks do the work, so the training itself stays spaCy's:

- ``before_init``: the project's labels are added to the new NER (also labels with no
  example in the train split), and with a base model its tokenizer and lexeme tables are
  taken over, so tokens get the features the base was trained on;
- ``after_init``: the base NER's weights are copied into the new one: the token-to-vector
  layers and the hidden layer whole; of the output layer, the rows of the actions whose
  label the base already predicts. Without the warm start only same-named labels keep
  their rows (what resuming a sourced NER does); with it, a project label also begins
  from the labels ``label_map`` maps to it (``PERSON -> PER``), the mean of their rows
  when several map to it. Every other row starts from spaCy's initialisation (zeros).

The callbacks read the start from :data:`_START`, set by ``toolkit.train.training`` around the
call to spaCy's ``init_nlp`` (a ``Language`` cannot travel through a config file).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language

BEFORE_INIT = "toolkit.train_before_init.v1"
AFTER_INIT = "toolkit.train_after_init.v1"

# The architecture of a NER trained from blank: en_core_web_sm 3.8's, so that blank and
# fine-tuned models differ only in where their weights start.
BLANK_NER_MODEL: dict[str, Any] = {
    "@architectures": "spacy.TransitionBasedParser.v2",
    "state_type": "ner",
    "extra_state_tokens": False,
    "hidden_width": 64,
    "maxout_pieces": 2,
    "use_upper": True,
    "nO": None,
    "tok2vec": {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {
            "@architectures": "spacy.MultiHashEmbed.v2",
            "width": 96,
            "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
            "rows": [5000, 1000, 2500, 2500],
            "include_static_vectors": False,
        },
        "encode": {
            "@architectures": "spacy.MaxoutWindowEncoder.v2",
            "width": 96,
            "depth": 4,
            "window_size": 1,
            "maxout_pieces": 3,
        },
    },
}


@dataclass
class Start:
    labels: list[str]
    base: Language | None = None  # None: blank
    base_ner: str | None = None  # the base's NER component
    # project label -> the base labels whose output rows it begins from
    sources: dict[str, list[str]] = field(default_factory=dict)
    copied_rows: int = 0  # output rows taken from the base (set by after_init)


_START: Start | None = None


def label_sources(labels: list[str], base_labels: list[str], label_map: dict[str, str], *, warm: bool) -> dict:
    """Per project label, the base labels it begins from: the same name always; with
    ``warm`` also every base label ``label_map`` maps to it."""
    sources: dict[str, list[str]] = {}
    for label in labels:
        found = [label] if label in base_labels else []
        if warm:
            found += [b for b in base_labels if b != label and label_map.get(b) == label]
        if found:
            sources[label] = found
    return sources


def ner_model_config(base: Language | None, ner_name: str | None) -> dict[str, Any]:
    """The NER architecture: the base's own (its weights must fit), else en_core_web_sm's."""
    if base is None or ner_name is None:
        return BLANK_NER_MODEL
    return dict(base.config["components"][ner_name]["model"])


def _before_init(nlp: Language) -> None:
    start = _current()
    if start.base is not None:
        # The tokenizer's bytes carry its vocab, word vectors included: a base whose NER reads
        # static vectors (en_core_web_md's) finds them in the new pipeline, which saves them.
        nlp.tokenizer.from_bytes(start.base.tokenizer.to_bytes())
        nlp.vocab.lookups = start.base.vocab.lookups
    ner = nlp.get_pipe("ner")
    for label in start.labels:
        ner.add_label(label)


def _after_init(nlp: Language) -> None:
    start = _current()
    if start.base is None:
        return
    source = start.base.get_pipe(start.base_ner).model
    target = nlp.get_pipe("ner").model
    for name in ("tok2vec", "lower"):
        target.get_ref(name).from_bytes(source.get_ref(name).to_bytes())
    base_moves = start.base.get_pipe(start.base_ner).moves
    moves = nlp.get_pipe("ner").moves
    base_index = {base_moves.get_class_name(i): i for i in range(base_moves.n_moves)}
    upper, base_upper = target.get_ref("upper"), source.get_ref("upper")
    weights, bias = upper.get_param("W").copy(), upper.get_param("b").copy()
    base_weights, base_bias = base_upper.get_param("W"), base_upper.get_param("b")
    copied = 0
    for row in range(moves.n_moves):
        name = moves.get_class_name(row)
        action, _, label = name.partition("-")
        rows = [base_index[name]] if not label and name in base_index else []
        if label:
            rows = [base_index[f"{action}-{b}"] for b in start.sources.get(label, []) if f"{action}-{b}" in base_index]
        if rows:
            weights[row] = base_weights[rows].mean(axis=0)
            bias[row] = base_bias[rows].mean()
            copied += 1
    upper.set_param("W", weights)
    upper.set_param("b", bias)
    start.copied_rows = copied


def _current() -> Start:
    if _START is None:
        raise RuntimeError("toolkit's training callbacks run only inside `toolkit train`")
    return _START


def register() -> None:
    """Register the callbacks in spaCy's registry (once; spaCy imported only here)."""
    from spacy.util import registry

    if BEFORE_INIT in registry.callbacks:
        return

    def before_init() -> Callable[[Language], None]:
        return _before_init

    def after_init() -> Callable[[Language], None]:
        return _after_init

    registry.callbacks.register(BEFORE_INIT, func=before_init)
    registry.callbacks.register(AFTER_INIT, func=after_init)
