"""A lint for TensorRT 8 API calls that TensorRT 10 removed, each with its 10.x replacement.

Old blog posts and the TensorRT 8 samples index tensors by binding number; on JetPack 6.2
(TensorRT 10.3) that code fails at run time with ``AttributeError``. This lint reads the
source (``ast``: comments, strings and docstrings never count) and names every such use with
what to write instead, so a student sees the fix without a Jetson.

It also reads what a function does without running it (``reachable``, ``calls_in``, ``enters``,
``callers_of``): the CPU tier uses that for requirements about the code's structure, such as
infer() allocating nothing.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

REMOVED = "removed in TensorRT 10"
CODE_SHOWN = 48  # characters of the student's code quoted per line of a summary


@dataclass(frozen=True)
class Rule:
    """One removed (or deprecated and ignored) TensorRT name and what replaces it in 10.x."""

    name: str
    replacement: str
    status: str = REMOVED


_IO = "set_tensor_address(name, ptr) per I/O tensor, then context.execute_async_v3(stream.handle)"

RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("get_binding_shape", "engine.get_tensor_shape(name) (or context.get_tensor_shape(name))"),
        Rule("num_bindings", "engine.num_io_tensors, with engine.get_tensor_name(i) for i in range(...)"),
        Rule("binding_is_input", "engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT"),
        Rule("get_binding_index", "tensor names: engine.get_tensor_name(i) and the name-based calls"),
        Rule("get_binding_name", "engine.get_tensor_name(i)"),
        Rule("get_binding_dtype", "engine.get_tensor_dtype(name)"),
        Rule("get_binding_format", "engine.get_tensor_format(name)"),
        Rule("get_binding_vectorized_dim", "engine.get_tensor_vectorized_dim(name)"),
        Rule("get_location", "engine.get_tensor_location(name)"),
        Rule("set_binding_shape", "context.set_input_shape(name, shape)"),
        Rule("max_workspace_size", "config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, n_bytes)"),
        Rule(
            "build_engine",
            "builder.build_serialized_network(network, config), then trt.Runtime(logger).deserialize_cuda_engine(...)",
        ),
        Rule("execute_async_v2", "context." + _IO),
        Rule("execute_async", "context." + _IO),
        Rule("execute", "context." + _IO + " (or context.execute_v2(bindings))"),
        Rule(
            "max_batch_size",
            "the batch size is part of the input shape (explicit batch); a variable batch needs an "
            "optimization profile: profile.set_shape(name, min, opt, max)",
        ),
        Rule("fp16_mode", "config.set_flag(trt.BuilderFlag.FP16)", "removed in TensorRT 8"),
        Rule("int8_mode", "config.set_flag(trt.BuilderFlag.INT8)", "removed in TensorRT 8"),
        Rule(
            "EXPLICIT_BATCH",
            "builder.create_network(0): explicit batch is the only mode in TensorRT 10",
            "deprecated and ignored in TensorRT 10",
        ),
    )
}

# Names common enough outside TensorRT that only their TensorRT 8 call shape counts.
_CALL_SHAPED = {"build_engine", "execute", "execute_async"}


@dataclass(frozen=True)
class Finding:
    """One use of a removed name: where, the code, and the replacement."""

    line: int
    column: int
    rule: Rule
    code: str

    def describe(self, filename: str) -> str:
        """``file:line: code -> what to write instead``."""
        return (
            f"{filename}:{self.line}: `{self.code}` uses {self.rule.name} ({self.rule.status}); "
            f"use {self.rule.replacement}"
        )


def _trt8_call(node: ast.Attribute, parent: ast.AST | None) -> bool:
    """Whether an attribute with a common name is used the way TensorRT 7/8 called it."""
    if not (isinstance(parent, ast.Call) and parent.func is node):
        return False
    keywords = {keyword.arg for keyword in parent.keywords}
    if node.attr == "build_engine":  # builder.build_engine(network, config)
        return len(parent.args) + len(keywords) == 2
    # context.execute(batch_size, bindings) / execute_async(batch_size, bindings, stream_handle)
    return bool(keywords & {"bindings", "batch_size", "stream_handle"}) or len(parent.args) >= 2


def lint_source(source: str, filename: str = "<source>") -> list[Finding]:
    """Every use of a removed TensorRT 8 name in ``source`` (SyntaxError if it does not parse)."""
    tree = ast.parse(source, filename=filename)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    findings = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or node.attr not in RULES:
            continue
        if node.attr in _CALL_SHAPED and not _trt8_call(node, parents.get(node)):
            continue
        parent = parents.get(node)
        shown = parent if isinstance(parent, ast.Call) and parent.func is node else node
        code = ast.get_source_segment(source, shown) or node.attr
        findings.append(Finding(node.lineno, node.col_offset, RULES[node.attr], " ".join(code.split())))
    return sorted(findings, key=lambda finding: (finding.line, finding.column))


def summary(findings: list[Finding], filename: str) -> list[str]:
    """One line per removed name, in order of first use, with every line it is used on: none is left out."""
    uses: dict[str, list[Finding]] = {}
    for finding in findings:
        uses.setdefault(finding.rule.name, []).append(finding)
    lines = []
    for group in uses.values():
        first = group[0]
        where = ", ".join(str(finding.line) for finding in group)
        count = f" ({len(group)} uses)" if len(group) > 1 else ""
        status = "" if first.rule.status == REMOVED else f" [{first.rule.name}: {first.rule.status}]"
        code = first.code if len(first.code) <= CODE_SHOWN else first.code[: CODE_SHOWN - 3] + "..."
        lines.append(f"{filename}:{where}: `{code}`{count}{status} -> {first.rule.replacement}")
    return lines


def names(findings: list[Finding]) -> list[str]:
    """The removed names used, in order of first use, each once."""
    return list(dict.fromkeys(finding.rule.name for finding in findings))


def lint_file(path: str | os.PathLike[str]) -> list[Finding]:
    """``lint_source`` of a file."""
    return lint_source(Path(path).read_text(encoding="utf-8"), os.fspath(path))


def stubbed_functions(source: str, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` are missing or still only ``raise NotImplementedError`` (docstring, pass, ... aside)."""
    tree = ast.parse(source)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    return [name for name in names if name not in functions or _is_stub(functions[name])]


def _is_stub(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """True when the body does nothing but raise NotImplementedError."""
    body = list(function.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    for statement in body:
        if isinstance(statement, ast.Pass) or (
            isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        ):
            continue
        if isinstance(statement, ast.Raise) and _names_not_implemented(statement.exc):
            continue
        return False
    return True


def _names_not_implemented(exc: ast.expr | None) -> bool:
    """``NotImplementedError`` or ``NotImplementedError(...)``."""
    target = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(target, ast.Name) and target.id == "NotImplementedError"


def attributes_used(source: str) -> set[str]:
    """Every attribute name the code reads, writes or calls (``x.name``)."""
    return {node.attr for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Attribute)}


# ---------------------------------------------------------------- what a function does (read, never run)

MODULE_LEVEL = "<module>"


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """The module's top-level functions by name."""
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def _called(node: ast.AST) -> set[str]:
    """Names of everything ``node`` calls: ``f(...)`` gives ``f``, ``x.f(...)`` gives ``f``."""
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            if isinstance(child.func, ast.Name):
                names.add(child.func.id)
            elif isinstance(child.func, ast.Attribute):
                names.add(child.func.attr)
    return names


def reachable(source: str, start: str, skip: tuple[str, ...] = ()) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """``start`` and the module's functions it calls by name, directly or through others (not those in ``skip``)."""
    functions = _functions(ast.parse(source))
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    todo = [start]
    while todo:
        name = todo.pop()
        if name in functions and name not in skip and functions[name] not in found:
            found.append(functions[name])
            todo.extend(sorted(_called(functions[name])))
    return found


def calls_in(functions: list[ast.FunctionDef | ast.AsyncFunctionDef]) -> set[str]:
    """Everything these functions call (``_called`` of each)."""
    return set().union(*(_called(function) for function in functions)) if functions else set()


def enters(functions: list[ast.FunctionDef | ast.AsyncFunctionDef], manager: str) -> bool:
    """Whether one of these functions has a ``with manager(...)`` block."""
    return any(
        isinstance(item.context_expr, ast.Call)
        and isinstance(item.context_expr.func, ast.Name)
        and item.context_expr.func.id == manager
        for function in functions
        for node in ast.walk(function)
        if isinstance(node, ast.With | ast.AsyncWith)
        for item in node.items
    )


def callers_of(source: str, name: str) -> list[str]:
    """The top-level functions (``MODULE_LEVEL`` for other code) that call ``name``, in file order."""
    tree = ast.parse(source)
    callers = []
    for node in tree.body:
        owner = node.name if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else MODULE_LEVEL
        if name in _called(node) and owner not in callers:
            callers.append(owner)
    return callers
