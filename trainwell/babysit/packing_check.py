"""Do the packed sequences an RNN reads hold the rows' data? The steps a packing keeps, read by gradient.

``pack_padded_sequence(x, lengths)`` keeps the first ``lengths[i]`` steps of each row and leaves
the rest out: its contract is that each row's data sits in those steps and padding after them.
Where the lengths do not match where the data sits, the RNN reads padding and never sees part of
the data: rows padded at the front (Keras' ``pad_sequences`` pads at the front by default) keep
their first ``length`` steps, mostly padding, and lose their last, real ones; lengths sorted apart
from their rows (to satisfy ``enforce_sorted=True``) give each row another row's length, so some
rows read padding and others lose data. Nothing fails, and the loss falls a little on what is left.

The check reads which input entries reach the layer: a copy of the model runs on the first
``ROWS`` training rows with a forward pre-hook on every module that owns parameters; a module
whose input is a ``PackedSequence`` built from the rows without a parameter on the way (an *entry*
RNN, as in ``first_layer.entry_layers``) is kept, and two random projections of its packed data are
differentiated with respect to the rows: an entry with a zero gradient in both is left out of the
packing. The rows' axis 1 is their steps (the rows of a dataset are axis 0; an RNN's batch-first
steps follow). Per row, a step *holds data* when one of its entries is not 0, and is *padding*
when all are 0 (the padding value of ``pad_sequence`` and ``pad_sequences``). A row **loses data**
when a step that holds data is left out, and **reads padding** when the first or the last step it
keeps is padding. A correct packing does neither (its left-out steps are the padding after each
length); a deliberate truncation to the first k steps loses data but reads no padding; a model
that slices off a column (a flag) keeps every step. Found when at least ``SHARE`` of the rows lose
data and at least ``SHARE`` read padding: ``uninformative_inputs`` (a warning), naming the layer,
both shares and an example row.

Models without a PyTorch recurrent layer (``nn.RNNBase``: RNN, LSTM, GRU, the modules that read a
``PackedSequence``) cost nothing. Not checkable (quiet): no packed input from the rows by a differentiable path, a forward that
fails under the hooks, inputs without a step axis.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from trainwell.babysit.findings import Finding, make
from trainwell.babysit.first_layer import owns_parameters, reaches, untouched
from trainwell.babysit.hooks import hooks_held

CODE = "uninformative_inputs"
ROWS = 64       # rows read (the gradients of two projections: one backward each)
SHARE = 0.1     # at least a tenth of the rows lose data and a tenth read padding: a pattern of the packing, not
                # one odd row (a correct packing gives 0 of each by construction)


def packed_entries(model: nn.Module, x: torch.Tensor) -> tuple[list, torch.Tensor] | None:
    """``(names, left_out)``: the entry modules that receive a ``PackedSequence`` built from ``x``
    and a bool tensor shaped like ``x``, True where an entry reaches none of them; None when there
    is none or the forward fails."""
    work = copy.deepcopy(model).eval()
    for q in work.parameters():
        q.requires_grad_(True)
    params = {id(q) for q in work.parameters()}
    names = {m: n for n, m in work.named_modules()}
    leaf = x.detach().clone().requires_grad_(True)
    got, handles = [], []

    def hook(module, args):
        if not args or not isinstance(args[0], PackedSequence) or module in (m for m, _ in got):
            return
        data = args[0].data
        if torch.is_floating_point(data) and data.grad_fn is not None and not reaches(data.grad_fn, params):
            got.append((module, data))
    for m in work.modules():
        if owns_parameters(m):
            handles.append(m.register_forward_pre_hook(hook))
    try:
        with hooks_held(handles):
            work(leaf)
    except Exception:                   # a forward that fails here is model_checks' to report
        return None
    if not got:
        return None
    left_out = untouched(leaf, [z for _, z in got])
    return None if left_out is None else ([names[m] for m, _ in got], left_out)


def read_steps(x: torch.Tensor, left_out: torch.Tensor) -> dict:
    """Per row of ``x`` (rows, steps, ...): whether it loses data (a left-out step holds a non-zero
    entry) and whether it reads padding (the first or last step it keeps is all zeros)."""
    n, steps = x.shape[0], x.shape[1]
    data = (x != 0).reshape(n, steps, -1).any(2)
    kept = (~left_out).reshape(n, steps, -1).any(2)
    loses = (data & ~kept).any(1)
    index = torch.arange(steps).expand(n, steps)
    first = torch.where(kept, index, steps).amin(1).clamp(max=steps - 1)
    last = torch.where(kept, index, -1).amax(1).clamp(min=0)
    rows = torch.arange(n)
    reads = kept.any(1) & (~data[rows, first] | ~data[rows, last])
    return {"loses": loses, "reads": reads, "kept": kept.sum(1), "data": data.sum(1), "read_data": (kept & data).sum(1)}


def check_packing(model: nn.Module, X) -> list[Finding]:
    """``uninformative_inputs`` (a warning) when the packed sequences the model's entry RNN reads
    lose data in ``SHARE`` of the rows or more and read padding in ``SHARE`` or more (the module
    docstring); ``[]`` otherwise."""
    if not torch.is_tensor(X) or not torch.is_floating_point(X) or X.dim() < 2 or X.shape[0] < 2 or X.shape[1] < 2:
        return []
    if not any(isinstance(m, nn.RNNBase) for m in model.modules()):
        return []                       # only PyTorch's recurrent layers read a PackedSequence: no forward paid
    device = next((q.device for q in model.parameters()), X.device)
    x = X[:ROWS].to(device)
    found = packed_entries(model, x)
    if found is None:
        return []
    names, left_out = found
    r = read_steps(x.detach().cpu(), left_out.cpu())
    loses, reads = float(r["loses"].float().mean()), float(r["reads"].float().mean())
    if loses < SHARE or reads < SHARE:
        return []
    both = (r["loses"] & r["reads"]).nonzero()
    row = int(both[0]) if both.numel() else int(r["loses"].nonzero()[0])
    layers = ", ".join(names)
    return [make(
        CODE,
        f"the packed sequences {layers} reads do not hold the rows' data: of the first {x.shape[0]} training "
        f"rows, {loses:.0%} have steps that hold data (a non-zero entry) left out of the packing, and {reads:.0%} "
        f"begin or end what is kept with padding (all-zero steps); row {row}: {int(r['data'][row])} of its "
        f"{x.shape[1]} steps hold data, {int(r['kept'][row])} are read, {int(r['read_data'][row])} of them data. The lengths do not say where each "
        f"row's data sits: pack_padded_sequence keeps each row's first `length` steps",
        evidence={"packed_layers": names, "loses_data": loses, "reads_padding": reads, "rows": int(x.shape[0]),
                  "example_row": row, "example_data_steps": int(r["data"][row]),
                  "example_read_steps": int(r["kept"][row]), "example_read_data": int(r["read_data"][row])},
        where=names[0], severity="warning",
        fix="pad each row at the end (Keras' pad_sequences(..., padding='post')), and pass each row's own "
            "length in the rows' order (enforce_sorted=False sorts and restores the rows itself)")]
