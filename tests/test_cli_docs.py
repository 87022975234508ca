"""Every command and flag of the `trainwell` command line is named in the docs (README.md or
docs/*.md), so a user who reads about a command finds every argument it takes there too."""
import argparse
import re
from pathlib import Path

from trainwell.cli import build_parser

ROOT = Path(__file__).parents[1]
TEXT = "\n".join([(ROOT / "README.md").read_text()] + [p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))])


def commands_and_flags(parser: argparse.ArgumentParser, command: str = "") -> dict[str, set[str]]:
    """{command: its long flags}, for the top level ("") and every subcommand."""
    found = {command: set()}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(commands_and_flags(sub, f"{command} {name}".strip()))
        else:
            found[command] |= {s for s in action.option_strings if s.startswith("--") and s != "--help"}
    return found


def test_every_command_and_flag_is_in_the_docs():
    table = commands_and_flags(build_parser())
    assert len(table) > 10, "the parser's subcommands were not found"
    undocumented = [f"trainwell {command}".strip() for command in table
                    if command and not re.search(rf"trainwell {re.escape(command)}\b", TEXT)]
    undocumented += [f"trainwell {command} {flag}".replace("  ", " ") for command, flags in table.items()
                     for flag in sorted(flags) if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", TEXT)]
    assert not undocumented, f"on the command line but in no docs page: {undocumented}"
