"""docs/architecture.md names every module of the package: a module `trainwell/DIR/NAME.py` is named
as `DIR/NAME.py` anywhere on the page, or as `NAME.py` (or a glob such as `run_*.py`) in the
page's `DIR/` entry; a top-level module as `NAME.py`. And every module the page names that way
exists."""
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
PAGE = (ROOT / "docs" / "architecture.md").read_text()
PACKAGE = ROOT / "trainwell"
ENTRY = re.compile(r"^   (\S+)")          # an entry of the package tree starts at column 3


def folder_entries(page: str) -> dict[str, str]:
    """The text of each `DIR/` entry of the package tree (an entry runs to the next one),
    with the `DIR/NAME.py` entries added to their folder's."""
    entries: dict[str, str] = {}
    current = None
    for line in page.splitlines():
        start = ENTRY.match(line)
        if start:
            current = start.group(1).split("/")[0] if "/" in start.group(1) else None
        elif line and not line.startswith(" "):
            current = None
        if current:
            entries[current] = entries.get(current, "") + line + "\n"
    return entries


def names_in(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w/])([\w*]+\.py)\b", text))


def test_every_module_is_named_on_the_architecture_page():
    entries = folder_entries(PAGE)
    unnamed = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__init__.py" or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(PACKAGE)
        if f"{relative.as_posix()}" in PAGE or f"trainwell/{relative.as_posix()}" in PAGE:
            continue
        folder = relative.parts[0] if len(relative.parts) > 1 else None
        listed = names_in(entries.get(folder, "") if folder else PAGE)
        if not any(fnmatch.fnmatch(path.name, name) for name in listed):
            unnamed.append(relative.as_posix())
    assert not unnamed, (f"modules docs/architecture.md does not name: {unnamed}; add a line to "
                         f"their folder's entry saying what each does")


def test_every_module_the_page_names_exists():
    named = set(re.findall(r"(?<![\w/])((?:train|data|nn|optim|babysit|report|ensembles|hpsearch|geometry)"
                           r"/\w+\.py)", PAGE))
    assert named, "the page names no DIR/NAME.py (changed layout?)"
    for folder, text in folder_entries(PAGE).items():     # NAME.py in the DIR/ entry: DIR/NAME.py
        named |= {f"{folder}/{name}" for name in names_in(text) if "*" not in name}
    missing = sorted(name for name in named if not (PACKAGE / name).exists())
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"
