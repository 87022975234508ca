import json
import math
import shutil
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import save_file, save_model
from torch import nn

import trainwell
from trainwell.config import make_config
from trainwell.errors import CheckpointError, ConfigError, DataError
from trainwell.nn.models import build_model
from trainwell.nn.transfer import (
    FROZEN_NORM, TransferReport, Unfreeze, add_unfrozen_groups, all_but_head, find_head, freeze,
    frozen, load_weights, replace_head, restore_added_groups, unfreeze,
)
from trainwell.optim.factory import DECOUPLED_KEY, build_optimizer
from trainwell.train.callbacks import Callback
from trainwell.train.checkpoint import load_checkpoint, read_tensors, save_checkpoint

QUIET = dict(progress=False, report=False, device="cpu")   # compares with CPU tensors


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A finished run: an MLP trained 2 epochs on iris (3 classes)."""
    run_dir = tmp_path_factory.mktemp("pretrain") / "run"
    trainwell.fit({"type": "mlp", "widths": [16]}, "iris", epochs=2, run_dir=run_dir, **QUIET)
    return run_dir


def _mlp(num_outputs=5, seed=1):
    torch.manual_seed(seed)
    return build_model({"type": "mlp", "widths": [16]}, (4,), num_outputs)


def _bn_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


# ------------------------------------------------------------------------------ load_weights
def test_load_from_run_dir_into_a_model_with_another_head(pretrained):
    model = _mlp(5)
    head_before = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("3.")}
    report = load_weights(model, pretrained)
    assert report.matched == ["1.weight", "1.bias"]
    assert report.mismatched == {"3.weight": ((3, 16), (5, 16)), "3.bias": ((3,), (5,))}
    assert report.missing == [] and report.unexpected == [] and not report.ok
    saved = read_tensors(pretrained / "model.safetensors")
    for name in report.matched:
        assert torch.equal(model.state_dict()[name], saved[name])
    for name, before in head_before.items():               # the new head keeps its init
        assert torch.equal(model.state_dict()[name], before)
    text = str(report)
    assert "loaded 2 of the model's 4 tensors" in text and "model.safetensors" in text
    assert "3.weight (3, 16) in the source vs (5, 16) in the model" in text
    assert "1.{weight, bias}" in text
    data = json.loads(report.to_json())
    assert data["mismatched"]["3.bias"] == {"source": [3], "model": [5]}
    assert data["matched"] == ["1.weight", "1.bias"]


def test_run_without_final_weights_loads_its_newest_checkpoint(pretrained, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(pretrained, copy)
    (copy / "model.safetensors").unlink()
    model = _mlp(3)
    report = load_weights(model, copy, strict=True)
    assert report.ok and "ckpt-" in report.source
    saved = read_tensors(pretrained / "model.safetensors")   # the last checkpoint = final weights
    for name, value in model.state_dict().items():
        assert torch.equal(value, saved[name])


def test_same_architecture_strict_load_and_run_source(pretrained):
    run = trainwell.load_run(pretrained)
    model = _mlp(3)
    report = load_weights(model, run, strict=True)
    assert report.ok and len(report.matched) == 4
    for name, value in run.model.state_dict().items():
        assert torch.equal(model.state_dict()[name], value)


def test_strict_refuses_a_mismatch_and_copies_nothing(pretrained):
    model = _mlp(5)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(DataError, match=r"(?s)strict=True.*nothing was copied.*shape differs"):
        load_weights(model, pretrained, strict=True)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name])


def test_prefix_map_renames_and_reports_the_rest():
    torch.manual_seed(0)
    src = {"backbone.weight": torch.randn(8, 4), "backbone.bias": torch.randn(8),
           "head.weight": torch.randn(2, 8)}
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    report = load_weights(model, src, prefix_map={"backbone.": "0."})
    assert report.renamed == {"backbone.weight": "0.weight", "backbone.bias": "0.bias"}
    assert report.matched == ["0.weight", "0.bias"]
    assert report.missing == ["2.weight", "2.bias"] and report.unexpected == ["head.weight"]
    assert torch.equal(model[0].weight, src["backbone.weight"])
    with pytest.raises(ConfigError, match=r"'trunk\.' starts no name in the source.*backbone\., head\."):
        load_weights(model, src, prefix_map={"trunk.": "0."})
    prefixed = nn.Sequential(nn.Sequential(nn.Linear(4, 8)))
    assert load_weights(prefixed, {"0.weight": src["backbone.weight"], "0.bias": src["backbone.bias"]},
                        prefix_map={"": "0."}, strict=True).matched == ["0.0.weight", "0.0.bias"]
    with pytest.raises(ConfigError, match="two source names become"):
        load_weights(model, {"a.w": torch.ones(1), "b.w": torch.ones(1)}, prefix_map={"a.": "", "b.": ""})


def test_exclude_keeps_the_head_initialized_when_shapes_match(pretrained):
    model = _mlp(3)
    head = model[3].weight.detach().clone()
    report = load_weights(model, pretrained, exclude="3", strict=True)
    assert report.excluded == ["3.weight", "3.bias"] and report.ok
    assert torch.equal(model[3].weight, head)
    with pytest.raises(ConfigError, match="exclude: '9' names no module"):
        load_weights(model, pretrained, exclude=["9"])


def test_dtype_is_cast_and_tied_weights_count_as_matched(tmp_path):
    model = nn.Linear(3, 2)
    load_weights(model, {"weight": torch.ones(2, 3, dtype=torch.float64), "bias": torch.zeros(2)})
    assert model.weight.dtype == torch.float32 and torch.equal(model.weight, torch.ones(2, 3))

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.dec = nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False)
            self.dec.weight = self.enc.weight

    a = Tied()
    save_model(a, str(tmp_path / "tied.safetensors"))      # stores the shared tensor once
    assert len(read_tensors(tmp_path / "tied.safetensors")) == 1
    b = Tied()
    report = load_weights(b, tmp_path / "tied.safetensors", strict=True)
    assert report.missing == [] and sorted(report.matched) == ["dec.weight", "enc.weight"]
    assert torch.equal(b.dec.weight, a.enc.weight)


def test_pickles_are_refused(tmp_path):
    model = _mlp(3)
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    with pytest.raises(CheckpointError, match="unpickling"):
        load_weights(model, tmp_path / "weights.pt")
    shutil.copy(tmp_path / "weights.pt", tmp_path / "disguised.safetensors")   # zip inside
    with pytest.raises(CheckpointError, match="zip archive"):
        load_weights(model, tmp_path / "disguised.safetensors")
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(tmp_path / "weights.pt", run / "model.pt")
    with pytest.raises(CheckpointError, match="no model.safetensors"):
        load_weights(model, run)
    with pytest.raises(ConfigError, match="source must be"):
        load_weights(model, 42)


# ------------------------------------------------------------------------------ freeze
def test_frozen_params_stay_fixed_while_the_head_trains():
    model = _mlp(3)
    names = freeze(model, all_but_head(model))
    assert names == ["1.weight", "1.bias"] and frozen(model) == names
    body, head = model[1].weight.detach().clone(), model[3].weight.detach().clone()
    trainwell.fit(model, "iris", epochs=2, lr=0.05, **QUIET)
    assert torch.equal(model[1].weight, body)
    assert not torch.allclose(model[3].weight, head)


def test_batchnorm_in_a_frozen_part_keeps_its_statistics():
    model = _bn_net()
    bn = model[1]
    stats = {k: v.clone() for k, v in bn.state_dict().items()}
    freeze(model, ["0", "1"])
    trainwell.fit(model, "iris", epochs=2, lr=0.05, **QUIET)     # calls model.train() each epoch
    for name, value in bn.state_dict().items():
        assert torch.equal(value, stats[name]), name
    model.train()
    x = torch.randn(32, 4)
    train_out = model(x)                       # the frozen BN normalizes with its running stats
    assert torch.equal(train_out, model.eval()(x))

    control = _bn_net()                        # the same without norm_eval: the stats move
    freeze(control, ["0", "1"], norm_eval=False)
    trainwell.fit(control, "iris", epochs=1, lr=0.05, **QUIET)
    assert not torch.equal(control[1].running_mean, stats["running_mean"])


def test_unfreeze_trains_the_part_and_its_batchnorm_again():
    model = _bn_net()
    freeze(model, "1")
    assert model[1].__dict__[FROZEN_NORM]
    assert unfreeze(model, "1") == ["1.weight", "1.bias"] and frozen(model) == []
    model.train()
    before = model[1].running_mean.clone()
    model(torch.randn(16, 4) + 3.0)
    assert model[1].training and not torch.equal(model[1].running_mean, before)


def test_unknown_prefix_names_the_top_level_parts():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features, self.classifier = nn.Linear(4, 4), nn.Linear(4, 2)

    with pytest.raises(ConfigError, match=r"'feature' names no module.*did you mean 'features'.*"
                                          r"top-level parts are: features, classifier"):
        freeze(Net(), ["feature"])
    with pytest.raises(ConfigError, match="empty prefix"):
        freeze(Net(), "")
    with pytest.raises(ConfigError, match="must be a name prefix"):
        unfreeze(Net(), [None])
    assert freeze(Net(), "features.weight") == ["features.weight"]   # a parameter name works too


# ------------------------------------------------------------------------------ replace_head
def test_replace_head_of_a_sequential_keeps_inputs_device_and_dtype():
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3), nn.Softmax(dim=-1)).double()
    assert replace_head(model, 7) is model
    head = model[2]
    assert (head.in_features, head.out_features, head.weight.dtype) == (16, 7, torch.float64)
    assert model(torch.randn(5, 4, dtype=torch.float64)).shape == (5, 7)
    bound = 1 / math.sqrt(16)                  # nn.Linear's own init: U(-1/sqrt(fan_in), ...)
    assert head.weight.abs().max() <= bound and head.weight.std() > bound / 4
    replace_head(model, 2, init="zeros")
    assert torch.equal(model[2].weight, torch.zeros(2, 16, dtype=torch.float64))
    with pytest.raises(ConfigError, match="num_outputs = 0"):
        replace_head(model, 0)


def test_replace_head_by_attribute_name_and_nested_classifier():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 3)                         # registered before the body
            self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))

        def forward(self, x):
            return self.fc(self.body(x))

    net = Net()
    assert find_head(net) == "fc"
    replace_head(net, 10)
    assert net.fc.out_features == 10 and net(torch.randn(2, 4)).shape == (2, 10)
    assert all_but_head(net) == ["body"]

    vgg_like = nn.Module()
    vgg_like.features = nn.Sequential(nn.Linear(4, 8))
    vgg_like.classifier = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 5))
    assert find_head(vgg_like) == "classifier.2"
    assert all_but_head(vgg_like) == ["features", "classifier.0"]
    replace_head(vgg_like, 4, name="classifier")
    assert vgg_like.classifier[2].out_features == 4
    with pytest.raises(ConfigError, match="head name 'clasifier': no such module"):
        find_head(vgg_like, name="clasifier")
    with pytest.raises(ConfigError, match="no Linear layer"):
        find_head(nn.Sequential(nn.Conv2d(1, 2, 3)))


# ------------------------------------------------------------------------------ Unfreeze
class StepProbe(Callback):
    """Per step: did parameter `name` move, and by −lr_eff·grad with which lr_eff?"""

    def __init__(self, name):
        self.name, self.rows = name, []

    def on_before_step(self, state):
        self.before = dict(state.model.named_parameters())[self.name].detach().clone()

    def on_after_step(self, state):
        p = dict(state.model.named_parameters())[self.name]
        moved = not torch.equal(p.detach(), self.before)
        lr_eff = None
        if p.grad is not None:
            mask = p.grad.abs() > 1e-6
            lr_eff = ((self.before - p.detach())[mask] / p.grad[mask]).median().item()
        self.rows.append((state.epoch, moved, lr_eff))


def test_unfreeze_starts_training_at_the_epoch_with_lr_times_lr_mult():
    model = _bn_net()
    freeze(model, all_but_head(model))
    probe = StepProbe("0.weight")
    trainwell.fit(model, "iris", epochs=4, lr=0.05, optimizer="sgd", momentum=0.0, nesterov=False,
                  weight_decay=0.0, schedule="constant", batch_size=35,
                  callbacks=[Unfreeze(2, all_but_head(model), lr_mult=0.1), probe], **QUIET)
    by_epoch = {}
    for epoch, moved, lr_eff in probe.rows:
        by_epoch.setdefault(epoch, []).append((moved, lr_eff))
    assert sorted(by_epoch) == [0, 1, 2, 3] and all(len(v) == 3 for v in by_epoch.values())
    for epoch in (0, 1):
        assert all(not moved and lr is None for moved, lr in by_epoch[epoch])
    for epoch in (2, 3):
        for moved, lr in by_epoch[epoch]:
            assert moved and lr == pytest.approx(0.05 * 0.1, rel=1e-3)
    assert frozen(model) == [] and model[1].training           # its BN follows the model again


def test_added_groups_follow_the_factory_rule():
    model = _bn_net()
    freeze(model, ["0", "1"])
    config = make_config({"weight_decay": 1e-3, "lr": 0.2})
    opt = build_optimizer("sgd", model, lr=0.2, weight_decay=1e-3)
    state = SimpleNamespace(model=model, optimizer=opt, epoch=0, config=config)
    groups = Unfreeze(0, ["0", "1"], lr_mult=0.1).apply(state)
    by_name = {n: g for g in opt.param_groups for n in g["param_names"]}
    assert len(opt.param_groups) == 2 + len(groups)
    assert by_name["0.weight"][DECOUPLED_KEY] == 1e-3                 # decayed, decoupled
    assert by_name["0.bias"][DECOUPLED_KEY] == 0.0 and by_name["1.weight"][DECOUPLED_KEY] == 0.0
    assert by_name["0.weight"]["weight_decay"] == 0.0                # torch's coupled decay off
    for n in ("0.weight", "0.bias", "1.weight", "1.bias"):
        g = by_name[n]
        assert (g["base_lr"], g["lr_mult"], g["lr"]) == (0.2, 0.1, pytest.approx(0.02))
    assert by_name["0.weight"]["unfrozen_norms"] == ["1"]
    assert Unfreeze(0, ["0", "1"]).apply(state) == []                # idempotent

    adam_model = _bn_net()
    freeze(adam_model, "0")
    adam = build_optimizer("adam", adam_model, lr=1e-3, weight_decay=1e-2)
    add_unfrozen_groups(adam, adam_model, unfreeze(adam_model, "0"), config=make_config(
        {"optimizer": "adam", "weight_decay": 1e-2, "lr_mults": {"0": 0.5}}))
    group = next(g for g in adam.param_groups if "0.weight" in g["param_names"])
    assert group["weight_decay"] == 1e-2 and group["lr_mult"] == 0.5   # lr_mults apply


def test_unfreeze_rejects_bad_options():
    with pytest.raises(ConfigError, match="at_epoch = -1"):
        Unfreeze(-1, "0")
    with pytest.raises(ConfigError, match="lr_mult = -0.1"):
        Unfreeze(1, "0", lr_mult=-0.1)
    model = _bn_net()
    freeze(model, "0")
    lbfgs = torch.optim.LBFGS([p for p in model.parameters() if p.requires_grad])
    with pytest.raises(ConfigError, match="L-BFGS"):
        add_unfrozen_groups(lbfgs, model, unfreeze(model, "0"))


def _steps(model, opt, n, seed):
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(n):
        x, y = torch.randn(16, 4, generator=g), torch.randint(0, 3, (16,), generator=g)
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def _fresh(config):
    model = _bn_net(seed=3)
    freeze(model, ["0", "1"])
    opt = build_optimizer("sgd", model, lr=0.1, momentum=0.9, weight_decay=1e-3)
    return model, opt, SimpleNamespace(model=model, optimizer=opt, epoch=3, config=config)


def test_resume_after_unfreeze_restores_groups_and_continues_exactly(tmp_path):
    config = make_config({"weight_decay": 1e-3, "lr": 0.1})
    model, opt, state = _fresh(config)
    _steps(model, opt, 2, seed=0)
    Unfreeze(2, ["0", "1"], lr_mult=0.1).apply(state)
    _steps(model, opt, 3, seed=1)
    save_checkpoint(tmp_path, {"model": model.state_dict(), "optimizer": opt.state_dict()}, name="c")
    saved = load_checkpoint(tmp_path / "c")                        # through JSON + safetensors

    model2, opt2, _ = _fresh(config)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt2.load_state_dict(saved["optimizer"])                   # why the hook is needed
    restore_added_groups(opt2, model2)
    model2.load_state_dict(saved["model"])
    opt2.load_state_dict(saved["optimizer"])
    assert frozen(model2) == [] and not model2[1].__dict__.get(FROZEN_NORM)
    assert [g["param_names"] for g in opt2.param_groups] == [g["param_names"] for g in opt.param_groups]
    _steps(model, opt, 3, seed=2)
    _steps(model2, opt2, 3, seed=2)
    for (name, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        assert torch.equal(a, b), name


def test_rolling_back_to_before_the_unfreeze_freezes_again():
    config = make_config({"lr": 0.1})
    model, opt, state = _fresh(config)
    restore_added_groups(opt, model)
    before = {"model": {k: v.clone() for k, v in model.state_dict().items()},
              "optimizer": opt.state_dict()}
    Unfreeze(0, ["0", "1"]).apply(state)
    _steps(model, opt, 2, seed=0)
    model.load_state_dict(before["model"])
    opt.load_state_dict(before["optimizer"])
    assert len(opt.param_groups) == len(before["optimizer"]["param_groups"])
    assert frozen(model) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert model[1].__dict__[FROZEN_NORM]
    assert len(Unfreeze(0, ["0", "1"]).apply(state)) > 0           # and can unfreeze again


def test_transfer_report_is_plain_data():
    report = TransferReport(source="x", matched=["a.w"], mismatched={"b.w": ((1,), (2,))})
    assert report.to_dict()["mismatched"] == {"b.w": {"source": [1], "model": [2]}}
    assert "missing" not in str(report) and "(1,) in the source vs (2,)" in str(report)


def test_safetensors_file_source(tmp_path):
    model = nn.Linear(2, 2)
    save_file({"weight": torch.eye(2), "bias": torch.ones(2)}, str(tmp_path / "w.safetensors"))
    report = load_weights(model, str(tmp_path / "w.safetensors"), strict=True)
    assert report.ok and torch.equal(model.weight.detach(), torch.eye(2))
