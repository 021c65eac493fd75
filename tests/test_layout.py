"""The package keeps its shape: stages import forward only, no cycles, no development code at run time."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "divergence"
SHELLS = {"divergence", "divergence.interfaces.cli", "divergence.interfaces.server"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, list[tuple[str, list[str]]]]:
    """Module → (imported module, imported names), including imports inside functions."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        entries = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                entries.append((node.module, [alias.name for alias in node.names]))
            elif isinstance(node, ast.Import):
                entries += [(alias.name, []) for alias in node.names]
        found[_module_name(path)] = entries
    return found


def test_runtime_never_imports_development_code():
    offenders = [(m, i) for m, entries in _imports().items() for i, _ in entries if i == "dev" or i.startswith("dev.")]
    assert offenders == []


def test_only_the_shells_import_the_pipeline():
    offenders = [m for m, entries in _imports().items() for i, _ in entries if i == "divergence.pipeline" and m not in SHELLS | {"divergence.pipeline"}]
    assert offenders == []


def test_no_private_names_cross_modules():
    offenders = [(m, i, n) for m, entries in _imports().items() for i, names in entries if i.startswith("divergence")
                 for n in names if n.startswith("_")]
    assert offenders == []


def test_no_import_cycles():
    graph = {m: {i for i, _ in entries if i.startswith("divergence")} for m, entries in _imports().items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in graph or target == module:
                continue
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    # A package's __init__ re-exporting its own modules is not a cycle of stages.
    cycles = [c for c in cycles if not all(m.startswith(c[0] + ".") or m == c[0] for m in c)]
    assert cycles == []


def test_every_code_is_documented_once():
    from divergence import errors

    raised = {cls.code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.DivergenceError)}
    assert raised <= set(errors.CODES)
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py") if p.name != "errors.py")
    assert 'code = "' not in source, "error classes belong in divergence/errors.py"
