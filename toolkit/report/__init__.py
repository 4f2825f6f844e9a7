"""The annotation report of a pull: progress, model against human, agreement, annotators.

``report``/``build_report`` build it (a ``Report``); ``report_builder`` builds it while
a caller reads the articles anyway (the export); ``report_markdown`` and ``write_html``
draw it. Importing this package loads no spaCy, numpy or matplotlib: they are loaded
when a report needs them.
"""

from toolkit.report.build import ReportBuilder, build_report, report, report_builder
from toolkit.report.model import Report
from toolkit.report.render.html import write_html
from toolkit.report.render.markdown import report_markdown

__all__ = ["Report", "ReportBuilder", "build_report", "report", "report_builder", "report_markdown", "write_html"]
