"""What a search does with a study directory it did not write alone: a bad ``--storage`` path, a
damaged or torn journal, and symbolic links where the search writes. Each refusal is one line and
status 2 (no traceback), and nothing is written through a link the search did not make."""
import csv
import shutil

import optuna
import pytest

from trainwell.cli import main
from trainwell.hpsearch.study import IN_PLACE

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
[search.space]
lr = {low = 1e-3, high = 0.3}
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 2-trial study, copied by each test that changes it."""
    root = tmp_path_factory.mktemp("finished")
    (root / "s.toml").write_text(CONFIG)
    assert main(["search", str(root / "s.toml"), "--dir", str(root / "study"), "--quiet"]) == 0
    return root / "study"


@pytest.fixture
def study(finished, tmp_path):
    shutil.copytree(finished, tmp_path / "study")
    return tmp_path / "study"


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert all(n in err for n in needles), err


def _rows(study):
    with open(study / "trials.csv") as f:
        return list(csv.DictReader(f))


def _journal_records(path):
    """The journal read by Optuna's own backend, as another tool would read it."""
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    return [t for s in storage.get_all_studies() for t in storage.get_all_trials(s._study_id)]


@pytest.mark.parametrize("where", ["missing/dir/s.journal", "."])
def test_a_bad_storage_path_is_one_line_before_the_directory_is_made(tmp_path, capsys, monkeypatch, where):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(CONFIG)
    assert main(["search", "s.toml", "--dir", "study", "--storage", where, "--quiet"]) == 2
    _one_line_error(capsys, f"search.storage = {where!r}: cannot open the journal file")
    assert not (tmp_path / "study").exists()


@pytest.mark.parametrize("damage", ["garbage line\n", '{"op_code": 99}\n'])
@pytest.mark.parametrize("command", ["report", "search"])
def test_a_damaged_journal_is_one_line_naming_the_file(study, capsys, damage, command):
    lines = (study / "study.journal").read_text().splitlines(keepends=True)
    (study / "study.journal").write_text("".join(lines[:3] + [damage] + lines[3:]))
    args = ["report", str(study)] if command == "report" else ["search", "--resume", str(study), "--quiet"]
    assert main(args) == 2
    _one_line_error(capsys, f"{study / 'study.journal'}: not a readable Optuna journal")


def test_a_torn_last_record_is_cut_and_the_study_continues(study, capsys):
    journal = study / "study.journal"
    with open(journal, "ab") as f:
        f.write(b'{"op_code": 5, "worker_id": "x", "tri')       # a power cut in the middle of an append
    assert main(["search", "--resume", str(study), "--set", "search.trials=3", "--quiet"]) == 0
    assert [r["state"] for r in _rows(study)] == ["complete"] * 3
    assert journal.read_bytes().endswith(b"}\n")
    assert len(_journal_records(journal)) == 3          # Optuna's own reader reads every record


def test_a_journal_that_is_one_partial_line_is_refused_untouched(study, capsys):
    (study / "study.journal").write_bytes(b"\x00\x01 not a journal")
    assert main(["search", "--resume", str(study), "--quiet"]) == 2
    _one_line_error(capsys, "not a readable Optuna journal", "only a partial line")
    assert (study / "study.journal").read_bytes() == b"\x00\x01 not a journal"


@pytest.mark.parametrize("name", IN_PLACE)
def test_a_link_where_the_search_writes_in_place_is_refused(study, tmp_path, capsys, name):
    target = tmp_path / "target"
    (study / name).rename(target) if (study / name).exists() else target.write_text("")
    before = sorted(p.name for p in target.iterdir()) if target.is_dir() else target.read_bytes()
    (study / name).symlink_to(target)
    assert main(["search", "--resume", str(study), "--set", "search.trials=3", "--quiet"]) == 2
    _one_line_error(capsys, f"{study / name}: is a symbolic link")
    assert (sorted(p.name for p in target.iterdir()) if target.is_dir() else target.read_bytes()) == before


def test_a_link_where_a_trial_directory_goes_is_replaced_not_followed(study, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "config.toml").write_text("mine")
    (study / "trials" / "1-0002").symlink_to(target)        # where the third trial's run goes
    assert main(["search", "--resume", str(study), "--set", "search.trials=3", "--quiet"]) == 0
    assert [p.name for p in target.iterdir()] == ["config.toml"] and (target / "config.toml").read_text() == "mine"
    trial = study / "trials" / "1-0002"
    assert not trial.is_symlink() and (trial / "results.json").is_file()
    assert [r["state"] for r in _rows(study)] == ["complete"] * 3


def test_a_stage_ends_when_the_trials_another_machine_runs_have_finished(tmp_path, monkeypatch):
    """Searches on several machines share one storage: a stage's last trial may still run on
    another machine when this one has asked for the stage's quota. The next stage is planned once
    that trial has finished (``study.settle``), so its result is ranked and re-evaluated first."""
    import threading
    import time

    import trainwell
    from trainwell.hpsearch.study import HOST

    path = str(tmp_path / "shared.journal")
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
    stage = optuna.create_study(storage=storage, study_name="trainwell/stage-0", direction="maximize")
    stage.enqueue_trial({"lr": 0.05})
    elsewhere = stage.ask({"lr": optuna.distributions.FloatDistribution(1e-3, 0.3, log=True)})
    elsewhere.set_user_attr("worker", {"host": HOST + "-another", "pid": 1, "started": time.time()})

    def the_other_machine():       # finishes its trial a second after this machine's two
        while sum(t.state.is_finished() for t in stage.get_trials(deepcopy=False)) < 2:
            time.sleep(0.05)
        time.sleep(1.0)
        stage.tell(elsewhere, 0.999)

    import trainwell.hpsearch.study as study_module
    monkeypatch.setattr(study_module, "PLAN_WAIT_S", 0.5)    # the other machine plans nothing here
    thread = threading.Thread(target=the_other_machine)
    thread.start()
    result = trainwell.search({"type": "mlp", "widths": [8]}, "digits", space={"lr": {"low": 1e-3, "high": 0.3}},
                              search={"dir": str(tmp_path / "study"), "storage": path, "pruner": "none",
                                      "metric": "val_acc", "reevaluate": 1,
                                      "stages": [{"trials": 3, "epochs": 1}, {"trials": 1, "epochs": 1}]},
                              device="cpu", batch_size=256, babysit="off", progress=False)
    thread.join()
    first, second = ([r for r in result.trials if r["stage"] == s] for s in (1, 2))
    assert [r["state"] for r in first] == ["complete"] * 3
    assert second[0]["reevaluates"] == elsewhere.number and second[0]["lr"] == pytest.approx(0.05)


def test_after_waiting_for_another_machine_its_plan_of_the_next_stage_is_awaited(tmp_path):
    """The search whose trial ended a stage plans the next; one that waited for it waits for that
    plan (two plans at one moment would both enqueue the re-evaluations), and returns once the
    plan is stored, well before ``PLAN_WAIT_S``."""
    import threading
    import time

    from trainwell.hpsearch.settings import parse_settings
    from trainwell.hpsearch.study import PLAN_WAIT_S, Context, load_stage, open_storage, planned_elsewhere

    base = {"epochs": 1}
    settings = parse_settings({"space": {"lr": {"low": 1e-3, "high": 0.3}}, "storage": str(tmp_path / "j.journal"),
                               "stages": [{"trials": 2}, {"trials": 1}]}, base)
    ctx = Context(None, "digits", base, settings, tmp_path)
    storage = open_storage(settings, tmp_path)
    stage = load_stage(ctx, storage, 1)
    threading.Timer(0.5, lambda: stage.set_user_attr("space", {})).start()
    started = time.monotonic()
    planned_elsewhere(ctx, storage, 1)
    assert 0.4 < time.monotonic() - started < min(10.0, PLAN_WAIT_S)
    assert "space" in load_stage(ctx, storage, 1).user_attrs


def test_the_rungs_end_when_the_trials_another_machine_runs_have_finished(tmp_path, monkeypatch):
    """As above with asynchronous promotion (``eta``): the fine stage after the rungs is planned
    around every draw, one still running on another machine when this one's rungs are done too."""
    import threading
    import time

    import trainwell
    import trainwell.hpsearch.study as study_module
    from trainwell.hpsearch.study import HOST

    path = str(tmp_path / "shared.journal")
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
    rung = optuna.create_study(storage=storage, study_name="trainwell/stage-0", direction="maximize")
    rung.enqueue_trial({"lr": 0.05})
    elsewhere = rung.ask({"lr": optuna.distributions.FloatDistribution(1e-3, 0.3, log=True)})
    elsewhere.set_user_attr("worker", {"host": HOST + "-another", "pid": 1, "started": time.time()})

    def the_other_machine():
        while sum(t.state.is_finished() for t in rung.get_trials(deepcopy=False)) < 3:
            time.sleep(0.05)
        time.sleep(1.0)
        rung.tell(elsewhere, 0.999)

    monkeypatch.setattr(study_module, "PLAN_WAIT_S", 0.5)
    thread = threading.Thread(target=the_other_machine)
    thread.start()
    result = trainwell.search({"type": "mlp", "widths": [8]}, "digits", space={"lr": {"low": 1e-3, "high": 0.3}},
                              search={"dir": str(tmp_path / "study"), "storage": path, "pruner": "none",
                                      "metric": "val_acc", "reevaluate": 1, "eta": 3, "rungs": 2,
                                      "stages": [{"trials": 4, "epochs": 1}, {"trials": 1, "epochs": 1},
                                                 {"trials": 1, "epochs": 1}]},
                              device="cpu", batch_size=256, babysit="off", progress=False)
    thread.join()
    first, fine = ([r for r in result.trials if r["stage"] == s] for s in (1, 3))
    assert [r["state"] for r in first] == ["complete"] * 4
    assert fine[0]["reevaluates"] == elsewhere.number and fine[0]["lr"] == pytest.approx(0.05)
