"""Optimizers, schedules and penalties: by name through the factory, or as classes in your own loop.

    from trainwell.optim import build_optimizer, SAM, cosine, warmup, as_lambda_lr

    opt = build_optimizer("sam", model, lr=0.1, momentum=0.9, base="sgd", rho=0.05)   # by name
    opt = SAM(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), rho=0.05)    # the class
    sched = as_lambda_lr(opt, warmup(cosine(total=1000), steps=100))

``OPTIMIZERS`` is the registry (one ``OptimizerInfo`` per name) that the factory, the config
validator, the babysitter and docs/optimization.md read; ``optimizer_info(opt)`` is the record of a
built optimizer. Other names (``registry.check_optimizer_name``, ``schedules.SCHEDULE_OPTIONS``)
stay importable from their modules.
"""
from trainwell.optim.adam import Adam
from trainwell.optim.bfgs import BFGS
from trainwell.optim.factory import build_optimizer
from trainwell.optim.groups import param_groups
from trainwell.optim.lookahead_sam import AOSAM, EGSAM, OGSAM
from trainwell.optim.newton import Newton
from trainwell.optim.penalties import GradientNoise, clip_gradients, l1_penalty, l2_penalty, max_norm_
from trainwell.optim.registry import OPTIMIZERS, OptimizerInfo, optimizer_info
from trainwell.optim.sam import SAM
from trainwell.optim.schedules import (SCHEDULES, ReduceOnPlateau, as_lambda_lr, constant, cosine,
                                       cosine_restarts, exponential, inverse_sqrt, inverse_time,
                                       linear_decay, make_schedule, one_cycle, staircase, warmup)
from trainwell.optim.teaching import AdaGrad, Nesterov, NesterovLookahead, RMSProp, SignSGD

__all__ = [
    # the factory and its registries
    "build_optimizer", "param_groups", "OPTIMIZERS", "OptimizerInfo", "optimizer_info",
    # optimizer classes for your own loop
    "Adam", "SAM", "EGSAM", "OGSAM", "AOSAM", "Newton", "BFGS",
    "RMSProp", "AdaGrad", "Nesterov", "NesterovLookahead", "SignSGD",
    # schedules: step -> multiplier
    "constant", "staircase", "exponential", "inverse_time", "inverse_sqrt", "linear_decay", "cosine",
    "one_cycle", "cosine_restarts", "warmup", "ReduceOnPlateau", "make_schedule", "as_lambda_lr",
    "SCHEDULES",
    # penalties and gradient clipping
    "l1_penalty", "l2_penalty", "clip_gradients", "GradientNoise", "max_norm_",
]
