"""Knowledge distillation (Hinton et al. 2015; notes 001: "constructs a single (better) model from
an ensemble"): a student learns from a teacher's soft targets at temperature T mixed with the labels,

    L = (1 - α) · CE(z_s, y) + α · T² · KL(softmax(z_t / T) ‖ softmax(z_s / T))

(z_s, z_t: student and teacher logits; T² keeps the soft term's gradients on the scale of the hard
term's as T changes). The teacher is a run or an ensemble (its logits: the log of the combined
probabilities), in eval mode, on the same augmented batch the student sees. It gets the batch as
the student does, so the student trains on raw inputs (no ``preprocess`` of its own): the teacher
applies its own preprocessing.

Outside training steps (validation, the test split, a loaded student) the loss is plain
cross-entropy, which is how the student's run records it.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from trainwell.errors import ConfigError
from trainwell.options import Option, check_options, must_be
from trainwell.train.callbacks import Callback
from trainwell.train.fit import fit
from trainwell.train.run import load_run
from trainwell.train.rundir import atomic_write_json

DISTILL_FILE = "distill.json"
DISTILL_OPTIONS = {
    "temperature": Option(float, 4.0, "T: soft targets softmax(z/T) of teacher and student",
                          source="Hinton et al. 2015 (T from 2 to 20; 4 is a common middle)",
                          check=must_be(lambda v: v > 0, "> 0")),
    "alpha": Option(float, 0.9, "α: weight of the soft (teacher) term; 1 - α on the labels",
                    source="Hinton et al. 2015 (most weight on the soft targets)",
                    check=must_be(lambda v: 0 <= v <= 1, "a number in [0, 1]")),
}


class DistillLoss:
    """The loss above while ``teacher_logits`` is set (``TeacherTargets`` sets it for each
    training step), plain cross-entropy otherwise."""

    __name__ = "cross_entropy"       # what a run's config records: the student's evaluation loss

    def __init__(self, *, temperature: float, alpha: float):
        self.temperature, self.alpha = temperature, alpha
        self.teacher_logits: torch.Tensor | None = None

    def __call__(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        hard = F.cross_entropy(out, y)
        t = self.teacher_logits
        if t is None or t.shape != out.shape:
            return hard
        T = self.temperature
        soft = F.kl_div(F.log_softmax(out / T, dim=1), F.log_softmax(t / T, dim=1), reduction="batchmean",
                        log_target=True)
        return (1.0 - self.alpha) * hard + self.alpha * T * T * soft


class TeacherTargets(Callback):
    """Puts the teacher's logits for the step's (augmented) batch into the loss, and takes them
    out after the step."""

    def __init__(self, teacher, loss: DistillLoss):
        self.teacher, self.loss = teacher, loss

    @torch.no_grad()
    def on_before_step(self, state):
        xb = state.batch[0]
        self.loss.teacher_logits = self.teacher.predict(xb, output="raw").to(xb.device).float()

    def on_after_step(self, state):
        self.loss.teacher_logits = None


def distill(student=None, teacher=None, train="digits", val=None, *, test=None, temperature: float = 4.0,
            alpha: float = 0.9, **options):
    """Train ``student`` (a model, model table or None) on ``train`` with ``teacher``'s soft targets
    (a Run, an ensemble, or a run directory); returns the student's Run. ``options``: fit's."""
    if teacher is None:
        raise ConfigError("distill needs a teacher: a run, an ensemble or a run directory")
    teacher_dir = None
    if isinstance(teacher, (str, Path)):
        teacher_dir, teacher = str(teacher), load_run(teacher)
    checked = check_options("distill", {"temperature": temperature, "alpha": alpha}, DISTILL_OPTIONS,
                            label="distill.{name}")
    if options.get("preprocess"):
        raise ConfigError("distill: the student takes raw inputs (the teacher applies its own "
                          "preprocessing to the same batch); remove the student's preprocess")
    if options.get("loss", "cross_entropy") != "cross_entropy":
        raise ConfigError(f"distill: loss = {options['loss']!r}: distillation trains with cross-entropy "
                          f"on class ids")
    loss = DistillLoss(**checked)
    options = {**options, "loss": loss,
               "callbacks": [*options.get("callbacks", []), TeacherTargets(teacher, loss)]}
    run = fit(student, train, val, test=test, **options)
    if run.run_dir is not None:
        atomic_write_json({"teacher": teacher_dir, **checked}, Path(run.run_dir) / DISTILL_FILE)
    return run
