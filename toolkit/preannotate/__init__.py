"""Stage 1, pre-annotate: articles -> predicted articles.

``readers`` (inputs -> articles), ``backends`` (where the model runs), ``spans`` (a doc
-> project spans and the task score), ``output`` (the resumable predictions file) and
``preannotation`` (``preannotate_to_file``, which puts them together; ``stats``: what a run did).
"""
