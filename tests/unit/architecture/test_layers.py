"""The layering rule, read from the imports (module level and inside functions alike):

    cli  ->  compose  ->  stages  ->  shared layers  ->  errors / config / records / progress

A stage never imports another stage (stages meet in ``compose.py``, the one module that
joins them), nothing imports a layer above its own, and neither
the packages nor the modules import each other in a circle (``TYPE_CHECKING`` imports
included). See docs/architecture.md.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import toolkit

PACKAGE = Path(toolkit.__file__).parent

# The first part of a module's name under toolkit/ -> its layer (a higher number sits above).
BASE = {"__init__", "errors", "config", "records", "progress", "hooks", "_lazy"}
SHARED = {"io", "nlp", "metrics", "labelstudio", "annotations", "render"}
STAGES = {"preannotate", "push", "pull", "dataset", "report", "train", "evaluate", "adjudicate", "team"}
# The one module above the stages: where a command needs two stages, they are joined here.
COMPOSE = {"compose"}
TOP = {"cli", "__main__"}


def layer(unit: str) -> int:
    for number, units in enumerate((BASE, SHARED, STAGES, COMPOSE, TOP)):
        if unit in units:
            return number
    raise AssertionError(f"toolkit/{unit}: not in any layer; add it to tests/unit/architecture/test_layers.py")


def unit_of(module: str) -> str:
    """``toolkit.pull.tasks`` -> ``pull``; ``toolkit`` itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    """Whether ``name`` (dotted, under toolkit/: ``pull``, ``pull.tasks``) is a module or a package."""
    path = PACKAGE.joinpath(*name.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


MODULES = {module_name(path) for path in PACKAGE.rglob("*.py")}


def module_of(name: str) -> str:
    """The module an imported name is read from: ``toolkit.pull.tasks.X`` -> ``toolkit.pull.tasks``."""
    parts = name.split(".")
    while ".".join(parts) not in MODULES:
        parts.pop()
    return ".".join(parts)


def imports() -> list[tuple[str, int, str]]:
    """``(importing file, line, imported toolkit module)`` for every import in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        here = module_name(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this module's package
                    package = here.split(".")[: len(here.split(".")) - node.level + (path.name == "__init__.py")]
                    base = ".".join(package + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                names = [base]
                if base == "toolkit" or base.startswith("toolkit."):
                    # from toolkit.pull import X: X is a module (toolkit.pull.X), or a name in toolkit/pull/__init__
                    inner = base.split(".")[1:]
                    names = [f"{base}.{a.name}" if is_module(".".join([*inner, a.name])) else base for a in node.names]
            else:
                continue
            for name in names:
                if name == "toolkit" or name.startswith("toolkit."):
                    found.append((str(path.relative_to(PACKAGE.parent)), node.lineno, name))
    return found


def unit_of_file(file: str) -> str:
    parts = Path(file).with_suffix("").parts
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_is_in_a_layer():
    for path in PACKAGE.rglob("*.py"):
        layer(unit_of(module_name(path)))


def test_nothing_imports_upward_and_no_stage_imports_another():
    violations = []
    for file, line, name in imports():
        source, target = unit_of_file(file), unit_of(name)
        if source == target:
            continue
        if layer(target) > layer(source):
            violations.append(f"{file}:{line}: imports {name} (a layer above)")
        elif source in STAGES and target in STAGES:
            violations.append(f"{file}:{line}: imports {name} (a stage imports another stage)")
    assert violations == []


def test_stages_are_joined_in_compose_only():
    # compose is one small module, not a package that grows a layer of its own; a CLI
    # module calls one stage (or compose), so no command composes stages itself.
    assert PACKAGE.joinpath("compose.py").is_file() and not PACKAGE.joinpath("compose").exists()
    stages: dict[str, set[str]] = defaultdict(set)
    for file, _, name in imports():
        if unit_of(name) in STAGES:
            stages[file].add(unit_of(name))
    joined = {file: sorted(units) for file, units in stages.items() if len(units) > 1}
    assert joined == {"toolkit/compose.py": ["dataset", "evaluate", "report", "train"]}


def _assert_acyclic(node_of_file, node_of_import, word: str) -> None:
    """Fail naming the first cycle among the nodes (``node_of_file``/``node_of_import``) and where each step imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], str] = {}
    for file, line, name in imports():
        source, target = node_of_file(file), node_of_import(name)
        if source != target:
            graph[source].add(target)
            where.setdefault((source, target), f"{file}:{line}")
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        cycle = error.args[1]
        steps = [f"{b} imports {a} ({where[(b, a)]})" for a, b in zip(cycle, cycle[1:])]
        raise AssertionError(f"import {word}: " + "; ".join(steps)) from None


def test_packages_import_each_other_without_cycles():
    _assert_acyclic(unit_of_file, unit_of, "cycle")


def test_modules_import_each_other_without_circles():
    # A circle is only safe while every import in it stays where it is (inside a function,
    # under TYPE_CHECKING); it is also two modules that cannot be read apart. Every import
    # counts here, wherever it is.
    _assert_acyclic(lambda file: module_name(PACKAGE.parent / file), module_of, "circle")


def test_the_checker_sees_function_level_imports():
    # The rule holds for imports inside functions too: most of the toolkit's imports of
    # heavy modules are there.
    assert any(name == "toolkit.cli._app" for _, _, name in imports())
    # ... and TYPE_CHECKING imports, and ``from package import module`` as the module.
    assert ("toolkit/pull/output.py", "toolkit.annotations.spans") in {(file, name) for file, _, name in imports()}
    assert any(file == "toolkit/cli/__init__.py" and name == "toolkit.cli.adjudicate" for file, _, name in imports())
    assert len(imports()) > 100


def test_the_library_holds_no_test_code_and_reads_no_test_setting():
    # The fault hooks live in tests/faults.py and are handed in through toolkit.hooks; the
    # package neither imports them (nor pytest, nor a _testing module) nor reads a
    # TOOLKIT_TEST_* variable, so no test fault can ever fire in a user's run.
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{node.module or ''}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] in {"tests", "pytest"} or "_testing" in parts:
                    found.append(f"{where}:{node.lineno}: imports {name}")
        if "TOOLKIT_TEST_" in text:
            found.append(f"{where}: reads a TOOLKIT_TEST_* setting")
    assert found == []
