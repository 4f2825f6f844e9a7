"""``toolkit evaluate``: models scored on an export split's human spans, and compared with each other.

``evaluate`` (``evaluation``) is the stage; it returns an ``EvaluateResult`` (``ModelScores``
per model, ``Comparison`` per pair); ``view`` draws it.
"""

from toolkit._lazy import lazy_exports

# Loaded on first use: importing the package (as each of its modules' imports does) loads nothing.
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "evaluation": ["Comparison", "EvaluateResult", "ModelScores", "evaluate"],
    },
)
