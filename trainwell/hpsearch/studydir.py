"""A study directory's own file: ``search.toml``, the base options and the ``[search]`` table.

``trainwell search --resume STUDY_DIR`` and ``trainwell report STUDY_DIR`` read it; its presence
is what makes a directory a study directory.
"""
from __future__ import annotations

from pathlib import Path

import tomli_w

from trainwell.config import FIELDS, read_toml
from trainwell.train.rundir import atomic_write_text

SEARCH_FILE = "search.toml"


def is_study_dir(path) -> bool:
    return (Path(path) / SEARCH_FILE).is_file()


def write_search_file(base: dict, table: dict, path: Path) -> None:
    """search.toml: the options and the [search] table; values only Python can hold (a loss
    function, callbacks) are named in a comment instead (a resume from Python passes them again)."""
    plain, left_out = {}, []
    for key, value in base.items():
        try:
            tomli_w.dumps({key: value})
        except (TypeError, ValueError):
            left_out.append(key)
            continue
        if key in FIELDS and not FIELDS[key].metadata["in_files"]:
            left_out.append(key)
            continue
        plain[key] = value
    text = tomli_w.dumps(_without_none({**plain, "search": table}))
    if left_out:
        text = f"# given from Python, not written here: {', '.join(left_out)}\n" + text
    atomic_write_text(path, text)


def _without_none(value):
    """``value`` with every None left out, in nested tables and lists too (TOML has no null: a
    stage ``{trials = 15, epochs = None}`` is written ``{trials = 15}``, which reads back the same)."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value


def read_search_file(study_dir) -> tuple[dict, dict]:
    """(base options, [search] table) of a study directory, for ``--resume``."""
    options = read_toml(Path(study_dir) / SEARCH_FILE)
    table = options.pop("search", {})
    table["dir"] = str(study_dir)
    return options, table
