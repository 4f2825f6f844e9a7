"""Adjudicate: disagreements between annotators go to a review project in Label Studio, once each.

``adjudicate`` (``adjudication``) is the stage; it returns an ``AdjudicateResult``.
"""

from toolkit._lazy import lazy_exports

# Loaded on first use: importing the package (as each of its modules' imports does) loads nothing.
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "adjudication": ["AdjudicateResult", "adjudicate"],
    },
)
