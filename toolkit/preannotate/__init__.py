"""Stage 1, pre-annotate: articles -> predicted articles (readers, spans, output, run)."""
