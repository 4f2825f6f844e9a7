"""spaCy parts shared by the stages: pipeline loading, the scoring NER, IOB2 alignment and its audit."""
