"""The annotation report: agreement, model-vs-human edits and scores of a pull."""

from toolkit.report.build import report_builder, report_markdown
from toolkit.report.html import write_html

__all__ = ["report_builder", "report_markdown", "write_html"]
