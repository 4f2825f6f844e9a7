"""Annotation-correction toolkit for NER: spaCy pre-annotation, Label Studio, Hugging Face datasets."""

__version__ = "0.1.0"
