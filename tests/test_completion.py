import shutil
import subprocess

import pytest

from trainwell.cli import build_parser, main


@pytest.fixture(scope="module")
def script():
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["completion", "bash"]) == 0
    return out.getvalue()


def _complete(script, *words) -> list[str]:
    """What bash offers for the last of ``words`` (``trainwell`` first), running the script."""
    quoted = " ".join(f"'{w}'" for w in words)
    program = f'{script}\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; _trainwell; ' \
              'printf "%s\\n" "${COMPREPLY[@]}"'
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("words, expected", [
    (["trainwell", "pr"], ["predict"]),
    (["trainwell", "fit", "--re"], ["--resume"]),
    (["trainwell", "fit", "--resume", "runs/x", "--con"], ["--continue"]),
    (["trainwell", "predict", "run", "x.npy", "--output", "p"], ["proba"]),
    (["trainwell", "fit", "c.toml", "--set", "lr"], ["lr=", "lr_mults="]),
    (["trainwell", "completion", "--h"], ["--help"]),
])
def test_bash_completes_commands_options_choices_and_set_keys(script, words, expected):
    assert _complete(script, *words) == expected


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_every_command_is_completed_and_python_only_options_are_not(script):
    commands = _complete(script, "trainwell", "")
    parser = build_parser()
    names = next(a for a in parser._actions if hasattr(a, "choices") and a.choices and not a.option_strings)
    assert set(names.choices) <= set(commands)
    assert "callbacks=" not in _complete(script, "trainwell", "fit", "c.toml", "--set", "c")
