"""``trainwell search``: bad input is one line and status 2 before any trial; a search writes its
study directory; ``--resume`` and ``trainwell report STUDY_DIR`` work."""
import csv
import re

import pytest

from trainwell.cli import main

CONFIG = """
device = "cpu"
epochs = 1
batch_size = 256
babysit = "off"
[model]
type = "mlp"
widths = [8]
[search]
trials = 2
pruner = "none"
dir = "study"
[search.space]
lr = {low = 1e-3, high = 0.3}
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _config(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("extra, sets, message", [
    ('wd = {low = 1e-6, high = 1e-2}\n', [], "search.space.wd: unknown option 'wd'"),
    ('momentum = {low = 0.9, high = 0.5}\n', [], "search.space.momentum: low = 0.9 >= high = 0.5"),
    ('weight_decay = {low = 0.0, high = 1e-2, log = true}\n', [], "search.space.weight_decay: log = true needs low > 0"),
    ('optimizer = {choices = ["sgd", "adamm"]}\n', [], "search.space.optimizer: choice 'adamm' is refused"),
    ('', ["search.sampler=sobol"], "search.sampler = 'sobol': unknown"),
    ('', ["search.folds=1"], "search.folds = 1: must be an integer >= 2"),
    ('', ["search.pruner=medain"], "did you mean 'median'?"),
    ('', ["search.rungs=2"], "search.rungs = 2: rungs are the stages of asynchronous promotion; set eta too"),
    ('', ['search.narrow="no"'], "search.narrow = 'no': must be true/false"),
    ('', ["search.coarse_size=0"], "search.coarse_size = 0: must be >= 1"),
    ('', ['search.stages=[{trials = 4}]', "search.coarse_epochs=1"],
     "search.coarse_epochs = 1: it sizes the default plan, and stages is set"),
])
def test_bad_search_is_one_line_and_status_2_before_any_trial(tmp_path, capsys, extra, sets, message):
    args = ["search", _config(tmp_path, CONFIG + extra), "--quiet"] + [a for s in sets for a in ("--set", s)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "study").exists()


def test_search_then_resume_then_report(tmp_path, capsys):
    config = _config(tmp_path, CONFIG)
    assert main(["search", config]) == 0
    out, err = capsys.readouterr()
    assert "best: trial" in out and re.search(r"stage 1/1: 2 done, 0 running, 0 pruned, 0 failed", err)
    progress = [line for line in err.splitlines() if line.startswith("stage ")]
    assert all(a != b for a, b in zip(progress, progress[1:])), "a log repeats no progress line"
    for name in ("trials.csv", "best.toml", "report.html", "search.toml", "study.journal"):
        assert (tmp_path / "study" / name).exists()
    assert main(["search", config]) == 2                      # the directory holds a search already
    assert main(["search", "--resume", "study", "--set", "search.trials=3", "--quiet"]) == 0
    with open(tmp_path / "study" / "trials.csv") as f:
        assert len(list(csv.DictReader(f))) == 3
    (tmp_path / "study" / "report.html").unlink()
    assert main(["report", "study"]) == 0
    page = (tmp_path / "study" / "report.html").read_text()
    assert "data:image/png;base64," in page and "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "Best trials" in page
    figures = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', page)
    # one parameter: no 2-D scatter and no parallel coordinates (two parameters: below)
    assert figures == ["Optimization history", "val_loss against lr", "Parameter importances"]


def test_trials_csv_and_the_report_of_two_parameters(tmp_path):
    """trials.csv's columns (issue 13: parameters, stage, fold results, state, prune reason,
    seconds) and the report's figures with two parameters: the 2-D scatter of the pair too."""
    text = CONFIG + 'weight_decay = {low = 1e-6, high = 1e-3}\n'
    assert main(["search", _config(tmp_path, text), "--quiet", "--set", "search.folds=2"]) == 0
    with open(tmp_path / "study" / "trials.csv") as f:
        header = next(csv.reader(f))
    assert header == ["stage", "trial", "state", "value", "epochs", "lr", "weight_decay", "fold_values", "fold_std",
                      "prune_reason", "error", "seconds", "run_dir", "from_config", "reevaluates", "promoted_from",
                      "retry_of"]
    page = (tmp_path / "study" / "report.html").read_text()
    figures = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', page)
    assert len(figures) == 6 and figures[0] == "Optimization history" and figures[-2:] == [
        "Parallel coordinates", "Parameter importances"]
    assert set(figures[1:4]) == {"val_loss against lr", "val_loss against weight_decay", "weight_decay and lr"} or \
        set(figures[1:4]) == {"val_loss against lr", "val_loss against weight_decay", "lr and weight_decay"}


def test_a_trial_directory_is_a_run_that_trainwell_fit_continues(tmp_path):
    """docs/search.md: `trainwell fit --resume TRIAL_DIR --continue --set epochs=N` trains a
    finished trial further from its end checkpoint."""
    import json
    assert main(["search", _config(tmp_path, CONFIG), "--quiet"]) == 0
    trial = tmp_path / "study" / "trials" / "1-0000"
    assert main(["fit", "--resume", str(trial), "--continue", "--set", "epochs=3", "--quiet"]) == 0
    epochs = [json.loads(line)["epoch"] for line in (trial / "metrics.jsonl").read_text().splitlines()
              if '"epoch"' in line]
    assert epochs[-1] == 3 and epochs.count(1) == 1


def test_no_search_table(tmp_path, capsys):
    assert main(["search", _config(tmp_path, CONFIG.split("[search]")[0]), "--quiet"]) == 2
    assert "no [search] table" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_an_rdb_storage_url_holds_the_study(tmp_path, kind):
    """``--storage``: an RDB URL (SQLite here) or a journal file path holds the study, which
    ``trainwell report`` finds again through search.toml."""
    url = f"sqlite:///{tmp_path / 'studies.db'}" if kind == "sqlite" else str(tmp_path / "shared.journal")
    assert main(["search", _config(tmp_path, CONFIG), "--storage", url, "--quiet", "--workers", "2"]) == 0
    held = tmp_path / ("studies.db" if kind == "sqlite" else "shared.journal")
    assert held.stat().st_size > 0 and not (tmp_path / "study" / "study.journal").exists()
    with open(tmp_path / "study" / "trials.csv") as f:
        assert [r["state"] for r in csv.DictReader(f)] == ["complete", "complete"]
    assert main(["report", "study"]) == 0           # the report finds the study through search.toml


def test_the_search_command_freezes_the_objects_at_exit(tmp_path):
    """The exit handler that ``cmd_search`` registers runs at the interpreter's exit (after the
    handler registered before it, atexit's order) and freezes the objects then alive, so that the
    interpreter's last collection skips them; registered once however many searches run."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    code = ("import atexit, gc\n"
            "atexit.register(lambda: print('frozen at exit', gc.get_freeze_count()))\n"
            "from trainwell.hpsearch.cli import skip_exit_collection\n"
            "skip_exit_collection(); skip_exit_collection()\n"
            "print('frozen before exit', gc.get_freeze_count())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": root}).stdout
    before, at_exit = (int(line.rsplit(" ", 1)[1]) for line in out.splitlines())
    assert before == 0 and at_exit > 10_000


def test_a_grid_stage_that_uses_up_its_grid_ends_and_an_edge_best_widens_the_next_range(tmp_path, capsys):
    """A grid of 4 lr values in a stage of 4 trials (Optuna's grid sampler calls ``study.stop()``
    once the grid is used up, which raised out of the stage's ask and tell); the grid holds the
    range's top, lr = 0.3 learns best in one epoch, so the fine stage widens the top and the search
    says so on its output and in report.html."""
    text = CONFIG.replace("trials = 2\n", 'stages = [{trials = 4}, {trials = 1}]\nsampler = "grid"\n'
                          'metric = "val_acc"\n').replace("batch_size = 256", "batch_size = 64")
    assert main(["search", _config(tmp_path, text), "--quiet"]) == 0
    out = capsys.readouterr().out
    with open(tmp_path / "study" / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["state"] for r in rows] == ["complete"] * 5 and len({r["lr"] for r in rows[:4]}) == 4
    message = re.search(r"best lr 0\.3 is at the top of \[0\.001, 0\.3\]: widened to \[\S+, (\S+)\]", out)
    assert message and float(message.group(1)) > 0.3
    assert message.group(0) in (tmp_path / "study" / "report.html").read_text()


@pytest.mark.parametrize("change, message", [
    ('search.metric="val_acc"', "search.metric: the study in study was run with metric = 'val_loss', and a "
                                "resumed search keeps it (got 'val_acc')"),
    ("search.folds=2", "search.folds: the study in study was run with folds = None"),
    ("search.space.lr={low=0.01, high=0.3}", "search.space.lr: the study in study searched lr over"),
    ("search.space.momentum={low=0.5, high=0.9}", "search.space.momentum: the study in study did not search momentum"),
])
def test_a_resumed_search_keeps_its_metric_folds_and_space(tmp_path, capsys, change, message):
    """The stored values are the study's metric's (a new metric would rank them the wrong way: the
    worst val_acc as the best val_loss), over its folds and its stages' stored spaces: a resume that
    changes one is one line and status 2; one that asks for more trials runs."""
    assert main(["search", _config(tmp_path, CONFIG), "--quiet"]) == 0
    capsys.readouterr()
    before = (tmp_path / "study" / "trials.csv").read_text()
    assert main(["search", "--resume", "study", "--set", change, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert (tmp_path / "study" / "trials.csv").read_text() == before
