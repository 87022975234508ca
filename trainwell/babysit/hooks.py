"""Hooks a check puts on a model for one pass, taken off however the pass ends.

A check registers forward hooks on the user's model (or its copy) to read what a pass computes; the
user's forward may raise, and a hook left behind would run in every later pass of the run. So the
handles are removed after the block in every case: ``hooks_held`` for a block of any shape (a
forward and backward under a dispatch mode), ``run_hooked`` for the common one, a forward without
gradients.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn


@contextlib.contextmanager
def hooks_held(handles: list):
    """The block with the hooks of ``handles`` (``RemovableHandle``s, registered already) in place;
    each is removed after it, an exception raised in it included."""
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def run_hooked(model: nn.Module, x: torch.Tensor, handles: list) -> None:
    """One forward pass of ``model`` on ``x`` without gradients for the hooks in ``handles``, then
    remove them (``hooks_held``)."""
    with hooks_held(handles), torch.no_grad():
        model(x)
