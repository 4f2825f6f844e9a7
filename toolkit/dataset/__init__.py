"""Stage 4, export: annotated articles -> a versioned Hugging Face dataset (+ DocBin, CoNLL, card).

The stage is ``export`` (``from toolkit.dataset import export``; it returns an
``ExportResult`` with its ``ExportStats``); ``diff_exports`` compares two versions (an
``ExportDiff``), ``push_to_hub`` uploads one.
"""

from toolkit._lazy import lazy_exports

# Loaded on first use: importing the package (as each of its modules' imports does) loads nothing.
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "diff": ["ExportDiff", "diff_as_json", "diff_exports"],
        "exporting": ["Attachment", "ExportResult", "export"],
        "inputs": ["check_input_files"],
        "hub": ["check_hub_repo", "push_to_hub"],
        "stats": ["ExportStats"],
    },
)
