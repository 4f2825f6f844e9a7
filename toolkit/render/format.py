"""Numbers and counts in words, the same way in every medium and message.

The one home of the toolkit's formatters: a score is ``number`` (3 decimals, ``n/a``
when it cannot be computed), a share ``percent``, a count ``count`` (thousands
separators) or, in prose, ``plural`` ("1 article", "2,000 articles").
"""

from __future__ import annotations


def number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def signed(value: float | None, digits: int = 3) -> str:
    """A difference, with its sign always shown (``+0.012``)."""
    return "n/a" if value is None else f"{value:+.{digits}f}"


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def count(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` with thousands separators and ``word`` in the number it needs (``many``:
    the plural when it is not ``word`` + "s", e.g. ``plural(n, "entry", "entries")``)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"
