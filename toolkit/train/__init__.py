"""``toolkit train``: a spaCy NER trained on an export's corrections, through spaCy's own training loop."""
