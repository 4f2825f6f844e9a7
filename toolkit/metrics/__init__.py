"""Entity metrics shared by the report, training and adjudication: span P/R/F1, edits, agreement."""
