"""Stage 2, push: predicted articles -> Label Studio tasks with predictions.

``push`` (``pushing``) is the stage; it returns a ``PushResult``. ``plan`` decides what is new, changed or kept;
``view`` draws the result.
"""

from toolkit._lazy import lazy_exports

# Loaded on first use: importing the package (as each of its modules' imports does) loads nothing.
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "pushing": ["PushResult", "push"],
    },
)
