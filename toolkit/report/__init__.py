"""The annotation report of a pull: progress, model against human, agreement, annotators.

``report``/``build_report`` build it (a ``Report``); ``report_builder`` builds it while
a caller reads the articles anyway (the export); ``report_document`` is its view
(``toolkit.render`` draws it), ``report_markdown`` its brief markdown for the dataset
card, ``write_html`` its page. Importing this package loads no spaCy, numpy or
matplotlib: they are loaded when a report needs them.
"""

from toolkit._lazy import lazy_exports

# Loaded on first use: importing the package (as each of its modules' imports does) loads nothing.
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "build": ["ReportBuilder", "build_report", "report", "report_builder"],
        "model": ["Report"],
        "page": ["write_html"],
        "view": ["report_document", "report_markdown"],
    },
)
