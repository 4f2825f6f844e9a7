"""Stage 2, push: predicted articles -> Label Studio tasks with predictions."""
