"""The report's figures: one function per figure, each ``(records, path) -> Path``.

``records`` are the per-epoch dicts of ``metrics.jsonl`` (see ``trainwell.report.html.read_metrics``).
The figures are the three things the notes tell us to watch while babysitting a run
(notes 004, "Babysitting the Learning Process"; notes 001, "Monitoring"):

- ``loss_curves``: "monitor and visualize the loss curve" (notes 004);
- ``accuracy_curves``: "monitor and visualize the accuracy: big gap = overfitting, no gap =
  increase model capacity?" (notes 004);
- ``learning_rate``: the schedule that was actually applied ("decay learning rate by a factor of
  ~100 or more by the end of training", notes 004 take-home messages).

Drawing uses ``matplotlib.figure.Figure`` with an explicit Agg canvas, never pyplot, so making a
report neither switches a user's interactive backend nor leaves figures open in pyplot's registry.
A value of ``None`` is "not recorded" (no validation set, regression has no accuracy) and is left
out; a NaN or infinite value is "training diverged" and is marked with an ``x`` along the top edge.
"""
from __future__ import annotations

import math
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from trainwell.train.rundir import atomic_write, make_directory

# A log y-axis once the finite positive values span more than two decades (max / min > 100):
# a diverging or fast-falling loss is otherwise a flat line with one spike.
LOG_RATIO = 100.0
FIGSIZE = (7.0, 4.0)     # inches; 700 x 400 px at DPI, half a report page wide
DPI = 100
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#d62728"
LR_COLOR = "#2ca02c"
MARKERS_UP_TO = 40       # draw point markers when there are this few epochs (1 epoch = 1 dot)


def as_float(value) -> float | None:
    """A metric value as a float; ``None`` when it was not recorded.

    JSON from the trainer writes NaN as ``NaN``; ``results.json`` writes it as the string "nan".
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _epochs(records: list[dict]) -> list[float]:
    """The x values: each record's ``epoch``, or its 1-based position when it has none."""
    xs = []
    for i, record in enumerate(records):
        epoch = as_float(record.get("epoch"))
        xs.append(epoch if epoch is not None and math.isfinite(epoch) else float(i + 1))
    return xs


def _series(records: list[dict], key: str) -> list[float | None]:
    return [as_float(record.get(key)) for record in records]


def _recorded(values: list[float | None]) -> bool:
    return any(v is not None for v in values)


def use_log_scale(values, *, log_ratio: float = LOG_RATIO) -> bool:
    """True when the finite values are all positive and max / min exceeds ``log_ratio``."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite or min(finite) <= 0:
        return False
    return max(finite) / min(finite) > log_ratio


def _new_axes(title: str, xlabel: str, ylabel: str):
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=12, loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    return fig, ax


def _plot_series(ax, xs, values, *, label: str, color: str, mark_at: float = 0.97,
                 value_format: str = "{:.4g}") -> int:
    """Draws the finite points as a line; marks the non-finite ones at the top edge.

    Returns how many finite points were drawn. A gap in the line is left where a value is
    missing or not finite, so a line never jumps across a divergence. ``mark_at`` is the height of
    the NaN marks in axes units (0 bottom, 1 top), distinct per series so the marks do not overlap.
    A lone finite point (a one-epoch run) is labelled with its value.
    """
    line_x = [x if v is not None and math.isfinite(v) else math.nan for x, v in zip(xs, values)]
    line_y = [v if v is not None and math.isfinite(v) else math.nan for v in values]
    finite = sum(1 for v in line_y if not math.isnan(v))
    marker = "o" if len(xs) <= MARKERS_UP_TO else None
    if finite:
        ax.plot(line_x, line_y, color=color, label=label, marker=marker, markersize=4, linewidth=1.8)
    if finite == 1:
        x, y = next((x, y) for x, y in zip(line_x, line_y) if not math.isnan(y))
        ax.annotate(value_format.format(y), (x, y), textcoords="offset points", xytext=(6, 6),
                    color=color, fontsize=9)
    bad = [x for x, v in zip(xs, values) if v is not None and not math.isfinite(v)]
    if bad:
        # x in data units, y in axes units: the marks sit on the top edge whatever the y range.
        ax.plot(bad, [mark_at] * len(bad), linestyle="none", marker="x", markersize=9,
                markeredgewidth=2, color=color, transform=ax.get_xaxis_transform(), clip_on=False,
                label=f"{label}: NaN/inf ({len(bad)})")
    return finite


def _mark_epoch(ax, epoch: float | None, label: str) -> None:
    if epoch is not None:
        ax.axvline(epoch, color="0.45", linestyle="--", linewidth=1, label=label)


def _best(xs, values, *, largest: bool) -> tuple[float, float] | None:
    """(epoch, value) of the best finite value; the earliest epoch wins a tie."""
    best = None
    for x, v in zip(xs, values):
        if v is None or not math.isfinite(v):
            continue
        if best is None or (v > best[1] if largest else v < best[1]):
            best = (x, v)
    return best


def best_epoch(records: list[dict], key: str, *, largest: bool) -> tuple[float, float] | None:
    """(epoch, value) of the best finite ``key`` over the records (the largest when ``largest``,
    else the smallest; the earliest epoch on a tie), or ``None`` when no value is finite."""
    return _best(_epochs(records), _series(records, key), largest=largest)


def _empty_text(records, values, what: str, *, unrecorded_hint: str = "") -> str:
    """What an empty plot says: nothing recorded yet, nothing finite, or nothing recorded."""
    if not records:
        return "no epochs recorded"
    if _recorded(values):
        return f"no finite {what}: training diverged"
    return f"no {what} recorded{unrecorded_hint}"


def _finish(fig, ax, xs, drawn: int, empty_text: str, path, *, legend: bool = True) -> Path:
    if xs:
        lo, hi = min(xs), max(xs)
        pad = 0.5 if hi == lo else 0.02 * (hi - lo)
        ax.set_xlim(lo - pad, hi + pad)
        if all(float(x).is_integer() for x in xs):  # whole-epoch ticks: no "epoch 2.5"
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1, steps=[1, 2, 5, 10]))
    else:
        ax.set_xticks([])
    if not drawn:
        ax.text(0.5, 0.5, empty_text, transform=ax.transAxes, ha="center", va="center",
                fontsize=11, color="0.35")
        ax.set_yticks([])
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=9)
    path = Path(path)
    make_directory(path.parent)
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    fig.clear()
    return path


def loss_curves(records: list[dict], path, *, log_ratio: float = LOG_RATIO) -> Path:
    """Train and validation loss per epoch (notes 004: "monitor and visualize the loss curve").

    The y-axis turns logarithmic when the finite losses span more than ``log_ratio`` (two decades
    by default). NaN/inf losses are left out of the line and marked with an ``x`` on the top edge;
    the epoch with the lowest validation loss gets a dashed line.
    """
    xs = _epochs(records)
    train, val = _series(records, "train_loss"), _series(records, "val_loss")
    fig, ax = _new_axes("Loss", "epoch", "loss")
    drawn = _plot_series(ax, xs, train, label="train loss", color=TRAIN_COLOR)
    if _recorded(val):
        drawn += _plot_series(ax, xs, val, label="val loss", color=VAL_COLOR, mark_at=0.90)
        best = _best(xs, val, largest=False)
        if best is not None and len(xs) > 1:
            _mark_epoch(ax, best[0], f"lowest val loss (epoch {best[0]:g})")
    if use_log_scale(train + val, log_ratio=log_ratio):
        ax.set_yscale("log")
        ax.set_ylabel("loss (log scale)")
    return _finish(fig, ax, xs, drawn, _empty_text(records, train + val, "loss"), path)


def accuracy_curves(records: list[dict], path) -> Path:
    """Train and validation accuracy per epoch, the gap between them shaded.

    notes 004, "monitor and visualize the accuracy": a big gap means overfitting (increase the
    regularization strength); no gap suggests the model may lack capacity. The last epoch's gap
    (train - val) is written in the legend; the epoch with the best val accuracy is marked.
    """
    xs = _epochs(records)
    train, val = _series(records, "train_acc"), _series(records, "val_acc")
    fig, ax = _new_axes("Accuracy", "epoch", "accuracy")
    drawn = _plot_series(ax, xs, train, label="train accuracy", color=TRAIN_COLOR,
                         value_format="{:.2%}")
    if _recorded(val):
        drawn += _plot_series(ax, xs, val, label="val accuracy", color=VAL_COLOR, mark_at=0.90,
                              value_format="{:.2%}")
        both = [(x, t, v) for x, t, v in zip(xs, train, val)
                if t is not None and v is not None and math.isfinite(t) and math.isfinite(v)]
        if both:
            gx, gt, gv = zip(*both)
            last_gap = gt[-1] - gv[-1]
            ax.fill_between(gx, gv, gt, color="0.6", alpha=0.2, linewidth=0,
                            label=f"gap train - val (last: {100 * last_gap:+.1f} pts)")
        best = _best(xs, val, largest=True)
        if best is not None and len(xs) > 1:
            _mark_epoch(ax, best[0], f"best val accuracy (epoch {best[0]:g})")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    if drawn:
        ax.set_ylim(top=min(1.02, ax.get_ylim()[1] + 0.02))
    empty = _empty_text(records, train + val, "accuracy", unrecorded_hint=" (a regression loss?)")
    return _finish(fig, ax, xs, drawn, empty, path)


def learning_rate(records: list[dict], path, *, log_ratio: float = LOG_RATIO) -> Path:
    """The learning rate at the end of each epoch, as the schedule set it.

    Log scale when it changes by more than ``log_ratio`` over the run (notes 004 suggests decaying
    by a factor of ~100 or more by the end of training, which a linear axis flattens to zero).
    """
    xs = _epochs(records)
    lr = _series(records, "lr")
    fig, ax = _new_axes("Learning rate", "epoch", "learning rate")
    drawn = _plot_series(ax, xs, lr, label="lr", color=LR_COLOR)
    if use_log_scale(lr, log_ratio=log_ratio):
        ax.set_yscale("log")
        ax.set_ylabel("learning rate (log scale)")
    else:
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
    # One line needs no legend box; keep it only to explain NaN marks.
    return _finish(fig, ax, xs, drawn, _empty_text(records, lr, "learning rate"), path,
                   legend=len(ax.get_lines()) > 1)
