"""``toolkit annotators``: annotators' Label Studio accounts, named by their anonymous ids.

``add_annotators`` and ``list_annotators`` (``accounts``) are the stage; they return an
``AddResult`` and a ``ListResult``; ``view`` draws them.
"""

from toolkit._lazy import lazy_exports

# Loaded on first use: importing the package (as each of its modules' imports does) loads nothing.
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "accounts": ["AddResult", "AnnotatorAccount", "ListResult", "add_annotators", "list_annotators"],
    },
)
