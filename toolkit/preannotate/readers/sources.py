"""Inputs a cluster reads itself: JSONL and Parquet files, local or behind a URL (``s3://``,
``gs://``, ``file://``, ... whatever pyarrow's filesystems accept), listed here with their sizes.

Only the listing happens in this process (the driver): a file's name, its path on its
filesystem and its size, never its contents. Files come in the order the local reader
would read them (inputs as given, a folder's files sorted), each once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import InputError
from toolkit.preannotate.readers.inputs import expand_inputs, is_hf_dataset, is_url, odd_entry, shown_url
from toolkit.preannotate.readers.rows import ROW_SUFFIXES

ROW_LIST = ".jsonl, .ndjson or .parquet"


@dataclass(frozen=True)
class RowFile:
    name: str  # as messages and records name it: the path as given, or the URL
    path: str  # on its filesystem
    size: int


@dataclass
class FileGroup:
    """Consecutive files on one filesystem (a cluster read reads one filesystem at a time)."""

    filesystem: Any  # pyarrow.fs.FileSystem
    key: str
    files: list[RowFile] = field(default_factory=list)


@dataclass
class RowInputs:
    groups: list[FileGroup] = field(default_factory=list)

    @property
    def files(self) -> list[RowFile]:
        return [file for group in self.groups for file in group.files]

    @property
    def total_bytes(self) -> int:
        return sum(file.size for file in self.files)

    def add(self, filesystem: Any, key: str, file: RowFile) -> None:
        if not self.groups or self.groups[-1].key != key:
            self.groups.append(FileGroup(filesystem, key))
        self.groups[-1].files.append(file)


def _is_row_file(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in ROW_SUFFIXES


def _url_files(given: str) -> tuple[Any, str, list[RowFile]]:
    import pyarrow.fs as pafs

    url = shown_url(given)
    try:
        filesystem, path = pafs.FileSystem.from_uri(given)
        info = filesystem.get_file_info(path)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError, ... for a URL it cannot open
        raise InputError(f"{url}: cannot open ({error})") from None
    scheme, _, rest = url.partition("://")
    key = f"{scheme}://{rest.split('/', 1)[0]}"
    if info.type == pafs.FileType.NotFound:
        raise InputError(f"{url}: no such file or folder")
    if info.type == pafs.FileType.File:
        if not _is_row_file(path):
            raise InputError(f"{url}: unsupported file type; a URL can name {ROW_LIST} files (or folders of them)")
        return filesystem, key, [RowFile(url, path, info.size)]
    try:
        listed = filesystem.get_file_info(pafs.FileSelector(path, recursive=True))
    except Exception as error:
        raise InputError(f"{url}: cannot list the folder ({error})") from None
    base = url.rstrip("/")
    files = []
    for entry in sorted(listed, key=lambda entry: entry.path):
        relative = os.path.relpath(entry.path, path)
        hidden = any(part.startswith((".", "_")) for part in relative.split("/"))
        if entry.type == pafs.FileType.File and not hidden and _is_row_file(entry.path):
            files.append(RowFile(f"{base}/{relative}", entry.path, entry.size))
    if not files:
        raise InputError(f"{url}: folder holds no {ROW_LIST} file")
    return filesystem, key, files


def _under(real: str, exclude: str | None) -> bool:
    return exclude is not None and (real == exclude or real.startswith(exclude.rstrip(os.sep) + os.sep))


def row_inputs(inputs: Sequence[Path | str], *, exclude: str | None = None) -> RowInputs | None:
    """The inputs as files a cluster reads, or None when some input is of a kind only this process
    reads (``.txt``, ``.json``, ``.csv``, a saved dataset): then every input is read here.

    ``exclude`` (a real path), and anything under it, is left out: the output (a file, or a
    Parquet predictions folder) is never an input. A URL beside an input
    read here is an :class:`InputError`: a URL can only be read on the cluster.
    """
    import pyarrow.fs as pafs

    local = pafs.LocalFileSystem()
    found = RowInputs()
    seen: set[str] = set()
    urls = [shown_url(str(given)) for given in inputs if is_url(given)]
    for given in inputs:
        if is_url(given):
            filesystem, key, files = _url_files(str(given))
            on_disk = isinstance(filesystem, pafs.LocalFileSystem)  # file://: the same file as its path
            for file in files:
                name = os.path.realpath(file.path) if on_disk else file.name
                if name not in seen and not _under(name, exclude):
                    seen.add(name)
                    found.add(filesystem, key, file)
            continue
        for path in expand_inputs([given]):
            real = os.path.realpath(path)
            if _under(real, exclude) or real in seen:
                continue
            if is_hf_dataset(path) or not _is_row_file(str(path)) or odd_entry(path) is not None:
                if urls:
                    raise InputError(
                        f"{path}: read in this process, so it cannot be given beside a URL ({urls[0]})",
                        hint=f"give the URL's {ROW_LIST} files and the local files in separate runs",
                    )
                return None
            seen.add(real)
            found.add(local, "file://", RowFile(str(path), os.path.abspath(path), os.path.getsize(path)))
    return found
