import json

import pytest
import torch

import trainwell
import trainwell.data.sources


def _source(tmp_path):
    trainwell.fit({"type": "mlp", "widths": [32]}, "digits", epochs=2, run_dir=tmp_path / "src",
                  progress=False, babysit="off", device="cpu")
    return tmp_path / "src"


def _target(run_dir, src, **extra):
    # iris-sized head on digits-shaped inputs: a 5-class version of digits (classes 0-4)
    s = trainwell.data.sources.digits()
    keep = s.train[1] < 5
    train = (s.train[0][keep], s.train[1][keep])
    options = dict(transfer_from=str(src), freeze=["body"], unfreeze_at=2, unfreeze_lr_mult=0.1,
                   epochs=4, schedule="constant", run_dir=run_dir, progress=False, babysit="off",
                   report=False, checkpoint_every=5, device="cpu")   # resumes must be bit-exact
    options.update(extra)
    return trainwell.fit({"type": "mlp", "widths": [32]}, train, **options)


def test_transfer_freezes_the_body_then_unfreezes_it(tmp_path):
    src = _source(tmp_path)
    source_weights = trainwell.load_run(src).model.state_dict()
    run = _target(tmp_path / "t", src, epochs=2)
    report = json.loads((tmp_path / "t" / "transfer.json").read_text())
    assert "1.weight" in report["matched"] and "3.weight" in report["mismatched"]
    body = run.model.state_dict()["1.weight"]
    assert torch.equal(body, source_weights["1.weight"])          # frozen for epochs 1-2
    run = _target(tmp_path / "t2", src, epochs=4)
    assert not torch.equal(run.model.state_dict()["1.weight"], source_weights["1.weight"])


@pytest.mark.parametrize("crash_step", [14, 25])   # 9 steps an epoch: before and after the unfreeze
def test_resume_across_the_unfreeze_is_exact(tmp_path, crash_at, crash_step):
    src = _source(tmp_path)
    whole = _target(tmp_path / "whole", src)
    with pytest.raises(crash_at.error):
        _target(tmp_path / "cut", src, callbacks=[crash_at(crash_step)])
    resumed = _target(tmp_path / "cut", src, resume=True)
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


class _Named(torch.nn.Module):
    """The source's MLP under other names: body.1 is the source's layer 1, a new 5-class head."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.ReLU())
        self.head = torch.nn.Linear(32, 5)

    def forward(self, x):
        return self.head(self.body(x))


def test_transfer_prefix_map_exclude_and_strict_act_through_fit(tmp_path):
    """docs/transfer.md: transfer_prefix_map renames the source's weights, transfer_exclude keeps
    a prefix out, transfer_strict refuses a source that does not match in full."""
    src = _source(tmp_path)
    source_weights = trainwell.load_run(src).model.state_dict()
    s = trainwell.data.sources.digits()
    keep = s.train[1] < 5
    train = (s.train[0][keep], s.train[1][keep])
    options = dict(transfer_from=str(src), epochs=1, progress=False, babysit="off", report=False,
                   device="cpu", freeze=["body"])
    trainwell.fit(_Named(), train, run_dir=tmp_path / "mapped", transfer_prefix_map={"1.": "body.1."},
                  **options)
    report = json.loads((tmp_path / "mapped" / "transfer.json").read_text())
    assert report["matched"] == ["body.1.weight", "body.1.bias"]
    run = trainwell.load_run(tmp_path / "mapped", model=_Named())
    assert torch.equal(run.model.body[1].weight, source_weights["1.weight"])     # loaded, then frozen
    trainwell.fit(_Named(), train, run_dir=tmp_path / "excluded", transfer_prefix_map={"1.": "body.1."},
                  transfer_exclude=["body.1"], **options)
    report = json.loads((tmp_path / "excluded" / "transfer.json").read_text())
    assert report["matched"] == [] and set(report["excluded"]) == {"body.1.weight", "body.1.bias"}
    with pytest.raises(trainwell.errors.DataError, match="strict"):
        trainwell.fit(_Named(), train, transfer_prefix_map={"1.": "body.1."}, transfer_strict=True, **options)
