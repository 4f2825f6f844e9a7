"""Near-duplicate articles (syndicated copies of one story) as groups, by MinHash and LSH.

An article is the set of its word 4-grams (lowercased words of letters and digits;
an article shorter than 4 words is one shingle of all its words). Two articles whose
sets have an estimated Jaccard similarity of at least ``threshold`` are linked, and a
group is what the links connect (a copy of a copy is in the group too). MinHash
signatures of ``NUM_PERM`` permutations, indexed by datasketch's ``MinHashLSH`` at the
same threshold, give the candidate pairs; each candidate is checked against the
signatures' estimate, so LSH's false positives do not join groups.

Speed (push groups every article it sends): one permutation set serves every signature
(datasketch draws a new one per ``MinHash`` otherwise, 128 draws per article), which
leaves every signature as it was. The shingles keep datasketch's SHA-1 hash, the larger
cost left. Hashing all of an article's shingles into one buffer, outside datasketch's
per-shingle call, gave the same signatures no faster (2.29 against 2.19 s for 10,000
Reuters-21578 articles). CRC-32 in its place grouped 36 pairs SHA-1 does not on those
articles, 19 of them under the threshold in their true Jaccard similarity. xxHash-32 hashes
them four times as fast (grouping 1.44 against 2.01 s) with estimates as good, but other
ones: 20 pairs grouped that SHA-1 does not, 12 missed (true similarity 0.67-0.90): not
taken while the groups are to stay as they are.

Push groups in a worker process (``Grouping``) while it connects to Label Studio and
sets the project up: on two cores or more the push waits for the groups only as long as
the grouping outlasts that set-up. The worker starts before push reads the predictions
file (its imports pass meanwhile) and is stopped if the articles are too few. It is a
fresh interpreter running ``near_duplicate_groups`` (not ``multiprocessing``: its
``spawn`` runs the caller's main script again, its ``fork`` copies threads' locks), so it
gives the same groups; a worker that cannot start or dies leaves the grouping to this
process.

Groups are named by their first article in the order given (the predictions file's
order, to which later runs only append), so a group keeps its id when articles are
added. Seeded: the same articles give the same groups.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NUM_PERM = 128
SHINGLE_WORDS = 4
SEED = 17
SCHEME = "affine32"  # datasketch 2's default, named: signatures built from shared permutations must say it
_WORD = re.compile(r"\w+")
# Fewer articles than this are grouped in this process: a worker's start (~0.5 s with
# datasketch's import) would cost more than it saves.
BACKGROUND_MIN_ARTICLES = 1000


@dataclass(frozen=True)
class Groups:
    """Article id -> group id, for the articles that have a near-duplicate (the others are their own group)."""

    group_of: dict[str, str]

    def group(self, article_id: str) -> str:
        return self.group_of.get(article_id, article_id)

    def copy_of(self, article_id: str) -> str | None:
        """The group's first article, when ``article_id`` is a later member; else None."""
        group = self.group_of.get(article_id)
        return group if group is not None and group != article_id else None

    @property
    def count(self) -> int:
        """Groups of two or more articles."""
        return len(set(self.group_of.values()))

    @property
    def copies(self) -> int:
        """Articles in a group that are not its first."""
        return len(self.group_of) - self.count


def shingles(text: str) -> set[bytes]:
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE_WORDS:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + SHINGLE_WORDS]).encode("utf-8") for i in range(len(words) - SHINGLE_WORDS + 1)}


@functools.cache
def _permutations() -> Any:
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def signature(features: Iterable[bytes]) -> Any:
    """The MinHash signature of a set of shingles (a ``datasketch.MinHash``)."""
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, permutations=_permutations(), scheme=SCHEME)
    minhash.update_batch(features)
    return minhash


def near_duplicate_groups(articles: Iterable[tuple[str, str]], *, threshold: float) -> Groups:
    """Group ``(article id, text)`` pairs whose word 4-gram sets are at least ``threshold`` alike."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    signatures: dict[str, Any] = {}  # article id -> its signature
    order: dict[str, int] = {}
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for article_id, text in articles:
        if article_id in order:
            continue
        features = shingles(text)
        if not features:
            continue
        signed = signature(features)
        order[article_id] = len(order)
        parent[article_id] = article_id
        for other in lsh.query(signed):
            if signed.jaccard(signatures[other]) >= threshold:
                a, b = root(article_id), root(other)
                if a != b:
                    # The earlier article stays the group's root, so the group is named by its first.
                    first, later = (a, b) if order[a] < order[b] else (b, a)
                    parent[later] = first
        lsh.insert(article_id, signed)
        signatures[article_id] = signed
    members: dict[str, list[str]] = {}
    for article_id in order:
        members.setdefault(root(article_id), []).append(article_id)
    return Groups({member: group for group, ids in members.items() if len(ids) > 1 for member in ids})


class Grouping:
    """Groups being made, in a worker process or (on one core, for a few articles) here.

    ``Grouping(articles, ...)`` starts at once. ``Grouping(threshold=...)`` without articles
    starts the worker before they are read, so that its start (an interpreter and
    datasketch's imports, about 0.5 s) passes while the caller reads them; ``send()`` hands
    them over, or stops the worker when they are too few to pay for it. ``result()`` waits
    for the groups; closing (``with`` or ``close()``) stops a worker whose groups are no
    longer wanted, so that a push that fails early exits at once.
    """

    def __init__(
        self,
        articles: Sequence[tuple[str, str]] | None = None,
        *,
        threshold: float | None,
        worker: bool | None = None,
        early: bool = False,
    ) -> None:
        """``threshold`` None: no grouping (no groups). ``worker``: None decides by the number
        of articles and cores. ``early``: start the worker now, before the articles come."""
        self._articles: Sequence[tuple[str, str]] | None = None
        self._threshold, self._use_worker = threshold, worker
        self._groups: Groups | None = None
        self._worker: subprocess.Popen[bytes] | None = None
        self._sending = False
        if articles is not None:
            self.send(articles)
        elif early and threshold is not None and worker is not False and _usable_cores() >= 2:
            self._start()

    def send(self, articles: Sequence[tuple[str, str]]) -> None:
        """The articles to group (once)."""
        import threading

        if self._articles is not None:
            raise RuntimeError("the articles were sent already")
        self._articles = articles
        if not articles or self._threshold is None:
            self._groups = Groups({})
        use_worker = self._use_worker
        if use_worker is None:
            use_worker = len(articles) >= BACKGROUND_MIN_ARTICLES and _usable_cores() >= 2
        if self._groups is not None or not use_worker:
            self.close()  # a worker started early for articles too few to pay for it
            return
        if self._worker is None:
            self._start()
        if self._worker is not None:
            # Written from a thread: the pipe takes 64 KB at a time, as fast as the worker reads.
            self._sending = True
            sender = threading.Thread(
                target=self._send, args=(self._worker, articles), name="toolkit-grouping", daemon=True
            )
            sender.start()

    def _start(self) -> None:
        try:
            self._worker = subprocess.Popen(
                [sys.executable, "-c", _WORKER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "TOOLKIT_GROUPING_PATH": _package_parent()},
            )
        except OSError:  # no process can start here: grouped in result()
            self._worker = None

    def _send(self, worker: subprocess.Popen[bytes], articles: Sequence[tuple[str, str]]) -> None:
        assert worker.stdin is not None
        with contextlib.suppress(OSError):  # the worker died or was stopped: result() groups here
            with worker.stdin:
                pickle.dump((list(articles), self._threshold), worker.stdin, protocol=pickle.HIGHEST_PROTOCOL)

    def result(self) -> Groups:
        if self._articles is None:
            raise RuntimeError("no articles were sent to group")
        if self._groups is None and self._worker is not None:
            assert self._worker.stdout is not None
            try:
                # The worker is this program, started by it: its pickle is trusted.
                self._groups = pickle.load(self._worker.stdout)  # noqa: S301
            except Exception:  # noqa: BLE001 - the worker died (killed, out of memory): the same groups, here
                self._groups = None
            self.close()
        if self._groups is None:
            assert self._threshold is not None  # no threshold: no groups, set by send()
            self._groups = near_duplicate_groups(self._articles, threshold=self._threshold)
        return self._groups

    def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            if worker.poll() is None:  # not wanted, or done but for its exit
                worker.kill()
            worker.wait()
            if worker.stdin is not None and not self._sending:
                worker.stdin.close()  # never handed to the sending thread, which closes it
            if worker.stdout is not None:
                worker.stdout.close()

    def __enter__(self) -> Grouping:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The worker: this module's near_duplicate_groups, the package imported from where this
# process has it (never a ``toolkit`` folder in the current directory).
_WORKER = """
import os, pickle, sys
sys.path[0:1] = [os.environ["TOOLKIT_GROUPING_PATH"]]
from toolkit.nlp.duplicates import near_duplicate_groups
import datasketch  # imported while the articles are still being read and sent
articles, threshold = pickle.load(sys.stdin.buffer)
pickle.dump(near_duplicate_groups(articles, threshold=threshold), sys.stdout.buffer)
"""


def _package_parent() -> str:
    return str(Path(__file__).resolve().parents[2])


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
