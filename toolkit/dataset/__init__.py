"""Stage 4, export: annotated articles -> a versioned Hugging Face dataset (+ DocBin, CoNLL, card)."""
