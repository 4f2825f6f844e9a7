"""The annotation report of a pull: progress, model against human, agreement, annotators.

``report``/``build_report`` build it (a ``Report``); ``report_builder`` builds it while
a caller reads the articles anyway (the export); ``report_document`` is its view
(``toolkit.render`` draws it), ``report_markdown`` its brief markdown for the dataset
card, ``write_html`` its page. Importing this package loads no spaCy, numpy or
matplotlib: they are loaded when a report needs them.
"""

from toolkit.report.build import ReportBuilder, build_report, report, report_builder
from toolkit.report.model import Report
from toolkit.report.page import write_html
from toolkit.report.view import report_document, report_markdown

__all__ = [
    "Report",
    "ReportBuilder",
    "build_report",
    "report",
    "report_builder",
    "report_document",
    "report_markdown",
    "write_html",
]
