"""Structure the code keeps (docs/architecture.md): short functions where a reader most needs to
follow the flow."""
import ast
from pathlib import Path

import pytest

import trainwell

ROOT = Path(trainwell.__file__).parent
MAX_FUNCTION_LINES = 60     # issue 10: the loop and the repairer read top to bottom


def _longest(path: Path) -> tuple[int, str]:
    tree = ast.parse(path.read_text())
    return max(((node.end_lineno - node.lineno + 1, node.name) for node in ast.walk(tree)
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))), default=(0, ""))


@pytest.mark.parametrize("module", ["train/loop.py", "babysit/repair.py"])
def test_the_loop_and_the_repairer_have_short_functions(module):
    lines, name = _longest(ROOT / module)
    assert lines < MAX_FUNCTION_LINES, f"{module}: {name} has {lines} lines"
