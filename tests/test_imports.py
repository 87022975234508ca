"""The package imports cleanly: every module on its own, and no import cycle between its modules.

Both tests read the package's files, so a module added later is covered without a change here.
The helpers take the package's location, so the last two tests can check them on a small package
written for the purpose: a cycle there must be found and reported.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def package_modules(root: Path, package: str) -> dict[str, Path]:
    """``{"trainwell.data.sources": path, "trainwell.data": path to its __init__.py, ...}``."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(node: ast.Import | ast.ImportFrom, importer: str, modules: dict[str, Path]) -> list[str]:
    """The package modules one ``import``/``from`` statement names: ``from pkg import name`` is
    the submodule ``pkg.name`` when there is one, else ``pkg`` itself (whose __init__ runs)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    if node.level:                       # relative: resolved against the importer's package
        package = importer if modules[importer].name == "__init__.py" else importer.rpartition(".")[0]
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    if source not in modules:
        return []
    return [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]


def _with_packages(target: str, importer: str) -> list[str]:
    """``target`` and the packages whose __init__ runs first when ``importer`` imports it: each
    package above ``target`` that is not also above ``importer`` (those have begun already, and
    the root package is above every module)."""
    parts = target.split(".")
    above_target = {".".join(parts[:i]) for i in range(1, len(parts))}
    above_importer = {".".join(importer.split(".")[:i]) for i in range(1, importer.count(".") + 1)}
    return sorted(above_target - above_importer) + [target]


def import_graph(root: Path, package: str) -> dict[str, dict[str, list[int]]]:
    """``{importer: {imported module: [line, ...]}}`` over every ``import``/``from`` statement of
    the package, at the top of a module or inside a function alike: an import inside a function
    runs when the function is called and closes a cycle just the same."""
    modules = package_modules(root, package)
    graph: dict[str, dict[str, list[int]]] = {name: {} for name in modules}
    for importer, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _imported(node, importer, modules):
                for module in _with_packages(target, importer):
                    lines = graph[importer].setdefault(module, [])
                    if module != importer and node.lineno not in lines:
                        lines.append(node.lineno)
        graph[importer].pop(importer, None)
    return graph


def strongly_connected(graph: dict[str, dict]) -> list[list[str]]:
    """The groups of two or more modules that import each other, directly or through others
    (Tarjan 1972): each such group holds at least one cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def shortest_cycle(graph: dict[str, dict], start: str) -> list[str]:
    """The shortest chain of imports from ``start`` back to ``start`` (breadth first)."""
    came_from = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node]):
            if nxt == start:
                chain = [node]
                while came_from[chain[-1]] is not None:
                    chain.append(came_from[chain[-1]])
                return chain[::-1] + [start]
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    return []


def describe_cycles(root: Path, package: str) -> list[str]:
    """One paragraph per group of modules that import each other: a shortest cycle, then every
    import statement between the group's modules as ``file:line -> module``."""
    graph = import_graph(root, package)
    modules = package_modules(root, package)
    out = []
    for group in strongly_connected(graph):
        lines = [f"cycle {' -> '.join(shortest_cycle(graph, group[0]))}; the imports between "
                 f"{', '.join(group)}:"]
        for importer in group:
            for target, linenos in sorted(graph[importer].items()):
                if target in group:
                    lines += [f"  {modules[importer].relative_to(root)}:{n} -> {target}" for n in linenos]
        out.append("\n".join(lines))
    return out


# Run in a fresh interpreter: imports each module named on the command line with every module
# of the package removed from sys.modules first, so the module's own imports decide the order.
# A plain `import trainwell.x` would first run trainwell/__init__.py, which imports most of the
# package in one fixed order and would hide an order problem of x; a bare stand-in for the root
# package avoids that (the root itself is imported for real, as the first name). Third-party
# modules (torch, numpy, ...) stay loaded: importing them again would only cost time.
_IMPORT_EACH = """
import importlib, sys, traceback, types
root, package, names = sys.argv[1], sys.argv[2], sys.argv[3:]
failed = []
for name in names:
    for key in [k for k in sys.modules if k == package or k.startswith(package + ".")]:
        del sys.modules[key]
    if name != package:
        stand_in = types.ModuleType(package)
        stand_in.__path__ = [root + "/" + package]
        sys.modules[package] = stand_in
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc(limit=-3))
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def import_each(root: Path, package: str) -> subprocess.CompletedProcess:
    names = sorted(package_modules(root, package), key=lambda n: (n != package, n))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", _IMPORT_EACH, str(root), package, *names],
                          capture_output=True, text=True, env=env, cwd=root, timeout=600)


@pytest.mark.slow
def test_every_module_imports_on_its_own_in_a_fresh_interpreter():
    result = import_each(ROOT, "trainwell")
    assert result.returncode == 0, f"modules that fail to import on their own:\n{result.stdout}{result.stderr}"


def test_the_import_graph_has_no_cycle():
    cycles = describe_cycles(ROOT, "trainwell")
    assert not cycles, ("import cycles (break each by moving the import, or the name it needs, to "
                        "a module both sides can import):\n" + "\n".join(cycles))


# ------------------------------------------------------------------------------ the helpers
def _write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_cycles_through_function_local_imports_and_package_inits_are_found(tmp_path):
    _write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.b import B\n",
        "pkg/b.py": "B = 1\n\ndef later():\n    from pkg import a\n",     # a -> b -> a, inside a function
        "pkg/c.py": "import pkg.sub.d\n",
        "pkg/sub/__init__.py": "from .e import E\n",                        # c -> sub -> e -> c
        "pkg/sub/d.py": "",
        "pkg/sub/e.py": "from ..c import *\nE = 1\n",
        "pkg/ok.py": "from pkg import b\nfrom pkg.sub import d\n",
    })
    cycles = describe_cycles(tmp_path, "pkg")
    assert len(cycles) == 2, cycles
    assert cycles[0].startswith("cycle pkg.a -> pkg.b -> pkg.a;")
    assert "pkg/a.py:1 -> pkg.b" in cycles[0] and "pkg/b.py:4 -> pkg.a" in cycles[0]
    assert cycles[1].startswith("cycle pkg.c -> pkg.sub -> pkg.sub.e -> pkg.c;")
    assert "pkg/sub/__init__.py:1 -> pkg.sub.e" in cycles[1] and "pkg/sub/e.py:1 -> pkg.c" in cycles[1]
    assert "pkg.ok" not in "".join(cycles)                                 # imports, but no cycle


def test_a_module_that_fails_only_when_imported_first_is_reported(tmp_path):
    _write_package(tmp_path, {
        "pkg/__init__.py": "from pkg import a\n",            # the package imports a first: fine
        "pkg/a.py": "A = 1\nfrom pkg.b import B\n",
        "pkg/b.py": "from pkg.a import A\nB = 2\n",          # b first: a needs B before b has it
    })
    result = import_each(tmp_path, "pkg")
    assert result.returncode == 1
    failed = [line.split(":")[0] for line in result.stdout.splitlines() if line.startswith("pkg")]
    assert failed == ["pkg.b"], result.stdout
    assert "ImportError: cannot import name 'B'" in result.stdout


def test_no_registry_imports_config():
    """config.py imports the registries' validators; a registry importing config would close a cycle."""
    graph = import_graph(ROOT, "trainwell")
    registries = [m for m in graph if m.split(".")[1:2] in (["data"], ["nn"], ["optim"]) or m == "trainwell.options"]
    assert registries and [m for m in registries if "trainwell.config" in graph[m]] == []


# What `import trainwell` (and so every CLI command) must not load: each costs ~0.3-1 s and is
# imported only where it is used (BENCHMARKS.md, "Per-trial cost and a command's fixed cost, fifth
# pass"): torch._dynamo by torch.optim's first optimizer or torch.compile, scikit-learn by the
# data splits and sources, matplotlib by the reports, Optuna by a search.
NOT_AT_IMPORT = ("torch._dynamo", "sklearn", "scipy", "matplotlib", "optuna")


def test_importing_trainwell_loads_no_slow_module_it_does_not_need():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    code = ("import sys, trainwell, trainwell.cli; "
            f"print(' '.join(m for m in {NOT_AT_IMPORT!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=600, check=True).stdout
    assert out.split() == [], f"`import trainwell` loaded {out.split()}: import them where they are used"
