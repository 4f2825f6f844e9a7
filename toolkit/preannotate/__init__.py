"""Stage 1, pre-annotate: articles -> predicted articles.

``readers`` (inputs -> articles), ``backends`` (where the model runs), ``spans`` (a doc
-> project spans and the task score), ``output`` (the resumable predictions file) and
``preannotation`` (``preannotate_to_file``, which puts them together; ``preannotate``, the
same over articles in memory), ``job`` (``preannotation_job``: the model and backend chosen,
the run supervised on Ray, a ``PreannotateResult``) and ``view`` (what the command says).
``PreannotateStats`` (``stats``) and ``ReadStats`` are what a run did.
"""

from toolkit._lazy import lazy_exports

# Loaded on first use: importing the package (as each of its modules' imports does) loads nothing.
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "job": ["preannotation_job", "PreannotateJob", "PreannotateResult"],
        "preannotation": ["preannotate", "preannotate_to_file"],
        "readers": ["ReadStats"],
        "stats": ["PreannotateStats"],
    },
)
