"""``toolkit evaluate``: models scored on an export split's human spans, and compared with each other."""
