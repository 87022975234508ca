"""What docs/geometry.md says the curve run of ``connect`` takes: RUN_A's options except the ones
that would replace the curve's weights (``NOT_FOR_THE_CURVE``), the caller's keywords over them,
and no babysitter. ``fit`` is replaced by a recorder: nothing is trained."""
import json

import pytest

from trainwell.errors import ConfigError
from trainwell.geometry import connect as connect_module
from trainwell.geometry.connect import NOT_FOR_THE_CURVE, connect


class Recorded(Exception):
    pass


def test_the_curve_run_takes_run_as_options_the_callers_over_them_and_no_babysitter(digits_runs, tmp_path,
                                                                                     monkeypatch):
    run_a, run_b, _ = digits_runs
    real_open_run = connect_module.open_run

    def endpoint_that_babysat_and_was_initialized(run_dir, *, model=None):
        opened = real_open_run(run_dir, model=model)
        opened.run.config.update(babysit="watch", init="xavier_normal", freeze=["0"], unfreeze_at=1,
                                 optimizer="adam", batch_size=17)
        return opened

    passed = {}

    def recording_fit(model, train, **options):
        passed.update(options, model=model)
        raise Recorded

    monkeypatch.setattr(connect_module, "open_run", endpoint_that_babysat_and_was_initialized)
    monkeypatch.setattr(connect_module, "fit", recording_fit)
    with pytest.raises(Recorded):
        connect(run_a, run_b, run_dir=tmp_path / "curve", epochs=1, lr=0.02, progress=False)
    assert isinstance(passed["model"], connect_module.Curve)
    assert passed["epochs"] == 1 and passed["lr"] == 0.02            # the caller's keywords over RUN_A's
    assert passed["optimizer"] == "adam" and passed["batch_size"] == 17   # RUN_A's otherwise
    assert passed["babysit"] == "off"                                 # whatever RUN_A ran with
    for name in ("init", "freeze", "unfreeze_at", "transfer_from"):     # would replace the curve's weights
        assert name in NOT_FOR_THE_CURVE and name not in passed, name
    saved = json.loads((tmp_path / "curve" / "connect.json").read_text())
    assert saved["options"] == {"epochs": 1, "lr": 0.02}              # what a resume reuses


@pytest.mark.parametrize("points", [0, 1, 2.5, True, "9"])
def test_points_must_be_an_integer_of_at_least_two(tmp_path, points):
    with pytest.raises(ConfigError, match=r"points = .*: must be an integer >= 2"):
        connect(tmp_path / "a", tmp_path / "b", run_dir=tmp_path / "c", points=points)
    assert not (tmp_path / "c").exists()                          # nothing written


def test_an_option_the_curve_run_cannot_take_is_named_not_passed_on(tmp_path):
    with pytest.raises(ConfigError, match=r"connect: freeze, init cannot be set for the curve run"):
        connect(tmp_path / "a", tmp_path / "b", run_dir=tmp_path / "c", init="xavier_normal", freeze=["0"])
    assert not (tmp_path / "c").exists()
