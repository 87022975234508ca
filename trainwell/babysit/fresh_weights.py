"""Frozen weights that are still their initial draw: a fine-tuning recipe's freeze on a model trained from scratch.

Freezing a body is transfer learning's move (notes 001, transfer learning with CNNs: "1. Train on
Imagenet 2. If small dataset: fix all weights (treat CNN as fixed feature extractor), retrain only the
classifier"): the frozen features are only worth
keeping when they were learnt. The run's own ``freeze`` option is a decision the doctor respects (no
"unfreeze" arm), unless the frozen weights are the random draw the model was built with, where the
decision rests on a premise that does not hold: the layers after them learn from random features.

A weight tensor is read as its initial draw when a two-sample Kolmogorov-Smirnov test cannot tell its
values from a fresh draw of its own module's initialization (``reset_parameters`` on a copy, the random
streams forked): p above ``ALPHA``. Trained weights move off their initial distribution (their spread
grows in the directions the data pulls them, the tails grow heavy: Martin & Mahoney 2021), which this
test tells on a few thousand values; weights loaded from a pretrained body are not a draw of this
model's init at all. Only tensors of at least ``MIN_VALUES`` values in modules that have a
``reset_parameters`` are read, and every one read must look fresh. The finding itself comes from the
experiment's unfreeze arm (trained with every parameter, graded like every arm), which this only lets run.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

ALPHA = 0.01          # the KS test's level: p above it on every frozen weight tensor read = its initial draw
MIN_VALUES = 256      # tensors with fewer values are not read (a bias, a small head: the test has no power)


def frozen_fresh(model: nn.Module) -> list[str]:
    """The names of the frozen (``requires_grad=False``) weight tensors of ``model`` when every one of
    them that can be read (see the module docstring) is indistinguishable from its module's fresh
    initialization, and at least one was read; [] otherwise."""
    from scipy.stats import ks_2samp
    read = []
    for prefix, module in model.named_modules():
        own = [(n, p) for n, p in module.named_parameters(recurse=False)
               if not p.requires_grad and p.dim() >= 2 and p.numel() >= MIN_VALUES]
        if not own or not callable(getattr(module, "reset_parameters", None)):
            continue
        fresh = copy.deepcopy(module).to("cpu")
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(0)
            fresh.reset_parameters()
        drawn = dict(fresh.named_parameters(recurse=False))
        for name, p in own:
            values = p.detach().float().flatten().cpu().numpy()
            reference = drawn[name].detach().float().flatten().cpu().numpy()
            if ks_2samp(values, reference).pvalue <= ALPHA:
                return []
            read.append(f"{prefix}.{name}" if prefix else name)
    return read
