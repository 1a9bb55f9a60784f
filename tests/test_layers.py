"""Layers without a circle: no module of cms/ imports, at load time, a module that
imports it back (directly or through others). Walked with `ast`, so an import inside a
function (deferred on purpose) or under TYPE_CHECKING does not count."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cms"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _load_time_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module loads: its top level, and its top-level if/try blocks."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)
    return found


def imports_of(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text())
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in _load_time_imports(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            base = f"{anchor}.{base}" if base else anchor
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            targets.add(submodule if submodule in MODULES else base)
    return {target for target in targets if target in MODULES and target != module}


def cycles() -> list[list[str]]:
    graph = {module: imports_of(module) for module in MODULES}
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_the_walk_sees_imports() -> None:
    """The walk is not blind: a module known to import another is seen to."""
    assert "cms.extensions" in imports_of("cms.auth.principal")
    assert "cms.models.base" in imports_of("cms.models.people")


def test_no_import_cycle_in_cms() -> None:
    found = cycles()
    assert not found, "\n".join(" -> ".join(cycle) for cycle in found)


@pytest.mark.parametrize(
    ("module", "allowed"),
    [
        ("cms.problems", set()),  # every layer may raise a problem
        # The db is made without the models' base: they use cms.models.Base directly.
        ("cms.extensions", set()),
    ],
)
def test_the_bottom_layers_import_nothing_above_them(module: str, allowed: set[str]) -> None:
    assert imports_of(module) <= allowed


def test_the_bare_benchmark_baseline_imports_nothing_of_ours() -> None:
    """bench/bare.py measures the stack's limit: anything of ours would measure us."""
    tree = ast.parse((ROOT / "bench" / "bare.py").read_text())
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
        )
    }
    assert imported == {"os", "orjson", "flask", "sqlalchemy"}
