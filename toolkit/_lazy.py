"""A package's public names, loaded on first use (PEP 562).

Each stage package exports its entry point and result types (``from toolkit.pull import
pull``), but importing the package must stay free: every import of one of its modules
(``toolkit.pull.summary``) runs the package's ``__init__`` first, and ``toolkit --help``
must not load spaCy, Ray or datasets. So ``__init__`` names where each export lives, and
the module is imported when the name is first read.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, exports: dict[str, list[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``, from ``{module: [names]}``
    (modules relative to the package)."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # the next read does not come here
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__, sorted(where)
