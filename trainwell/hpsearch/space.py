"""The search space: which options a search varies, over which ranges, checked before any trial.

A space maps an option's config key to a range::

    lr = {low = 1e-4, high = 1}                   # a float; log scale for lr (see LOG_KEYS)
    model.widths = {choices = [[64], [256, 256]]}  # a nested key: the `widths` of the model table
    batch_size = {low = 16, high = 256, step = 16} # an integer (both ends integers)
    optimizer = {choices = ["sgd", "adam"]}

Every key must be a Config option (``lr``) or a key inside a table option (``model.widths``,
``optimizer_options.rho``); both ends of a range and every choice are checked by the option's
own validator (``config.make_config``) with the rest of the config, so ``dropout = {high = 1.5}``
or a choice the optimizer registry does not know is refused before any trial, in one line naming
the key. Optuna draws the values (``suggest``); ``apply`` writes them into a copy of the options.
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass

from trainwell.config import FIELDS, make_config
from trainwell.errors import ConfigError
from trainwell.nn.models import MODEL_OPTIONS
from trainwell.options import did_you_mean

# Options searched on a log scale unless the range says otherwise (notes 000/004: "sample the
# learning rate and regularization strengths in log space", their effect is multiplicative).
LOG_KEYS = ("lr", "weight_decay", "l1", "l2", "eps")
# Any positive range wider than this ratio is searched on a log scale too (the issue: "more than
# two decades": a uniform draw would put 99% of the trials in the top decade).
LOG_RATIO = 100.0
RANGE_KEYS = {"low", "high", "log", "step", "choices"}


@dataclass(frozen=True)
class Param:
    """One searched option: ``key`` as in the config (dotted for a table's key), and either a
    numeric range (``low``, ``high``, ``log``, integer when ``step`` is set) or ``choices``."""

    key: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: int | None = None
    choices: tuple | None = None      # as Optuna stores them: scalars, or JSON text (``as_json``)
    as_json: bool = False             # the choices are lists/tables, kept as JSON text

    @property
    def numeric(self) -> bool:
        return self.choices is None

    @property
    def integer(self) -> bool:
        return self.step is not None

    def value(self, stored):
        """The option's value of a stored (Optuna) parameter value."""
        return json.loads(stored) if self.as_json else stored

    def describe(self) -> str:
        if not self.numeric:
            return f"{self.key} in {[self.value(c) for c in self.choices]}"
        scale = ", log" if self.log else (f", step {self.step}" if self.integer else "")
        return f"{self.key} in [{self.low:g}, {self.high:g}{scale}]"

    def to_dict(self) -> dict:
        if not self.numeric:
            return {"choices": [self.value(c) for c in self.choices]}
        out = {"low": self.low, "high": self.high, "log": self.log}
        if self.integer:
            out["step"] = self.step
        return out


def parse_space(table, base: dict) -> dict[str, Param]:
    """The ``[search.space]`` table as ``{key: Param}``, every range and choice checked against the
    option it sets, with the rest of ``base`` (the run's options); ConfigError names the key."""
    if not isinstance(table, dict) or not table:
        raise ConfigError("search.space: must be a table of option = {low, high} or {choices = [...]}, "
                          "e.g. lr = {low = 1e-4, high = 1}")
    space = {}
    flat = _flatten(table)
    for key, spec in flat.items():
        param = _param(key, spec)
        check_param(param, base, searched=tuple(flat))
        space[key] = param
    return space


def _flatten(table: dict, prefix: str = "") -> dict:
    """``{"model": {"widths": {...}}}`` (TOML's nested tables) -> ``{"model.widths": {...}}``."""
    out = {}
    for key, spec in table.items():
        name = f"{prefix}{key}"
        if isinstance(spec, dict) and spec and not (set(spec) & RANGE_KEYS):
            out.update(_flatten(spec, f"{name}."))
        else:
            out[name] = spec
    return out


def _param(key: str, spec) -> Param:
    where = f"search.space.{key}"
    top = key.split(".")[0]
    if top not in FIELDS:
        raise ConfigError(f"{where}: unknown option {top!r}{did_you_mean(top, FIELDS)}; a space names "
                          f"options by their config key (see `trainwell options`)")
    if "." in key and not _is_table(top):
        raise ConfigError(f"{where}: {top!r} is not a table option, so it has no key {key[len(top) + 1:]!r}")
    if not isinstance(spec, dict):
        raise ConfigError(f"{where} = {spec!r}: must be {{low = ..., high = ...}} or {{choices = [...]}}")
    unknown = sorted(set(spec) - RANGE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown range key {unknown[0]!r}{did_you_mean(unknown[0], RANGE_KEYS)}; "
                          f"allowed: {', '.join(sorted(RANGE_KEYS))}")
    if "choices" in spec:
        return _choices(where, key, spec)
    return _numeric(where, key, spec)


def _is_table(name: str) -> bool:
    return isinstance(FIELDS[name].metadata["option"].default, dict)


def _choices(where: str, key: str, spec: dict) -> Param:
    choices = spec["choices"]
    if set(spec) != {"choices"}:
        raise ConfigError(f"{where}: choices cannot be combined with {sorted(set(spec) - {'choices'})[0]}")
    if not isinstance(choices, list) or not choices:
        raise ConfigError(f"{where}.choices = {choices!r}: must be a non-empty list")
    return choice_param(key, choices)


def choice_param(key: str, choices: list) -> Param:
    """A categorical Param; lists and tables among the choices are stored as JSON text (Optuna's
    storages keep only None, bools, numbers and strings)."""
    as_json = any(isinstance(c, (list, tuple, dict)) for c in choices)
    stored = tuple(json.dumps(c, sort_keys=True) if as_json else c for c in choices)
    if len(set(stored)) != len(stored):
        raise ConfigError(f"search.space.{key}.choices: a choice is repeated")
    return Param(key, choices=stored, as_json=as_json)


def _numeric(where: str, key: str, spec: dict) -> Param:
    for end in ("low", "high"):
        if end not in spec:
            raise ConfigError(f"{where}: {end} is missing (a range needs low and high)")
        value = spec[end]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{where}.{end} = {value!r}: must be a finite number")
    low, high = spec["low"], spec["high"]
    if low >= high:
        raise ConfigError(f"{where}: low = {low!r} >= high = {high!r}; low must be below high")
    step = spec.get("step")
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            raise ConfigError(f"{where}.step = {step!r}: must be an integer >= 1 (integer ranges only)")
        if not (isinstance(low, int) and isinstance(high, int)):
            raise ConfigError(f"{where}: step = {step} needs integer low and high (got {low!r}, {high!r})")
    elif isinstance(low, int) and isinstance(high, int) and _takes_int(key):
        step = 1
    log = spec.get("log")
    if log is None:
        log = key.split(".")[-1] in LOG_KEYS or (low > 0 and high / low > LOG_RATIO)
    elif not isinstance(log, bool):
        raise ConfigError(f"{where}.log = {log!r}: must be true or false")
    if log and low <= 0:
        raise ConfigError(f"{where}: log = true needs low > 0 (got low = {low!r}); a log range "
                          f"cannot reach 0 or below")
    if log and step not in (None, 1):
        raise ConfigError(f"{where}: log = true and step = {step} cannot be combined (Optuna)")
    if step is None:
        low, high = float(low), float(high)
    return Param(key, low=low, high=high, log=log, step=step)


def _takes_int(key: str) -> bool:
    """Whether an option is an integer (an int-ranged key of a table is taken as an integer)."""
    if "." in key:
        return True
    types = FIELDS[key].metadata["option"].types
    types = types if isinstance(types, tuple) else (types,)
    return int in types and float not in types


def check_param(param: Param, base: dict, *, searched: tuple = ()) -> None:
    """Both ends of a range (and its middle, for an integer range) or every choice must be a value
    the option accepts together with ``base``; ConfigError ``search.space.KEY: ...`` otherwise.
    ``searched``: the space's keys (see ``value_problem``)."""
    values = [param.value(c) for c in param.choices] if not param.numeric else [param.low, param.high]
    for value in values:
        problem = value_problem(param.key, value, base, searched=searched)
        if problem:
            what = "choice" if not param.numeric else ("low" if value == param.low else "high")
            raise ConfigError(f"search.space.{param.key}: {what} {value!r} is refused: {problem}")


def value_problem(key: str, value, base: dict, *, searched: tuple = ()) -> str | None:
    """Why ``key = value`` is not a valid option with ``base`` (the validator's words), or None.

    ``optimizer`` and the keys of ``optimizer_options`` are checked by the optimizer's constructor
    only (``rho`` means something to Adadelta, nothing to SGD), so for them the optimizer is built
    over one parameter with the rest of the config, when no other of those keys is among
    ``searched`` (the space's keys): with two of them, a value refused only with some values of
    the other is found when a trial runs (docs/search.md, the space)."""
    options = apply(base, {key: value})
    try:
        config = make_config(_without_run_only(options))
        others = [k for k in searched if k != key and _built_by_optimizer(k)]
        if _built_by_optimizer(key) and not others and isinstance(config.optimizer, str):
            import torch

            from trainwell.optim.factory import build_optimizer, optimizer_options
            build_optimizer(config.optimizer, [torch.nn.Parameter(torch.zeros(1))], **optimizer_options(config))
        table = options.get("model")
        if key.startswith("model.") and isinstance(table, dict) and table.get("type", "auto") in MLP_CHECKED:
            from trainwell.nn.models import build_model
            build_model({**table, "type": "mlp"}, (1,), 2)
    except ConfigError as e:
        return str(e)
    return None


# Model types whose table values (widths, activation, norm, ...) a search checks by building the
# model: an MLP of one input and two outputs needs no data ("auto" takes only options its MLP
# takes too). A CNN's or ResNet's sizes depend on the data's image shape: their values are checked
# when a trial builds the model.
MLP_CHECKED = ("mlp", "auto")


def _built_by_optimizer(key: str) -> bool:
    return key == "optimizer" or key.startswith("optimizer_options.")


def _without_run_only(options: dict) -> dict:
    return {k: v for k, v in options.items() if k not in ("run_dir", "resume", "callbacks")}


def apply(options: dict, values: dict) -> dict:
    """A copy of ``options`` with each ``key: value`` set (dotted keys inside their tables)."""
    out = copy.deepcopy(options)
    for key, value in values.items():
        parts = key.split(".")
        target = out
        for part in parts[:-1]:
            current = target.get(part)
            if current is None:
                current = copy.deepcopy(FIELDS[part].metadata["option"].default) if part in FIELDS else {}
            if not isinstance(current, dict):
                raise ConfigError(f"search.space.{key}: {part} = {current!r} is not a table")
            target[part] = current
            target = current
        target[parts[-1]] = value
    return out


def suggest(trial, space: dict[str, Param]) -> dict:
    """One value per parameter from an Optuna trial (the sampler chooses), as option values."""
    values = {}
    for key, p in space.items():
        if not p.numeric:
            values[key] = p.value(trial.suggest_categorical(key, list(p.choices)))
        elif p.integer:
            values[key] = trial.suggest_int(key, p.low, p.high, step=p.step, log=p.log)
        else:
            values[key] = trial.suggest_float(key, p.low, p.high, log=p.log)
    return values


def distributions(space: dict[str, Param]) -> dict:
    """Optuna distributions of the space (to enqueue or rebuild trials)."""
    import optuna

    out = {}
    for key, p in space.items():
        if not p.numeric:
            out[key] = optuna.distributions.CategoricalDistribution(list(p.choices))
        elif p.integer:
            out[key] = optuna.distributions.IntDistribution(p.low, p.high, step=p.step, log=p.log)
        else:
            out[key] = optuna.distributions.FloatDistribution(p.low, p.high, log=p.log)
    return out


def config_params(space: dict[str, Param], base: dict) -> dict:
    """The run's own values of the searched options (``base``, else the option's or the model
    builder's default), as stored parameters, for those inside the space; a value the space
    leaves out, or one this cannot know (a key of another table left to its default), is left
    out, and the sampler draws it."""
    out = {}
    for key, p in space.items():
        found, value = _config_value(key, base)
        if not found:
            continue
        if p.numeric:
            number = not isinstance(value, bool) and isinstance(value, (int, float))
            if not number or not p.low <= value <= p.high or (p.integer and (value - p.low) % p.step):
                continue
            out[key] = value
        else:
            stored = json.dumps(value, sort_keys=True) if p.as_json else value
            if stored in p.choices:
                out[key] = stored
    return out


def _config_value(key: str, base: dict) -> tuple[bool, object]:
    top, _, inner = key.partition(".")
    value = base[top] if top in base else FIELDS[top].metadata["option"].default
    if not inner:
        return True, value
    if isinstance(value, dict) and inner in value:
        return True, value[inner]
    builder = MODEL_OPTIONS.get(value.get("type")) if top == "model" and isinstance(value, dict) else None
    if builder is not None and inner in builder:
        return True, builder[inner].default
    return False, None


def option_values(space: dict[str, Param], params: dict) -> dict:
    """A trial's stored parameters as option values (JSON choices decoded)."""
    return {key: space[key].value(v) if key in space else v for key, v in params.items()}


def grid(space: dict[str, Param], points: int) -> dict:
    """The grid sampler's values: ``points`` per numeric range (log-spaced on a log scale), every
    choice of a categorical one."""
    out = {}
    for key, p in space.items():
        if not p.numeric:
            out[key] = list(p.choices)
            continue
        if p.log:
            a, b = math.log(p.low), math.log(p.high)
            values = [math.exp(a + (b - a) * i / (points - 1)) for i in range(points)]
        else:
            values = [p.low + (p.high - p.low) * i / (points - 1) for i in range(points)]
        values[0], values[-1] = p.low, p.high          # exact ends: exp(log(high)) may exceed high
        if p.integer:
            values = sorted({min(p.high, max(p.low, p.low + round((v - p.low) / p.step) * p.step))
                             for v in values})
        out[key] = values
    return out


def space_to_dict(space: dict[str, Param]) -> dict:
    return {key: p.to_dict() for key, p in space.items()}


def space_from_dict(table: dict) -> dict[str, Param]:
    """The inverse of ``space_to_dict`` (a stage's stored space; already checked)."""
    out = {}
    for key, spec in table.items():
        if "choices" in spec:
            out[key] = choice_param(key, spec["choices"])
        else:
            out[key] = Param(key, low=spec["low"], high=spec["high"], log=spec["log"], step=spec.get("step"))
    return out


__all__ = ["Param", "LOG_KEYS", "parse_space", "check_param", "value_problem", "apply", "suggest",
           "config_params", "option_values", "choice_param", "distributions", "grid", "space_to_dict",
           "space_from_dict"]
