"""The Python snippets of docs/*.md call trainwell as it is: what they import from trainwell exists,
and every call of a trainwell function (imported, or ``trainwell.NAME``) binds to its signature
(positional count and keyword names); the keywords given to ``fit``-like entry points that take
``**options`` are config options. The snippets are fragments (``model``, ``X`` are the reader's),
so nothing is run: tests/test_readme.py runs the README's tour, tests/test_docs_snippets.py checks
the TOML blocks. A signature listing such as ``save_checkpoint(directory, state, *, name=None)`` is
read as a call with its keyword-only marker dropped. docs/babysitter.md is left out: its blocks
list dataclass fields and signatures with annotations, not calls."""
import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import trainwell
from trainwell.config import OPTIONS

DOCS = Path(__file__).parents[1] / "docs"
LISTINGS = {"babysitter.md"}
TAKE_CONFIG_OPTIONS = {"fit", "ensemble", "search", "doctor", "connect", "distill"}   # **options = fit's


def snippets():
    for page in sorted(p for p in DOCS.glob("*.md") if p.name not in LISTINGS):
        for i, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)):
            yield pytest.param(block, id=f"{page.name}#{i}")


SNIPPETS = list(snippets())


def trainwell_callables(tree: ast.AST) -> dict:
    """name -> object for every ``from trainwell... import NAME`` of the snippet, and ``trainwell``."""
    names = {"trainwell": trainwell}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "trainwell":
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{node.module} has no {alias.name}"
                names[alias.asname or alias.name] = getattr(module, alias.name)
    return names


def called(node: ast.Call, names: dict):
    """The trainwell function a call calls, or None (the reader's own names, methods of results)."""
    if isinstance(node.func, ast.Name):
        return names.get(node.func.id)
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
            and node.func.value.id == "trainwell":
        assert hasattr(trainwell, node.func.attr), f"trainwell has no {node.func.attr}"
        return getattr(trainwell, node.func.attr)
    return None


def test_the_docs_have_python_snippets():
    assert len(SNIPPETS) >= 20, "the docs' Python examples were not found (changed fence?)"


@pytest.mark.parametrize("block", SNIPPETS)
def test_docs_python_snippet_calls_trainwell_as_it_is(block):
    tree = ast.parse(re.sub(r",\s*\*\s*,", ",", block))
    names = trainwell_callables(tree)
    for node in ast.walk(tree):
        function = called(node, names) if isinstance(node, ast.Call) else None
        if function is None or not callable(function):
            continue
        keywords = [k.arg for k in node.keywords if k.arg]
        signature = inspect.signature(function)
        try:
            signature.bind(*[None] * len(node.args), **dict.fromkeys(keywords))
        except TypeError as e:
            raise AssertionError(f"{ast.unparse(node)[:80]}: {e}") from None
        if getattr(function, "__name__", "") in TAKE_CONFIG_OPTIONS:
            unknown = [k for k in keywords if k not in signature.parameters and k not in OPTIONS]
            assert not unknown, f"{ast.unparse(node)[:80]}: not options: {unknown}"
