"""Which articles of which files to run, for a backend whose workers read the inputs themselves.

The driver reads every input once (bad input, duplicates, ids reused and resume are
decided there, over all inputs at once); what is left to run is kept as, per file, the
runs of positions among what :func:`~toolkit.preannotate.readers.read_file` yields for
it. A worker reads its file again and keeps the articles at those positions, so the
articles travel from the file to the worker and never through the driver; the plan
grows with the number of files and of gaps (skips, resumed articles), not of articles.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.config import InputConfig
from toolkit.errors import InputError
from toolkit.preannotate.readers import read_file
from toolkit.records import Article

Runs = list[tuple[int, int]]  # (first position, last position + 1), ascending, not touching


@dataclass(frozen=True)
class FilePlan:
    path: str
    runs: Runs
    first: int  # the index of the file's first planned article among all planned articles

    @property
    def articles(self) -> int:
        return sum(stop - start for start, stop in self.runs)


@dataclass
class InputPlan:
    """The articles to run, file by file, in the order the driver read them."""

    files: list[FilePlan] = field(default_factory=list)
    articles: int = 0

    def add(self, path: Path, position: int) -> None:
        """Plan the article at ``position`` of ``path`` (positions of a file come in ascending order)."""
        name = str(path)
        if not self.files or self.files[-1].path != name:
            self.files.append(FilePlan(name, [], self.articles))
        runs = self.files[-1].runs
        if runs and runs[-1][1] == position:
            runs[-1] = (runs[-1][0], position + 1)
        else:
            runs.append((position, position + 1))
        self.articles += 1


def _planned(runs: Runs) -> Iterator[int]:
    for start, stop in runs:
        yield from range(start, stop)


def read_planned(plan: FilePlan, options: InputConfig) -> Iterator[Article]:
    """The planned articles of one file, read again: what the driver's read found at those positions.

    A file that changed since the driver read it (an article missing where one was, or the
    file shorter) is an :class:`InputError`: the worker would otherwise run other articles
    than the ones the driver checked.
    """
    wanted = _planned(plan.runs)
    target = next(wanted, None)
    for position, item in enumerate(read_file(Path(plan.path), options)):
        if target is None:
            return
        if position != target:
            continue
        if not isinstance(item, Article):
            raise InputError(f"{item.message} (the file changed while it was pre-annotated)")
        yield item
        target = next(wanted, None)
    if target is not None:
        raise InputError(f"{plan.path}: has fewer articles than when the run started (the file changed)")
