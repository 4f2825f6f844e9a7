"""Stage 1, pre-annotate: articles -> predicted articles.

``readers`` (inputs -> articles), ``backends`` (where the model runs), ``spans`` (a doc
-> project spans and the task score), ``output`` (the resumable predictions file) and
``run`` (``preannotate_to_file``, which puts them together).
"""
