"""Plots for the HTML pages (a ``Plot`` block draws with these): bar charts as PNG data URIs.

matplotlib renders through its Agg canvas without pyplot, so no display and no global
state are involved; each plot is a PNG data URI, so a page is one self-contained file.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def bars(title: str, categories: list[str], series: dict[str, list[float]], ylabel: str, *, counts: bool = True) -> str:
    """A grouped bar chart as a data URI; counts get whole-number ticks, scores a [min(0, ...), 1] axis."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(max(5.0, 1.1 * len(categories) + 3), 3.4))
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(series))
    for number, (name, values) in enumerate(series.items()):
        positions = [i + (number - (len(series) - 1) / 2) * width for i in range(len(categories))]
        axes.bar(positions, values, width=width, label=name)
    axes.set_xticks(range(len(categories)), categories, rotation=25, ha="right")
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    if counts:
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        axes.set_ylim(min(0.0, *(v for values in series.values() for v in values)), 1.0)
        axes.axhline(0, color="#444", linewidth=0.8)
    if len(series) > 1:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return png(figure)
