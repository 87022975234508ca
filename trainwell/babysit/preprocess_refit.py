"""Which change of the run's own preprocess recovers what ``preprocess_check`` found it loses: the
evidence ``plans.plan_uninformative_inputs`` plans ``refit_preprocess`` from.

``uninformative_inputs`` from preprocess_check.py names the step of the configured ``preprocess``
after which the check's probes lose what the inputs say about the targets. The candidates, in order
(``candidates``): the step dropped; and, for a pca-family step (``UNIT_DEPENDENT``) with no
standardize before it, the columns standardized first and as many components kept: what a pca keeps
depends on the columns' units (notes 000: PCA is taken on centered data whose dimensions are
comparable), and the model's first layer is sized for the components it kept. Each candidate is
fitted on the training rows before the pipeline, as ``fit`` fits the configured one, and read by
the check's own probes (``first_layer.probe_drop``) on the same rows the check read; the first that
gives the rows the model takes and ``recovers`` is chosen. The probes are fitted to convergence, so
a candidate is not judged on a short trial (no short-horizon bias).
"""
from __future__ import annotations

import torch
from torch import nn

from trainwell.babysit import constant_ids, first_layer
from trainwell.babysit.actions import spec_name
from trainwell.babysit.findings import Finding
from trainwell.data.transforms import Pipeline, fit_preprocess

UNIT_DEPENDENT = ("pca", "pca_whiten")   # steps whose kept directions depend on the columns' units
CHOICE_ALPHA = 0.05      # the level at which a refit that keeps the width loses against one that widens it


def candidates(specs: list, step: int, components: int | None) -> list[tuple[list, bool]]:
    """The configured preprocess ``specs`` changed at the named ``step``, in order of preference,
    each with whether it may give rows of another width (``widens``): without it; and, for a
    pca-family step with no standardize before it, the columns standardized first with the same
    number of ``components`` kept, then the configured step itself on the standardized columns (as
    many components as its own ``variance`` or ``k`` keeps of them: the width the step would have
    chosen on comparable columns, for an entry Linear that can take it)."""
    out = [(specs[:step] + specs[step + 1:], False)]
    name = spec_name(specs[step])
    if name in UNIT_DEPENDENT and components and not any(spec_name(s) == "standardize" for s in specs[:step]):
        configured = {"name": name} if isinstance(specs[step], str) else dict(specs[step])
        options = {k: v for k, v in configured.items() if k not in ("name", "k", "variance")}
        kept = {"name": name, **options, "k": components}
        out.append((specs[:step] + ["standardize", kept] + specs[step + 1:], False))
        if configured != kept:
            out.append((specs[:step] + ["standardize", configured] + specs[step + 1:], True))
    return out


def recovers(f: Finding, probes: list[dict], class_ids: bool) -> bool:
    """A candidate's probes show no significant loss from the raw rows, or the probe the finding
    named scores better than the run's pipeline by the kill rule's margin (``first_layer.MIN_DROP``
    of accuracy, ``LOSS_RATIO`` of squared error: the margin that made it a loss)."""
    if first_layer.significant_drop(probes, class_ids) is None:
        return True
    named = next((r for r in probes if r["probe"] == f.evidence.get("probe")), None)
    now = f.evidence.get("preprocessed_score")
    if named is None or now is None:
        return False
    if class_ids:
        return named["layers"] >= now + first_layer.MIN_DROP
    return named["layers"] * first_layer.LOSS_RATIO <= now


def choose(f: Finding, controls, *, seed: int = 0) -> dict:
    """``{"steps": [...], "probe": text}`` (and ``"entry": name`` where the model's entry Linear is
    to take another width) for the candidate chosen (``prefer``), else ``{"why": text}``.
    ``controls``: the run's (``configured_preprocess``, ``configured_pipeline``, ``raw_train``,
    ``train_data``, ``model``)."""
    step, specs = f.evidence.get("preprocess_step"), controls.configured_preprocess
    if specs is None or controls.raw_train is None:
        return {"why": "the rows before the run's preprocess are not kept (streamed rows)"}
    if controls.preprocess_refitted or step is None or not 0 <= step < len(specs):
        return {"why": "the preprocess was refitted in this run already"}
    X, y = controls.raw_train
    shape = tuple(controls.train_data[0].shape[1:])
    fitted_steps = list(controls.configured_pipeline.children()) if controls.configured_pipeline is not None else []
    components = None
    if step < len(fitted_steps):
        out = fitted_steps[step].output_shape(Pipeline(*fitted_steps[:step]).output_shape(tuple(X.shape[1:])))
        components = out[0] if len(out) == 1 else None
    class_ids = not torch.is_floating_point(y)
    rows_X, rows_y = _check_rows(X, y, seed)
    tried, kept, widened = [], None, None
    options = candidates(list(specs), step, components)
    entry = widenable_entry(controls.model, controls.train_data[0][:rows_X.shape[0]].cpu()) \
        if any(widens for _, widens in options) else None        # (a forward of a copy of the model)
    for candidate, widens in options:
        names = [spec_name(s) for s in candidate]
        Z = _refitted_rows(candidate, X, rows_X, shape, tried, widen=widens and entry is not None)
        if Z is None:
            continue
        probes = first_layer.probe_drop(rows_X.double(), [Z.double()], rows_y, class_ids=class_ids, seed=seed)
        if not recovers(f, probes, class_ids):
            tried.append(f"{names} does not recover the loss")
        elif tuple(Z.shape[1:]) == shape:
            kept = kept or (candidate, Z, probes)
        else:
            widened = widened or (candidate, Z, probes)
    if kept is None and widened is None:
        return {"why": "no change of the step keeps the model's input and recovers it (" + "; ".join(tried) + ")"}
    return prefer(kept, widened, entry, f, rows_y, class_ids=class_ids, seed=seed)


def widenable_entry(model, rows) -> str | None:
    """The name of the model's one entry layer (``first_layer.entry_layers``) when it is an
    ``nn.Linear`` that receives the rows ``rows`` (a table, one vector a row) as they are: the one
    layer a refit that changes the number of columns can be given another input width, else None."""
    if model is None or rows.dim() != 2 or not torch.is_floating_point(rows):
        return None
    entries = first_layer.entry_layers(model, rows.float())
    if entries is None or len(entries["names"]) != 1 or entries["calls"][entries["names"][0]] != [0]:
        return None
    name = entries["names"][0]
    layer = model.get_submodule(name)
    if not isinstance(layer, nn.Linear) or entries["inputs"][0].shape != rows.shape \
            or not torch.equal(entries["inputs"][0].to(rows.dtype), rows):
        return None
    return name


def prefer(kept, widened, entry, f: Finding, rows_y, *, class_ids: bool, seed: int) -> dict:
    """Of the candidates that recover, ``kept`` (keeps the model's input width) and ``widened``
    (another width, for the entry Linear ``entry``), each ``(steps, rows, probes)`` or None: the
    one that keeps the width unless, on the same rows, its probes lose against the widened one's
    (``loses``): a width the configured step chose (a pca's components counted on columns in their
    units) is part of what it lost, and the model's entry layer is redrawn for the refit's columns."""
    if kept is not None and widened is not None:
        versus = first_layer.probe_drop(widened[1].double(), [kept[1].double()], rows_y, class_ids=class_ids, seed=seed)
        lost = loses(versus, class_ids)
        if lost is None:
            return _chosen(kept, f)
        return {**_chosen(widened, f), "entry": entry,
                "against": f"{[spec_name(s) for s in kept[0]]} at the model's width: {lost['probe']} "
                           f"{lost['layers']:.3g} against {lost['raw']:.3g} (p {lost['p']:.2g})"}
    if kept is not None:
        return _chosen(kept, f)
    return {**_chosen(widened, f), "entry": entry}


def loses(versus: list[dict], class_ids: bool) -> dict | None:
    """The probe of ``first_layer.probe_drop``'s results (the widened rows as ``raw``, the kept as
    ``layers``) on which the kept candidate scores worse by the kill rule's margin
    (``first_layer.MIN_DROP`` of accuracy, ``LOSS_RATIO`` of squared error) at ``CHOICE_ALPHA``
    (the largest such loss), else None. A choice between two repairs of a fault already found, not
    an alarm over every healthy run: the conventional level, not the alarm's ``first_layer.ALPHA``
    (at which a kept pca losing 6.6 points of 7 columns' linear probe, p = 0.001, would pass)."""
    if class_ids:
        hits = [r for r in versus if r["p"] < CHOICE_ALPHA and r["raw"] - r["layers"] >= first_layer.MIN_DROP]
        return max(hits, key=lambda r: r["raw"] - r["layers"], default=None)
    hits = [r for r in versus if r["p"] < CHOICE_ALPHA and r["layers"] >= first_layer.LOSS_RATIO * r["raw"]]
    return max(hits, key=lambda r: r["layers"] / max(r["raw"], 1e-12), default=None)


def _chosen(candidate, f: Finding) -> dict:
    steps, _, probes = candidate
    scores = ", ".join(f"{r['probe']} {r['layers']:.3g}" for r in probes)
    return {"steps": steps, "probe": f"its probes: {scores}, the raw rows' {f.evidence.get('raw_score', float('nan')):.3g}"}


def _check_rows(X, y, seed: int):
    """The rows the checks read (preprocess_check.check_preprocess): up to ``first_layer.ROWS`` of
    the training rows before the preprocess, drawn with ``seed``, on the CPU."""
    n = min(X.shape[0], first_layer.ROWS)
    rows = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(seed))[:n]
    return X[rows].cpu(), y[rows].cpu()


def _refitted_rows(candidate: list, X, rows_X, shape: tuple, tried: list, *, widen: bool = False):
    """``rows_X`` through the preprocess ``candidate`` fitted on the training rows ``X`` (none: the
    rows as they are), or None with the reason appended to ``tried`` where it cannot be fitted on
    them or gives rows of another shape than the model's input ``shape`` (``widen``: rows of
    another number of columns are kept, for an entry Linear that can take them)."""
    names = [spec_name(s) for s in candidate]
    try:
        pipeline = fit_preprocess(candidate, X.cpu()) if candidate else None
    except Exception as exc:          # a candidate that cannot be fitted on these rows is not one
        tried.append(f"{names}: {exc}")
        return None
    with torch.no_grad():
        Z = pipeline(rows_X) if pipeline is not None else rows_X
    if tuple(Z.shape[1:]) != shape and not (widen and Z.dim() == 2 and len(shape) == 1):
        tried.append(f"{names} gives rows of shape {tuple(Z.shape[1:])}, the model takes {shape}")
        return None
    return Z


def choose_for_ids(f: Finding, controls, *, seed: int = 0) -> dict:
    """For ``constant_ids``' finding (an embedding whose ids, computed from the inputs, are one value
    on every row): ``{"steps": [...], "probe": text, "step": i}`` for the first step ``i`` of the
    run's configured preprocess whose removal, refitted on the training rows before the pipeline
    and keeping the model's input shape, gives that embedding ids that vary over the same rows (the
    check run again on them finds it no more): the preprocess put the values in other units than
    the model's code expects (a standardize before a ``torch.bucketize`` at edges in years). Else
    ``{"why": text}``: the fault is the model's or the data's, not the run's preprocess."""
    specs = controls.configured_preprocess
    if not specs or controls.raw_train is None:
        return {"why": "no configured preprocess whose rows before it are kept"}
    if controls.preprocess_refitted:
        return {"why": "the preprocess was refitted in this run already"}
    X, y = controls.raw_train
    shape = tuple(controls.train_data[0].shape[1:])
    class_ids = not torch.is_floating_point(y)
    rows_X, rows_y = _check_rows(X, y, seed)
    tried = []
    for step in range(len(specs)):
        candidate = list(specs[:step]) + list(specs[step + 1:])
        names = [spec_name(s) for s in candidate]
        Z = _refitted_rows(candidate, X, rows_X, shape, tried)
        if Z is None:
            continue
        again = constant_ids.check_constant_ids(controls.model, Z.float(), rows_y, class_ids=class_ids, seed=seed)
        if not any(g.where == f.where for g in again):
            return {"steps": candidate, "step": step,
                    "probe": f"without step {step + 1} ({spec_name(specs[step])}) {f.where}'s ids vary over the rows"}
        tried.append(f"{names} still gives {f.where} one id")
    return {"why": "no step of the preprocess dropped gives the embedding varying ids (" + "; ".join(tried) + ")"}
