"""The regularizers a run applies around its optimizer, each built from the run's Config by one
function: the L1/L2 penalty added to the loss, the max-norm constraint applied after each step,
and the loss itself (label smoothing, the Huber delta, the hinge margin).

``fit`` builds a run's from them, the babysitter's experiments
build each arm's from the arm's Config (babysit/interventions.py: an arm trains with the run's own
penalties), and ``state.controls.set_regularization`` rebuilds a running training's from the
changed Config (a repair that lowers one). Nothing here imports the babysitter or the loop.
"""
from __future__ import annotations

from torch import nn

from trainwell.nn.losses import make_loss
from trainwell.optim.groups import decay_exempt
from trainwell.optim.penalties import l1_penalty, l2_penalty, max_norm_

# The Config options these builders read, with the value that turns each off: what the
# babysitter's arms and ``Controls.set_regularization`` may change (clip_value and grad_noise are
# read by the gradient hooks from the run's config at each step, train/parts.py build_grad_hooks).
OFF = {"l1": 0.0, "l2": 0.0, "max_norm": None, "label_smoothing": 0.0, "clip_value": None, "grad_noise": 0.0}


def build_penalty(config, model: nn.Module):
    """Coupled L1/L2 penalties on the weights that weight decay would also act on (biases and
    norm parameters excluded by default); parameters frozen now and unfrozen later are included
    from then on (``requires_grad`` is read at each call)."""
    if not (config.l1 or config.l2):
        return None
    exempt = decay_exempt(model, no_decay_bias_norm=config.no_decay_bias_norm)
    weights = [p for p in model.parameters() if id(p) not in exempt]

    def penalty():
        params = [p for p in weights if p.requires_grad]
        total = 0.0
        if config.l2:
            total = total + l2_penalty(params, config.l2)
        if config.l1:
            total = total + l1_penalty(params, config.l1)
        return total

    return penalty


def build_constraint(config, model: nn.Module):
    """The max-norm constraint on the weights that weight decay would act on (ndim >= 2; norm
    layers excluded by default), or None; parameters frozen now and unfrozen later are included
    from then on (``requires_grad`` is read at each call)."""
    if config.max_norm is None:
        return None
    exempt = decay_exempt(model, no_decay_bias_norm=config.no_decay_bias_norm)
    weights = [p for p in model.parameters() if p.ndim >= 2 and id(p) not in exempt]

    def constraint():
        max_norm_([p for p in weights if p.requires_grad], config.max_norm)

    return constraint


def loss_options(config) -> dict:
    """A named loss's options as the run sets them (label smoothing, Huber delta, hinge margin)."""
    return {"label_smoothing": config.label_smoothing, "huber_delta": config.huber_delta,
            "hinge_margin": config.hinge_margin}


def build_loss(config):
    """The run's training loss: ``config.loss`` with its options (``loss_options``); a callable loss
    is the user's own and is returned as it is."""
    return make_loss(config.loss, **loss_options(config))
