"""The inputs as given (files, folders, glob patterns) -> the files to read, in order."""

from __future__ import annotations

import errno
import glob
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from toolkit.errors import InputError, Remedy

TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
JSON_SUFFIXES = {".json"}
CSV_SUFFIXES = {".csv"}
PARQUET_SUFFIXES = {".parquet"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | JSONL_SUFFIXES | JSON_SUFFIXES | CSV_SUFFIXES | PARQUET_SUFFIXES
SUPPORTED_LIST = ".txt, .jsonl, .json, .csv, .parquet or a saved Hugging Face dataset"
# Files of a saved Hugging Face dataset (Dataset / DatasetDict) that mark its folder.
HF_MARKERS = ("dataset_info.json", "dataset_dict.json")

_GLOB_CHARS = re.compile(r"[*?\[]")
_URL = re.compile(r"\A[A-Za-z][A-Za-z0-9+.-]*://")
# What a URL input needs, in the hint of its refusal; the command line names its flag.
URL_NEEDS = (
    Remedy("run on Ray", "spacy.backend: ray", config=True),
    ", whose workers read JSONL and Parquet from URLs",
)


def is_url(given: Path | str) -> bool:
    """``scheme://...`` (``s3://``, ``file://``, ...): an input read through a filesystem of
    pyarrow's, on a cluster. (A ``Path`` never is one: it folds ``//``.)"""
    return isinstance(given, str) and _URL.match(given) is not None


def shown_url(url: str) -> str:
    """The URL as messages and records name it: without the keys pyarrow accepts before the host
    (``s3://KEY:SECRET@bucket/...``) and without the query it reads options from
    (``?endpoint_override=...``)."""
    scheme, _, rest = url.split("?", 1)[0].partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host.rpartition('@')[2]}{slash}{path}"


def is_hf_dataset(path: Path) -> bool:
    return path.is_dir() and any((path / marker).is_file() for marker in HF_MARKERS)


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def _walk(folder: Path) -> list[Path]:
    """Supported files and saved datasets under a folder, sorted; a dataset is not entered."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        keep_dirs = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue  # .git, .cache, ... never hold articles
            if is_hf_dataset(root_path / name):
                found.append(root_path / name)
            else:
                keep_dirs.append(name)
        dirs[:] = keep_dirs
        found.extend(root_path / name for name in files if is_supported(Path(name)))
    return sorted(found)


def _expand_pattern(pattern: str) -> list[Path]:
    matches = sorted(Path(match) for match in glob.glob(pattern, recursive=True))
    if not matches:
        raise InputError(f"{pattern}: the pattern matches no file")
    files: list[Path] = []
    for match in matches:
        if is_hf_dataset(match):
            files.append(match)
        elif match.is_dir():
            files.extend(_walk(match))
        elif is_supported(match):
            files.append(match)
    if not files:
        raise InputError(f"{pattern}: the pattern matches no {SUPPORTED_LIST} file")
    return files


def _expand_path(path: Path) -> list[Path]:
    if is_hf_dataset(path):
        return [path]
    if path.is_dir():
        found = _walk(path)
        if not found:
            raise InputError(f"{path}: folder holds no {SUPPORTED_LIST} file")
        return found
    if path.is_file():
        if not is_supported(path):
            raise InputError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; use {SUPPORTED_LIST}")
        return [path]
    if path.is_symlink() or path.exists():
        # A symlink loop or to nothing, a FIFO, ...: with a supported suffix it is read
        # like any file, and reading names it as bad input (fail or skip).
        if not is_supported(path):
            raise InputError(f"{path}: {odd_entry(path) or 'not a regular file or folder'}")
        return [path]
    raise InputError(f"{path}: no such file or folder")


def expand_inputs(inputs: Sequence[Path | str]) -> list[Path]:
    """Files (and saved datasets) to read, in order: as given, folders and globs sorted.

    A path that does not exist but holds ``*``, ``?`` or ``[`` is a glob pattern
    (``**`` matches folders recursively). A file found twice is read once.
    """
    files: list[Path] = []
    for given in inputs:
        if is_url(given):
            where = shown_url(given)
            raise InputError(f"{where}: a URL input is read on a cluster, not by this process", hint=URL_NEEDS)
        path = Path(given)
        if not path.exists() and _GLOB_CHARS.search(str(given)):
            files.extend(_expand_pattern(str(given)))
        else:
            files.extend(_expand_path(path))
    seen: set[str] = set()
    ordered = []
    for path in files:
        # realpath, unlike Path.resolve, does not raise on a symlink loop.
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            ordered.append(path)
    return ordered


def odd_entry(path: Path) -> str | None:
    """What is wrong with a path that is neither a regular file nor a folder, else None.

    Checked before a file is opened: opening a FIFO would wait for a writer forever.
    """
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symlink loop, not a file"
        if path.is_symlink():
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            return f"a symlink to a missing file ({target})"
        return f"cannot read ({error.strerror})"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"not a regular file ({kind}), not read"
