"""mkdocs hooks (`hooks:` in mkdocs.yml), run by `make docs` (`mkdocs build --strict`).

Three things the site needs that plain Markdown files cannot give:

- the README and BENCHMARKS.md, which live at the repository's root (where GitHub and PyPI
  show them), become the site's home page (`index.md`) and `benchmarks.md`. Their links
  into `docs/` lose that prefix, and links between them and the pages are mapped both ways
  (`docs/push.md` in the README is `push.md` on the site; `../README.md` in a page is
  `index.md`), so every link works on GitHub and on the site, and `--strict` checks them all.
  A link from the README to any other file of the repository is not part of the site and
  fails the build: name such files as code (`configs/news-ner.yaml`), not as links;
- the config reference (`docs/config.md`, where `<!-- config-reference -->` stands) is
  generated from the pydantic model in `toolkit/config.py` at every build: each key with its
  type and bounds, its default and its `title`, plus the comment written above it in the
  model. A key added to the model is in the next build; one cannot be documented that the
  model does not have (the model forbids unknown keys);
- `mkdocs serve` rebuilds when the README, BENCHMARKS.md or the config model change.

`config_reference()` needs only pydantic (no mkdocs), so a unit test checks it.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import types
import typing
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent
MARKER = "<!-- config-reference -->"
# Root files shown as pages: their name on the site.
ROOT_PAGES = {"README.md": "index.md", "BENCHMARKS.md": "benchmarks.md"}


# --- links --------------------------------------------------------------------------------


def root_page_links(markdown: str) -> str:
    """A root file's links as the site sees them: `docs/X` -> `X`, `BENCHMARKS.md` -> `benchmarks.md`."""
    markdown = re.sub(r"\]\(docs/", "](", markdown)
    for name, page in ROOT_PAGES.items():
        markdown = re.sub(rf"\]\({re.escape(name)}([#)])", rf"]({page}\1", markdown)
    return markdown


def docs_page_links(markdown: str) -> str:
    """A page's links to the root files (`../README.md`) as the site sees them."""
    for name, page in ROOT_PAGES.items():
        markdown = re.sub(rf"\]\(\.\./{re.escape(name)}([#)])", rf"]({page}\1", markdown)
    return markdown


# --- the config reference -----------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return " | ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" or `null`" if type(None) in args else "")
    if origin is not None:
        inner = ", ".join(_type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is Path:
        return "path"
    return getattr(annotation, "__name__", str(annotation))


def _bounds(field: Any) -> str:
    words = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "min_length": "length >=", "max_length": "length <="}
    found = []
    for item in field.metadata:
        for attr, word in words.items():
            if getattr(item, attr, None) is not None:
                found.append(f"{word} {getattr(item, attr)}")
        if getattr(item, "pattern", None):
            found.append(f"matches `{item.pattern}`")
    return ", ".join(found)


def _default(field: Any) -> str:
    import yaml

    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, Path):
        value = str(value)
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000).strip()
    text = text.removesuffix("\n...").removesuffix("...").strip() or "''"
    return f"`{text}`"


def _comments(model: type) -> dict[str, str]:
    """The comment lines written right above each field of `model` (section dividers left out);
    under the key "" the one right under the `class` line, about the whole section."""
    source = textwrap.dedent(inspect.getsource(model))
    lines = source.splitlines()
    (node,) = ast.parse(source).body
    found: dict[str, str] = {}
    for statement in node.body:
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        above: list[str] = []
        row = statement.lineno - 2
        while row >= 0 and lines[row].strip().startswith("#"):
            above.insert(0, lines[row].strip().lstrip("#").strip())
            row -= 1
        above = [line for line in above if not re.fullmatch(r"-+ .* -+", line)]
        # Right under the `class` line, a comment is about the whole section.
        key = "" if row >= 0 and lines[row].lstrip().startswith("class ") else statement.target.id
        if above:
            found[key] = " ".join(above)
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section(model: type, prefix: str, level: int, out: list[str]) -> None:
    from pydantic import BaseModel

    doc = inspect.getdoc(model)
    if doc and "__doc__" in model.__dict__ and model.__doc__:
        out += [doc.replace("``", "`"), ""]
    comments = _comments(model)
    if "" in comments:
        out += [comments[""], ""]
    rows, nested = [], []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = field.annotation
        # A section that may be left out (``OverlapConfig | None``): its keys are documented all the same.
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(inner) == 1 and type(None) in typing.get_args(annotation):
            annotation = inner[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested.append((name, key, annotation, field))
            continue
        kind = _type_name(annotation)
        if bounds := _bounds(field):
            kind += f" ({bounds})"
        text = field.title or ""
        if name in comments:
            text = f"{text}. *{comments[name]}*" if text else f"*{comments[name]}*"
        rows.append(f"| `{key}` | {_cell(kind)} | {_cell(_default(field))} | {_cell(text)} |")
    if rows:
        out += ["| key | type | default | what it is |", "| --- | --- | --- | --- |", *rows, ""]
    for name, key, annotation, field in nested:
        out += [f"{'#' * level} `{key}`", ""]
        if field.is_required():
            out += ["Required.", ""]
        elif field.default is None:
            out += [f"Optional: left out (`null`) by default. {field.title or ''}".rstrip(), ""]
        if name in comments:
            out += [comments[name], ""]
        _section(annotation, f"{key}.", level + 1, out)


def config_reference(model: type | None = None) -> str:
    """The reference of every key of `model` (default: `toolkit.config.Config`), as Markdown."""
    if model is None:
        from toolkit.config import Config as model

    out: list[str] = ["## Top level", ""]
    _section(model, "", 2, out)
    return "\n".join(out).rstrip() + "\n"


# --- mkdocs events ------------------------------------------------------------------------


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for name, page in ROOT_PAGES.items():
        content = root_page_links((ROOT / name).read_text(encoding="utf-8"))
        files.append(File.generated(config, page, content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri in ROOT_PAGES.values():
        return markdown
    markdown = docs_page_links(markdown)
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, config_reference())
    return markdown


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    for path in (*ROOT_PAGES, "toolkit/config.py"):
        server.watch(str(ROOT / path))
    return server
