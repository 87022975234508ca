import pytest

from trainwell.config import OPTIONS, Config, apply_sets, make_config, parse_set, read_toml, write_toml
from trainwell.errors import ConfigError


@pytest.mark.parametrize("options, message", [
    ({"lrr": 0.1}, "unknown option 'lrr' (did you mean 'lr'?)"),
    ({"lr": -0.1}, "lr = -0.1: must be > 0"),
    ({"lr": "fast"}, "lr = 'fast': must be a number (got str)"),
    ({"epochs": 2.5}, "epochs = 2.5: must be an integer (got float)"),
    ({"shuffle": 1}, "shuffle = 1: must be true/false (got int)"),
    ({"epochs": True}, "epochs = True: must be an integer, not true/false"),
    ({"loss": "cross_entropi"}, "loss = 'cross_entropi': unknown (did you mean 'cross_entropy'?)"),
    ({"momentum": 1.0}, "momentum = 1.0: must be in [0, 1)"),
    ({"betas": [0.9]}, "betas = [0.9]: must be two numbers in [0, 1)"),
    ({"monitor": "val_accuracy"}, "monitor = 'val_accuracy': unknown (did you mean 'val_acc'?)"),
    ({"lr": float("nan")}, "lr = nan: must be a finite number"),
    ({"resume": True}, "resume = true needs run_dir"),
    # float options fit in float32 (bound 1e30), seeds in torch's 64-bit range
    ({"lr": 1e39}, "lr = 1e+39: must be at most 1e+30 in magnitude (torch holds options as float32, "
                   "whose largest value is 3.4e+38)"),
    ({"clip_value": 1e39}, "clip_value = 1e+39: must be at most 1e+30 in magnitude"),
    ({"weight_decay": 1e31}, "weight_decay = 1e+31: must be at most 1e+30 in magnitude"),
    ({"seed": 99999999999999999999}, "seed = 99999999999999999999: must be in [0, 2**63 - 1] "
                                     "(torch's generators take 64-bit seeds)"),
    ({"seed": -1}, "seed = -1: must be in [0, 2**63 - 1]"),
    ({"lr": 1e30, "lr_mults": {"0": 1e20}}, "lr = 1e+30 with lr_mults up to 1e+20: a group's learning "
                                            "rate lr × lr_mult = 1.0e+50 is beyond float32's largest value"),
    ({"data": {"source": "iris", "seed": 2**32}}, "data.seed = 4294967296: must be in [0, 2**32 - 1] "
                                                  "(scikit-learn's random_state)"),
    # the transfer options are checked with the config, before any data or model, by their own names
    ({"transfer_prefix_map": {"backbone.": 0}}, "transfer_prefix_map = {'backbone.': 0}: must map source "
                                                "prefixes to model prefixes (strings)"),
    ({"transfer_exclude": [1.5]}, "transfer_exclude = [1.5]: must be a name prefix or a list of them"),
    ({"freeze": ["0", None]}, "freeze = ['0', None]: must be a name prefix or a list of them"),
    ({"freeze": [""]}, "freeze = ['']: an empty prefix would name the whole model"),
])
def test_bad_options_name_key_value_and_what_is_allowed(options, message):
    with pytest.raises(ConfigError) as e:
        make_config(options)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_ints_are_accepted_for_floats_and_defaults_fill_the_rest():
    c = make_config({"lr": 1, "epochs": 3})
    assert c.lr == 1.0 and isinstance(c.lr, float) and c.epochs == 3
    assert c.batch_size == Config().batch_size


def test_every_option_is_documented():
    for name, option in OPTIONS.items():
        assert option.doc, name


def test_set_values_parse_as_toml_and_nest():
    assert parse_set("lr=0.01") == (["lr"], 0.01)
    assert parse_set("model.widths=[128, 64]") == (["model", "widths"], [128, 64])
    assert parse_set("optimizer=adam") == (["optimizer"], "adam")  # bare word: a string
    out = apply_sets({"model": {"type": "mlp"}}, ["model.widths=[8]", "epochs=2"])
    assert out == {"model": {"type": "mlp", "widths": [8]}, "epochs": 2}
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_set("lr")
    # a value written as a table, a list or a quoted string must parse: not taken as a string
    for bad in ("data={source=", "model.widths=[8,", "run_dir='runs/x"):
        with pytest.raises(ConfigError, match=r"is not a valid TOML value \("):
            parse_set(bad)
    assert parse_set("run_dir=runs/x") == (["run_dir"], "runs/x")


def test_toml_round_trip(tmp_path):
    c = make_config({"lr": 0.2, "model": {"type": "mlp", "widths": [32]}})
    write_toml(c.to_dict(), tmp_path / "c.toml")
    back = read_toml(tmp_path / "c.toml")
    assert back["lr"] == 0.2 and back["model"] == {"type": "mlp", "widths": [32]}
    assert "max_steps" not in back  # None values are comments
    assert make_config(back).to_dict() == c.to_dict()


def test_unreadable_toml_names_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("lr = = 3\n")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        read_toml(bad)
    with pytest.raises(ConfigError, match="missing.toml: config file not found"):
        read_toml(tmp_path / "missing.toml")


def test_every_option_has_a_source():
    """docs/options.md's source column: a note, a paper, or "trainwell convention" + its docs page."""
    missing = [name for name, option in OPTIONS.items() if not option.source.strip()]
    assert not missing, f"options without a source: {missing}"


@pytest.mark.parametrize("schedule, message", [
    ({"name": "step", "every_epochs": 0}, "schedule.every_epochs = 0: must be an integer >= 1"),
    ({"name": "step", "every_epochs": -3}, "schedule.every_epochs = -3: must be an integer >= 1"),
    ({"name": "cosine_restarts", "period_epochs": 0}, "schedule.period_epochs = 0: must be an integer >= 1"),
    ({"name": "linear", "decay_epochs": -1}, "schedule.decay_epochs = -1: must be an integer >= 1"),
    ({"name": "step", "factor": 0}, "schedule.factor = 0.0: must be a number >= 1: step divides the lr"),
    ({"name": "step", "factor": 0.1}, "schedule.factor = 0.1: must be a number >= 1: step divides the lr by its factor, "
                                      "so 0.1 would multiply it by 10 every every_epochs (PyTorch's StepLR gamma = 0.1 "
                                      "is factor = 10)"),
    ({"name": "one_cycle", "pct_start": 1.5}, "schedule.pct_start = 1.5: must be a number in (0, 1)"),
    ({"name": "plateau", "mode": "best"}, "schedule.mode = 'best': must be \"min\" or \"max\""),
    ({"name": "step", "every_epochs": 2.5}, "schedule.every_epochs = 2.5: must be an integer"),
    ({"gamma": 0.1}, "the table needs name = \"...\", one of: constant, step, exponential"),
])
def test_schedule_values_are_checked_with_the_config(schedule, message):
    with pytest.raises(ConfigError) as e:
        make_config({"schedule": schedule})
    assert message in str(e.value) and "\n" not in str(e.value)


def test_callbacks_from_python_must_be_callback_objects():
    from trainwell.train.callbacks import EarlyStopping

    make_config({"callbacks": [EarlyStopping(patience=2)]})
    for value, message in [(5, "callbacks = 5: must be a list of callback objects"),
                           ([EarlyStopping(patience=2), "EarlyStopping"],
                            "callbacks[1] = 'EarlyStopping': not a callback: it defines none of the hooks"),
                           ([EarlyStopping], "callbacks[0] = EarlyStopping: a class; pass an instance")]:
        with pytest.raises(ConfigError) as e:
            make_config({"callbacks": value})
        assert message in str(e.value) and "\n" not in str(e.value)


def test_callbacks_cannot_come_from_a_config_file(tmp_path):
    from trainwell.config import check_file_options

    with pytest.raises(ConfigError, match=r"c.toml: callbacks = 5: callbacks can only be set from Python"):
        check_file_options({"lr": 0.1, "callbacks": 5}, "c.toml")
    write_toml(make_config({}).to_dict(), tmp_path / "c.toml")
    assert "callbacks" not in read_toml(tmp_path / "c.toml")   # a run's config.toml reads back


def test_nesterov_by_default_only_with_momentum():
    assert make_config({}).nesterov is True                       # momentum 0.9
    assert make_config({"momentum": 0}).nesterov is False         # plain SGD works
    assert make_config({"momentum": 0, "nesterov": False}).nesterov is False
    assert make_config({"optimizer": "adam", "momentum": 0, "nesterov": True}).nesterov is True
    with pytest.raises(ConfigError, match="nesterov = true needs momentum > 0"):
        make_config({"optimizer": "sgd", "momentum": 0, "nesterov": True})


def test_sgd_without_momentum_trains(blobs):
    import torch

    import trainwell

    run = trainwell.fit(torch.nn.Linear(2, 3), blobs, optimizer="sgd", momentum=0, lr=0.1, epochs=2,
                        progress=False, babysit="off")
    assert run.model.weight.isfinite().all() and run.config["nesterov"] is False


@pytest.mark.parametrize("options", [{"patience": 3}, {"schedule": "plateau"},
                                     {"schedule": {"name": "plateau", "factor": 0.5}, "monitor": "val_acc"}])
def test_a_val_monitor_without_validation_data_is_an_error_before_training(blobs, options):
    import torch

    import trainwell

    model = torch.nn.Linear(2, 3)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ConfigError, match="validation data for monitor = 'val_.*but there is none: "
                                          "pass val=.*or monitor a training metric"):
        trainwell.fit(model, blobs, epochs=2, progress=False, **options)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))   # nothing trained
    X, y = blobs
    trainwell.fit(model, (X[:200], y[:200]), val=(X[200:], y[200:]), epochs=1, progress=False, **options)
    trainwell.fit(model, blobs, epochs=1, progress=False, **{**options, "monitor": "train_loss"})


def test_no_option_is_typed_any():
    """Each field's annotation names what it accepts (Python objects included)."""
    import dataclasses

    assert [f.name for f in dataclasses.fields(Config) if "Any" in str(f.type)] == []


@pytest.mark.parametrize("options, message", [
    ({"data": {"source": "iris", "test_szie": 0.1}},
     "data (source 'iris'): unknown option 'test_szie' (did you mean 'test_size'?)"),
    ({"model": {"type": "mlp", "dropout": "half"}}, "model (mlp): dropout = 'half': must be a number (got str)"),
    ({"model": {"type": "vit"}}, "model = {'type': 'vit'}: type 'vit' is unknown; allowed: auto, cnn, mlp, resnet"),
    ({"preprocess": [{"name": "zca", "eps": 0}]}, "preprocess[0]: zca.eps = 0.0: must be a number > 0"),
    ({"augment": ["crop", "hflp"]}, "augment[1]: unknown augment 'hflp' (did you mean 'hflip'?)"),
    ({"init": {"name": "orthogonal", "gain": "x"}}, "init (orthogonal): gain = 'x': must be a number (got str)"),
    ({"init": "he"}, "init = 'he': unknown scheme 'he'; allowed: zeros, constant"),
    ({"schedule": "cosinus"}, "schedule = 'cosinus': unknown (did you mean 'cosine'?)"),
    ({"babysit": "fix"}, "babysit = 'fix': unknown; allowed: off, repair, watch"),
])
def test_tables_are_checked_by_their_registrys_validator_before_any_data_is_read(options, message):
    with pytest.raises(ConfigError) as e:
        make_config(options)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_floats_are_floats_and_python_objects_pass_unchecked():
    import torch

    def my_loss(output, target):
        return (output - target).pow(2).mean()

    c = make_config({"eps": 1, "clip_norm": 2, "loss": my_loss, "optimizer": torch.optim.SGD,
                     "schedule": lambda step: 1.0})
    assert c.eps == 1.0 and isinstance(c.eps, float) and isinstance(c.clip_norm, float)
    assert c.loss is my_loss and c.optimizer is torch.optim.SGD and c.schedule(0) == 1.0


@pytest.mark.parametrize("options", [{"lr": 1e39}, {"clip_value": 1e39}, {"seed": 2**64},
                                     {"data": {"source": "iris", "seed": -1}}])
def test_out_of_range_options_are_refused_before_any_work(tmp_path, options):
    """Values that would overflow mid-run (a float beyond float32, "Overflow when unpacking long
    long") are refused by validation, before a run directory is made."""
    import trainwell

    with pytest.raises(ConfigError):
        trainwell.fit(None, "iris", run_dir=tmp_path / "run", epochs=1, progress=False, **options)
    assert not (tmp_path / "run").exists()


def test_the_largest_allowed_values_still_build_a_run():
    c = make_config({"lr": 1e30, "clip_value": 1e30, "seed": 2**63 - 1, "data": {"source": "iris",
                                                                                "seed": 2**32 - 1}})
    assert c.lr == 1e30 and c.seed == 2**63 - 1


def test_numpy_scalars_count_as_the_python_numbers_they_equal():
    """``epochs = np.int64(1)`` (read from an array) was refused while np.float64 was accepted."""
    import numpy as np

    c = make_config({"epochs": np.int64(3), "batch_size": np.int32(8), "lr": np.float32(0.5),
                     "shuffle": np.bool_(False)})
    assert (c.epochs, c.batch_size, c.lr, c.shuffle) == (3, 8, 0.5, False)
    assert [type(v) for v in (c.epochs, c.batch_size, c.lr, c.shuffle)] == [int, int, float, bool]
    with pytest.raises(ConfigError, match=r"epochs = 0: must be >= 1"):
        make_config({"epochs": np.int64(0)})
