"""Transfer learning on any nn.Module: load weights by name, freeze a part, replace the head,
unfreeze later at a lower learning rate (notes 001 and 002, "Transfer Learning with CNNs").

The notes' recipe::

    small dataset, similar task:  load weights, freeze everything but the head, train the head
    more data:                    "finetune" — train the whole network (or its higher layers)
                                  at a lower lr, "e.g. 1/10 of LR" (notes 002), after the new
                                  head has improved ("second step", notes 002)

    report = load_weights(model, "runs/pretrain")           # by name; a new head is skipped
    replace_head(model, 10)                                 # only for your own models
    freeze(model, all_but_head(model))                      # BatchNorm in the frozen part: eval
    fit(model, data, callbacks=[Unfreeze(5, all_but_head(model), lr_mult=0.1)])

Frozen parameters have ``requires_grad=False``; the optimizer factory leaves them out, so
``Unfreeze`` adds them back as new parameter groups. ``restore_added_groups(optimizer, model)``
lets ``optimizer.load_state_dict`` restore a checkpoint whose groups were added (or not yet
added) that way. Weights are read from safetensors only; pickles are refused.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from itertools import chain
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from trainwell.errors import CheckpointError, ConfigError, DataError
from trainwell.nn.init import init as init_weights
from trainwell.optim.factory import DECOUPLED_KEY, param_groups
from trainwell.options import did_you_mean
from trainwell.train.callbacks import Callback
from trainwell.train.checkpoint import load_latest, read_tensors

# Attribute names of classifier heads, in the order they are tried (torchvision and timm use
# `fc` (ResNet), `classifier` (VGG, MobileNet, DenseNet) and `head` (ViT, ConvNeXt)).
HEAD_NAMES = ("head", "classifier", "fc")
WEIGHTS_FILE = "model.safetensors"   # what fit writes into a finished run directory
FROZEN_NORM = "_trainwell_frozen_norm"      # module flag: keep this norm layer in eval mode
_NORM_HOOK = "_trainwell_frozen_norm_hook"  # module flag: the pre-hook below is registered
UNFROZEN_NORMS = "unfrozen_norms"   # param-group key of groups that Unfreeze added


# ------------------------------------------------------------------------------ loading weights
@dataclass
class TransferReport:
    """What ``load_weights`` did, by name. ``mismatched`` maps a model name to
    ``(source shape, model shape)``; ``renamed`` maps source names changed by ``prefix_map``."""

    source: str
    matched: list[str] = field(default_factory=list)      # loaded
    missing: list[str] = field(default_factory=list)      # in the model, not in the source
    unexpected: list[str] = field(default_factory=list)   # in the source, not in the model
    mismatched: dict[str, tuple] = field(default_factory=dict)   # same name, other shape: skipped
    excluded: list[str] = field(default_factory=list)     # in both, left out by `exclude`
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No missing, unexpected or shape-mismatched name (``exclude`` is deliberate)."""
        return not (self.missing or self.unexpected or self.mismatched)

    def to_json(self, **kwargs) -> str:
        """The report as JSON text (``to_dict`` as JSON; kwargs go to ``json.dumps``)."""
        return json.dumps(self.to_dict(), **kwargs)

    def to_dict(self) -> dict:
        """A JSON-able dict (shapes as lists)."""
        return {"source": self.source, "matched": list(self.matched), "missing": list(self.missing),
                "unexpected": list(self.unexpected),
                "mismatched": {k: {"source": list(s), "model": list(m)}
                               for k, (s, m) in self.mismatched.items()},
                "excluded": list(self.excluded), "renamed": dict(self.renamed)}

    def __str__(self) -> str:
        total = len(self.matched) + len(self.missing) + len(self.mismatched) + len(self.excluded)
        lines = [f"loaded {len(self.matched)} of the model's {total} tensors from {self.source}"]
        if self.renamed:
            lines.append(f"  renamed ({len(self.renamed)}): "
                         + _shorten([f"{a} -> {b}" for a, b in self.renamed.items()]))
        lines.append(f"  matched ({len(self.matched)}): {_compact(self.matched)}")
        if self.mismatched:
            lines.append(f"  skipped, shape differs ({len(self.mismatched)}): " + _shorten(
                [f"{k} {tuple(s)} in the source vs {tuple(m)} in the model"
                 for k, (s, m) in self.mismatched.items()]))
        if self.excluded:
            lines.append(f"  excluded ({len(self.excluded)}): {_compact(self.excluded)}")
        if self.missing:
            lines.append(f"  missing from the source, kept as initialized ({len(self.missing)}): "
                         f"{_compact(self.missing)}")
        if self.unexpected:
            lines.append(f"  in the source but not in the model, ignored ({len(self.unexpected)}): "
                         f"{_compact(self.unexpected)}")
        return "\n".join(lines)


def _shorten(items: list[str], limit: int = 12) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... and {len(items) - limit} more" if len(items) > limit else "")


def _compact(names: list[str]) -> str:
    """``["0.weight", "0.bias", "3.weight"]`` -> ``"0.{weight, bias}, 3.weight"``."""
    if not names:
        return "(none)"
    groups: dict[str, list[str]] = {}
    for name in names:
        owner, _, leaf = name.rpartition(".")
        groups.setdefault(owner, []).append(leaf)
    parts = [(f"{owner}." if owner else "") + (leaves[0] if len(leaves) == 1
                                                else "{" + ", ".join(leaves) + "}")
             for owner, leaves in groups.items()]
    return _shorten(parts)


def read_source(source) -> tuple[dict[str, torch.Tensor], str]:
    """``(name -> tensor, description)`` of a weights source: a run directory (its
    model.safetensors; for a run that has not finished, the model in its newest good
    checkpoint), a ``.safetensors`` file, a state dict, an nn.Module or a ``Run``."""
    if isinstance(source, nn.Module):
        return dict(source.state_dict()), f"a {type(source).__name__} module"
    if isinstance(getattr(source, "model", None), nn.Module):   # a trainwell Run
        where = getattr(source, "run_dir", None)
        return dict(source.model.state_dict()), f"run {where}" if where else "a run's model"
    if isinstance(source, Mapping):
        bad = [k for k, v in source.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
        if bad:
            raise DataError(f"load_weights: a state dict maps names (str) to tensors; entry "
                            f"{bad[0]!r} is not one")
        return dict(source), "a state dict"
    if not isinstance(source, (str, Path)):
        raise ConfigError(f"load_weights: source must be a run directory, a .safetensors file, a "
                          f"state dict or an nn.Module (got {type(source).__name__})")
    path = Path(source)
    if path.is_dir():
        if (path / WEIGHTS_FILE).is_file():
            return read_tensors(path / WEIGHTS_FILE), str(path / WEIGHTS_FILE)
        found = load_latest(path / "checkpoints") if (path / "checkpoints").is_dir() else None
        if found is not None and isinstance(found[1].get("model"), Mapping):
            return dict(found[1]["model"]), str(found[0])
        raise CheckpointError(f"{path}: no {WEIGHTS_FILE} and no usable checkpoint here; is this a "
                              f"trainwell run directory? (or pass the .safetensors file itself)")
    return read_tensors(path), str(path)   # refuses pickles (.pt, .pth, .bin, zip, pickle opcode)


def _rename(tensors: dict, prefix_map: dict | None) -> tuple[dict, dict]:
    """Source keys renamed by the longest matching prefix of ``prefix_map``."""
    if not prefix_map:
        return tensors, {}
    problem = prefix_map_problem(prefix_map)
    if problem:
        raise ConfigError(f"prefix_map = {prefix_map!r}: {problem}")
    for prefix in prefix_map:
        if not any(k.startswith(prefix) for k in tensors):
            tops = sorted({k.split(".", 1)[0] + "." for k in tensors})
            raise ConfigError(f"prefix_map: {prefix!r} starts no name in the source; its names "
                              f"start with: {', '.join(tops) or '(no tensors)'}")
    out, renamed = {}, {}
    for key, value in tensors.items():
        best = max((p for p in prefix_map if key.startswith(p)), key=len, default=None)
        new = key if best is None else prefix_map[best] + key[len(best):]
        if new in out:
            raise ConfigError(f"prefix_map: two source names become {new!r}; make the prefixes "
                              f"distinct")
        if new != key:
            renamed[key] = new
        out[new] = value
    return out, renamed


def load_weights(model: nn.Module, source, *, strict: bool = False, prefix_map: dict | None = None,
                 exclude=()) -> TransferReport:
    """Copy the tensors of ``source`` into ``model``'s parameters and buffers of the same name.

    Tensors whose shape differs (a replaced head) are skipped and reported; with ``strict`` any
    missing, unexpected or shape-mismatched name raises DataError (and nothing is copied).
    ``prefix_map`` renames source names first ({"backbone.": "0."}: longest prefix wins).
    ``exclude``: model-name prefixes never loaded, e.g. the head when the class counts happen
    to match (notes 002: "initialize last layers randomly"); an unknown one raises ConfigError.
    dtypes are cast to the model's; tensors go to the model's device. Returns a
    :class:`TransferReport`.
    """
    tensors, description = read_source(source)
    tensors, renamed = _rename(tensors, prefix_map)
    excluded_prefixes = _as_prefixes(exclude, "exclude")
    _check_prefixes(model, excluded_prefixes, "exclude")
    targets = model.state_dict(keep_vars=True)   # the live Parameters and buffers
    report = TransferReport(source=description, renamed=renamed)
    plan = []
    for name, target in targets.items():
        if name not in tensors:
            report.missing.append(name)
        elif any(_under(name, p) for p in excluded_prefixes):
            report.excluded.append(name)
        elif tuple(tensors[name].shape) != tuple(target.shape):
            report.mismatched[name] = (tuple(tensors[name].shape), tuple(target.shape))
        else:
            report.matched.append(name)
            plan.append((target, tensors[name]))
    report.unexpected = [k for k in tensors if k not in targets]
    _drop_tied(model, report)
    if strict and not report.ok:
        raise DataError(f"load_weights(strict=True): the source does not fit the model "
                        f"exactly; nothing was copied\n{report}")
    with torch.no_grad():
        for target, value in plan:
            target.copy_(value.to(device=target.device, dtype=target.dtype))
    return report


def _drop_tied(model: nn.Module, report: TransferReport) -> None:
    """safetensors' save_model stores tied tensors once: a missing name that shares storage with
    a matched one is loaded through it, so it counts as matched."""
    if not report.missing:
        return
    every = model.state_dict(keep_vars=True)
    loaded = {every[n].untyped_storage().data_ptr() for n in report.matched if every[n].numel()}
    tied = [n for n in report.missing if every[n].numel()
            and every[n].untyped_storage().data_ptr() in loaded]
    report.missing = [n for n in report.missing if n not in tied]
    report.matched += tied


# ------------------------------------------------------------------------------ freezing
def prefix_map_problem(prefix_map) -> str | None:
    """Check of a ``prefix_map`` (``load_weights``; the option ``transfer_prefix_map``): source
    prefixes mapped to model prefixes, all strings; an error text or None."""
    if not isinstance(prefix_map, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                      for k, v in prefix_map.items()):
        return "must map source prefixes to model prefixes (strings), e.g. {\"backbone.\": \"0.\"}"
    return None


def prefixes_problem(prefixes) -> str | None:
    """Check of a list of name prefixes (``freeze``, ``load_weights``' ``exclude``; the options
    ``freeze`` and ``transfer_exclude``): strings or integers (a Sequential's ``0``), none empty;
    an error text or None. Whether each names a part of the model is checked once it exists."""
    if not isinstance(prefixes, (list, tuple)) or not all(
            isinstance(p, (str, int)) and not isinstance(p, bool) for p in prefixes):
        return "must be a name prefix or a list of them, e.g. [\"0\", \"features\", \"layers.0\"]"
    if "" in [str(p) for p in prefixes]:
        return ("an empty prefix would name the whole model; name its parts "
                "(all_but_head(model) lists everything except the head)")
    return None


def _as_prefixes(prefixes, key: str) -> list[str]:
    if isinstance(prefixes, (str, int)) and not isinstance(prefixes, bool):
        prefixes = [prefixes]
    problem = prefixes_problem(prefixes)
    if problem:
        raise ConfigError(f"{key} = {prefixes!r}: {problem}")
    return [str(p) for p in prefixes]


def _under(name: str, prefix: str) -> bool:
    """Whether ``name`` is ``prefix`` or lies inside it (at a '.' boundary)."""
    return name == prefix or name.startswith(prefix + ".")


def _check_prefixes(model: nn.Module, prefixes: list[str], key: str) -> None:
    names = [n for n, _ in model.named_parameters()] + [n for n, _ in model.named_modules() if n]
    top = [n for n, _ in model.named_children()] + [n for n, _ in model.named_parameters(recurse=False)]
    for prefix in prefixes:
        if not any(_under(n, prefix) for n in names):
            raise ConfigError(f"{key}: {prefix!r} names no module or parameter of the model"
                              f"{did_you_mean(prefix, top)}; its top-level parts are: "
                              f"{', '.join(top) or '(none)'}")


def _keep_eval(module: nn.Module, args) -> None:
    """Forward pre-hook: a frozen norm layer runs in eval mode even after ``model.train()``
    (normalizes with its running statistics and leaves them unchanged)."""
    if module.__dict__.get(FROZEN_NORM, False):
        module.training = False


def _has_running_stats(module: nn.Module) -> bool:
    """BatchNorm (track_running_stats), batch renorm, InstanceNorm(track_running_stats=True)."""
    return isinstance(getattr(module, "running_mean", None), torch.Tensor)


def _norms_under(model: nn.Module, prefixes: list[str]) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in model.named_modules()
            if n and _has_running_stats(m) and any(_under(n, p) for p in prefixes)]


def freeze(model: nn.Module, prefixes, *, norm_eval: bool = True) -> list[str]:
    """Stop training the parameters under ``prefixes`` (module or parameter names: "0",
    "features", "layers.0", "fc.weight"); returns their names.

    With ``norm_eval`` (default), norm layers with running statistics (BatchNorm, batch renorm)
    inside the frozen part stay in eval mode through ``model.train()`` — they normalize with the
    pretrained statistics and do not update them — by a forward pre-hook that sets
    ``module.training = False`` before each forward. An unknown prefix raises ConfigError listing
    the model's top-level parts. Params already in an optimizer simply get no gradient.
    """
    prefixes = _as_prefixes(prefixes, "freeze")
    _check_prefixes(model, prefixes, "freeze")
    names = []
    for name, p in model.named_parameters():
        if any(_under(name, q) for q in prefixes):
            p.requires_grad_(False)
            names.append(name)
    if norm_eval:
        for _, module in _norms_under(model, prefixes):
            if not module.__dict__.get(_NORM_HOOK, False):
                module.register_forward_pre_hook(_keep_eval)
                module.__dict__[_NORM_HOOK] = True
            module.__dict__[FROZEN_NORM] = True
            module.training = False
    return names


def unfreeze(model: nn.Module, prefixes) -> list[str]:
    """Train the parameters under ``prefixes`` again; norm layers there follow the model's mode
    again. Returns the names of the parameters under ``prefixes``."""
    prefixes = _as_prefixes(prefixes, "unfreeze")
    _check_prefixes(model, prefixes, "unfreeze")
    names = []
    for name, p in model.named_parameters():
        if any(_under(name, q) for q in prefixes):
            p.requires_grad_(True)
            names.append(name)
    for _, module in _norms_under(model, prefixes):
        _thaw_norm(module, model.training)
    return names


def _thaw_norm(module: nn.Module, training: bool) -> bool:
    """Clear a norm layer's frozen flag; True when it had one."""
    was = module.__dict__.pop(FROZEN_NORM, False)
    if was:
        module.training = training
    return was


def frozen(model: nn.Module) -> list[str]:
    """Names of the parameters with ``requires_grad=False``."""
    return [n for n, p in model.named_parameters() if not p.requires_grad]


# ------------------------------------------------------------------------------ the head
def _last_linear(module: nn.Module) -> str | None:
    found = None
    for name, m in module.named_modules():
        if isinstance(m, nn.Linear):
            found = name
    return found


def find_head(model: nn.Module, *, name: str | None = None) -> str:
    """The name of the output Linear layer: ``name`` itself (or the last Linear inside it), else
    the last Linear inside the first child called ``head``, ``classifier`` or ``fc``, else the
    last Linear of the model (module registration order, which is the order of a Sequential)."""
    if name is not None:
        try:
            module = model.get_submodule(name)
        except AttributeError:
            top = [n for n, _ in model.named_children()]
            raise ConfigError(f"head name {name!r}: no such module; the model's top-level parts are: "
                              f"{', '.join(top) or '(none)'}") from None
        inner = _last_linear(module)
        if inner is None:
            raise ConfigError(f"head name {name!r}: it is a {type(module).__name__} with no Linear "
                              f"layer inside; name the output Linear layer")
        return ".".join(p for p in (name, inner) if p)
    children = dict(model.named_children())
    for attr in HEAD_NAMES:
        if attr in children and _last_linear(children[attr]) is not None:
            inner = _last_linear(children[attr])
            return ".".join(p for p in (attr, inner) if p)
    last = _last_linear(model)
    if last is None:
        raise ConfigError(f"the model ({type(model).__name__}) has no Linear layer to use as the head; "
                          f"pass name= the output layer's module name")
    if last == "":
        raise ConfigError("the model is itself a single Linear layer; build a new nn.Linear instead")
    return last


def all_but_head(model: nn.Module, *, name: str | None = None) -> list[str]:
    """Prefixes naming every parameter except the head's (``find_head``): ready for
    ``freeze(model, all_but_head(model))``, the notes' "fix all weights, retrain only the
    classifier" (notes 001)."""
    head = find_head(model, name=name)
    parts = head.split(".")
    prefixes = []
    module, path = model, ""
    for part in parts:
        prefixes += [f"{path}{n}" for n, _ in module.named_parameters(recurse=False)]
        prefixes += [f"{path}{n}" for n, m in module.named_children()    # with weights or stats
                     if n != part and next(chain(m.parameters(), m.buffers()), None) is not None]
        module, path = getattr(module, part), f"{path}{part}."
    return prefixes


def replace_head(model: nn.Module, num_outputs: int, *, name: str | None = None, init=None) -> nn.Module:
    """Swap the output Linear layer (``find_head``) for a fresh one with ``num_outputs`` outputs,
    the same inputs, bias, device and dtype (notes 001: "swap the softmax layer at the end");
    returns the model (changed in place).

    ``init``: None keeps nn.Linear's own initialization (Kaiming-uniform, a = √5: W and b ~
    U(−1/√fan_in, 1/√fan_in), what trainwell's builders use when no ``init`` is configured);
    or a scheme of ``trainwell.nn.init`` ("xavier_normal", {"name": "kaiming_normal", ...}).
    Build the optimizer after replacing: the old head's parameters are gone.
    """
    if isinstance(num_outputs, bool) or not isinstance(num_outputs, int) or num_outputs < 1:
        raise ConfigError(f"replace_head: num_outputs = {num_outputs!r}: must be an integer >= 1")
    head = find_head(model, name=name)
    old = model.get_submodule(head)
    parent_name, _, child = head.rpartition(".")
    parent = model.get_submodule(parent_name)
    new = nn.Linear(old.in_features, num_outputs, bias=old.bias is not None,
                    device=old.weight.device, dtype=old.weight.dtype)
    if init is not None:
        init_weights(new, init)
    setattr(parent, child, new)
    return model


# ------------------------------------------------------------------------------ unfreezing later
def _innermost(optimizer):
    """The optimizer that owns the groups (SAM-type wrappers share their base's list)."""
    while isinstance(getattr(optimizer, "base", None), torch.optim.Optimizer):
        optimizer = optimizer.base
    return optimizer


def _check_lr_mult(lr_mult):
    if lr_mult is not None and (isinstance(lr_mult, bool) or not isinstance(lr_mult, (int, float))
                                or not math.isfinite(lr_mult) or lr_mult < 0):
        raise ConfigError(f"unfreeze lr_mult = {lr_mult!r}: must be a finite number >= 0 "
                          f"(notes 002: about 0.1 to fine-tune), or None")


def add_unfrozen_groups(optimizer, model: nn.Module, names: list[str], *, lr_mult: float | None = None,
                        config=None, unfrozen_norms=()) -> list[dict]:
    """Add the parameters ``names`` that ``optimizer`` does not hold yet as new parameter groups
    and return those groups.

    Each group gets ``lr`` = the optimizer's base lr (``defaults["lr"]``) × ``lr_mult``,
    ``base_lr`` = the base lr (for the trainer, which sets lr = base_lr·lr_mult·schedule),
    ``lr_mult`` (None: the config's ``lr_mults`` for these names, else 1) and, when ``config``
    built the optimizer by name, the factory's weight-decay rule (no decay for biases and norm
    parameters; decoupled through the same pre-hook as the other groups). Without such a config
    the optimizer's defaults fill the group.
    """
    _check_lr_mult(lr_mult)
    opt = _innermost(optimizer)
    if isinstance(opt, torch.optim.LBFGS):
        raise ConfigError("unfreezing during training needs an optimizer with parameter groups; "
                          "L-BFGS keeps a single group (build it after unfreezing instead)")
    held = {id(p) for g in opt.param_groups for p in g["params"]}
    by_name = dict(model.named_parameters())
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ConfigError(f"add_unfrozen_groups: {unknown[:4]} are not parameter names of the model")
    new = [n for n in names if id(by_name[n]) not in held]
    if not new:
        return []
    base = opt.defaults.get("lr")
    if not isinstance(base, (int, float)):
        raise ConfigError(f"{type(opt).__name__}: no base lr in its defaults to give the new group")
    if config is not None and isinstance(getattr(config, "optimizer", None), str):
        wanted = set(new)
        groups = []
        for g in param_groups(model, weight_decay=config.weight_decay, lr_mults=config.lr_mults or None,
                              no_decay_bias_norm=config.no_decay_bias_norm):
            keep = [n for n in g["param_names"] if n in wanted]
            if keep:
                groups.append({**g, "params": [by_name[n] for n in keep], "param_names": keep})
    else:
        groups = [{"params": [by_name[n] for n in new], "param_names": new, "lr_mult": 1.0}]
    template = opt.param_groups[0] if opt.param_groups else {}
    for g in groups:
        if lr_mult is not None:
            g["lr_mult"] = float(lr_mult)
        g["base_lr"] = float(base)
        g["lr"] = float(base) * g["lr_mult"]
        g[UNFROZEN_NORMS] = list(unfrozen_norms)
        if DECOUPLED_KEY in template and "weight_decay" in g:   # the factory's hook-decay layout
            g[DECOUPLED_KEY] = g.pop("weight_decay")
            if "weight_decay" in opt.defaults:
                g["weight_decay"] = 0.0
        if "param_names" not in template:
            g.pop("param_names", None)
        optimizer.add_param_group(g)
    return groups


class Unfreeze(Callback):
    """Unfreeze ``prefixes`` when ``at_epoch`` epochs have been completed (at the start of the
    epoch whose 0-based index is ``at_epoch``: with ``at_epoch=5`` epochs 1–5 of the history
    train the frozen model and epoch 6 on train the whole of it) and add the unfrozen parameters
    to the optimizer with ``lr_mult`` (notes 002: "Finetune complete network ... Lower learning
    rate! E.g. 1/10 of LR"; None keeps the config's lr_mults).

    Idempotent and resumable: it also applies in ``on_fit_start`` when a resumed run is past
    ``at_epoch`` (install ``restore_added_groups`` on the optimizer before loading its state).
    """

    def __init__(self, at_epoch: int, prefixes, *, lr_mult: float | None = None):
        if isinstance(at_epoch, bool) or not isinstance(at_epoch, int) or at_epoch < 0:
            raise ConfigError(f"Unfreeze at_epoch = {at_epoch!r}: must be an integer >= 0 (epochs "
                              f"completed before unfreezing)")
        _check_lr_mult(lr_mult)
        self.at_epoch, self.prefixes, self.lr_mult = at_epoch, _as_prefixes(prefixes, "unfreeze"), lr_mult

    def on_fit_start(self, state):
        if state.epoch >= self.at_epoch:
            self.apply(state)

    def on_epoch_start(self, state):
        if state.epoch >= self.at_epoch:
            self.apply(state)

    def apply(self, state) -> list[dict]:
        """Unfreeze now; returns the parameter groups added (none when already done)."""
        model = state.model
        thawed = [n for n, m in _norms_under(model, self.prefixes) if m.__dict__.get(FROZEN_NORM)]
        names = unfreeze(model, self.prefixes)
        return add_unfrozen_groups(state.optimizer, model, names, lr_mult=self.lr_mult,
                                   config=state.config, unfrozen_norms=thawed)


def restore_added_groups(optimizer, model: nn.Module):
    """Let ``optimizer.load_state_dict(saved)`` restore a state whose parameter groups were added
    by ``Unfreeze`` (or any group carrying ``param_names``) after the optimizer was built.

    Registers a load-state-dict pre-hook: trailing groups of ``saved`` that ``optimizer`` lacks
    are added by parameter name (and those parameters unfrozen, their norm layers thawed);
    trailing groups that Unfreeze added but ``saved`` lacks (a rollback to before the unfreeze)
    are removed (and their parameters frozen again). Returns the hook's handle.
    """
    opt = _innermost(optimizer)

    def pre_hook(opt, state_dict):
        saved, current = state_dict["param_groups"], opt.param_groups
        if len(saved) > len(current):
            _add_saved(opt, model, saved[len(current):])
        elif len(saved) < len(current):
            _drop_added(opt, model, len(saved))
        return None

    return opt.register_load_state_dict_pre_hook(pre_hook)


def _add_saved(opt, model: nn.Module, extra: list[dict]) -> None:
    by_name = dict(model.named_parameters())
    modules = dict(model.named_modules())
    held = {id(p) for g in opt.param_groups for p in g["params"]}
    for group in extra:
        names = group.get("param_names")
        if names is None:
            raise CheckpointError("the saved optimizer state has more parameter groups than the "
                                  "optimizer, and they carry no param_names to find their parameters")
        unknown = [n for n in names if n not in by_name or id(by_name[n]) in held]
        if unknown:
            raise CheckpointError(f"the saved optimizer state has a group with parameters "
                                  f"{unknown[:4]} that the model lacks or the optimizer already holds")
        for n in names:
            by_name[n].requires_grad_(True)
        for n in group.get(UNFROZEN_NORMS, []):
            if n in modules:
                _thaw_norm(modules[n], model.training)
        opt.add_param_group({**{k: v for k, v in group.items() if k != "params"},
                             "params": [by_name[n] for n in names]})


def _drop_added(opt, model: nn.Module, keep: int) -> None:
    extra = opt.param_groups[keep:]
    if not all(UNFROZEN_NORMS in g for g in extra):
        return   # not ours: torch reports the mismatch
    modules = dict(model.named_modules())
    for g in extra:
        for p in g["params"]:
            p.requires_grad_(False)
            opt.state.pop(p, None)
        for n in g[UNFROZEN_NORMS]:
            if n in modules:
                modules[n].__dict__[FROZEN_NORM] = True
                modules[n].training = False
    del opt.param_groups[keep:]

