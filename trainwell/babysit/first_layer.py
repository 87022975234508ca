"""What reaches the model's first trainable layer: information lost before it, category ids fed as numbers.

Every weight learns from what the layers it belongs to receive. The *entry layers* are the
parameterized modules whose input depends on the data and on no parameter: the first Linear or
Conv of a plain net, each branch's first layer of a wide one (``entry_layers``). What the forward
does before them (a pooling, an activation, a slice, a cast) no weight can undo.

Two checks read them, on the pre-flight's host rows:

- ``check_first_layer`` (``uninformative_inputs``, a warning): the model's own code throws away,
  before any weight, information the labels need. Both needed. (1) *The entry layers ignore part of
  the input*: with two random projections of what they receive, the share of the inputs' varying
  entries whose gradient is exactly 0 in both (``LOST_MIN``); a max-pool hides 3 of 4 pixels, a
  ReLU every negative reading, a slice whole columns, while every invertible transform
  (standardization, log, flatten, concatenation) passes every entry on. (2) *What is ignored
  mattered*: cheap probes fitted on the raw inputs and on what the entry layers receive, scored on
  held-out rows: a linear model (logistic / ridge regression), 10 nearest neighbours and, for
  images and signals, a linear model on random-convolution features (max, min and mean of 32
  random 3-wide filters: translation-invariant detectors, Saxe et al. 2011 "On random weights and
  unsupervised feature learning"). It fires when one probe does worse on what the layers receive by
  at least ``MIN_DROP`` of accuracy (issue 11's kill rule: 3 points) or ``LOSS_RATIO`` of its
  squared error (25 %), paired on the same rows (class ids: McNemar's exact test; regression: a
  one-sided Wilcoxon signed-rank test on the squared errors) at ``ALPHA`` over the probes compared.
  Where the entry layers receive the inputs whole, (1) is read on their *outputs* instead, with each
  entry layer's own parameters redrawn at random (its arithmetic, not an init's zeros): input entries
  with no effect on them in any row are positions the layer never reads whatever its weights (a
  convolution whose stride is wider than its kernel, ``nn.Conv2d(1, 16, 1, 3)`` for kernel 3 stride 1;
  a dilation's gaps), and (2) probes the inputs with those entries set to 0.
- ``check_category_ids`` (``categories_as_numbers``, a warning): a column of a table that takes a
  few distinct values, whose targets depend on which value a row has (chi-square or ANOVA test,
  ``ALPHA`` over the columns tested) but not on their order, reaching an entry layer as one number.
  A measured quantity's neighbouring values have alike targets; ids of airports, stores or users
  are numbered arbitrarily, so neighbours differ as much as any two. The roughness is von Neumann's
  ratio of the mean square successive difference to the mean square difference of all pairs (von
  Neumann 1941), taken over the per-value target profiles ordered by value, each squared distance
  less the part its profiles' sampling noise explains: about 1 in arbitrary order, near 0 for a
  smooth relation; it fires at ``ROUGH`` and above. A net fed such a column must learn a function
  that jumps at every value, the high-frequency kind networks learn last (Rahaman et al. 2019, "On
  the spectral bias of neural networks"); a one-hot encoding or an embedding gives each id its own
  weights. A column rough alone is read again with its *companions* before it is reported
  (``joint_roughness``, ``companions``): another column of few values (one half of a cyclic pair, as
  the cos of an hour beside its sin: each cos value folds two hours together), or all the columns
  that are a function of it (an entity's attributes: a zone's density and office share, each a
  column). The rows are grouped by the columns' values together and each group's neighbour is the
  nearest group, in the columns' standard deviations, with another value of the column read (a
  step along it, as the ordered reading takes): Geary's contiguity ratio on a nearest-neighbour
  graph (Geary 1954), of which von Neumann's ratio is the case of points on a line. A column is
  reported only where it is rough alone and with every companion set whose groups of
  ``MIN_VALUE_ROWS`` rows hold ``COVERED`` of the rows: a net that receives the companions as well
  meets a target that is smooth in them, as it does for every measured quantity; an id whose
  effect no companion explains stays rough (its steps are steps along the id).

Not checkable (both quiet): a model whose entry layers receive something that does not come from
the inputs by a differentiable path (ids cast for an embedding, a constant), a forward that fails
under the hooks; models whose inputs reach every entry layer unchanged cost one forward.
"""
from __future__ import annotations

import copy
import math
import warnings

import torch
from torch import nn

from trainwell.babysit import periodic_columns
from trainwell.babysit.findings import Finding, make
from trainwell.babysit.hooks import hooks_held
from trainwell.babysit.periodic_columns import check_periodic

ROWS = 1500             # rows the probes read: 2/3 fit, 1/3 held out (~500 paired rows: a 3-point drop is
HELD_OUT = 1 / 3        # ... significant at ALPHA when the probes disagree on ~10 % of the rows)
MIN_ROWS = 200          # fewer rows: too few held out to judge a drop
GRAD_ROWS = 64          # rows whose gradients say which input entries reach the entry layers
LOST_MIN = 0.1          # share of the varying input entries the entry layers ignore before the probes run
MIN_DROP = 0.03         # issue 11's kill rule: 3 points of accuracy ...
LOSS_RATIO = 1.25       # ... or 25 % more squared error (regression)
ALPHA = 1e-3            # the chance of a false alarm per setup, split over the probes / columns tested
MAX_FEATURES = 512      # wider inputs are randomly projected to this many (Johnson-Lindenstrauss)
NEIGHBOURS = 10         # the nearest-neighbour probe's k
FILTERS = 32            # the random-convolution probe's filters (3 wide)
MIN_VALUES = 8          # a category column: at least this many distinct values with MIN_VALUE_ROWS rows ...
MAX_VALUES = 256        # ... and at most this many distinct values in all
MIN_VALUE_ROWS = 20     # a value's target profile is read from at least this many rows
ID_ROWS = 5000          # rows the category test reads
ROUGH = 0.7             # adjacent values' targets differ at least 0.7 times as much as any two values' (random
                        # order: 1; one special value at an end of a smooth range: 0.5; a smooth relation: ~0)
MIN_SNR = 4.0           # ... read where the values' profiles spread at least 4x their sampling noise (below it
                        # the ratio of two noise-corrected means is too noisy to tell order from none)
NUMERIC = 0.5           # a column reaches the entry layers as a number: a gradient in at least half the rows
COVERED = 0.5           # a joint reading's groups with MIN_VALUE_ROWS rows hold at least half the rows it reads
                        # (its profiles describe most of them, not a minority)


def owns_parameters(m: nn.Module) -> bool:
    return next(m.parameters(recurse=False), None) is not None


def reaches(fn, params: set) -> bool:
    """Whether the autograd graph below ``fn`` holds one of the tensors in ``params`` (by id)."""
    stack, seen = [fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)       # AccumulateGrad: a leaf tensor
        if variable is not None and id(variable) in params:
            return True
        stack.extend(n for n, _ in node.next_functions)
    return False


def entry_layers(model: nn.Module, x: torch.Tensor) -> dict | None:
    """The entry layers on the rows ``x`` and what they receive: ``{"names": module names, "inputs":
    their input tensors (detached), "calls": per name, which of its calls in one forward are entry
    calls, "ignored": a bool tensor shaped like x, True where an input entry has no effect on any of
    them, "unread": a bool tensor shaped like one row of x, True where an input entry has no effect on
    any entry layer's *output* in any row (``unread``), or None where that cannot be read}``; None when an entry layer receives something that does not come from ``x`` by a
    differentiable path (ids cast for an embedding, a constant) or the forward fails. A layer called
    several times on the inputs (a recurrent cell stepped over the time axis in a loop, one layer on
    two halves) receives all of it: its input is its entry calls' inputs side by side, per row."""
    work = copy.deepcopy(model).eval()
    for p in work.parameters():
        p.requires_grad_(True)          # frozen weights are parameters too: a layer after them is no entry
    params = {id(p) for p in work.parameters()}
    names = {m: n for n, m in work.named_modules()}
    leaf = x.detach().clone().requires_grad_(True)
    got, handles, broken, seen, outs, entering = [], [], [], {}, [], {}
    gen = torch.Generator().manual_seed(0)

    def hook(module, args):
        call = seen[module] = seen.get(module, -1) + 1
        if not args or not torch.is_tensor(args[0]):
            return
        z = args[0]
        if z is leaf or (z.grad_fn is not None and not reaches(z.grad_fn, params)):
            got.append((module, call, z))
            entering[module] = call
            if call == 0:               # the layer's own arithmetic, not this init's zeros, says what it reads
                with torch.no_grad():
                    for q in module.parameters(recurse=False):
                        if torch.is_floating_point(q):
                            q.copy_(torch.randn(q.shape, generator=gen).to(q))
        elif z.grad_fn is None and call == 0:
            broken.append(names[module])            # not from x by a differentiable path

    def output(module, args, result):
        if entering.get(module) == seen.get(module):
            first = result if torch.is_tensor(result) else next(
                (r for r in result if torch.is_tensor(r)), None) if isinstance(result, (tuple, list)) else None
            if first is not None and torch.is_floating_point(first):
                outs.append(first)
    for m in work.modules():
        if owns_parameters(m):
            handles.append(m.register_forward_pre_hook(hook))
            handles.append(m.register_forward_hook(output))
    try:
        with hooks_held(handles):
            work(leaf)
    except Exception:                   # a forward that fails here is model_checks' to report
        return None
    if broken or not got or any(not torch.is_floating_point(z) for _, _, z in got):
        return None
    ignored = untouched(leaf, [z for _, _, z in got])
    if ignored is None:
        return None
    unread = None
    if outs:
        try:
            unread = untouched(leaf, outs)
        except RuntimeError:            # a tensor the randomized layer shares, used before it: not readable
            unread = None
        if unread is not None:
            unread = unread.all(0)      # in every row: where the layer's arithmetic reaches, not a row's zeros
        if unread is not None and bool(unread.any()):
            # and at the opposite draw: an entry a gate's ReLU closes at one sign opens at the other, while a
            # position a stride skips stays unread whatever the weights
            entry_calls = {names[m]: {c for mm, c, _ in got if mm is m} for m, _, _ in got}
            again = _unread_at(model, x, entry_calls, sign=-1.0)
            unread = None if again is None else unread & again
    calls = {}
    for module, call, z in got:
        calls.setdefault(module, []).append((call, z.detach()))
    if any(len(c) > 1 and any(z.shape[0] != x.shape[0] for _, z in c) for c in calls.values()):
        calls = {m: c[:1] for m, c in calls.items()}    # calls that are not one per row: the first read
    return {"names": [names[m] for m in calls], "inputs": [side_by_side([z for _, z in c]) for c in calls.values()],
            "calls": {names[m]: [i for i, _ in c] for m, c in calls.items()}, "ignored": ignored, "unread": unread}


def _unread_at(model: nn.Module, x: torch.Tensor, entry_calls: dict, *, sign: float) -> torch.Tensor | None:
    """``entry_layers``' ``unread`` with the entry layers' own parameters at ``sign`` x its random draw
    (the same draw, in the same order: the layers named in ``entry_calls``, at their first call); the
    outputs read are those of the calls ``entry_calls`` names. None where it cannot be read."""
    work = copy.deepcopy(model).eval()
    modules = {m: n for n, m in work.named_modules() if n in entry_calls}
    leaf = x.detach().clone().requires_grad_(True)
    gen = torch.Generator().manual_seed(0)
    seen, outs, handles = {}, [], []

    def hook(module, args):
        call = seen[module] = seen.get(module, -1) + 1
        if call == 0:
            with torch.no_grad():
                for q in module.parameters(recurse=False):
                    if torch.is_floating_point(q):
                        q.copy_(sign * torch.randn(q.shape, generator=gen).to(q))

    def output(module, args, result):
        if seen.get(module) in entry_calls[modules[module]]:
            first = result if torch.is_tensor(result) else next(
                (r for r in result if torch.is_tensor(r)), None) if isinstance(result, (tuple, list)) else None
            if first is not None and torch.is_floating_point(first):
                outs.append(first)
    for m in modules:
        handles += [m.register_forward_pre_hook(hook), m.register_forward_hook(output)]
    try:
        with hooks_held(handles):
            work(leaf)
            read = untouched(leaf, outs) if outs else None
    except Exception:                   # a forward that fails here is model_checks' to report
        return None
    return None if read is None else read.all(0)


def untouched(leaf: torch.Tensor, received: list) -> torch.Tensor | None:
    """A bool tensor shaped like ``leaf``: True where an entry has no effect on any of the tensors
    ``received`` (computed from ``leaf``), read by two random projections of them (an entry missed by
    both has a zero gradient); None where ``leaf`` reaches none of them."""
    gen = torch.Generator().manual_seed(0)
    ignored = torch.ones_like(leaf, dtype=torch.bool)
    for _ in range(2):
        total = sum((z * torch.randn(z.shape, generator=gen).to(z)).sum() for z in received)
        grad, = torch.autograd.grad(total, leaf, retain_graph=True, allow_unused=True)
        if grad is None:
            return None
        ignored &= grad == 0
    return ignored


def side_by_side(parts: list) -> torch.Tensor:
    """One input tensor per row from a layer's calls: the one call's as it is, several calls'
    flattened per row and concatenated."""
    return parts[0] if len(parts) == 1 else torch.cat([z.reshape(z.shape[0], -1) for z in parts], dim=1)


def received(model: nn.Module, x: torch.Tensor, names: list, *, calls: dict | None = None,
             chunk: int = 256) -> list:
    """What the entry layers ``names`` receive on the rows ``x`` (eval mode, no gradients): one
    tensor per layer, rows in ``x``'s order; ``calls``: per name, the calls of one forward to read
    (``entry_layers``' ``"calls"``; default the first), side by side."""
    work = copy.deepcopy(model).eval()
    modules = dict(work.named_modules())
    wanted = {n: set((calls or {}).get(n, [0])) for n in names}
    parts = {n: [] for n in names}
    seen, taken = {}, {n: [] for n in names}

    def hook(module, args, name):
        call = seen[name] = seen.get(name, -1) + 1
        if call in wanted[name]:
            taken[name].append(args[0].detach())
    handles = [modules[n].register_forward_pre_hook(lambda m, args, n=n: hook(m, args, n)) for n in names]
    with hooks_held(handles), torch.no_grad():
        for start in range(0, x.shape[0], chunk):
            seen.clear()
            for n in names:
                taken[n] = []
            work(x[start:start + chunk])
            for n in names:
                parts[n].append(side_by_side(taken[n]))
    return [torch.cat(parts[n]) for n in names]


# ------------------------------------------------------------------------------ the probes
def probe_features(F: torch.Tensor, fit: int, gen) -> torch.Tensor:
    """Rows flattened, standardized per feature on the fitted rows, projected when wide."""
    F = F.reshape(F.shape[0], -1).double()
    F = (F - F[:fit].mean(0)) / F[:fit].std(0).clamp_min(1e-8)
    if F.shape[1] > MAX_FEATURES:
        F = F @ torch.randn(F.shape[1], MAX_FEATURES, generator=gen, dtype=torch.float64) / math.sqrt(MAX_FEATURES)
    return F


def conv_features(F: torch.Tensor, fit: int, gen) -> torch.Tensor:
    """Max, min and mean ReLU of FILTERS random zero-mean 3-wide filters over (N, C, L) or (N, C, H, W)."""
    F = F.double()
    F = (F - F[:fit].mean()) / F[:fit].std().clamp_min(1e-8)
    spatial = F.dim() - 2
    w = torch.randn(FILTERS, F.shape[1], *([3] * spatial), generator=gen, dtype=torch.float64)
    w = w - w.mean(dim=tuple(range(1, w.dim())), keepdim=True)
    h = (nn.functional.conv1d if spatial == 1 else nn.functional.conv2d)(F, w, padding=1)
    dims = tuple(range(2, h.dim()))
    return torch.cat([h.amax(dims), h.amin(dims), h.relu().mean(dims)], 1)


def fit_predict(kind: str, probe: str, F: torch.Tensor, y, fit: int):
    """The probe (``"linear"``: logistic / ridge regression; ``"neighbours"``: NEIGHBOURS nearest
    neighbours) fitted on the first ``fit`` rows of ``F``, its predictions on the rest."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    if probe == "neighbours":
        model = (KNeighborsClassifier if kind == "classes" else KNeighborsRegressor)(NEIGHBOURS)
    else:
        model = LogisticRegression(max_iter=200) if kind == "classes" else Ridge(alpha=1.0)
    F = F.numpy()
    return model.fit(F[:fit], y[:fit]).predict(F[fit:])


def paired_scores(kind: str, y_held, raw_pred, layer_pred) -> dict:
    """Scores of the two probes on the held-out rows and the one-sided paired p-value that the
    layers' probe is worse."""
    from scipy.stats import binomtest, wilcoxon
    if kind == "classes":
        right_raw, right_layer = raw_pred == y_held, layer_pred == y_held
        lost, won = int((right_raw & ~right_layer).sum()), int((~right_raw & right_layer).sum())
        p = binomtest(lost, lost + won, 0.5, alternative="greater").pvalue if lost + won else 1.0
        return {"raw": float(right_raw.mean()), "layers": float(right_layer.mean()), "p": float(p)}
    err_raw = ((raw_pred - y_held) ** 2).reshape(len(y_held), -1).sum(1)
    err_layer = ((layer_pred - y_held) ** 2).reshape(len(y_held), -1).sum(1)
    diff = err_layer - err_raw
    p = wilcoxon(diff, alternative="greater").pvalue if (diff != 0).any() else 1.0
    return {"raw": float(err_raw.mean()), "layers": float(err_layer.mean()), "p": float(p)}


def probe_drop(X: torch.Tensor, Z: list, y: torch.Tensor, *, class_ids: bool, seed: int = 0) -> list[dict]:
    """Each probe's held-out score on the raw inputs ``X`` and on what the entry layers receive
    ``Z`` (one tensor per layer), with its paired p-value: ``[{"probe", "raw", "layers", "p"}]``
    (accuracy for class ids, mean squared error otherwise)."""
    gen = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    order = torch.randperm(n, generator=gen)
    fit = n - int(n * HELD_OUT)
    X, Z = X[order].cpu(), [z[order].cpu() for z in Z]
    kind = "classes" if class_ids else "values"
    target = y[order].cpu()
    target = target.reshape(-1).long().numpy() if class_ids else target.double().reshape(n, -1).numpy()
    if target.shape[-1] == 1 and not class_ids:
        target = target[:, 0]
    sides = {"raw": X, "layers": torch.cat([z.reshape(n, -1) for z in Z], 1)}
    features = {probe: {s: probe_features(F, fit, gen) for s, F in sides.items()} for probe in ("linear", "neighbours")}
    if len(Z) == 1 and X.dim() == Z[0].dim() and X.dim() in (3, 4) and min(X.shape[2:]) >= 3 \
            and min(Z[0].shape[2:]) >= 3:
        features["random convolutions"] = {"raw": probe_features(conv_features(X, fit, gen), fit, gen),
                                           "layers": probe_features(conv_features(Z[0], fit, gen), fit, gen)}
    out = []
    for probe, F in features.items():
        fitted = "linear" if probe == "random convolutions" else probe
        with warnings.catch_warnings():     # an unconverged probe is still a probe: both sides get the same
            warnings.simplefilter("ignore")
            pred = {s: fit_predict(kind, fitted, F[s], target, fit) for s in F}
        out.append({"probe": probe, **paired_scores(kind, target[fit:], pred["raw"], pred["layers"])})
    return out


def _dropped(r: dict, class_ids: bool) -> bool:
    if class_ids:
        return r["raw"] - r["layers"] >= MIN_DROP
    return r["layers"] >= LOSS_RATIO * r["raw"]


def significant_drop(results: list[dict], class_ids: bool) -> dict | None:
    """The probe of ``probe_drop``'s ``results`` with the largest drop among those at least the kill
    rule's and significant at ``ALPHA`` split over the probes, with ``p_threshold``; None if none is."""
    bound = ALPHA / len(results)
    hits = [r for r in results if r["p"] < bound and _dropped(r, class_ids)]
    if not hits:
        return None
    worst = max(hits, key=lambda r: (r["raw"] - r["layers"]) if class_ids else r["layers"] / max(r["raw"], 1e-12))
    return {**worst, "p_threshold": bound}


def check_first_layer(model: nn.Module, X, y, *, class_ids: bool, entries: dict | None,
                      seed: int = 0) -> list[Finding]:
    """``uninformative_inputs`` (a warning) when the entry layers ignore at least ``LOST_MIN`` of
    the inputs' varying entries and a probe on what they receive does significantly worse than the
    same probe on the raw inputs; or, where what they receive is whole, when their own arithmetic
    never reads ``LOST_MIN`` of the varying entries in any row (``entries["unread"]``: a stride
    wider than the kernel) and a probe on the entries read does significantly worse than on all of
    them (see the module docstring). ``entries``: ``entry_layers`` on the first rows of ``X`` (None:
    not checkable, nothing reported)."""
    n = min(X.shape[0], ROWS)
    if n < MIN_ROWS or (class_ids and torch.unique(y[:n]).numel() < 2):
        return []
    if entries is None:
        return []
    ignored = entries["ignored"]
    rows = ignored.shape[0]
    varies = X[:rows].std(0) > 0 if rows > 1 else torch.ones_like(ignored[0])
    varying = varies.expand_as(ignored)
    lost = float((ignored & varying).sum()) / max(1, int(varying.sum()))
    if lost >= LOST_MIN:
        device = next((p.device for p in model.parameters()), X.device)
        try:
            Z = received(model, X[:n].to(device), entries["names"], calls=entries.get("calls"))
        except Exception:
            return []
        return _reported(X, y, Z, entries, n=n, lost=lost, class_ids=class_ids, seed=seed, unread=False)
    unread = entries.get("unread")
    if unread is None:
        return []
    skipped = float((unread & varies).sum()) / max(1, int(varies.sum()))
    if skipped < LOST_MIN:
        return []
    # what the entry layers' arithmetic reads of the inputs: the entries it never reads set to zero
    Z = [X[:n] * (~unread).to(X.device, X.dtype)]
    return _reported(X, y, Z, entries, n=n, lost=skipped, class_ids=class_ids, seed=seed, unread=True)


def _reported(X, y, Z, entries: dict, *, n: int, lost: float, class_ids: bool, seed: int,
              unread: bool) -> list[Finding]:
    """``check_first_layer``'s finding where a probe on ``Z`` (what the entry layers receive, or the
    inputs they read: ``unread``) does significantly worse than on the raw inputs; else ``[]``."""
    results = probe_drop(X[:n], Z, y[:n], class_ids=class_ids, seed=seed)
    worst = significant_drop(results, class_ids)
    if worst is None:
        return []
    bound = worst["p_threshold"]
    layers = entries["names"]
    shapes = [tuple(z.shape[1:]) for z in entries["inputs"]]
    score = (f"accuracy {worst['raw']:.2f} on the raw inputs and {worst['layers']:.2f} on what "
             if class_ids else f"squared error {worst['raw']:.3g} on the raw inputs and {worst['layers']:.3g} on what ")
    many = len(layers) > 1
    if unread:
        said = (f"the model's first trainable layer{'s' if many else ''} ({', '.join(layers)}) receive"
                f"{'' if many else 's'} the inputs of {tuple(X.shape[1:])} whole, but {lost:.0%} of their varying "
                f"values have no effect on {'their outputs' if many else 'its output'} in any row, whatever the "
                f"weights (a zero gradient); a {worst['probe']} probe scores {score}"
                f"{'they read' if many else 'it reads'}")
        cause = "the layer's own arithmetic skips input positions (a stride wider than the kernel, a dilation)"
        fix = ("make the first layer read every input position: a kernel at least as wide as its stride "
               "(nn.Conv2d(in, out, kernel_size, stride) takes the kernel before the stride; check the "
               "arguments' order), or no dilation gaps")
    else:
        said = (f"the model's first trainable layer{'s' if many else ''} ({', '.join(layers)}) receive"
                f"{'' if many else 's'} {', '.join(str(s) for s in shapes)} per row from inputs of "
                f"{tuple(X.shape[1:])}, and {lost:.0%} of the inputs' varying values have no effect on it (a zero "
                f"gradient); a {worst['probe']} probe scores {score}{'they receive' if many else 'it receives'}")
        cause = ("the forward throws away information the labels need before any weight can learn from it "
                 "(a pooling, an activation, a slice or a cast before the first layer)")
        fix = ("give the first layer the inputs whole: take out what the forward does to the inputs before it "
               "(a max-pool or downsampling, an activation such as a ReLU on standardized inputs, a slice), or "
               "move it after the first layer")
    return [make(
        "uninformative_inputs",
        f"{said} ({int(n * HELD_OUT)} held-out rows, paired p = {worst['p']:.2g}): {cause}",
        evidence={"first_layer": layers, "received_shapes": shapes, "input_shape": tuple(X.shape[1:]),
                  "ignored_share": lost, "unread": unread, "probes": results, "probe": worst["probe"],
                  "raw_score": worst["raw"], "layer_score": worst["layers"], "p": worst["p"], "p_threshold": bound},
        where=layers[0], severity="warning", fix=fix)]


# ------------------------------------------------------------------------------ category ids as numbers
def _profiles(inverse, k: int, y, *, class_ids: bool, ranked: bool = False) -> tuple | None:
    """The target profile of each of ``k`` groups (``inverse``: each row's group), its sampling
    noise (the variance of the profile's mean) and the p-value of a test that the groups' targets
    differ at all (chi-square for class ids, ANOVA otherwise), as a function of no arguments (its
    survival function is computed only when asked for); None with fewer than two classes.
    ``ranked``: the class ids ``y`` are ranks among a superset's classes (``_ranks`` of every row
    read), renumbered here among the classes present: the ranks ``torch.unique`` gives, without a sort."""
    from scipy.stats import chi2, f as f_dist
    n = inverse.numel()
    counts = torch.bincount(inverse, minlength=k).double()
    if class_ids:
        labels = ((torch.cumsum(torch.bincount(y) > 0, 0) - 1)[y] if ranked
                  else torch.unique(y.reshape(-1), return_inverse=True)[1])
        c = int(labels.max()) + 1
        if c < 2:
            return None
        table = torch.zeros(k, c, dtype=torch.float64)
        table.index_put_((inverse, labels), torch.ones(n, dtype=torch.float64), accumulate=True)
        profile = table / counts[:, None]
        noise = (profile * (1 - profile)).sum(1) / (counts - 1)
        expected = counts[:, None] * table.sum(0) / n
        stat = float(((table - expected) ** 2 / expected.clamp_min(1e-12)).sum())
        return profile, noise, lambda: float(chi2.sf(stat, (k - 1) * (c - 1)))
    t = y.double().reshape(n, -1)
    sums = torch.zeros(k, t.shape[1], dtype=torch.float64).index_add_(0, inverse, t)
    profile = sums / counts[:, None]
    within = ((t - profile[inverse]) ** 2).sum(1)
    var = torch.zeros(k, dtype=torch.float64).index_add_(0, inverse, within) / (counts - 1)
    between = float((counts[:, None] * (profile - t.mean(0)) ** 2).sum())
    within_ss = float(within.sum())
    d1, d2 = (k - 1) * t.shape[1], (n - k) * t.shape[1]
    ratio = (between / d1) / max(within_ss / d2, 1e-300) if d2 > 0 else None
    return profile, var / counts, lambda: float(f_dist.sf(ratio, d1, d2)) if ratio is not None else 1.0


def _distances(profile, noise):
    """Squared distances between the groups' profiles, each less the part their sampling noise explains."""
    return ((profile[:, None] - profile[None]) ** 2).sum(2) - noise[:, None] - noise[None]


def _interior(values):
    """The rows whose value of ``values`` has ``MIN_VALUE_ROWS`` rows and is neither the lowest nor
    the highest distinct value, the number of such values, and each such row's value as its rank
    among them (``torch.unique(values[rows], return_inverse=True)[1]``, without a second sort);
    None when the column has fewer than ``MIN_VALUES + 2`` or more than ``MAX_VALUES`` distinct values."""
    distinct, inverse = torch.unique(values, return_inverse=True)
    if not MIN_VALUES + 2 <= distinct.numel() <= MAX_VALUES:
        return None
    keep = torch.bincount(inverse, minlength=distinct.numel()) >= MIN_VALUE_ROWS
    keep[0] = keep[-1] = False          # the ends of a measured range hold its special cases (a zero, a
    rows = keep[inverse]                # clipped maximum, a missing-value code): the interior is read
    return rows, int(keep.sum()), (torch.cumsum(keep.long(), 0) - 1)[inverse[rows]]


def roughness(values, y, *, class_ids: bool) -> dict | None:
    """The per-value relation of one column ``values`` to the targets ``y``: ``{"values": distinct
    values read, "rough": the noise-corrected von Neumann ratio, "p": the test of any relation,
    "snr": the profiles' mean squared pair difference over twice their mean sampling noise}``, on the
    values with ``MIN_VALUE_ROWS`` rows but the lowest and the highest; None when fewer than
    ``MIN_VALUES`` such values or more than ``MAX_VALUES`` distinct values."""
    r = _roughness(values, y, class_ids=class_ids)
    return None if r is None else {**r, "p": r["p"]()}


def _ranks(y):
    """Each class id's rank among the distinct ids of ``y`` (flattened)."""
    return torch.unique(y.reshape(-1), return_inverse=True)[1]


def _roughness(values, y, *, class_ids: bool, ranked: bool = False) -> dict | None:
    """``roughness`` with ``"p"`` a function of no arguments: the test is read only for a column
    rough and spread enough to be reported (``check_category_ids``). ``ranked``: ``y`` holds
    ``_ranks`` of the class ids (read once for every column)."""
    interior = _interior(values)
    if interior is None or interior[1] < MIN_VALUES:
        return None
    rows, k, inverse = interior
    read = _profiles(inverse, k, y[rows], class_ids=class_ids, ranked=ranked)
    if read is None:
        return None
    profile, noise, p = read
    dist = _distances(profile, noise)
    adjacent = float(dist.diagonal(1).mean())
    pairs = float(dist[torch.triu_indices(k, k, 1).unbind()].mean())
    rough = adjacent / pairs if pairs > 0 else 0.0
    return {"values": k, "rough": rough, "p": p, "snr": pairs / max(float(2 * noise.mean()), 1e-300)}


def joint_roughness(x, j: int, others: list, y, *, class_ids: bool) -> float | None:
    """``roughness``'s ratio for column ``j`` of the table ``x`` read together with the columns
    ``others``: the rows are grouped by their values of all of them (on ``j``'s interior rows), and
    each group's neighbour is the nearest group, in the columns' own standard deviations, whose value
    of ``j`` differs (a step along ``j``, as the ordered reading takes; a group that differs only in
    a companion is no step of ``j``). None when the groups with ``MIN_VALUE_ROWS`` rows are fewer
    than ``MIN_VALUES``, more than ``MAX_VALUES``, or hold less than ``COVERED`` of the rows."""
    interior = _interior(x[:, j])
    if interior is None:
        return None
    rows = interior[0]
    cols = [j, *others]
    v = x[rows][:, cols].double()
    distinct, inverse, counts = torch.unique(v, dim=0, return_inverse=True, return_counts=True)
    keep = counts >= MIN_VALUE_ROWS
    k = int(keep.sum())
    if not MIN_VALUES <= k <= MAX_VALUES or float(counts[keep].sum()) < COVERED * v.shape[0]:
        return None
    held = keep[inverse]
    inverse = torch.cumsum(keep.long(), 0)[inverse[held]] - 1
    read = _profiles(inverse, k, y[rows][held], class_ids=class_ids)
    if read is None:
        return None
    profile, noise, _ = read
    points = distinct[keep] / v.std(0).clamp_min(1e-12)
    apart = torch.cdist(points, points)
    apart[points[:, None, 0] == points[None, :, 0]] = math.inf     # the same value of j: no step along it
    step = apart.argmin(1)
    usable = torch.isfinite(apart.min(1).values)
    dist = _distances(profile, noise)
    adjacent = float(dist[torch.arange(k)[usable], step[usable]].mean())
    pairs = float(dist[torch.triu_indices(k, k, 1).unbind()].mean())
    return adjacent / pairs if pairs > 0 else 0.0


def companions(x, j: int, candidates: list) -> list[list[int]]:
    """The columns of ``x`` that may explain column ``j``'s rough reading, as the sets
    ``joint_roughness`` reads ``j`` with: each column of ``candidates`` (numeric columns of at most
    ``MAX_VALUES`` distinct values) alone (half of a cyclic pair: sin and cos of an hour; an attribute
    of the same entity), and all those that are a function of ``j`` together (an entity's attributes:
    each of ``j``'s values comes with one value of each)."""
    _, inverse = torch.unique(x[:, j], return_inverse=True)
    functional = []
    for c in candidates:
        pairs = torch.unique(torch.stack([inverse.double(), x[:, c].double()], 1), dim=0)
        if pairs.shape[0] == int(inverse.max()) + 1:
            functional.append(c)
    sets = [[c] for c in candidates]
    return sets + ([functional] if len(functional) > 1 else [])


def check_category_ids(X, y, *, class_ids: bool, entries: dict | None) -> list[Finding]:
    """``categories_as_numbers`` (a warning) for the columns of a table that read as category ids
    fed to the entry layers as numbers (see the module docstring). ``entries``: ``entry_layers`` on
    the first rows of ``X`` (None: not checkable, nothing reported)."""
    if entries is None or X.dim() != 2:
        return []
    numeric = (~entries["ignored"]).double().mean(0) >= NUMERIC
    x = X[:ID_ROWS].cpu()
    target = y[:ID_ROWS].cpu()
    read = (x, target, class_ids, tuple(numeric.tolist()), tuple(entries["names"]))
    found = periodic_columns.recall("category ids", read)    # the repairer's re-check on the same rows
    if found is None:
        found = _category_ids(x, target, numeric, class_ids=class_ids, names=entries["names"])
        periodic_columns.remember("category ids", read, found)
    return found


def _category_ids(x, target, numeric, *, class_ids: bool, names: list) -> list[Finding]:
    """``check_category_ids``' finding on the table ``x`` (its first ``ID_ROWS`` rows) and its
    ``target``s; ``numeric``: the columns that reach the entry layers ``names`` as numbers."""
    tested = {}
    labels = _ranks(target) if class_ids else target
    for j in range(x.shape[1]):
        if not bool(numeric[j]):
            continue
        r = _roughness(x[:, j], labels, class_ids=class_ids, ranked=class_ids)
        if r is not None:
            tested[j] = r
    if not tested:
        return []
    bound = ALPHA / len(tested)
    found = {j: {**r, "p": r["p"]()} for j, r in tested.items() if r["rough"] >= ROUGH and r["snr"] >= MIN_SNR}
    found = {j: r for j, r in found.items() if r["p"] < bound}
    if found:                           # a column rough alone but smooth with its companions is no code
        candidates = [c for c in range(x.shape[1]) if bool(numeric[c])
                      and 2 <= torch.unique(x[:, c]).numel() <= MAX_VALUES]
        for j in list(found):
            joint = {tuple(cs): joint_roughness(x, j, cs, target, class_ids=class_ids)
                     for cs in companions(x, j, [c for c in candidates if c != j])}
            joint = {cs: r for cs, r in joint.items() if r is not None}
            found[j] = {**found[j], "joint": joint}
            if joint and min(joint.values()) < ROUGH:
                del found[j]
    if not found:
        return []
    columns = sorted(found)
    j = max(columns, key=lambda c: found[c]["rough"])
    r = found[j]
    layers = f"the entry layer{'s' if len(names) > 1 else ''} " + ", ".join(f"`{n}`" for n in names)
    return [make(
        "categories_as_numbers",
        f"column{'s' if len(columns) > 1 else ''} {columns} read{'' if len(columns) > 1 else 's'} as category "
        f"ids fed to {layers} as one number: column {j} takes {r['values']} distinct values, the targets "
        f"depend on which value a row has (p = {r['p']:.2g}) but not on their order (neighbouring values' "
        f"targets differ {r['rough']:.2f} times as much as any two values'; a measured quantity's neighbours "
        f"are alike, under {ROUGH}"
        + (f"; read with the other columns of few values, as a cyclic pair or an entity's attributes are "
           f"read, still at least {min(r['joint'].values()):.2f}" if r["joint"] else "")
        + "): the first layer must learn a function that jumps at every value",
        evidence={"columns": columns, "column": j, "values": r["values"], "roughness": r["rough"], "p": r["p"],
                  "joint_roughness": {", ".join(map(str, cs)): v for cs, v in r["joint"].items()},
                  "p_threshold": bound, "columns_tested": len(tested), "first_layer": names},
        where=f"input column {j}", severity="warning",
        fix="one-hot encode the column (pd.get_dummies, sklearn OneHotEncoder) or map its ids to an "
            "nn.Embedding, instead of feeding the id as a number")]


def check_what_reaches(model: nn.Module, X, y, *, class_ids: bool, seed: int = 0) -> list[Finding]:
    """Both checks of this module and ``periodic_columns.check_periodic`` on the training rows ``X``,
    ``y``: ``entry_layers`` once, on the first ``GRAD_ROWS`` rows."""
    if not torch.is_floating_point(X) or X.shape[0] < 2:
        return []
    device = next((p.device for p in model.parameters()), X.device)
    entries = entry_layers(model, X[:GRAD_ROWS].to(device))
    if entries is not None:
        entries = {**entries, "ignored": entries["ignored"].cpu(),
                   "unread": None if entries["unread"] is None else entries["unread"].cpu()}
    return (check_first_layer(model, X, y, class_ids=class_ids, entries=entries, seed=seed)
            + check_category_ids(X, y, class_ids=class_ids, entries=entries)
            + check_periodic(X, y, class_ids=class_ids, entries=entries, alpha=ALPHA, numeric=NUMERIC))
