"""Counts in prose, the same way in every message: "1 article", "2,000 articles"."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` with thousands separators and ``word`` in the number it needs (``many``:
    the plural when it is not ``word`` + "s", e.g. ``plural(n, "entry", "entries")``)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"
