"""Numerical gradient check: autograd's gradient against centered finite differences.

Notes 000/004: "check gradients numerically by finite differences". On a float64 deep copy of
the model in eval mode (dropout off, so the loss is a deterministic function of the weights),
for each parameter tensor we pick a few random coordinates w_i and compare

    analytic  g_a = dL/dw_i (autograd)         numeric  g_n = (L(w_i + h) - L(w_i - h)) / 2h

over the sampled coordinates of that tensor. CS231n "Gradient checks": a relative error
> 1e-2 means the gradient is probably wrong; 1e-4..1e-2 is uncomfortable (can be kinks of
ReLU); < 1e-7 with float64 is the usual healthy value.

A finite difference is itself an estimate, and on deep nets whose units vanish, explode or die
it can be a poor one while autograd is right: a gradient of 1e-12 is below the difference's
rounding noise (about eps * |L| / h = 5e-10 for L = 2.3 in float64), an exploding net's third
derivative makes the O(h^2) truncation error large, and a kink inside the step (a ReLU input
or a max-pool tie) gives a one-sided slope. So each coordinate is differenced twice, at h and at
2h, and the disagreement of the two estimates plus the rounding floor is the difference's own
uncertainty u_i (it over-states the truncation error at h threefold: conservative). The
reported error is the part of the disagreement with autograd that the finite differences
cannot explain:

    rel_error = max(0, ||g_a - g_n|| - CONFIDENCE * ||u||) / max(||g_a||, ||g_n||)

A wrong backward (a factor, a sign, a detached path) gives two differences that agree with each
other and not with autograd, so its error stays; noise and kinks make the two differences
disagree and are discounted. Inputs also get a tiny Gaussian jitter (1e-3 of their std, its own
seeded generator), which moves the point off exact ties (every background pixel of a digit is
0) without changing what the gradient code computes.

A kink can also sit exactly at the point, where no input jitter reaches it: at zeros made inside
the net. A residual branch whose last scale starts at zero (a zero-initialized BatchNorm weight,
Goyal et al. 2017; any zero-initialized layer or zero-scale norm) adds exactly 0, so the ReLU after
the sum sees the exact zeros of the ReLU before it; a parameter's move of +h then opens those units
and a move of -h leaves them shut. The centered differences at h and 2h both read the mean of the
two one-sided slopes and agree with each other, while autograd takes one side (ReLU'(0) = 0). So
the uncertainty also holds the one-sided differences' disagreement, |(L(w+h) - L(w)) - (L(w) -
L(w-h))| / h: the slope's jump at the point. A smooth loss makes it O(h L''), nothing; autograd's
one-sided slope lies within half of it from the centered one. It costs no evaluation (L(w) is the
loss already computed), and a wrong backward still gives one-sided differences that agree with
each other and not with autograd.

On deep or wide models at most ``MAX_TENSORS`` parameter tensors are checked (the first, the
last and evenly spaced ones between), so the check's cost does not grow with depth.

The loss runs in float64 too: a loss module's buffers (``nn.CrossEntropyLoss(weight=...)``,
``pos_weight``) are converted with the model. A loss function that holds its own float32 tensors
cannot be, and the check raises :class:`NotCheckable` instead of autograd's dtype error; so it does
for a loss that returns float32 on the float64 outputs (``F.binary_cross_entropy_with_logits(out,
F.one_hot(y, C).float())`` computes in the target's float32): its rounding, ~1e-7 of the loss, is
larger than any change a step of h = 1e-6 makes, so both differences read 0 while autograd is right.
"""
from __future__ import annotations

import copy

import torch

ERROR_THRESHOLD = 1e-2      # CS231n: relative error > 1e-2 "usually means the gradient is probably wrong"
WARN_THRESHOLD = 1e-4       # CS231n: 1e-2 > error > 1e-4 "should make you feel uncomfortable"
STEP = 1e-6                 # h for float64 central differences (truncation O(h^2), rounding O(eps/h))
TINY = 1e-10                # both gradients below this: the coordinate carries no signal
JITTER = 1e-3               # input jitter, relative to the input std: breaks exact ties (kinks)
ROUNDING_ULPS = 100.0       # a float64 loss through a deep net is exact to ~100 ulps: the rounding
                            # floor of a difference is ROUNDING_ULPS * eps * |L| / h
CONFIDENCE = 3.0            # the finite differences explain a disagreement up to 3x their uncertainty
MAX_TENSORS = 16            # tensors checked per model (deep/wide models are sampled)
EPS64 = torch.finfo(torch.float64).eps


class NotCheckable(RuntimeError):
    """The loss cannot be evaluated on the float64 copy (it holds float32 tensors of its own)."""


def sample_tensors(names: list, *, limit: int = MAX_TENSORS) -> list:
    """``names`` when there are at most ``limit``, else the first, the last and evenly spaced ones."""
    if len(names) <= limit:
        return list(names)
    picks = sorted({round(i * (len(names) - 1) / (limit - 1)) for i in range(limit)})
    return [names[i] for i in picks]


def rescaled_by_design(model: torch.nn.Module) -> set[str]:
    """The names of the parameters whose autograd gradient PyTorch scales on purpose, so that it is
    not dL/dw and no finite difference can agree with it: the weight of an ``nn.Embedding`` or
    ``nn.EmbeddingBag`` built with ``scale_grad_by_freq=True`` (each row's gradient divided by its
    id's count in the mini-batch, PyTorch's documented option). They are left out of the check: the
    backward is PyTorch's own, as the option documents it, not a user's fault."""
    return {f"{name}.weight" if name else "weight" for name, m in model.named_modules()
            if isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag)) and m.scale_grad_by_freq}


def _jittered(check: torch.nn.Module, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """``x`` in float64 with ``JITTER`` x its std of Gaussian noise added (float inputs), which
    breaks exact ties at kinks. Where the model cannot take the jittered rows (ids stored as
    floats and cast with ``.long()`` inside the forward: a jitter of 1e-3 of the ids' spread pushes
    the largest past the vocabulary), the rows as given: the check then runs at ids the model
    reads. The noise is drawn from ``gen`` either way (the coordinates sampled after it stay the same)."""
    if not torch.is_floating_point(x):
        return x
    x = x.double()
    jitter = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(x.device)
    moved = x + JITTER * (x.std() + 1e-12) * jitter
    try:
        with torch.no_grad():
            check(moved)
    except IndexError:
        return x
    except RuntimeError:        # a forward that does not run in float64: the check reports it below
        pass
    return moved


def gradcheck(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, *,
              coords: int = 4, step: float = STEP, seed: int = 0, max_tensors: int = MAX_TENSORS,
              tensors: list | None = None) -> list[dict]:
    """Per checked parameter tensor: ``{"name", "rel_error", "raw_error", "uncertainty",
    "analytic_norm", "numeric_norm", "coords"}`` (``raw_error``: ||g_a - g_n|| / scale before the
    finite differences' uncertainty is discounted; ``uncertainty``: CONFIDENCE * ||u|| / scale).

    ``x, y``: a small batch (a few dozen rows is plenty). ``tensors``: the names of the tensors
    checked (default: ``sample_tensors`` of them all). The model is never modified.
    """
    check = copy.deepcopy(model).double().eval()
    gen = torch.Generator().manual_seed(seed)
    x = _jittered(check, x, gen)
    y = y.double() if torch.is_floating_point(y) else y
    if isinstance(loss_fn, torch.nn.Module):
        loss_fn = copy.deepcopy(loss_fn).double()
    rescaled = rescaled_by_design(check)
    params = dict((n, p) for n, p in check.named_parameters()
                  if p.requires_grad and p.numel() > 0 and n not in rescaled)
    for p in params.values():
        p.grad = None
    try:
        loss = loss_fn(check(x), y)
    except RuntimeError as exc:
        if not any(word in str(exc).lower() for word in ("double", "dtype", "float64")):
            raise
        raise NotCheckable(f"the loss does not run in float64: {str(exc).splitlines()[0]}") from exc
    if loss.dtype != torch.float64:
        # a loss that computes in float32 on float64 outputs (a target made with ``.float()``, a
        # cast inside the loss) rounds to ~1e-7 of its value: a difference at h = 1e-6 is below it
        # (both read 0), so there is no finite-difference estimate to compare autograd with
        raise NotCheckable(f"the loss returns {loss.dtype} on float64 outputs (a cast inside it, such as "
                           f"a target made with .float()), too coarse for finite differences")
    loss.backward()
    base = loss.item()
    level = abs(base)
    results = []

    def difference(flat, i, old, h):
        flat[i] = old + h
        plus = loss_fn(check(x), y).item()
        flat[i] = old - h
        minus = loss_fn(check(x), y).item()
        flat[i] = old
        jump = abs((plus - base) - (base - minus)) / h     # the one-sided slopes' disagreement
        return (plus - minus) / (2 * h), jump, max(abs(plus), abs(minus), level)

    with torch.no_grad():
        for name in (sample_tensors(list(params), limit=max_tensors) if tensors is None
                     else [n for n in params if n in tensors]):
            p = params[name]
            flat = p.view(-1)
            grad = p.grad.reshape(-1) if p.grad is not None else torch.zeros_like(flat)
            idx = torch.randperm(flat.numel(), generator=gen)[:coords]
            analytic, numeric, spread = [], [], []
            for i in idx.tolist():
                old = flat[i].item()
                near, jump, size = difference(flat, i, old, step)
                far, _, _ = difference(flat, i, old, 2 * step)
                analytic.append(grad[i].item())
                numeric.append(near)
                spread.append(abs(near - far) + jump + ROUNDING_ULPS * EPS64 * size / step)
            a = torch.tensor(analytic, dtype=torch.float64)
            n = torch.tensor(numeric, dtype=torch.float64)
            u = CONFIDENCE * torch.tensor(spread, dtype=torch.float64).norm().item()
            scale = max(a.norm().item(), n.norm().item())
            err = (a - n).norm().item()
            if scale < TINY:
                rel = raw = unc = 0.0
            else:
                rel, raw, unc = max(0.0, err - u) / scale, err / scale, u / scale
            results.append({"name": name, "rel_error": rel, "raw_error": raw, "uncertainty": unc,
                            "analytic_norm": a.norm().item(), "numeric_norm": n.norm().item(),
                            "coords": len(analytic)})
    return results


def in_the_loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, names: list, *,
                seed: int = 0) -> bool:
    """Whether a mismatch of the tensors ``names`` lies in the loss, not in the model: under a
    fixed random linear read-out of the output, ``L(out) = mean over rows of <r, out>`` (a function
    autograd differentiates exactly), every one of those tensors' gradients agrees with the finite
    differences (relative error <= ``WARN_THRESHOLD``), while autograd's gradient of the user's
    loss still reaches the output (a loss that cuts it whole, a numpy round trip, trains nothing
    and is not one), and the loss's graph holds only torch's own operations (no
    ``torch.autograd.Function`` of the user's: a backward written by hand is the user's code, and
    its mismatch a fault). Then the user's loss itself stops part of its gradient (a ``detach()``,
    ``.data``, a weight held fixed on purpose as a self-paced or focal weight). False when the
    output is not one tensor."""
    check = copy.deepcopy(model).double().eval()
    xd = x.double() if torch.is_floating_point(x) else x
    out = check(xd)
    if not isinstance(out, torch.Tensor) or not torch.is_floating_point(out):
        return False
    out = out.detach().requires_grad_(True)
    yd = y.double() if torch.is_floating_point(y) else y
    lossd = copy.deepcopy(loss_fn).double() if isinstance(loss_fn, torch.nn.Module) else loss_fn
    loss = lossd(out, yd)
    if not isinstance(loss, torch.Tensor) or loss.grad_fn is None or _own_backward(loss.grad_fn):
        return False        # no graph from the output (a float rewrapped), or a backward written by hand
    reach = torch.autograd.grad(loss, out, allow_unused=True)[0]
    if reach is None or not bool(reach.abs().gt(0).any()):
        return False
    gen = torch.Generator().manual_seed(seed + 1)
    r = torch.randn(out.shape[1:], generator=gen, dtype=torch.float64).to(out.device)

    def read_out(o, _y):
        return (o * r).reshape(o.shape[0], -1).sum(1).mean()

    checked = gradcheck(model, x, y, read_out, seed=seed, tensors=names)
    return bool(checked) and all(c["rel_error"] <= WARN_THRESHOLD for c in checked)


def _own_backward(fn) -> bool:
    """Whether the autograd graph below ``fn`` holds a user's ``torch.autograd.Function`` (its node a
    ``BackwardCFunction``), whose backward is written by hand."""
    seen, stack = set(), [fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, torch.autograd.function.BackwardCFunction):
            return True
        stack.extend(child for child, _ in node.next_functions)
    return False
