"""The annotation report: agreement, model-vs-human edits and scores of a pull."""
