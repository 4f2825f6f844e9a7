"""Stage 3, pull: Label Studio annotations -> annotated articles and a ledger of every decision.

``pull`` (``pulling``) is the stage; it returns a ``PullSummary`` (``summary``) of ``PullCounts``.
"""

from toolkit._lazy import lazy_exports

# Loaded on first use: importing the package (as each of its modules' imports does) loads nothing.
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "pulling": ["pull"],
        "summary": ["PullCounts", "PullSummary"],
    },
)
