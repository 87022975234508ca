"""The one option type every registry uses, and the generic checks that read it.

A leaf module: it imports nothing from trainwell but ``errors``, so any registry (data sources,
transforms, augmentations, models, activations, norms, init schemes, optimizers, schedules) and
``config.py`` can import it without an import cycle.

    STEP = {"every_epochs": Option(int, 10, "epochs between decays", source="notes 003",
                                   check=must_be(lambda v: v >= 1, "an integer >= 1"))}
    check_options("schedule 'step'", {"every_epochs": 5}, STEP)     # -> {"every_epochs": 5}
    check_options("schedule 'step'", {"every_epochs": 0}, STEP)
    # ConfigError: schedule 'step': every_epochs = 0: must be an integer >= 1
"""
from __future__ import annotations

import difflib
import math
import numbers
from pathlib import PurePath
from typing import Any, Callable, NamedTuple

import numpy as np

from trainwell.errors import ConfigError

NUMBER = (int, float)
# The largest magnitude of a float option. torch holds options as float32 beside the weights
# (an lr in the optimizer's tensor ops, clip_value in a clamp), and float32's largest value is
# 3.4e38 (IEEE 754): a larger option is not a diverging run but a crash ("value cannot be
# converted to type float without overflow"). 1e30 leaves room for the products an option
# enters (lr × lr_mult × schedule) and is far beyond any useful setting.
MAX_FLOAT = 1e30
FLOAT32_MAX = 3.4028234663852886e38     # torch.finfo(torch.float32).max
# Seeds: torch's generators take 64-bit seeds and trainwell seeds its other generators with
# seed + 1 and seed + 2 (train/loop.py, train/parts.py): a signed int64 leaves room for both.
# scikit-learn's random_state (the data splits) takes numpy's legacy range [0, 2**32 - 1].
MAX_TORCH_SEED = 2**63 - 1
MAX_NUMPY_SEED = 2**32 - 1


class Option(NamedTuple):
    """One option of a registry entry: accepted ``types`` (a type or a tuple), ``default``, a
    one-line ``doc``, whether it is ``required``, the ``source`` of its default (notes or paper),
    and ``check(value) -> error text or None`` for ranges."""

    types: Any
    default: Any
    doc: str
    required: bool = False
    source: str = ""
    check: Callable | None = None


def closest(name, known) -> str | None:
    """The known name closest to ``name`` (difflib's ratio >= 0.6), or None."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name, known) -> str:
    """`` (did you mean 'lr'?)`` for the closest known name, or ``""``."""
    close = closest(name, known)
    return f" (did you mean {close!r}?)" if close else ""


def misspelt_key(table: dict, key: str) -> str:
    """`` ('nmae' is given: did you mean 'name'?)`` when ``key`` is missing from ``table`` and one
    of its keys is close to it, else ``""``: a table's required key spelt wrong."""
    close = closest(key, [k for k in table if k != key]) if key not in table else None
    found = next((k for k in table if str(k) == close), None)
    return f" ({found!r} is given: did you mean {key!r}?)" if found is not None else ""


def as_types(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


TYPE_WORDS = {bool: "true/false", int: "an integer", float: "a number", str: "a string", list: "a list",
              dict: "a table", tuple: "a list", type(None): "none", object: "anything"}


def type_name(types) -> str:
    """Readable names of accepted types: ``a number``, ``true/false``, ``a table``, ``a path`` ..."""
    types = as_types(types)
    if int in types and float in types:
        types = tuple(t for t in types if t is not int)

    def word(t) -> str:
        if isinstance(t, type) and issubclass(t, PurePath):
            return "a path"
        return TYPE_WORDS.get(t, getattr(t, "__name__", str(t)))
    return " or ".join(dict.fromkeys(word(t) for t in types))


def check_type(label: str, value, types):
    """``value`` if it is one of ``types``, else ConfigError ``label = value: must be <types>``.
    An int where only a float is accepted becomes a float (where ``int`` is accepted too it stays
    an int: a data split's size is a count when an int, a fraction when a float); a bool is never
    a number; a float must be finite. numpy's scalars (``np.int64(1)`` read from an array, a
    ``np.float32``, ``np.bool_``) count as the Python int, float or bool they equal."""
    types = as_types(types)
    if isinstance(value, np.bool_):
        value = bool(value)
    elif isinstance(value, numbers.Integral) and not isinstance(value, (bool, int)):
        value = int(value)
    elif isinstance(value, numbers.Real) and not isinstance(value, (bool, int, float)):
        value = float(value)
    if float in types and int not in types and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and bool not in types and object not in types:
        raise ConfigError(f"{label} = {value!r}: must be {type_name(types)}, not true/false")
    if not isinstance(value, types):
        raise ConfigError(f"{label} = {value!r}: must be {type_name(types)} (got {type(value).__name__})")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{label} = {value!r}: must be a finite number")
    if isinstance(value, float) and abs(value) > MAX_FLOAT:
        raise ConfigError(f"{label} = {value!r}: {TOO_LARGE}")
    return value


TOO_LARGE = (f"must be at most {MAX_FLOAT:g} in magnitude (torch holds options as float32, "
             f"whose largest value is {FLOAT32_MAX:.1e})")


def check_option(label: str, value, option: Option):
    """One value against its Option: the type (``check_type``), then ``option.check`` unless the
    value is None; returns the value (an int made a float where only floats are accepted)."""
    value = check_type(label, value, option.types)
    if option.check is not None and value is not None:
        problem = option.check(value)
        if problem:
            raise ConfigError(f"{label} = {value!r}: {problem}")
    return value


def check_number(label: str, value, ok: Callable[[float], bool], allowed: str):
    """A finite number (not a bool) with ``ok(value)``, else ConfigError naming ``label``."""
    if isinstance(value, bool) or not isinstance(value, NUMBER) or not math.isfinite(value) or not ok(value):
        raise ConfigError(f"{label} = {value!r}: must be {allowed}")
    if abs(value) > MAX_FLOAT:
        raise ConfigError(f"{label} = {value!r}: {TOO_LARGE}")
    return value


def check_options(where: str, given: dict, options: dict, *, label: str = "{where}: {name}") -> dict:
    """Validate keyword ``given`` against ``{name: Option}``; return them with the defaults filled
    in. Unknown names, missing required ones, wrong types and out-of-range values raise
    ConfigError naming ``where`` and the option. ``label`` names one option in a value's error:
    ``"{where}: {name}"`` gives ``init (orthogonal): gain = 'x': ...``; a config table passes
    ``"schedule.{name}"`` to name the key as the user wrote it."""
    unknown = sorted(set(given) - set(options))
    if unknown:
        allowed = ", ".join(sorted(options)) or "(no options)"
        raise ConfigError(f"{where}: unknown option {unknown[0]!r}{did_you_mean(unknown[0], options)}; "
                          f"allowed: {allowed}")
    missing = [name for name, spec in options.items() if spec.required and name not in given]
    if missing:
        raise ConfigError(f"{where}: {missing[0]} is required ({options[missing[0]].doc})")
    out = {name: spec.default for name, spec in options.items() if not spec.required}
    for name, value in given.items():
        out[name] = check_option(label.format(where=where, name=name), value, options[name])
    return out


# Checks for ``Option.check`` and config fields: each returns an error text or None.
def must_be(ok: Callable[[Any], bool], allowed: str) -> Callable:
    """A check from a predicate and the words for what it allows:
    ``must_be(lambda v: 0 < v < 1, "a number in (0, 1)")`` gives ``"must be a number in (0, 1)"``."""
    return lambda v: None if ok(v) else f"must be {allowed}"


def one_of(allowed) -> Callable:
    """A check that the value is a key of ``allowed`` (a registry or a tuple of names):
    ``unknown (did you mean 'val_acc'?); allowed: train_acc, train_loss, val_acc, val_loss``."""
    return lambda v: None if v in allowed else \
        f"unknown{did_you_mean(v, allowed)}; allowed: {', '.join(sorted(allowed))}"


def positive(v):
    return None if v > 0 else "must be > 0"


def non_negative(v):
    return None if v >= 0 else "must be >= 0"


def unit_interval(v):
    return None if 0 <= v < 1 else "must be in [0, 1)"


def seed_range(maximum: int, why: str) -> Callable:
    """A check that a seed is an integer in [0, maximum] (a power of two minus 1, written so);
    ``why`` names what takes the seed."""
    shown = f"2**{maximum.bit_length()} - 1"
    return must_be(lambda v: 0 <= v <= maximum, f"in [0, {shown}] ({why})")


def at_least_one(v):
    return None if v >= 1 else "must be >= 1"
