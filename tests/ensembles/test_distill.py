"""Distillation (ensembles/distill.py): the T²-scaled KL mixed with the labels, the teacher on the
student's augmented batch in eval mode, `trainwell distill` from an ensemble directory."""
import pytest
import torch

import trainwell
from trainwell.cli import main
from trainwell.ensembles.distill import DistillLoss, TeacherTargets
from trainwell.errors import ConfigError

MODEL = {"type": "mlp", "widths": [16]}
OPTIONS = dict(optimizer="sgd", lr=0.1, epochs=3, batch_size=32, seed=0, progress=False, babysit="off",
               device="cpu")


def test_the_loss_is_the_t2_scaled_kl_mixed_with_cross_entropy():
    g = torch.Generator().manual_seed(0)
    zs, zt = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g)
    y = torch.randint(0, 4, (8,), generator=g)
    loss = DistillLoss(temperature=3.0, alpha=0.7)
    plain = loss(zs, y)
    loss.teacher_logits = zt
    got = loss(zs, y)
    pt, ps = torch.softmax(zt / 3, 1), torch.softmax(zs / 3, 1)
    kl = (pt * (pt.log() - ps.log())).sum(1).mean()
    ce = -torch.log_softmax(zs, 1)[torch.arange(8), y].mean()
    assert got == pytest.approx(float(0.3 * ce + 0.7 * 9 * kl), rel=1e-5)
    assert plain == pytest.approx(float(ce), rel=1e-6)       # no teacher: cross-entropy


class Witness:
    """A teacher that records what it is given and in which mode it is asked."""

    def __init__(self):
        self.inputs = []

    def predict(self, X, *, output):
        assert output == "raw"
        self.inputs.append(X.clone())
        return torch.zeros(X.shape[0], 3)


def test_the_teacher_sees_the_students_augmented_batch(blobs):
    X, y = blobs
    teacher = Witness()
    batches = []

    class Batches(trainwell.Callback):
        def on_before_step(self, state):
            batches.append(state.batch[0].clone())

    loss = DistillLoss(temperature=2.0, alpha=0.5)
    trainwell.fit(MODEL, (X[:200], y[:200]), augment=[{"name": "noise", "std": 0.1}], loss=loss,
                  callbacks=[Batches(), TeacherTargets(teacher, loss)], **OPTIONS)
    assert len(teacher.inputs) == len(batches) == 21
    assert all(torch.equal(a, b) for a, b in zip(teacher.inputs, batches))
    assert loss.teacher_logits is None


def test_distill_from_an_ensemble_directory_and_the_cli(blobs, tmp_path):
    X, y = blobs
    train, val, test = (X[:200], y[:200]), (X[200:250], y[200:250]), (X[250:], y[250:])
    trainwell.ensemble(MODEL, train, val, test=test, method="snapshot", members=2,
                       run_dir=tmp_path / "teacher", **OPTIONS)
    student = trainwell.distill({"type": "mlp", "widths": [8]}, tmp_path / "teacher", train, val, test=test,
                                temperature=2.0, run_dir=tmp_path / "student", **OPTIONS)
    assert student.results["test"]["acc"] > 0.9
    loaded = trainwell.load_run(tmp_path / "student")        # saved with loss = cross_entropy
    assert loaded.evaluate(test)["acc"] == pytest.approx(student.results["test"]["acc"])
    with pytest.raises(ConfigError, match="distill.alpha = 2.0: must be a number in"):
        trainwell.distill(MODEL, tmp_path / "teacher", train, alpha=2.0, **OPTIONS)


def test_the_distill_command(tmp_path, capsys):
    trainwell.ensemble(MODEL, "blobs", method="average", members=2, run_dir=tmp_path / "teacher", **OPTIONS)
    config = tmp_path / "s.toml"
    config.write_text(f'epochs = 2\nbabysit = "off"\ndevice = "cpu"\nrun_dir = "{tmp_path / "s"}"\n'
                      f'[model]\ntype = "mlp"\nwidths = [8]\n[data]\nsource = "blobs"\n'
                      f'[distill]\ntemperature = 3.0\n')
    assert main(["distill", str(tmp_path / "teacher"), str(config), "--quiet"]) == 0
    assert "test: loss" in capsys.readouterr().out
    assert (tmp_path / "s" / "distill.json").is_file()
    config.write_text('[distill]\ntemprature = 3.0\n')
    assert main(["distill", str(tmp_path / "teacher"), str(config)]) == 2
    assert "did you mean 'temperature'" in capsys.readouterr().err
