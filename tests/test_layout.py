"""The layout shows the architecture: the imports of grader/ are read from the source and checked.

Every import counts, also those inside functions and under ``TYPE_CHECKING``: a lazy import is
still a dependency (the old hardware <-> backends cycle was one).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.core.paths import REPO

GRADER = REPO / "grader"
# Layers, bottom first: a module may import its own layer and the layers below, never one above.
LAYERS = ("grader.core", "grader.backends", "grader.tools", "grader.practices", "grader.plugin", "grader.commands")
# Exceptions to the layering, each with its reason.
ALLOWED_UPWARD = {
    # The plugin is a pytest plugin over practices; practices use its fixtures and Grade handle.
    ("grader.practices", "grader.plugin"): "suites use the plugin's fixtures (grade, student_dir)",
}
TENSORRT_MODULES = ("tensorrt", "pycuda")


def module_name(path: Path) -> str:
    """``grader/core/student.py`` -> ``grader.core.student``; a package is its ``__init__``."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def grader_modules() -> dict[str, Path]:
    """Every module of the grader package, by name."""
    return {module_name(path): path for path in sorted(GRADER.rglob("*.py"))}


def imported(path: Path, name: str, known: dict[str, Path]) -> Iterator[str]:
    """Every module ``path`` imports (absolute names; ``from pkg import mod`` gives ``pkg.mod``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                yield node.args[0].value


def graph() -> dict[str, set[str]]:
    """Module -> the grader modules it imports."""
    known = grader_modules()
    return {
        name: {target for target in imported(path, name, known) if target in known and target != name}
        for name, path in known.items()
    }


def layer_of(name: str) -> str | None:
    """The layer a module belongs to (None for grader/__init__ and __main__)."""
    return next((layer for layer in LAYERS if name == layer or name.startswith(layer + ".")), None)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as a path of module names, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_reader_sees_the_imports() -> None:
    """The graph is not empty by accident: known edges of the code are found."""
    edges = graph()
    assert "grader.core.student" in edges["grader.core.checks"]
    assert "grader.backends.tensorrt" in edges["grader.backends.requirements"]
    assert "grader.core.practice" in edges["grader.practices"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle() -> None:
    """No module of grader/ reaches itself through its imports (lazy ones included)."""
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_nothing_above_it(layer: str) -> None:
    """core imports no backend, practice, plugin or command; each layer only looks down."""
    rank = LAYERS.index(layer)
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in graph().items()
        if layer_of(name) == layer
        for target in targets
        if (above := layer_of(target)) is not None
        and LAYERS.index(above) > rank
        and (layer, above) not in ALLOWED_UPWARD
    )
    assert not wrong, "\n".join(wrong)


def test_core_names_no_practice() -> None:
    """No string in the core names a practice's, a backend's or a command's module (no dynamic import of one)."""
    specific = re.compile(r"grader\.(practices\.practice\d|backends\.\w|commands\.\w)")
    for path in sorted((GRADER / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not specific.match(node.value), f"{path.relative_to(REPO)} names {node.value}"


def test_only_the_tensorrt_backend_imports_tensorrt_or_pycuda() -> None:
    """tensorrt and pycuda are imported in grader/backends/tensorrt.py and nowhere else in grader/."""
    known = grader_modules()
    users = sorted(
        name
        for name, path in known.items()
        if any(target.split(".")[0] in TENSORRT_MODULES for target in imported(path, name, known))
    )
    assert users == ["grader.backends.tensorrt"], users
