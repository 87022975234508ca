"""Faults in the user's own model and loss code: a forward or backward that raises, a model whose
output rows depend on other rows of the batch, a loss that mixes the rows.

Each check runs on a deep copy of the model and a few rows (one or two forward / backward passes),
so the pre-flight stays within its budget. The user's exception never escapes: it becomes a
``model_raises`` finding that says where in the user's file it happened (for a backward error, the
forward line anomaly mode records for the failing node). trainwell's own errors
(``TrainwellError``) are not the user's code and propagate unchanged.

Batch independence is Karpathy's "use backprop to chart dependencies" check (notes 004 / "A
Recipe for Training Neural Networks": in eval mode output row i must not depend on input row j != i):
the model is run in eval mode (batch norm then uses its running statistics, dropout is off) on a
batch, on the same rows in another order, and on its first half alone.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import os
import re
import sysconfig
import traceback
import warnings

import torch
from torch import nn

from trainwell.babysit.findings import Finding, make
from trainwell.errors import ModelError, TrainwellError

RUN_ROWS = 32            # model_raises: one training-mode forward and backward on this many rows
DEPENDENCE_ROWS = 16     # batch_dependence: a batch, its permutation and its first half
BATCH_TOLERANCE = 1e-3   # ... an output row that changes by more than 1e-3 of the output's RMS (float32
                         # kernels that change with the batch size differ by ~1e-6 relative)
STATISTIC_DRAWS = 16     # ... each size averaged over 16 draws of its 2n rows from the pool (one draw is a single
                         # sample of the statistic's error: its spread over draws is ~0.8 of its mean)
STATISTIC_ROWS = 128     # ... a batch statistic: the first 16 rows inside 32 and alone against the first 128 inside
                         # 256 and alone (8x the rows: a mean's sampling error falls by sqrt(8) = 2.8x)
DECAY = 0.5              # ... it shrank to at most half: the dependence fades as the batch grows (a batch
                         # statistic: batch norm on the batch's own statistics, a normalization over dim=0)
LOSS_ROWS = 16           # loss mixing rows: the batch loss against the loss of each row alone
LOSS_TOLERANCE = 1e-3    # ... relative: float32 rounding on 16 rows is ~1e-6

_TORCH_DIR = os.path.dirname(torch.__file__)
_TRAINWELL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STDLIB_DIRS = tuple(p for p in {sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib")} if p)
_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)\n[ \t]*([^\n]*)')
_NODE = re.compile(r"Error detected in (\w+)")


class _Raised(Exception):
    """The user's forward (``stage`` "forward") or backward ("backward") raised ``error``."""

    def __init__(self, stage: str, error: BaseException):
        super().__init__(stage)
        self.stage, self.error = stage, error


def _users(filename: str) -> bool:
    """A frame in the user's code: not torch's, trainwell's, the standard library's or a frozen module's."""
    path = os.path.abspath(filename)
    return not (filename.startswith("<") or path.startswith(_TORCH_DIR) or path.startswith(_TRAINWELL_DIR)
                or any(path.startswith(d) for d in _STDLIB_DIRS))


def user_frame(frames) -> dict | None:
    """The last of ``frames`` ((file, line, function, source) tuples, outermost first) in the user's
    code as ``{"file", "line", "function", "source"}``; None when every frame is a library's."""
    mine = [f for f in frames if _users(f[0])]
    if not mine:
        return None
    file, line, function, source = mine[-1]
    return {"file": file, "line": int(line), "function": function, "source": (source or "").strip()}


def _traceback_frames(exc: BaseException) -> list:
    return [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(exc.__traceback__)]


def _ids_outside(out, y) -> bool:
    """Integer targets outside 0..C-1 of an (N, C) output: a CUDA loss kernel would assert on them."""
    width = out.shape[-1] if out.ndim >= 2 else 1
    return not torch.is_floating_point(y) and y.numel() > 0 and bool(((y < 0) | (y >= width)).any())


def _forward_loss(model, x, y, loss_fn):
    """The scalar to differentiate: the loss, or the outputs' sum where the loss cannot be taken
    (it fails on the output, or the labels are out of range: the label checks' and
    check_loss_output's findings), so the model's own backward is still exercised."""
    try:
        out = model(x)
    except TrainwellError:
        raise
    except Exception as exc:
        raise _Raised("forward", exc) from exc
    value = None
    if isinstance(out, torch.Tensor) and not _ids_outside(out, y):
        try:
            with warnings.catch_warnings():     # torch's broadcasting warning: check_loss_rows says it better
                warnings.simplefilter("ignore")
                value = loss_fn(out, y)
        except Exception:
            value = None
    if not (isinstance(value, torch.Tensor) and value.numel() == 1 and value.requires_grad):
        first = _output(out)
        value = first.sum() if first is not None and first.requires_grad else None
    return value


def _backward(value):
    try:
        value.backward()
    except TrainwellError:
        raise
    except Exception as exc:
        raise _Raised("backward", exc) from exc


def _anomaly_frame(model, x, y, loss_fn, seed: int) -> tuple:
    """Re-run the failing step under ``torch.autograd.detect_anomaly``: (the failing node's name,
    the user's frame of the forward call that created it), from the traceback anomaly mode records."""
    torch.manual_seed(seed)
    with warnings.catch_warnings(record=True) as caught, torch.autograd.detect_anomaly(check_nan=False):
        warnings.simplefilter("always")
        try:
            value = _forward_loss(model, x, y, loss_fn)
            if value is not None:
                value.backward()
        except Exception:       # the same error again: its forward traceback is in the warning
            pass
    for w in caught:
        text = str(w.message)
        if "Traceback of forward call" in text:
            node = _NODE.search(text)
            return node.group(1) if node else None, user_frame(_FRAME.findall(text))
    return None, None


def check_model_runs(model: nn.Module, x, y, loss_fn, *, seed: int = 0) -> list[Finding]:
    """One training-mode forward, loss and backward of a copy of ``model`` on ``x[:RUN_ROWS]``:
    an exception raised by the user's forward or backward is a ``model_raises`` error with the
    exception's type and message and the line of the user's code it came from (a loss that fails
    on the output is ``check_loss_output``'s)."""
    x, y = x[:RUN_ROWS], y[:RUN_ROWS]
    work = copy.deepcopy(model).train()
    torch.manual_seed(seed)
    try:
        value = _forward_loss(work, x, y, loss_fn)
        if value is not None:
            _backward(value)
        return []
    except _Raised as raised:
        stage, exc = raised.stage, raised.error
    node, frame = None, None
    if stage == "backward":
        node, frame = _anomaly_frame(copy.deepcopy(model).train(), x, y, loss_fn, seed)
    return [raised_finding(stage, exc, node=node, frame=frame)]


def _step_raises(model: nn.Module, x, y, loss_fn, *, seed: int) -> tuple | None:
    """One training-mode forward, loss and backward of a copy of ``model`` on ``x, y``: None when
    it runs, else ``(stage, exception)``. The loss itself must run (a loss that fails on every batch is
    ``check_loss_output``'s); labels the outputs cannot hold are left to the label checks."""
    work = copy.deepcopy(model).train()
    torch.manual_seed(seed)
    stage = "forward"
    try:
        out = work(x)
        if isinstance(out, torch.Tensor) and out.numel() > 0 and (
                torch.is_floating_point(y) or y.numel() == 0 or int(y.max()) < out.shape[-1]):
            value = loss_fn(out, y)
            if isinstance(value, torch.Tensor) and value.numel() == 1 and value.requires_grad:
                stage = "backward"
                value.backward()
        return None
    except TrainwellError:
        raise
    except Exception as exc:
        return stage, exc


def check_last_batch(model: nn.Module, x, y, loss_fn, *, rows: int, batch_size: int,
                     drop_last: bool = False, seed: int = 0, last: int | None = None) -> list[Finding]:
    """One training-mode forward, loss and backward of a copy of ``model`` on the size of each
    epoch's last batch, ``rows % batch_size`` rows of ``x, y`` (``last``: that size as the run's
    loader counts it, ``Controls.last_batch_rows``), when the loader keeps an incomplete last batch
    (``drop_last`` off): a forward written for full batches (``squeeze()`` dropping the batch axis of
    a one-row batch, a reshape with the batch size written in, batch norm in training mode, which
    needs more than one value per channel) raises there only, once an epoch, after every check on
    full batches passed. The same step on a full batch (``batch_size`` rows, at most ``x``'s) says
    whether the fault is that batch's alone (``evidence["full_batch_runs"]``): then dropping it
    (``drop_last``) is the repair (plans.plan_model_raises)."""
    last = rows % batch_size if last is None else last
    if drop_last or last == 0 or last >= min(x.shape[0], RUN_ROWS):
        return []
    failure = _step_raises(model, x[:last], y[:last], loss_fn, seed=seed)
    if failure is None:
        return []
    raised = raised_finding(*failure)
    full = min(batch_size, x.shape[0])
    full_batch_runs = _step_raises(model, x[:full], y[:full], loss_fn, seed=seed) is None
    return [dataclasses.replace(
        raised,
        message=f"on the last batch of each epoch ({last} of {rows} training rows at batch size {batch_size}) "
                f"{raised.message}",
        evidence={**raised.evidence, "last_batch_rows": last, "batch_size": batch_size, "rows": rows,
                  "full_batch_runs": full_batch_runs},
        fix=f"make the forward and loss work on a batch of {last} row(s) (`flatten(1)` or `squeeze(-1)` instead "
            f"of `squeeze()`), or set drop_last = true; {raised.fix}")]


def raised_finding(stage: str, exc: BaseException, *, node: str | None = None, frame: dict | None = None) -> Finding:
    """The ``model_raises`` finding for ``exc`` raised in the user's ``stage`` ("forward" or
    "backward"); ``frame``: the user's line (default: the last frame of ``exc``'s traceback in the
    user's code); ``node``: the autograd node a backward error happened in."""
    frame = frame if frame is not None or stage == "backward" else user_frame(_traceback_frames(exc))
    message = " ".join(str(exc).split()).split(" Hint: enable anomaly detection")[0]   # done: its line is named
    short = message if len(message) <= 300 else message[:297] + "..."
    at = f" at {frame['file']}:{frame['line']} ({frame['source']})" if frame else ""
    what = (f"the model's forward raised {type(exc).__name__}{at}" if stage == "forward" else
            f"the backward pass raised {type(exc).__name__}"
            + (f" in {node}, the gradient of the forward call{at}" if node and frame else at))
    hint = (" (a tensor the backward needs was changed in place: write `h = h + ...` instead of `h += ...`, "
            "drop `inplace=True` or `.mul_()` on it)" if "inplace operation" in message else "")
    return make("model_raises", f"{what}: {short}{hint}",
                evidence={"stage": stage, "error_type": type(exc).__name__, "error": message[:1000],
                          **({"node": node} if node else {}), **(frame or {})},
                where=f"{frame['file']}:{frame['line']}" if frame else None)


def raises_on(model: nn.Module, x: torch.Tensor) -> str | None:
    """``"IndexError: ..."`` when ``model``'s forward raises on inputs ``x`` (one eval-mode pass
    without gradients: what a repair's transformed inputs, standardized say, would meet), else
    None. The model's mode is restored; trainwell's own errors propagate."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    except TrainwellError:
        raise
    except Exception as exc:
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    finally:
        model.train(was_training)
    return None


def reads_as_ids(model: nn.Module, x: torch.Tensor) -> bool:
    """True when ``model``'s outputs do not depend on its inputs ``x`` by a differentiable path (one
    eval-mode pass): the forward casts them to integers (ids it indexes an embedding with, codes
    it clamps), so rescaled inputs are other ids, not the same numbers on another scale. False when
    the forward raises (``raises_on`` says that) or returns no floating tensor."""
    was_training = model.training
    model.eval()
    leaf = (x if torch.is_floating_point(x) else x.float()).detach().clone().requires_grad_(True)
    try:
        with torch.enable_grad():
            out = model(leaf)
    except TrainwellError:
        raise
    except Exception:
        return False
    finally:
        model.train(was_training)
    floating = [o for o in (out if isinstance(out, (tuple, list)) else [out])
                if torch.is_tensor(o) and torch.is_floating_point(o)]
    if not floating:
        return False
    tracked = [o for o in floating if o.requires_grad]
    if not tracked:         # nothing in the outputs needs a gradient, the inputs included
        return True
    return torch.autograd.grad([o.sum() for o in tracked], leaf, allow_unused=True)[0] is None


def rescaling_refused(model: nn.Module, x: torch.Tensor) -> str | None:
    """Why a repair's rescaled inputs ``x`` (standardized, say) are no fix for ``model``, or None:
    the model raises on them, or reads its inputs as ids (``reads_as_ids``)."""
    raised = raises_on(model, x)
    if raised is not None:
        return f"the model raises {raised} on them"
    if reads_as_ids(model, x):
        return "no gradient reaches the model's inputs: it casts them to integers, so rescaled they are other ids"
    return None


def model_error(exc: BaseException, model: nn.Module, x, y, loss_fn, *, seed: int = 0) -> ModelError | None:
    """The ``ModelError`` a babysat ``fit`` raises for ``exc``, an exception in training: the
    ``model_raises`` finding ``check_model_runs`` gives on ``x, y`` (a sample of the training rows)
    when the model's forward or backward fails there too; None when it does not (the exception came
    from elsewhere, a callback say: ``fit`` raises it unchanged)."""
    device = next((p.device for p in model.parameters()), x.device)
    try:
        found = check_model_runs(model, x.to(device), y.to(device), loss_fn, seed=seed)
    except Exception:           # the check's own failure must not hide the user's exception
        found = []
    if not found:
        return None
    return ModelError(f"babysitter: {found[0].code}: {found[0].message}. Fix: {found[0].fix}")


def refuse_model_raises(findings, repairs=()) -> None:
    """Raise ``ModelError`` with the message of a ``model_raises`` finding among ``findings`` (the
    babysitter's, as dicts: the repairer found the model cannot run and stopped before training),
    unless ``repairs`` (the repairer's records) repaired one (a raise on the epoch's last batch alone,
    that batch dropped: the run trained)."""
    raised = next((f for f in findings if f.get("code") == "model_raises"), None)
    if raised is not None and not any(r.get("code") == "model_raises" for r in repairs):
        raise ModelError(f"babysitter: model_raises: {raised['message']}. Fix: {raised['fix']}")


# ---------------------------------------------------------------------------- rows of a batch
def _row_changes(a, b, scale):
    """Each row's largest change between ``a`` and ``b``, in units of ``scale``; None when the shapes differ."""
    if b is None or a.shape != b.shape:
        return None
    return (a.double() - b.double()).abs().reshape(a.shape[0], -1).amax(dim=1) / scale


def _output(out):
    """The tensor a forward returned (the first of a tuple / list: the rows the loss reads)."""
    while isinstance(out, (tuple, list)) and out:
        out = out[0]
    return out if isinstance(out, torch.Tensor) and torch.is_floating_point(out) else None


def check_batch_dependence(model: nn.Module, x, *, seed: int = 0, pool=None) -> list[Finding]:
    """Output rows that depend on other rows of the batch, in eval mode: the model's outputs on
    ``DEPENDENCE_ROWS`` rows against its outputs on the same rows permuted (un-permuted again) and on
    the first half alone. A row that changes by more than ``BATCH_TOLERANCE`` of the outputs' RMS is
    a ``batch_dependence`` error. A model whose eval-mode forward is not deterministic (two runs on
    the same batch differ) cannot be judged this way: no finding. ``pool``: the rows a batch
    statistic's fading is measured on (``batch_statistic``; default ``x``)."""
    k = min(DEPENDENCE_ROWS, x.shape[0])
    if k < 4:
        return []
    xb = x[:k]
    work = copy.deepcopy(model).eval()
    perm = torch.randperm(k, generator=torch.Generator().manual_seed(seed))
    inverse = torch.argsort(perm)
    half = k // 2
    try:
        with torch.no_grad():
            out = _output(work(xb))
            again = _output(work(xb))
            permuted = _output(work(xb[perm.to(xb.device)]))
            first = _output(work(xb[:half]))
    except Exception:       # a forward that fails on a permuted or smaller batch is check_model_runs'
        return []
    if out is None or out.ndim == 0 or out.shape[0] != k or not bool(torch.isfinite(out).all()):
        return []
    scale = float(out.double().pow(2).mean().sqrt()) or 1.0
    noise = _row_changes(out, again, scale)
    if noise is None or float(noise.max()) > BATCH_TOLERANCE:
        return []           # not deterministic in eval mode: nothing to compare against
    unpermuted = None if permuted is None or permuted.shape != out.shape else permuted[inverse.to(permuted.device)]
    per_row = {"permuted": _row_changes(out, unpermuted, scale), "first half alone": _row_changes(out[:half], first, scale)}
    tests = {name: float("inf") if rows is None else float(rows.max()) for name, rows in per_row.items()}
    failed = {name: change for name, change in tests.items() if change > BATCH_TOLERANCE}
    if not failed:
        return []
    worst = max(failed.values())
    # the output row that moved most (a recurrent net reading the batch as time: a late row)
    moved = torch.zeros(k, dtype=torch.float64)
    for rows in per_row.values():
        if rows is not None:
            moved[:rows.numel()] = torch.maximum(moved[:rows.numel()], rows.cpu())
    # (a causal dependence, such as a GRU's over the batch read as time, leaves the first row free:
    # the last row then names it)
    for row in dict.fromkeys((int(moved.argmax()), k - 1, 0)):
        rows = _depends_on(work, xb, row)
        if rows:
            break
    # a row whose gradient reaches no other row meets them through a value computed without a gradient:
    # an index, a sort, a length or a mask taken from the batch and applied to the wrong rows
    on = (f"; the gradient of output row {row} reaches input rows {rows[:8]}" if rows else
          f"; no gradient joins the rows (that of output row {row} reaches no other input row): they meet "
          f"through a value computed from the batch without one, such as an index, a sort, per-row lengths or "
          f"a mask applied to the wrong rows (sequence lengths sorted apart from their rows before "
          f"pack_padded_sequence, say)" if rows is not None else "")
    change = "its shape changed" if worst == float("inf") else f"by up to {worst:.3g}x the outputs' RMS"
    evidence = {"rows": k, **{f"change_{n.replace(' ', '_')}": v for n, v in tests.items()},
                "tolerance": BATCH_TOLERANCE, "input_shape": tuple(xb.shape),
                "output_shape": tuple(out.shape), "row": row, "depends_on": rows}
    message = (f"in eval mode the model's output for a row depends on the other rows of the batch: run "
               f"{' / '.join(failed)} the outputs of the same rows changed ({change}){on}")
    fading = None if "permuted" in failed else batch_statistic(work, x if pool is None else pool, seed=seed)
    if fading is None:
        fix = None if rows != [] else (
            "keep every per-row value with its row: sort the rows together with their lengths or masks "
            "(or pack_padded_sequence(..., enforce_sorted=False), which sorts and restores the rows itself), "
            "index with the same permutation as the rows, and take no per-row value from another row")
        return [make("batch_dependence", message, evidence=evidence, fix=fix)]
    evidence.update(fading)
    return [make("batch_dependence",
                 f"{message}; it reads the batch as a statistic (the same in any row order) and fades as the batch "
                 f"grows: {fading['change_small']:.3g} between {fading['rows_small'] // 2} and {fading['rows_small']} rows, "
                 f"{fading['change_large']:.3g} "
                 f"between {fading['rows_large'] // 2} and {fading['rows_large']} (mean row change, each row's "
                 f"scores centered), so evaluation in large batches barely depends on it; a lone row or a small "
                 f"batch is predicted otherwise",
                 evidence=evidence, severity="info",
                 fix="for predictions on single rows or small batches: keep running statistics (batch norm's "
                     "track_running_stats=True) or normalize over a feature axis, not dim=0")]


def _centered_changes(a, b) -> torch.Tensor:
    """Each row's mean absolute change between ``a`` and ``b`` (class scores centered per row: a shift
    common to a row's scores changes no prediction), in units of how much ``a``'s rows differ from
    each other (the RMS of ``a`` less its mean row). Not in units of ``a``'s RMS: a part common to
    every row (a bias) would then hide a dependence that shrinks with the rows' own signal, as a
    softmax over the batch axis does (each row's weight ~1 / n: its output and its change both fall
    as 1 / n, so against the rows' spread the change does not fade)."""
    a, b = a.double().reshape(a.shape[0], -1), b.double().reshape(b.shape[0], -1)
    if a.shape[1] > 1:
        a, b = a - a.mean(dim=1, keepdim=True), b - b.mean(dim=1, keepdim=True)
    return (a - b).abs().mean(dim=1) / (float((a - a.mean(dim=0)).pow(2).mean().sqrt()) or 1.0)


def batch_statistic(model, x, *, seed: int = 0) -> dict | None:
    """The dependence of a model whose rows read the batch only through a statistic of it (the
    outputs unchanged by a permutation) measured at two batch sizes: the mean row change between
    n rows' outputs inside 2n rows and alone, at n = ``DEPENDENCE_ROWS`` and at n =
    ``STATISTIC_ROWS``, each averaged over ``STATISTIC_DRAWS`` draws of 2n rows from ``x`` (one draw
    is a single sample of the statistic's sampling error, as noisy as the fading it is compared
    with). A statistic's sampling error shrinks as the batch grows (as 1 / sqrt(n) for a mean: to
    0.35 from 16 to 128 rows); a dependence that shrank to at most ``DECAY`` of the small batch's is
    one (evidence), else None (too few rows, or no fading)."""
    sizes = (DEPENDENCE_ROWS, STATISTIC_ROWS)
    if x.shape[0] < 2 * STATISTIC_ROWS:
        return None
    g = torch.Generator().manual_seed(seed)
    changes = []
    try:
        with torch.no_grad():
            for n in sizes:
                rows = []
                for _ in range(STATISTIC_DRAWS):
                    block = x[torch.randperm(x.shape[0], generator=g)[:2 * n].to(x.device)]
                    inside, alone = _output(model(block)), _output(model(block[:n]))
                    if (inside is None or alone is None or inside.shape[0] != 2 * n
                            or inside[:n].shape != alone.shape):
                        return None
                    rows.append(_centered_changes(inside[:n], alone))
                changes.append(float(torch.cat(rows).mean()))
    except Exception:
        return None
    small, large = changes
    if not (math.isfinite(small) and math.isfinite(large)) or small <= 0 or large > DECAY * small:
        return None
    return {"change_small": small, "change_large": large, "rows_small": 2 * sizes[0], "rows_large": 2 * sizes[1],
            "fades": True}


def _depends_on(model, x, row: int) -> list | None:
    """The input rows j != ``row`` that output row ``row``'s gradient reaches (floating inputs only):
    an empty list when it reaches none of them, None when it cannot be measured (integer inputs, a
    forward without a gradient to its inputs, one that raises)."""
    if not torch.is_floating_point(x):
        return None
    x = x.detach().clone().requires_grad_(True)
    try:
        out = _output(model(x))
        (g,) = torch.autograd.grad(out[row].sum(), x, allow_unused=True)
    except Exception:
        return None
    if g is None:
        return None
    norms = g.detach().reshape(x.shape[0], -1).abs().amax(dim=1)
    return [j for j in range(x.shape[0]) if j != row and float(norms[j]) > BATCH_TOLERANCE * float(norms.max())]


# ---------------------------------------------------------------------------- a loss that mixes rows
def _broadcast(out, y) -> tuple | None:
    """The shape ``out`` and ``y`` broadcast to when it is larger than either (an (N, 1) output
    against (N,) targets: (N, N)), else None."""
    try:
        shape = tuple(torch.broadcast_shapes(out.shape, y.shape))
    except RuntimeError:
        return None
    return shape if len(shape) >= 2 and shape[0] == shape[1] == out.shape[0] and shape not in (
        tuple(out.shape), tuple(y.shape)) else None


def _rows_mixed(out, y, loss_fn) -> dict | None:
    """The evidence that ``loss_fn`` mixes the rows of ``(out, y)`` (see ``check_loss_rows``); ``{}``
    when it is a combination of the rows' own losses; None when it cannot be judged (the loss is not
    a differentiable scalar, fails on one row, or is not finite)."""
    k = out.shape[0]
    o = out.detach().clone().requires_grad_(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            batch = loss_fn(o, y)
            if not (isinstance(batch, torch.Tensor) and batch.numel() == 1 and batch.requires_grad):
                return None
            (g,) = torch.autograd.grad(batch.reshape(()), o)
            rows, own = [], []
            for i in range(k):
                oi = o.detach()[i:i + 1].clone().requires_grad_(True)
                li = loss_fn(oi, y[i:i + 1])
                if not (isinstance(li, torch.Tensor) and li.numel() == 1 and li.requires_grad):
                    return None
                (hi,) = torch.autograd.grad(li.reshape(()), oi)
                rows.append(float(li))
                own.append(hi[0])
    except Exception:       # a loss that cannot take one row (a batch statistic): no verdict
        return None
    h = torch.stack(own).double().reshape(k, -1)
    g = g.double().reshape(k, -1)
    l = torch.tensor(rows, dtype=torch.float64)
    if not (torch.isfinite(h).all() and torch.isfinite(g).all() and torch.isfinite(l).all()):
        return None
    hh = (h * h).sum(dim=1)
    c = torch.where(hh > 0, (g * h).sum(dim=1) / hh.clamp_min(1e-300), torch.zeros_like(hh))
    g_scale = float(g.norm()) or 1.0
    off_direction = float((g - c[:, None] * h).norm()) / g_scale
    negative = float((-c.clamp(max=0) * h.norm(dim=1)).max()) / g_scale   # c_i < 0: a row pushed away
    total, recombined = float(batch), float((c * l).sum())
    value_gap = abs(total - recombined) / max(abs(total), float(l.abs().mean()), 1e-12)
    if max(off_direction, negative, value_gap) <= LOSS_TOLERANCE:
        return {}
    return {"batch_loss": total, "per_row_mean": float(l.mean()), "per_row_sum": float(l.sum()),
            "recombined": recombined, "gradient_off_direction": off_direction, "pushed_away": negative,
            "value_gap": value_gap, "rows": k, "tolerance": LOSS_TOLERANCE}


def check_loss_rows(out, y, loss_fn) -> list[Finding]:
    """A loss that mixes the rows of a batch. A per-row loss with any reduction a trainer uses
    (mean, sum, a weighted mean such as class weights, hard-example selection) is ``L = sum_i c_i
    l_i`` with ``l_i = loss(out[i:i+1], y[i:i+1])`` and ``c_i >= 0`` independent of the outputs, so
    the batch gradient for row i is ``c_i`` times row i's own gradient. Fitting ``c_i`` by least
    squares on ``LOSS_ROWS`` rows, a gradient row off that direction, a negative ``c_i`` or ``L !=
    sum_i c_i l_i`` (beyond ``LOSS_TOLERANCE``, relative) is a row-mixing loss:
    ``loss_output_mismatch``, an error when the output and target shapes broadcast to (N, N) and the
    same loss on outputs reshaped to the targets' shape mixes nothing (the (N, 1) against (N,) bug);
    ``info`` when only the value mixes (every gradient row on its own loss's direction with a weight
    of at least 0: the optimizer, which reads only the gradient, trains on the rows' own losses);
    else a warning: a loss meant to couple rows (contrastive, batch-wise ranking) is expected to do
    this, and a warning does not stop the run."""
    k = min(LOSS_ROWS, out.shape[0]) if out.ndim else 0
    if k < 2 or not torch.is_floating_point(out) or y.ndim == 0 or y.shape[0] != out.shape[0]:
        return []
    o, yk = out[:k], y[:k]
    evidence = _rows_mixed(o, yk, loss_fn)
    if not evidence:
        return []
    evidence.update(output_shape=tuple(out.shape), target_shape=tuple(y.shape))
    shape = _broadcast(out, y)
    squeezed = _rows_mixed(o.reshape(yk.shape), yk, loss_fn) if shape is not None and o.numel() == yk.numel() else None
    total, mean = evidence["batch_loss"], evidence["per_row_mean"]
    if shape is not None and squeezed == {}:
        return [make("loss_output_mismatch",
                     f"the loss mixes the rows of the batch: the output {tuple(out.shape)} and the targets "
                     f"{tuple(y.shape)} broadcast to {shape}, so every output is compared with every target "
                     f"(on {k} rows: batch loss {total:.4g}, the mean of the rows' own losses {mean:.4g}); the "
                     f"model can only learn the targets' mean",
                     evidence={**evidence, "broadcast_shape": shape},
                     fix="make the output and target shapes equal before the loss (pred.squeeze(1), or "
                         "target.unsqueeze(1))")]
    if max(evidence["gradient_off_direction"], evidence["pushed_away"]) <= LOSS_TOLERANCE:
        return [make("loss_output_mismatch",
                     f"the loss's value mixes the rows of the batch (on {k} rows: batch loss {total:.4g} against "
                     f"{evidence['recombined']:.4g} from the rows alone) but its gradient does not: each row's "
                     f"gradient is its own loss's, times a weight of at least 0, so training follows the rows' own "
                     f"losses; the part that mixes has no gradient (a metric of the arg max, a statistic of the "
                     f"batch under no_grad) and only moves the loss that is reported and monitored",
                     evidence={**evidence, "value_only": True}, severity="info",
                     fix="compute metrics apart from the loss (trainwell reports accuracy on its own), so that the "
                         "loss curves and a monitor on the loss read what is trained")]
    return [make("loss_output_mismatch",
                 f"the loss mixes the rows of the batch: it is no combination of the rows' own losses (on {k} "
                 f"rows: batch loss {total:.4g} against {evidence['recombined']:.4g} from the rows alone; the "
                 f"gradient of a row leaves its own loss's direction by {evidence['gradient_off_direction']:.2g}); "
                 f"expected for a loss meant to couple rows (contrastive, batch-wise ranking), otherwise a "
                 f"reduction or softmax over the wrong axis, or a target statistic over the batch",
                 evidence=evidence, severity="warning",
                 fix="if the loss is not meant to compare rows: reduce and normalize over the class axis "
                     "(dim=1 / -1), never over the batch axis (dim=0)")]
