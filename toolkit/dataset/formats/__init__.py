"""The files of a version besides the dataset itself: one module per format."""
