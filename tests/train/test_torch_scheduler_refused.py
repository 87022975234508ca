"""A torch scheduler object passed as ``schedule``: ``fit`` sets the lr itself at every batch and never
calls the scheduler's ``step()``, so the object is refused before training with a ConfigError that
names the run's steps an epoch and the two forms ``fit`` reads (a function of the step, a named
schedule), not a TypeError from deep inside the run's parts."""
import math

import pytest
import torch
from torch import nn

from trainwell import fit
from trainwell.babysit.doctor import doctor
from trainwell.errors import ConfigError

ROWS, BATCH = 96, 32


def _setup():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    X, y = torch.randn(ROWS, 4), torch.randint(0, 3, (ROWS,))
    return model, (X, y), torch.optim.SGD(model.parameters(), lr=0.1)


@pytest.mark.parametrize("make", [
    lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.95 ** e),
    lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.1),
    lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt),
])
@pytest.mark.parametrize("entry", [fit, doctor])
def test_a_torch_scheduler_is_refused_with_the_forms_fit_reads(make, entry):
    model, data, opt = _setup()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ConfigError) as e:
        entry(model, data, optimizer=opt, schedule=make(opt), epochs=2, batch_size=BATCH,
              progress=False, report=False, run_dir=None)
    said = str(e.value)
    per_epoch = math.ceil(ROWS / BATCH)
    assert said.startswith("schedule = ") and "a function of the step" in said
    assert f"({per_epoch} an epoch)" in said and f"rule(step // {per_epoch})" in said
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))      # refused before any step


def test_an_object_that_is_no_scheduler_is_refused_without_the_torch_hint():
    model, data, opt = _setup()
    with pytest.raises(ConfigError, match=r"^schedule = object object: must be a schedule's name, a table or a "
                                          r"function step -> multiplier$"):
        fit(model, data, optimizer=opt, schedule=object(), epochs=1, progress=False, report=False, run_dir=None)
