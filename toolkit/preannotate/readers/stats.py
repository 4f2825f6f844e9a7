"""What reading found besides articles: bad inputs (one per file, line or record) and the counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from toolkit.errors import InputError

# Short reasons, the keys of the skip counts.
Reason = Literal[
    "binary file",
    "invalid UTF-8",
    "empty file",
    "empty article",
    "broken JSON",
    "lone surrogate",
    "not an object",
    "missing text field",
    "bad field",
    "too long",
    "bad date",
    "id reused",
    "unreadable",
]

# Skip messages kept as examples: enough to see what went wrong, not a copy of the input.
MAX_EXAMPLES = 20


@dataclass(frozen=True)
class BadInput:
    """One input that cannot become an article: where it is, why, and the message."""

    reason: Reason
    message: str  # names the file and line or record, e.g. "a.jsonl:7: broken JSON (...)"


class BadInputError(InputError):
    """A bad input found inside a reader, which turns it into a :class:`BadInput`."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.bad = BadInput(reason, message)


@dataclass
class ReadStats:
    """What reading saw besides the articles it yielded; the stats of two reads merge."""

    files: int = 0
    articles: int = 0
    duplicates: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_examples: list[str] = field(default_factory=list)
    dates_not_parsed: int = 0

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skip(self, bad: BadInput) -> None:
        self.skipped[bad.reason] += 1
        self.example(bad.message)

    def example(self, message: str) -> None:
        """Keep a skip's message as an example (its count is added apart, by a worker that counted it)."""
        if len(self.skipped_examples) < MAX_EXAMPLES:
            self.skipped_examples.append(message)

    def skipped_reasons(self) -> str:
        """``binary file 2, broken JSON 1``: the skips by reason, most first."""
        by_count = sorted(self.skipped.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{reason} {count:,}" for reason, count in by_count)

    def merge(self, other: ReadStats) -> ReadStats:
        """Add ``other``'s counts to these (in place) and return them."""
        self.files += other.files
        self.articles += other.articles
        self.duplicates.extend(other.duplicates)
        self.skipped.update(other.skipped)
        self.skipped_examples.extend(other.skipped_examples[: MAX_EXAMPLES - len(self.skipped_examples)])
        self.dates_not_parsed += other.dates_not_parsed
        return self
