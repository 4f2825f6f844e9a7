"""Annotation policies: which of a task's annotations becomes the article's (latest, ground_truth, majority, all)."""
