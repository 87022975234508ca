import math

import numpy as np
import pytest
import torch

from babysit_loop import OPTIMIZER_OPTION_CONFIGS, digits, mlp
from trainwell.babysit.lr_find import lr_find, suggest
from trainwell.cli import main
from trainwell.errors import ConfigError
from trainwell.train.fit import prepare
from trainwell.train.parts import optimizer_options

X, Y, _, _ = digits()


def valley(n=100):
    """A range-test curve whose steepest descent is at lr = 10^-2.5, diverging past 10^-0.5."""
    lrs = list(np.logspace(-7, 1, n))
    losses = [2.3 - 2.0 / (1 + math.exp(-(math.log10(lr) + 2.5) * 3))
              + (0.0 if math.log10(lr) < -0.5 else 5 * (math.log10(lr) + 0.5) ** 2) for lr in lrs]
    return lrs, losses


def test_suggestion_finds_the_steady_descent():
    lrs, losses = valley()
    s = suggest(lrs, losses)["suggestion"]
    assert 10 ** -3.5 < s < 10 ** -1.5


def test_spikes_and_nans_do_not_fool_the_suggestion():
    lrs, losses = valley()
    losses[5], losses[6] = 0.05, 9.0           # an early spike (Lightning #1767)
    losses[40] = 20.0                          # a mid-run spike
    losses[-4:] = [float("nan")] * 4           # NaNs at the end (fastai #3476)
    naive = lrs[int(np.nanargmin(np.gradient(np.array(losses))))]
    s = suggest(lrs, losses)["suggestion"]
    assert not (10 ** -3.5 < naive < 10 ** -1.5)      # the naive steepest point is fooled
    assert 10 ** -3.5 < s < 10 ** -1.5


def test_flat_curve_gives_no_suggestion():
    assert suggest(list(np.logspace(-7, 1, 50)), [2.3] * 50)["suggestion"] is None


def test_range_test_restores_model_and_optimizer(tmp_path):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model(X[:8]).sum().backward()
    opt.step()                                  # the optimizer has momentum state to restore
    before = {k: v.clone() for k, v in model.state_dict().items()}
    buf = opt.state[model[0].weight]["momentum_buffer"].clone()
    result = lr_find(model, X, Y, optimizer=opt, steps=60)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(opt.state[model[0].weight]["momentum_buffer"], buf) and opt.param_groups[0]["lr"] == 0.05
    assert result.stopped.startswith(("diverged", "loss became"))   # sgd up to lr 10 diverges
    assert len(result.lrs) <= 60 and result.lrs[1] / result.lrs[0] == pytest.approx((10 / 1e-7) ** (1 / 59))
    assert result.suggestion is not None and 1e-4 < result.suggestion < 5
    path = result.plot(tmp_path / "lr.png")
    assert path.stat().st_size > 1000


def test_bad_arguments():
    with pytest.raises(ConfigError, match="start"):
        lr_find(mlp(), X, Y, start=1.0, end=0.1)
    with pytest.raises(ConfigError, match="steps"):
        lr_find(mlp(), X, Y, steps=2)


def test_range_test_by_name_steps_sam_with_its_closure():
    """SAM by name: two passes per step; the recorded loss is the first (unperturbed) pass."""
    model = mlp()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = lr_find(model, X, Y, optimizer="sam", start=1e-4, end=1.0, steps=20)
    assert len(result.lrs) == len(result.losses) == 20
    assert all(math.isfinite(v) for v in result.losses)
    first = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(0))[:64]   # seed=0's batch
    with torch.no_grad():
        expected = float(torch.nn.functional.cross_entropy(mlp()(X[first]), Y[first]))
    assert result.losses[0] == pytest.approx(expected, rel=1e-5)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


# ---------------------------------------------------------------- the run's optimizer options
SMALL = {"data": {"source": "digits"}, "model": {"type": "mlp", "widths": [16], "norm": "batch"},
         "batch_size": 64}


def _as_the_cli_does(**options):
    """``trainwell lr-find``'s path: prepare the config, then lr_find with its optimizer options.
    Returns the result, the model and, per forward pass, (first layer's weight, head's weight,
    batch norm's num_batches_tracked) as the pass saw them."""
    p = prepare(None, None, None, None, {**SMALL, **options, "run_dir": None, "babysit": "off",
                                         "progress": False})
    seen = []
    p.model.register_forward_pre_hook(lambda m, args: seen.append(
        (m[1].weight.detach().clone(), m[4].weight.detach().clone(), int(m[2].num_batches_tracked))))
    result = lr_find(p.model, *p.train, loss=p.config.loss, optimizer=p.config.optimizer, start=1e-3,
                     end=1.0, steps=20, batch_size=p.config.batch_size, seed=p.config.seed,
                     **optimizer_options(p.config))
    return result, p.model, seen


def _moved(seen, index):
    return any(not torch.equal(s[index], seen[0][index]) for s in seen)


def test_lr_mults_and_freeze_reach_the_range_test():
    _, _, plain = _as_the_cli_does()
    assert _moved(plain, 0) and _moved(plain, 1)
    _, _, slow = _as_the_cli_does(lr_mults={"1": 0.0})        # lr_mult 0: the first layer stays
    assert not _moved(slow, 0) and _moved(slow, 1)
    _, model, frozen = _as_the_cli_does(freeze=["1"])
    assert not model[1].weight.requires_grad
    assert not _moved(frozen, 0) and _moved(frozen, 1)


def test_sam_by_config_gets_its_options_and_protects_batch_norm():
    result, _, seen = _as_the_cli_does(optimizer="sam", optimizer_options={"rho": 0.05, "every": 2})
    assert len(result.losses) == 20
    assert len(seen) == 20 + 10                               # a second pass on every other step
    tracked = [s[2] for s in seen]
    assert max(tracked) == 19                                 # one batch-norm update per step, not per pass
    assert all(math.isfinite(v) for v in result.losses)


@pytest.mark.parametrize("options", list(OPTIMIZER_OPTION_CONFIGS.values()), ids=list(OPTIMIZER_OPTION_CONFIGS))
def test_lr_find_command_takes_the_optimizer_options(tmp_path, monkeypatch, capsys, options):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text(options + '\nbatch_size = 64\n[data]\nsource = "digits"\n[model]\ntype = "mlp"\n'
                      'widths = [16]\nnorm = "batch"\n')
    status = main(["lr-find", str(config), "--steps", "30", "--start", "1e-4", "--end", "10",
                   "--out", str(tmp_path / "lr.png")])
    out = capsys.readouterr()
    assert status == 0, out.err
    assert "suggested lr" in out.out and (tmp_path / "lr.png").exists()
