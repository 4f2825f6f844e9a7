"""The report's tables (``toolkit.report.tables``) drawn in each medium: console, markdown, HTML."""
