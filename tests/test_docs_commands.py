"""Every `trainwell ...` command line in a code block of README.md or docs/*.md is one the parser
takes: the command exists, its flags exist, their values have the right type and choice. Optional
parts in brackets are taken as given, the first of `a|b` alternatives, `N` / `X` placeholders as a
count / a number, `[--set ...]` as one --set; a line with another `...` is left out.
tests/test_cli_docs.py checks the other way round (every flag is named somewhere); the commands
themselves are run by tests/test_cli.py."""
import argparse
import re
import shlex
from pathlib import Path

import pytest

from trainwell.cli import build_parser

ROOT = Path(__file__).parents[1]
PARSER = build_parser()
COMMANDS = set(next(a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction)).choices)
PLACEHOLDERS = {"N": "3", "X": "0.1"}


def as_argv(line: str) -> list[str] | None:
    """The arguments after `trainwell` of a code-block line, or None when it is not a command."""
    line = re.split(r"\s#", line.strip())[0].strip()
    line = re.sub(r"\[--set [^\]]*\](\.\.\.)?", "--set lr=0.1", line)       # the repeated --set
    line = line.replace("run-...", "run-1")
    found = re.match(r"(?:eval \"\$\()?(trainwell\s[a-z-]+.*?)\)?\"?$", line)
    if not found or "..." in found.group(1):
        return None
    command = found.group(1).split(" > ")[0].replace("[", "").replace("]", "")
    command = re.sub(r"(?<![\w.{])([\w-]+)(\|[\w-]+)+", r"\1", command)          # a|b|c -> a
    argv = [PLACEHOLDERS.get(word, word) for word in shlex.split(command)[1:]]
    return argv


def command_lines():
    for page in [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md")):
        in_block = False
        for number, line in enumerate(page.read_text().splitlines(), 1):
            if line.startswith("```"):
                in_block = not in_block
            elif in_block and (argv := as_argv(line)) is not None:
                yield pytest.param(argv, id=f"{page.name}:{number}")


LINES = list(command_lines())


def test_the_docs_have_command_lines():
    assert len(LINES) >= 25, "the docs' command lines were not found (changed layout?)"


@pytest.mark.parametrize("argv", LINES)
def test_a_documented_command_line_parses(argv, capsys):
    assert argv[0] in COMMANDS or argv[0].startswith("--"), f"trainwell {argv[0]}: no such command"
    try:
        PARSER.parse_args(argv)
    except SystemExit as e:
        if e.code == 0:                   # --version, --help: printed and done
            return
        raise AssertionError(f"trainwell {' '.join(argv)}: {capsys.readouterr().err.strip()}") from None
