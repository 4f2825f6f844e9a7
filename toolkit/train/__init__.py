"""``toolkit train``: a spaCy NER trained on an export's corrections, through spaCy's own training loop.

``train`` (``training``) is the stage; it returns a ``TrainResult`` (``result``), which
``view`` turns into what ``toolkit train`` prints and the TRAINING.md beside the model.
"""

from toolkit._lazy import lazy_exports

# Loaded on first use: importing the package (as each of its modules' imports does) loads nothing.
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "result": ["TrainResult"],
        "training": ["train"],
    },
)
