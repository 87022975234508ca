"""The registry of finding codes: one ``FindingSpec`` per code, the one place a finding is described.

A record holds everything about its code: when it is measured (``phase``), its default
``severity``, what is ``measures``-ured, the ``threshold`` in words with its ``source``, the
``fix``, its named ``thresholds`` (the constants, "module.NAME" under trainwell/babysit/), the
fixes a symptom is ``graded_by`` (interventions.grade: a warning only when its fix helps), the
groups it belongs to and what it ``explains`` (the ranking's ``CAUSES`` and ``TRAINING_SYMPTOMS``
are derived from these), when its in-training rule runs (``runs``), what happens when it is
found (``stops_run``, ``stops_unrepaired``, ``unhealthy``, ``settle_epochs``) and its repair
planner (``plan``). ``Finding``/``make``/``Diagnosis`` (findings.py), the ``Monitor``, the
``Repairer``, docs/babysitter.md and the tests read it. An in-training code's rule is the function
of the same name in rules.py (``rules.RULES`` is built from the records): the rules build their
findings with ``make``, which reads this registry, so the registry cannot import them.

The registry lists the codes root causes first; that order is ``PRIORITY``, the ranking's
tie-break (``Diagnosis.ranked``): data and wiring, inputs, init, the setup checks, divergence,
slow learning, generalization, and the skipped-check note last.

Adding a finding with its repair:

1. one ``FindingSpec`` here, at its place in the priority order;
2. its check: for an in-training code the rule ``rules.<code>(samples, history, ctx) ->
   list[Finding]`` (a function named after the code; ``runs`` says when the monitor calls it), for
   a pre-flight code a check in preflight.py that ``make``-s it; its thresholds as named
   constants beside the code that uses them, each with its source, listed in ``thresholds``;
3. if it is repairable, its planner in plans.py (``plan=``), choosing one of ``actions.ACTIONS``
   (a new kind of change is one more ``Action`` there);
4. its entry under "Codes" in docs/babysitter.md (tests/babysit/test_finding_registry.py checks it);
5. its tests: the rule fires on a broken series and stays silent on a healthy one
   (tests/babysit/test_rules.py), the planner's plan (tests/babysit/test_repair.py).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable

from trainwell.babysit.plans import (not_repairable, plan_augmentation_hurts, plan_bad_initial_loss, plan_diverged,
                                     plan_exploding_gradients, plan_init, plan_lr_too_low, plan_model_raises,
                                     plan_oscillating, plan_output_mismatch, plan_overfitting, plan_parameters_reset,
                                     plan_plateau, plan_regularizer, plan_schedule_decays_early,
                                     plan_schedule_starts_late, plan_too_few_updates, plan_underfitting,
                                     plan_uninformative_inputs, plan_unnormalized, plan_unshuffled,
                                     plan_update_ratio_high, plan_update_ratio_low, plan_vanishing)

SEVERITIES = ("error", "warning", "info")
PHASES = ("preflight", "training", "end")    # before training, during it, on the trained model


class Runs(enum.Enum):
    """When the monitor runs an in-training code's rule. Every rule also runs at each epoch end
    (``SAMPLES_ONLY``: only when new samples arrived) and once more at the end of the run."""

    PER_SAMPLE = "per_sample"       # also on a sampled step whose loss is non-finite or above the
                                    # initial loss: a diverging run is stopped or repaired at that step
    SAMPLES_ONLY = "samples_only"   # reads only the samples: with none new since the last epoch end
                                    # its answer cannot change, so the epoch end skips it
    PER_EPOCH = "per_epoch"         # at every epoch end, on the samples and the epoch history


class Group(enum.Enum):
    """Sets of codes that ``explains`` names at once, and that the repairer asks about."""

    DATA = "data"                          # the data or its wiring to the loss
    INIT = "init"                          # the untrained model's units (symmetry, activation statistics)
    UNIT_STATISTICS = "unit_statistics"    # INIT's statistics, measured again during training where
                                           # they are symptoms of large updates (notes 004: a large lr
                                           # knocks ReLUs off the data manifold)
    REINIT = "reinit"                      # repaired by re-initializing: a second such repair swaps
                                           # saturating activations instead
    DIVERGED = "diverged"                  # updates too large; repaired before, they say the lr was too high
    SLOW = "slow"                          # learning too slowly
    OPTIMIZATION = "optimization"          # every in-training symptom of the optimization
    EPOCH_CURVES = "epoch_curves"          # judged on the epoch curves of a whole run
    CODE = "code"                          # the user's model code raises or mixes the rows of a batch: a
                                           # training run of it tells nothing more (the doctor's experiments
                                           # and probe are skipped)


@dataclass(frozen=True)
class FindingSpec:
    """One finding code. ``stops_run``: the Monitor stops the run when it finds it (watch and
    repair mode). ``stops_unrepaired``: the Repairer stops the run when this error is found and it
    cannot repair it (its planner says why not, or the repairs are used up). ``unhealthy``: an
    epoch in which it was found is no state to roll back to. ``settle_epochs``: after its repair,
    the code is not acted on again for that many epochs (its rule's window on the repaired run).
    ``plan``: ``planner(finding, ctx) -> Plan | str`` (plans.py); None: the repairer leaves the
    code to the user without a word (a code bug or a modelling decision)."""

    code: str
    phase: str
    severity: str
    measures: str
    threshold: str
    source: str
    fix: str
    groups: tuple = ()
    explains: tuple = ()                # codes and Groups (their symptoms) this finding explains when found with it
    explains_in_training: tuple = ()    # ... when that one was measured during training
    runs: Runs | None = None            # in-training codes: when rules.<code> runs
    thresholds: tuple = ()              # "module.NAME" of the named constants it is judged by
    graded_by: tuple = ()               # symptoms: the interventions' arms (SYMPTOM_ARMS, lr arms) whose help
                                        # decides warning (it hurts) or info (it does not; doctor, repair)
    stops_run: bool = False
    stops_unrepaired: bool = False
    unhealthy: bool = False
    settle_epochs: int = 0
    plan: Callable | None = None


CODES = {spec.code: spec for spec in (
    # --- issue 11: the user's own model code (model_checks.py, docs/babysitter.md)
    FindingSpec(
        "model_raises", "preflight", "error",
        measures="one training-mode forward, loss and backward of a copy of the model on a few rows: the "
                 "exception the user's forward or backward raises, its type and message, and the line of the "
                 "user's code (the forward frame; for a backward error the forward call of the failing node, "
                 "from a re-run under torch.autograd.detect_anomaly); in `doctor` and the repairer's pre-flight also "
                 "on the size of each epoch's last, incomplete batch (`rows % batch_size` rows when `drop_last` is "
                 "off, the loss included: a forward written for full batches, `squeeze()` on a one-row batch, "
                 "batch norm in training mode on one row, fails there only), and then on a full batch",
        threshold="any exception other than trainwell's own errors (a loss that fails on the output is "
                  "`loss_output_mismatch`'s), and in `doctor` the ConfigError fit's first step raises on an "
                  "embedding's sparse gradients; a new code because no other names a model that cannot run",
        source="PyTorch autograd mechanics ('in-place operations ... a tensor saved for backward'); "
               "torch.autograd.detect_anomaly records the forward traceback of the failing node",
        fix="fix the line the finding names: an in-place op on a tensor the backward needs (`h += ...`, "
            "`.mul_()`, `inplace=True` after an op that saves its output) written out of place, a shape or "
            "dtype that does not fit the layer",
        groups=(Group.CODE,),
        explains=tuple(Group),      # nothing else can be measured on a model that does not run
        stops_unrepaired=True,
        plan=plan_model_raises,
    ),
    FindingSpec(
        "batch_dependence", "preflight", "error",
        measures="in eval mode (batch norm on its running statistics, dropout off), the model's outputs on 16 "
                 "rows against its outputs on the same rows permuted (un-permuted again) and on the first "
                 "half alone; the input rows that the gradient of the output row that moved most reaches (evidence)",
        threshold="an output row that changes by more than 1e-3 of the outputs' RMS; not judged when two "
                  "eval-mode runs on the same batch differ (a stochastic forward)"
                  "; info where the outputs are unchanged by a permutation and the mean row change (scores centered per row, in units of the rows' spread: the outputs less their mean row) between 128 rows inside 256 and alone is at most 0.5x that between 16 inside 32 and alone, each averaged over 16 draws of its rows (a batch statistic that fades as the batch grows: batch norm without running statistics, a normalization over dim=0)",
        source="Karpathy, 'A Recipe for Training Neural Networks' (2019): 'use backprop to chart "
               "dependencies' (output row i must not depend on input row j != i)",
        fix="check that the batch axis stays first: batch_first=True on GRU / LSTM / MultiheadAttention fed "
            "(N, T, F), view / reshape / transpose that keep it, and reductions (mean, softmax, norm) over a "
            "feature axis, not dim=0",
        groups=(Group.CODE,),
        explains=(Group.INIT, "bad_initial_loss", "low_rank_logits", "cannot_overfit_small_subset",
                  "frozen_parameters", "gradient_mismatch", Group.OPTIMIZATION, Group.EPOCH_CURVES),
        thresholds=("model_checks.BATCH_TOLERANCE", "model_checks.DEPENDENCE_ROWS", "model_checks.STATISTIC_ROWS",
                    "model_checks.DECAY", "model_checks.STATISTIC_DRAWS"),
        plan=not_repairable,
    ),
    FindingSpec(
        "nonfinite_data", "preflight", "error",
        measures="count of NaN/inf values in the inputs and targets (of a validation or test split: the "
                 "first one, by row and column, as fit's error names it)",
        threshold="any",
        source="a NaN input makes every loss NaN (notes 004: 'cost: NaN')",
        fix="drop or impute the rows with NaN/inf",
        groups=(Group.DATA,),
        explains=("unnormalized_inputs", Group.INIT, "bad_initial_loss", "cannot_overfit_small_subset",
                  Group.OPTIMIZATION),
        stops_unrepaired=True,
        plan=not_repairable,
    ),
    FindingSpec(
        "label_problem", "preflight", "error",
        measures="targets against the loss and the output: integer dtype for class-id losses, ids in [0, C), "
                 "more than one class, BCE targets in [0, 1], KL targets rows of probabilities"
                 "; the loss's gradient with respect to the outputs on a batch holding rows of every class (ignored_classes.py): a class whose rows all have an exactly zero gradient, at the model's outputs and at those outputs' columns rotated by one (an ignore_index or a mask on a real class)"
                 "; two class ids the inputs cannot tell apart (class_pairs.py, doctor only, a warning): per pair of classes of a table's, signals' or images' labelled rows (every split), the AUC of out-of-fold probes' mean log-odds (logistic regression, 15 nearest neighbours) between the pair's rows and of a logistic regression fitted on the pair's rows alone, how each third class's log-probability ranks the pair's rows, and how well the probes tell the pair from the other classes (columns of at most 32 whole numbers also read as one-hot codes, and signals and images as their spectrum's magnitudes, by a pair probe)"
                 "; a training split's images or signals whose flips along a spatial axis are other training rows (mirror_copies.py, doctor only, a warning): the share of those mirrored rows that carry another class than their mirror, and how much of it a class map explains"
                 "; training rows repeated to the last bit of their measured columns (input_content.check_repeated_rows, a warning): the best training accuracy any model reaches when identical inputs get identical outputs"
                 "; a class that holds rows of every other class (absorbing_class.py, doctor only, a warning): with the same probes, per class c and other class k, the share of c's rows in k's core (the quarter of k's rows most like k against c) and in no other class's core, against the share of k's rows in c's core"
                 "; a regression's float targets (target_relation.check_targets_learnable, a warning): a copy at the default init fits 128 training rows' standardized targets by MSE (Adam lr 1e-3, up to 300 steps) and predicts up to 384 unseen rows every 10 steps, against the fitted rows' mean, row by row",
        threshold="any violation; ids that fit the data's own C classes but not a narrower output layer are "
                  "the model's fault (`loss_output_mismatch`), except 1..C labels for C outputs (off by one)"
                  "; a class id in 0..C-1 of C outputs whose every checked row (2 to 16) has an exactly zero gradient (an ignored id outside 0..C-1 is a void label: quiet)"
                  "; a pair of classes (>= 30 labelled rows each, >= 3 classes) whose AUCs' upper bounds (at ALPHA over the pairs) are below 0.6, no third class ranks its rows apart (two-sided at 0.01 over the third classes) and the pair is told from the other classes at AUC >= 0.8 (a warning: one class split in two ids)"
                  "; rows with a mirror among the training rows along an axis where at least 0.5 of the rows have one, more than 0.1 of them labelled unlike their mirror, each class's mirrors in one partner class in less than 0.9 of its rows (a warning: augmented copies labelled with other rows' labels)"
                  "; a table with a measured column (a value of its own in >= 0.9 of the distinct rows) whose repeated rows cap the training accuracy more than 0.05 below 1 (a warning: a join on a key that is not unique)"
                  "; a class (>= 3 classes of >= 30 rows) whose rows in every other class's core exceed that class's rows in its own core (one-sided z-test at ALPHA over the ordered pairs), the copied shares summing to >= 0.05 of its rows (a warning: rows without a label given one class's id)"
                  "; a regression's fitted rows learned (MSE at most 0.5 of its start) while the best unseen mean gain along the run stays within 3 standard errors of 0",
        source="notes 003 design choices: the output units and the loss must match the targets"
               "; the classifier two-sample test (Lopez-Paz & Oquab 2017) read as an equivalence test (Schuirmann 1987), the Mann-Whitney AUC's null variance (n_a + n_b + 1) / (12 n_a n_b)"
               "; mixture proportion estimation at the most class-like rows (Blanchard, Lee & Scott 2010; Scott 2015)",
        fix="convert the targets (e.g. y.long()), remap ids to 0..C-1, or size the output layer to C"
            "; drop an ignore rule (ignore_index, a mask) that names a real class"
            "; map label names to one spelling before numbering them (a class split in two ids)"
            "; label each augmented copy with the label of the row it copies (y[idx] as X[idx])"
            "; join labels on a key that is unique per row (merge(..., validate=\"one_to_one\"))"
            "; drop rows that carry no label instead of giving them a class's id (argmax of an all-zero one-hot row, fillna(0))",
        groups=(Group.DATA,),
        explains=("loss_output_mismatch", "bad_initial_loss", "cannot_overfit_small_subset",
                  Group.OPTIMIZATION),
        thresholds=("data_checks.PROBABILITY_TOLERANCE", "ignored_classes.ROWS_PER_CLASS", "ignored_classes.MIN_ROWS",
                    "class_pairs.SAME_AUC", "class_pairs.APART_AUC", "class_pairs.MIN_CLASS_ROWS",
                    "class_pairs.NEIGHBOURS", "class_pairs.FOLDS", "class_pairs.REAL_ALPHA", "class_pairs.MAX_CODES",
                    "class_pairs.ROUNDING",
                    "first_layer.ALPHA", "mirror_copies.MIRRORED", "mirror_copies.DISAGREE", "mirror_copies.CLASS_MAP",
                    "input_content.MEASURED", "input_content.LOST",
                    "absorbing_class.CORE", "absorbing_class.MIN_SHARE",
                    "target_relation.LEARNED", "target_relation.EVERY"),
        stops_unrepaired=True,
        plan=not_repairable,
    ),
    FindingSpec(
        "loss_output_mismatch", "preflight", "error",
        measures="the model's last module and output values against the loss: softmax rows summing to 1 or "
                 "log-probabilities before a loss that takes logits, a sigmoid (a module or torch.sigmoid returned by the forward) before a from-logits loss, a "
                 "user's loss that falls without bound as every output grows (NLL on raw logits), a "
                 "regression loss on class ids, an output width that does not fit the classes, a loss that "
                 "fails on the output; a loss that is NaN or fails on finite outputs but not on their softmax / "
                 "sigmoid / log_softmax (the output layer it needs is missing); the share of a regression's "
                 "target variance outside the range of a bounding last operation (ReLU, sigmoid, tanh, "
                 "softplus: a module or a functional call); a loss that mixes the rows of a batch "
                 "(model_checks.check_loss_rows: the batch loss and its gradient against the rows' own losses)"
                 "; a loss that reads a bounding last operation's outputs otherwise than the head makes them (output_range.check_loss_optimum: outputs fit directly by Rprop inside the range, freely and as one constant; PoissonNLLLoss's default log_input=True on a softplus rate)"
                 "; a user's own loss against the task's standard loss on the run's metric (loss_arm.py: cross-entropy scored by accuracy for class ids, MSE scored by 1 - R^2 for a regression; the user's loss, the standard loss and a repeat trained the experiments' steps from the same weights, then to the run's length)"
                 "; a float-target loss that reads the targets only with its arguments swapped (Keras' y_true, y_pred order; loss_arm.swap) against that swapped reading, by the same tests"
                 "; a float-target loss whose minimum is at the targets but costs an over- and an under-estimate unlike (loss_arm.asymmetric: a quantile's pinball loss) against MSE, and its copy's mean residual on its training rows added to its held outputs",
        threshold="any; a final tanh / hardtanh / softsign / ReLU / softplus before a from-logits loss (the "
                  "logits are capped or clipped) is a warning, a final sigmoid an error; a missing output "
                  "layer when the transformed loss is at most 3x its uniform guess's; a bounding last "
                  "operation when >= 2% of the targets' variance lies outside its range; a loss that is no "
                  "non-negative combination of the rows' own losses beyond 1e-3 (relative): an error when the "
                  "output and target shapes broadcast to (N, N) and the loss on the outputs reshaped to the "
                  "targets' shape mixes nothing, info when only the value mixes (every gradient row on its own "
                  "loss's direction: the optimizer trains on the rows' own losses), else a warning (a loss meant "
                  "to couple rows)"
                  "; a bounding last operation whose range holds the targets when the loss's best outputs inside it lie >= 0.25 x Var(y) from the targets, or the range forbids >= 4% of what fitting the outputs gains over a constant"
                  "; more outputs than classes (outputs no label names) is info: a class-id loss only pushes the unused logits down"
                  "; a loss whose minimizing, in both overfit runs, moves it by >= 10% while the subset's accuracy falls below its start and below 0.5 x the commonest class's share (it rewards the wrong outputs)"
                  "; a loss that falls, in both overfit runs, to <= 1% of its first value (of ln C where it started above that) while the subset's accuracy stays short of half of the way from the commonest class's share to 1 (it scores each output apart)"
                  "; a user's own loss is a warning when the standard loss trains to a significantly better metric (accuracy >= 3 points higher, beyond 2 standard errors and 3x the repeat's spread; 1 - R^2 at most 1 / 1.25 of the user loss's, 2 points lower and beyond 3x the spread) and is still ahead at the run's length"
                  "; an asymmetric loss (nudges' rises differ by > 10% of the larger, the larger >= 1e-3 of the rise with the outputs shifted one row) by the same tests (the repeat's spread read at the run's length only) and its mean residual lowering the held 1 - R^2 by >= 2 points",
        source="notes 003 design choices: output activation and loss go together",
        fix="return raw logits from the model and let the loss apply softmax/sigmoid; use cross_entropy for "
            "class ids; end the model with the softmax / sigmoid a loss on probabilities needs; return a "
            "regression's linear output (no bounding activation last)"
            "; set the loss option that reads the outputs as the head makes them (PoissonNLLLoss(log_input=False) for a rate)"
            "; negate a loss meant to be maximized (a log-likelihood: fit minimizes the loss)",
        groups=(Group.DATA,),
        explains=("bad_initial_loss", "cannot_overfit_small_subset", Group.OPTIMIZATION),
        thresholds=("loss_checks.ROW_SUM_TOLERANCE", "loss_checks.LOSS_SHIFT", "loss_checks.UNBOUNDED_DROP",
                    "output_range.CHANCE_RATIO", "output_range.RANGE_LOSS", "model_checks.LOSS_TOLERANCE",
                    "output_range.MISREAD", "output_range.OPTIMUM_GAP", "overfit.WRONG_WAY", "overfit.LOSS_SPENT",
                    "loss_arm.MIN_ROWS",
                    "loss_arm.SYMMETRY", "loss_arm.RISE_FLOOR", "loss_arm.OFFSET_POINTS"),
        graded_by=("remove output activation",),   # softmax rows only, a module's or forward's (evidence "graded")
        stops_unrepaired=True,
        plan=plan_output_mismatch,
    ),
    FindingSpec(
        "gradient_mismatch", "preflight", "error",
        measures="relative error |g_a - g_n| / max(|g_a|, |g_n|) between autograd's gradient and centered "
                 "finite differences (f(w+h) - f(w-h)) / 2h on a float64 copy, per parameter tensor over a "
                 "few random coordinates",
        threshold="relative error > 1e-2 ('probably wrong'); 1e-4..1e-2 is reported as info; info too where "
                  "the model's own gradients agree under a linear read-out of its output while the user's loss "
                  "still passes a gradient (gradcheck.in_the_loss): the loss stops part of its gradient",
        source="notes 000/004 'check gradients numerically by finite differences'; thresholds from CS231n "
               "'Gradient checks' (Karpathy)",
        fix="look for .detach(), .data, in-place edits, argmax/round in forward, or a custom autograd "
            "Function whose backward is wrong",
        explains=("cannot_overfit_small_subset", Group.OPTIMIZATION),
        thresholds=("gradcheck.ERROR_THRESHOLD", "gradcheck.WARN_THRESHOLD"),
    ),
    FindingSpec(
        "unnormalized_inputs", "preflight", "warning",
        measures="per-feature mean and standard deviation of the inputs (medians over features) and the "
                 "spread of the features' scales"
                 "; (an error) missing-value codes left in a column (value_codes.find_codes): one value repeated in a share of the rows, far beyond the rest of its column"
                 "; with the targets, a heavy tail (heavy_tails.py): per column of a table, the spread of its middle rows over its standard deviation, and a chi-square test of those rows' rank bins against the targets",
        threshold="median |mean| > 1, median std > 10 or < 1e-2, or max std / min std > 100"
                  "; or a table (2-D) standardized over the wrong axis (as one array or per row): the whole array's mean within 0.05 of 0 and its std within 0.05 of 1 while the columns' ranges (max - min, 90th / 10th percentile) differ by 10x or more"
                  "; a code: one value in 1% to 50% of the rows lying beyond the column's other rows (0.1st-99.9th percentile, >= 20 distinct values) by at least half their width"
                  "; a heavy tail: the 10th-90th percentile band (>= 20 distinct values) spanning under a tenth of a normal column's 2.56 standard deviations, its rows related to the targets at p < 1e-3 / the squashed columns; graded by the columns quantile-mapped"
                  "; info when the model raises on the standardized inputs (it reads them as ids or codes: the fix "
                  "does not apply)",
        source="notes 000/002 preprocessing: zero-center, normalize; LeCun et al. 1998 'Efficient BackProp' "
               "§4.3",
        fix="standardize the inputs: x = (x - mean) / std with statistics from the training split",
        # the labels' and targets' checks read the raw inputs through a copy of the model: inputs far off
        # scale make it memorize rows without carrying over, which reads as a label_problem
        explains=(Group.INIT, "bad_initial_loss", "cannot_overfit_small_subset", "label_problem", Group.OPTIMIZATION),
        thresholds=("data_checks.MEAN_OFF", "data_checks.STD_HIGH", "data_checks.STD_LOW",
                    "data_checks.SCALE_SPREAD", "data_checks.WHOLE_SCALE", "data_checks.WHOLE_TOLERANCE",
                    "value_codes.ROWS", "value_codes.MIN_ROWS", "value_codes.MIN_SHARE", "value_codes.MAX_SHARE",
                    "value_codes.MIN_DISTINCT", "value_codes.TAIL", "value_codes.CENTRAL", "value_codes.FAR",
                    "heavy_tails.BULK", "heavy_tails.SQUASHED"),
        graded_by=('standardize inputs', 'quantile inputs'),
        plan=plan_unnormalized,
    ),
    # --- issue 11: inputs that carry nothing (babysit/input_content.py, docs/babysitter.md)
    FindingSpec(
        "uninformative_inputs", "preflight", "error",
        measures="the share of input features that take one value in >= 99% of the training rows, and the best "
                 "training fit any model can reach when identical input rows get identical outputs (class ids: "
                 "the rows carrying their group's majority label; regression: the variance between the groups); "
                 "and (a warning) rows scaled on their own: every row's mean and std, and the group of columns "
                 "squashed onto one value (each pair differs by < 1% of its spread)"
                 "; (a warning) integers wrapped at their type's limit (value_codes.find_wraps): the values' grid, the share at each end of the range, a pile on the end value, their spread on the circle of the type's modulus against the line; (a warning) a column's values all exactly in a short float format (value_codes.find_rounded): that format's rounding noise, step^2 / 12 at each value's magnitude, against the column's variance"
                 "; (a warning) a label_problem at chance on unseen rows whose labels relate to some input column (label_relation.reread: per column, a chi-square test of independence from the class ids)"
                 "; (a warning) rows filled in wholesale (filled_rows.check_filled_rows): a block of varying columns "
                 "whose commonest values fill the same rows, and the linear and nearest-neighbour probes' held-out "
                 "loss on those rows against the others', each in units of its rows' trivial guess"
                 "; (a warning) a column whose targets oscillate with it (periodic_columns.check_periodic: a time stamp "
                 "fed as one number): the periodogram of the targets against the column's values"
                 "; (a warning) rows each scaled by a factor of their own (row_scale.check_row_scale): each row's "
                 "robust scale (the median of its entries' deviations in their columns' median absolute "
                 "deviations), and the probes' held-out scores on the rows each divided by it against as given"
                 "; (a warning) a join that missed most rows (unmatched_join.check_unmatched_join): a filled "
                 "block's share of the rows, and the probes' out-of-fold scores on the rows it did not fill with "
                 "the block's columns and with them set to their fill values"
                 "; (a warning) ids computed from the inputs that are one value on every row, or a few where the "
                 "columns they are read from carry many more values "
                 "(constant_ids.check_constant_ids): each embedding call's ids over the rows read, the same "
                 "forward with the inputs scaled by 100 and -100, the distinct values of the columns the ids are "
                 "read from, and the probes' scores with those columns and with them set to their means (one id) or "
                 "with the columns' codes one-hot and with the ids one-hot in their place (a few ids)"
                 "; (a warning) an id that stands between other ids in the rows and whose embedding row never trains "
                 "(unread_ids.check_unread_ids: a vocabulary numbered from 0 under a padding mask or padding_idx 0): "
                 "each id's rows where it is content, its row's gradient of the untrained model's output at the "
                 "initial and nudged weights, the output with the row redrawn, and the probes' scores on the rows' id "
                 "counts with and without its count"
                 "; (a warning) a model blind to a difference the targets show (blind_model.check_blind_model): the "
                 "untrained model's output with two input slices along dim 1 swapped, one's sign flipped or dim 1 reversed, and the "
                 "probes' out-of-fold scores on the rows as given and on their canonical form under it (a maximal invariant), "
                 "the slices the model feeds to an embedding (constant_ids.id_slices) read one-hot, on the second side "
                 "averaged over the transformation's orbit (a group's: the ids' counts)"
                 "; (a warning) slices of the input copied from one another (duplicate_inputs.check_duplicate_inputs): "
                 "an image's channels and a window's slices along each axis that vary from row to row, compared "
                 "bit for bit and by the correlation of the two whole arrays"
                 "; (a warning) a value in most rows of a column far beyond its other readings that stands for "
                 "readings past a cut (value_codes.find_codes' majority, value_codes.far_side): the value's share "
                 "and gap, and a fit of the column on the other columns on half its other rows, the coded rows' "
                 "predictions against the held-out rows' toward the far end"
                 "; (a warning) readings cut off at two bounds (censored_values.check_censored): the shares at a "
                 "column's smallest and largest value, the distinct readings between, and the readings' density next "
                 "to each bound against a flat one; (a warning) a phase given by its sine or cosine alone (periodic_columns.lone_phase): a column's levels scaled by their ends against the sines of equally spaced angles, a partner column squaring to 1 with it, and the targets' relation to its levels (chi-square; ANOVA F); (a warning) readings binned into equal-count levels (input_content.check_binned_columns): the columns of 2-3 levels and the chance of their counts being as equal (the multinomial's local peak, Fisher's method over the columns)",
        threshold="at least half the features near-constant and a fit ceiling that closes less than half of the "
                  "gap from the trivial guess (the commonest class; R^2 0) to a perfect fit; or (a warning) 99% "
                  "of the rows with the same mean and std to 0.1% and at least half the varying columns in one "
                  "squashed group"
                  "; wrapped: values on a grid spanning exactly 2^8 or 2^16 steps, each end's 64th of the range holding >= 2% of them without a pile on the end value, and a spread on the circle <= half the line's"
                  "; reread: some column with p < 1e-3 / the columns tested"
                  "; filled rows: at least 2 columns of >= 20 distinct values each filled with one value on the same "
                  "5-95% of the rows (overlap >= 99%), and a probe's loss on them over their trivial guess's at least "
                  "1.25x the others' (one-sided Mann-Whitney p < 1e-3 / 2)"
                  "; periodic: a column of distinct values (>= 90% of the rows) whose strongest periodogram frequency "
                  "against the targets lies at >= 10 cycles over its range with a false-alarm probability (Baluev "
                  "2008) < 1e-3 / (columns x target signals), the cycle standing on each half of the range alone "
                  "(e^-z < 1e-3), no gap over 10% of the range"
                  "; row scale: the rows' robust scales (>= 8 varying columns) 100x apart between their 1% and "
                  "99% quantiles, and a probe better on the rows divided by them by 3 points of accuracy or 25% "
                  "of squared error (paired p < 1e-3 / the probes)"
                  "; unmatched join: a filled block on >= 50% of the rows that no probe predicts the other rows "
                  "better from (paired p >= 0.05 / 2 for each)"
                  "; constant ids: an embedding of >= 2 rows given one id on every row read (>= 200 rows) whose "
                  "ids move when the inputs are scaled, and a probe better with the columns they are read from "
                  "(paired p < 1e-3 / the probes; else info)"
                  "; blind model: an output within 1e-5 of its RMS, at the initial weights and at weights moved 10% of their RMS, under the swap (changing >= 50% of 256 rows) or the "
                  "sign flip (both signs on >= 10% of them) or the reversal (>= 3 read) of slices it reads, and a probe on the canonical form worse "
                  "by 3 points of accuracy or 25% of squared error (paired p < 1e-3 / (2 x the transformations tested)); "
                  "id slices of more distinct values than the rows read / 4 not tested (info)"
                  "; copied slices: two channels (or slices of a window) equal in every row read (>= 50 rows), bit for "
                  "bit or with 1 - |correlation| <= 1e-6, not all three channels of an RGB image (info) nor a table's "
                  "columns (info), and along a window's axes not several groups holding over half the varying slices"
                  "; a code in most rows: one value in > 50% of a column's rows beyond its other rows (>= 100 "
                  "rows, >= 20 distinct values) by at least half their width, whose rows a least-squares fit of the "
                  "column on the other columns places past the far end of the other rows (AUC >= 0.75, one-sided "
                  "Mann-Whitney p < 1e-3, median prediction past theirs by >= 0.5 of the fit's residual std); lone phase: 5-64 levels whose arcsin lies within 1e-3 rad of the grid from -90 to 90 degrees, no partner column, the targets' relation p < 1e-3 / the columns read; binned: at least half the varying columns of 2-3 levels, their counts' combined chance < 1e-3",
        source="notes 002 preprocessing (the inputs must carry the signal the model learns); the bound is the "
               "Bayes-optimal training fit of a function of the inputs",
        fix="keep the inputs' variation: scale to floats without casting to integers, read the right columns",
        groups=(Group.DATA,),
        explains=("unnormalized_inputs", "label_problem", Group.INIT, "bad_initial_loss",
                  "cannot_overfit_small_subset", Group.OPTIMIZATION, Group.EPOCH_CURVES),
        thresholds=("input_content.CONSTANT_ROWS", "input_content.CONSTANT_FEATURES",
                    "input_content.INFORMATIVE_SHARE", "input_content.ROW_TOLERANCE", "input_content.SAME_ROWS",
                    "input_content.SQUASHED", "input_content.IDENTICAL", "input_content.SQUASHED_COLUMNS",
                    "input_content.PAIR_ROWS", "input_content.MAX_COLUMNS",
                    "value_codes.GRID_TOLERANCE", "value_codes.EDGE", "value_codes.EDGE_SHARE", "value_codes.SPIKE",
                    "value_codes.PILE", "value_codes.WRAP_SPREAD", "value_codes.MAX_VALUES",
                    "value_codes.ROUNDED_NOISE",
                    "label_relation.ROWS", "label_relation.BINS", "label_relation.MIN_EXPECTED",
                    "label_relation.ALPHA", "label_relation.MAX_COLUMNS", "label_relation.CODE_VALUES",
                    "label_relation.PROBE_ROWS",
                    "first_layer.ROWS", "first_layer.HELD_OUT", "first_layer.MIN_ROWS", "first_layer.GRAD_ROWS",
                    "first_layer.LOST_MIN", "first_layer.MIN_DROP", "first_layer.LOSS_RATIO", "first_layer.ALPHA",
                    "first_layer.MAX_FEATURES", "first_layer.NEIGHBOURS", "first_layer.FILTERS",
                    "preprocess_check.AFFINE",
                    "filled_rows.ROWS", "filled_rows.MIN_FILLED", "filled_rows.MAX_FILLED", "filled_rows.MIN_DISTINCT",
                    "filled_rows.SAME_ROWS", "filled_rows.MIN_COLUMNS", "filled_rows.MIN_HELD",
                    "periodic_columns.ROWS", "periodic_columns.DISTINCT", "periodic_columns.CYCLES",
                    "periodic_columns.OVERSAMPLE", "periodic_columns.CELLS", "periodic_columns.MAX_GAP", "periodic_columns.MAX_CLASSES",
                    "periodic_columns.MIN_ROWS", "periodic_columns.MAX_COLUMNS",
                    "row_scale.MIN_FEATURES", "row_scale.TAIL", "row_scale.SPREAD", "row_scale.DEVIATION_FLOOR",
                    "row_scale.ENTRIES",
                    "unmatched_join.MAJORITY", "unmatched_join.FOLDS", "unmatched_join.GAIN_ALPHA",
                    "constant_ids.MAX_COLUMNS", "constant_ids.TABLE_SHARE", "constant_ids.SPREAD", "constant_ids.REPEATS",
                    "unread_ids.MIN_STEPS", "unread_ids.MIN_CONTENT", "unread_ids.MAX_TESTED", "unread_ids.SILENT",
                    "unread_ids.MAX_BAG",
                    "censored_values.END_SHARE", "censored_values.CENSORED_SHARE", "censored_values.NEAR",
                    "censored_values.TAPER", "censored_values.READING_SLICE",
                    "blind_model.ROWS", "blind_model.SCREEN_ROWS", "blind_model.SILENT", "blind_model.MAX_SLOTS",
                    "blind_model.MIN_CHANGED", "blind_model.MIN_SIGNED", "blind_model.MIN_REVERSED", "blind_model.MAX_TESTED", "blind_model.SORT_KEYS",
                    "duplicate_inputs.ROWS", "duplicate_inputs.MIN_ROWS", "duplicate_inputs.MAX_SLICES", "duplicate_inputs.MAX_VALUES",
                    "duplicate_inputs.AFFINE", "duplicate_inputs.AFFINE_SLICES", "duplicate_inputs.SHARE",
                    "duplicate_inputs.RGB",
                    "value_codes.FAR_SIDE_AUC", "value_codes.FAR_SIDE_SHIFT", "value_codes.ROWS_PER_PREDICTOR",
                    "value_codes.MAX_TESTED",
                    "periodic_columns.MIN_PHASE_VALUES", "periodic_columns.MAX_PHASE_VALUES",
                    "periodic_columns.SAME_VALUE", "periodic_columns.PHASE_TOLERANCE",
                    "input_content.BIN_ROWS", "input_content.MAX_BINS", "input_content.BINNED_COLUMNS"),
        stops_unrepaired=True,
        plan=plan_uninformative_inputs,
    ),
    # --- issue 11: a layer's units pooled together before the next layer (babysit/pooled_units.py, docs/babysitter.md)
    FindingSpec(
        "pooled_units", "preflight", "warning",
        measures="per Linear / Conv layer (the first 64), on 8 rows in eval mode: the model's output with the "
                 "layer's units permuted among themselves (its output's unit axis: a Linear's last, a "
                 "convolution's second), with its output zeroed, and the permuted output against the layer's own",
        threshold="the permuted units leave the model's output unchanged (within 1e-5 of its scale) while zeroing "
                  "them changes it and the permutation changes the layer's output",
        source="first principles: a function of C units that is invariant to permuting them depends on them "
               "only through a symmetric function (a sum or mean over the unit axis), so the next layers "
               "cannot tell them apart; the same gradient reaches each (notes 000: 'no source of asymmetry')",
        fix="pool over the other axes of the layer's output (x.mean((2, 3)) for a convolution's (N, C, H, W), "
            "the sequence axis for a Linear's (N, L, D)), keeping the unit axis for the next layer",
        explains=("cannot_overfit_small_subset", "underfitting", "plateau", "low_rank_logits", Group.SLOW),
        thresholds=("pooled_units.ROWS", "pooled_units.SAME", "pooled_units.MAX_LAYERS"),
        graded_by=("pool over the other axes",),     # where the unit axis is as long as the pooled-over axes
        plan=not_repairable,
    ),
    # --- the first convolution reading the data's axes in the other roles (babysit/layout_check.py)
    FindingSpec(
        "input_layout", "preflight", "warning",
        measures="the model's forward on 4 training rows in eval mode, the input shape of the first Conv1d / "
                 "Conv2d / Conv3d it calls, (N, C, *spatial), against the layer's kernel reach per spatial axis "
                 "(dilation x (kernel - 1) + 1), its padding and its in_channels",
        threshold="a spatial axis no longer than the kernel's reach, which the layer pads (at most one window "
                  "inside the input, the rest on zeros), while in_channels is larger than that reach (the channel "
                  "axis would hold the kernel); a new code because no other names a model that runs on its data's "
                  "axes in the wrong roles",
        source="first principles of convolution (LeCun et al. 1998; Goodfellow et al. 2016, sec. 9.2-9.4: one "
               "kernel slides along the spatial axes, the channels at a position are read together); PyTorch's "
               "Conv1d / Conv2d read (N, C, L) / (N, C, H, W), channels first",
        fix="give the layer its channels first (x.transpose(1, 2) for (N, length, channels) windows, "
            "x.permute(0, 3, 1, 2) for (N, H, W, C) images) and set in_channels to the number of channels",
        explains=("cannot_overfit_small_subset", "underfitting", "plateau", "overfitting", Group.SLOW),
        thresholds=("layout_check.ROWS",),
        plan=not_repairable,
    ),
    # --- issue 11: category ids fed to the first layer as one number (babysit/first_layer.py, docs/babysitter.md)
    FindingSpec(
        "categories_as_numbers", "preflight", "warning",
        measures="per column of a table that reaches the model's entry layers as a number (a gradient in at least "
                 "half the rows) and takes 10 to 256 distinct values: the targets' profile per value (class "
                 "shares or mean), a chi-square (class ids) or ANOVA F test of any relation, and the von Neumann "
                 "ratio of the profiles ordered by value: mean squared successive difference over the mean "
                 "squared difference of all pairs, each less its profiles' sampling noise",
        threshold="p < 1e-3 / the columns tested, a ratio >= 0.7 (neighbouring values' targets differ at "
                  "least 0.7 times as much as any two values'; about 1 in arbitrary order, near 0 for a measured "
                  "quantity, 0.5 for one special value at an end of a smooth range) read on the values but the "
                  "lowest and the highest, and profiles that spread at least 4x their sampling noise; and the "
                  "ratio >= 0.7 again with every companion (another column of few values, all the columns that are "
                  "a function of it), read on the joint groups with a step along the column as the neighbour",
        source="von Neumann 1941 (the mean square successive difference); Geary 1954 (the contiguity ratio on "
               "a neighbour graph); Rahaman et al. 2019 'On the spectral "
               "bias of neural networks' (a function that jumps at every value is learned last); notes 002 "
               "preprocessing",
        fix="one-hot encode the column (pd.get_dummies, sklearn OneHotEncoder) or map its ids to an nn.Embedding",
        explains=("uninformative_inputs", "label_problem", "cannot_overfit_small_subset", "underfitting",
                  "plateau", Group.SLOW),
        thresholds=("first_layer.MIN_VALUES", "first_layer.MAX_VALUES", "first_layer.MIN_VALUE_ROWS",
                    "first_layer.ID_ROWS", "first_layer.ROUGH", "first_layer.MIN_SNR", "first_layer.NUMERIC", "first_layer.ALPHA",
                    "first_layer.GRAD_ROWS", "first_layer.COVERED"),
        plan=not_repairable,
    ),
    FindingSpec(
        "unshuffled_data", "preflight", "warning",
        measures="label changes between consecutive examples against the number expected in random order, "
                 "(n-1)(1 - sum p_k^2); for continuous targets |Spearman correlation| of target vs index",
        threshold="fewer than half the expected changes (or |rho| > 0.9) while shuffle is off",
        source="notes 003 'practical SGD: shuffle the training set, and take a consecutive batch'",
        fix="turn shuffling on (shuffle=True)",
        explains=("oscillating_loss", "lr_too_high", Group.EPOCH_CURVES),
        graded_by=("in the run's order",),
        thresholds=("data_checks.RUN_CHANGES", "data_checks.SORTED_RHO"),
        plan=plan_unshuffled,
    ),
    FindingSpec(
        "symmetric_init", "preflight", "error",
        measures="identical rows (units) in a hidden layer's weight matrix, or an all-zero weight tensor; an "
                 "error when the rows' gradients are identical too (the symmetry can never break)",
        threshold="any exactly duplicated row in a layer that feeds another layer",
        source="notes 000 'W=0 init: every neuron computes the same output ... no source of asymmetry'",
        fix="initialize with small random numbers: Xavier (tanh) or He (ReLU) init",
        groups=(Group.INIT, Group.REINIT),
        explains=("bad_initial_loss", "cannot_overfit_small_subset", "vanishing_gradients", Group.SLOW),
        graded_by=('reinit',),
        plan=plan_init,
    ),
    FindingSpec(
        "saturated_units", "preflight", "warning",
        measures="fraction of tanh outputs with |a| > 0.99, of sigmoid outputs outside [0.01, 0.99]",
        threshold="more than 20% of a layer's values saturated; measured during training (the monitor), a warning only while the loss is not falling (< 5% below the initial) or the symptom grew since the earliest record, else info",
        source="notes 004: W*1.0 init 'almost all neurons completely saturated ... gradients will be all "
               "zero'; 'avoid units in saturation'",
        fix="use Xavier init, standardize the inputs, or switch to ReLU",
        groups=(Group.INIT, Group.UNIT_STATISTICS, Group.REINIT),
        explains=("bad_initial_loss", "cannot_overfit_small_subset", "vanishing_gradients", Group.SLOW,
                  "low_rank_logits"),   # units saturated one way align the class scores
        thresholds=("init_checks.SATURATED_SHARE", "probes.TANH_SATURATION", "probes.SIGMOID_SATURATION",
                    "monitor.WORSENED", "monitor.RECENT_SAMPLES"),
        graded_by=('reinit',),
        plan=plan_init,
    ),
    FindingSpec(
        "vanishing_activations", "preflight", "warning",
        measures="standard deviation of each hidden activation layer's output on a batch, relative to the "
                 "input's standard deviation; and each layer's per-unit signal (the RMS over units of a "
                 "unit's std across the batch), relative to the input's (biases can hold a layer's std up "
                 "while no unit varies with the input)",
        threshold="std < 1e-2 x the input std, or signal < 1e-2 x the input's signal (in a model with "
                  "normalization layers, which reset the scale, 1e-2 x at most 1); measured during training (the monitor), a warning only while the loss is not falling (< 5% below the initial) or the symptom grew since the earliest record, else info",
        source="notes 004 activation-statistics table: W*0.01 init, std 0.21 -> 0.047 -> ... -> 0.000001, "
               "'all activations become zero'",
        fix="use Xavier init (tanh) or He init (ReLU), or add batch normalization",
        groups=(Group.INIT, Group.UNIT_STATISTICS, Group.REINIT),
        explains=("bad_initial_loss", "cannot_overfit_small_subset", "vanishing_gradients", Group.SLOW),
        thresholds=("init_checks.VANISHING_STD", "monitor.SHRUNK", "monitor.RECENT_SAMPLES"),
        graded_by=('reinit',),
        plan=plan_init,
    ),
    FindingSpec(
        "exploding_activations", "preflight", "warning",
        measures="standard deviation of each hidden activation layer's output relative to the input's std "
                 "(and of each hidden weight layer's output, for stacks with no activation module to measure); "
                 "non-finite activations",
        threshold="std > 10 x the input std, or any NaN/inf; measured during training (the monitor), NaN/inf an "
                  "error, a finite std a warning only while the loss is not falling (< 5% below the initial) or "
                  "the layer's std grew above 100 x its own at the earliest record, else info",
        source="notes 004 activation statistics: 'keep the variance the same across every layer' (Xavier/He)",
        fix="scale the initial weights down (Xavier/He) or add batch normalization",
        groups=(Group.INIT, Group.UNIT_STATISTICS, Group.REINIT),
        explains=("bad_initial_loss", "cannot_overfit_small_subset", "vanishing_gradients", Group.SLOW,
                  Group.DIVERGED, "low_rank_logits"),   # units that all grow one way align the scores
        thresholds=("init_checks.EXPLODING_STD", "monitor.GROWN", "monitor.RECENT_SAMPLES"),
        unhealthy=True,
        graded_by=('reinit',),
        plan=plan_init,
    ),
    FindingSpec(
        "dead_units", "preflight", "warning",
        measures="fraction of a ReLU-family layer's units (channels) that are never positive over a batch",
        threshold="more than 40% of a layer's units dead; measured during training (the monitor), a warning only while the loss is not falling (< 5% below the initial) or the symptom grew since the earliest record, else info",
        source="notes 004 'if a ReLU unit's input is always negative ... a dead unit'; CS231n: 'as much as "
               "40% of your network can be dead'",
        fix="use He init with zero biases, a lower learning rate, or LeakyReLU",
        groups=(Group.INIT, Group.UNIT_STATISTICS, Group.REINIT),
        explains=("bad_initial_loss", "cannot_overfit_small_subset", "vanishing_gradients", Group.SLOW,
                  "vanishing_activations"),
        thresholds=("init_checks.DEAD_SHARE", "monitor.WORSENED", "monitor.RECENT_SAMPLES"),
        unhealthy=True,
        graded_by=('reinit',),
        plan=plan_init,
    ),
    FindingSpec(
        "bad_initial_loss", "preflight", "warning",
        measures="the loss of the untrained model on a batch, regularization off, against the loss of a "
                 "uniform prediction: ln C for cross-entropy, C-1 for the multiclass hinge (margin 1), ln 2 "
                 "for BCE, ln C - H(target) for KL, mean(y^2) for a regression loss",
        threshold="ratio outside [0.5, 1.5] of the expected value, or more than 1 nat above it for a loss in "
                  "nats (untrained logits spread ~1.4: s^2/2 nats); regression: above 3x. An over-confident start "
                  "is a warning only when 20 full-batch steps of the user's optimizer take less than half the "
                  "excess off (a start training removes, such as He init on the output layer or a target scale, "
                  "is reported as info)",
        source="notes 004 'double check that the loss is reasonable': 2.30261 = ln 10 for 10 classes",
        fix="shrink the last layer's initial weights (e.g. x0.01) and zero its bias; standardize the inputs",
        explains=(Group.DIVERGED,),
        thresholds=("loss_checks.LOSS_RATIO_LOW", "loss_checks.LOSS_RATIO_HIGH", "loss_checks.EXCESS_NATS",
                    "loss_checks.REGRESSION_LOSS_RATIO", "interventions.NOISE_FACTOR",
                    "interventions.SAMPLING_Z", "interventions.MIN_GAIN", "interventions.KILL_RATIO",
                    "interventions.MIN_POINTS"),
        graded_by=('shrink output layer', 'reinit', 'standardize outputs'),   # the last: regression targets only
        plan=plan_bad_initial_loss,
    ),
    FindingSpec(
        "regularization_not_effective", "preflight", "error",
        measures="the effect of raising each configured regularizer: the penalized loss must rise with L2/L1 "
                 "strength, one weight-decay step from zero gradients must shrink ||w||, dropout must make "
                 "two training-mode forward passes differ",
        threshold="no increase / a decay step that shrinks ||w|| by less than 1% of lr x weight_decay (measured in"
                  " float64) / identical outputs (relative change < 1e-6)",
        source="notes 004 'crank up regularization ... loss went up, good (sanity check)'",
        fix="make sure the penalty is added to the loss with gradients attached, the optimizer gets "
            "weight_decay in its parameter groups, and dropout modules are in the forward path",
        thresholds=("regularization_check.NO_SHRINK", "regularization_check.SAME_OUTPUT"),
    ),
    FindingSpec(
        "regularization_too_strong", "preflight", "warning",
        measures="an intervention: the training loss after 30 minibatch steps of the setup against the same "
                 "steps with the weight decay / 100, dropout off, the L1 or L2 penalty / 100, no max-norm "
                 "constraint or no label smoothing (same weights, same batches, every arm with the run's own "
                 "penalties as fit builds them, measured on the same held training rows)",
        threshold="the setup's loss falls < 5% while the change's falls >= 20% and >= 3x the setup's; or (the "
                  "weight decay, a penalty, constraint or label smoothing) the change classifies the held rows "
                  "significantly better and is still ahead trained on to 3x the steps",
        source="notes 004 'crank up regularization ... loss went up' (the same experiment, reversed: lowering "
               "a regularizer that overwhelms the data lets the loss fall)",
        fix="lower the regularizer the finding names (weight_decay, l1 or l2 about 100x; the dropout rate; "
            "max_norm or label_smoothing off)",
        explains=("bad_initial_loss", Group.SLOW, "dead_units", Group.DIVERGED),
        thresholds=("interventions.STEPS", "interventions.STUCK", "interventions.HELPS",
                    "interventions.HELP_RATIO", "interventions.PENALTY_CUT"),
        plan=plan_regularizer,
    ),
    FindingSpec(
        "optimizer_setting", "preflight", "warning",
        measures="an intervention: the training loss after 30 minibatch steps of the setup against the same "
                 "steps with the optimizer's own options (eps, betas, bias correction, alpha, SGD's dampening, the SAM family's radius rho) at "
                 "their defaults, or without the run's gradient clipping (clip_norm, clip_value) or its gradient "
                 "noise (grad_noise); and (clip_check.py) what the run's clip does to its own minibatch gradients at the start: the share of the step's length it "
                 "keeps (||clip(g)|| / ||g||, the median of 4 batches), then an experiment without the clip; and "
                 "(noise_check.py) the run's gradient noise (grad_noise) at the start against its typical minibatch "
                 "gradient (sqrt(eta x trainable entries) / ||g||, the median of 4 batches), then the setup without "
                 "the noise against the setup with it as run",
        threshold="the setup's loss falls < 5% while the defaults' falls >= 20% and >= 3x the setup's; or the clip "
                  "keeps < 10% of the typical step and the setup without it trains significantly better "
                  "(interventions.significant; else info); or the gradient noise's norm is over 10x the typical "
                  "gradient's and the setup without it trains significantly better (else info; a run that diverges "
                  "under it is explained by it); or, on a setup that learns, the defaults classify the held rows "
                  "significantly better (interventions.significant) and still do trained on (interventions.ahead_at_end)",
        source="Kingma & Ba 2015 (Adam's eps = 1e-8, betas 0.9/0.999); notes 003: an eps far above sqrt(v) "
               "turns Adam into SGD with lr / eps",
        fix="leave eps/betas at the optimizer's defaults (Adam: eps 1e-8, betas (0.9, 0.999))",
        explains=(Group.SLOW,),
        thresholds=("interventions.STEPS", "interventions.STUCK", "interventions.HELPS",
                    "interventions.HELP_RATIO", "clip_check.KEPT", "clip_check.BATCHES", "noise_check.RATIO"),
        plan=plan_regularizer,
    ),
    # --- the lr schedule (schedule_check.py)
    FindingSpec(
        "schedule_decays_early", "preflight", "warning",
        measures="the configured lr schedule over the run's planned steps, evaluated without training: the "
                 "fraction of the run by which it has given 99% of its lr (optim.schedules.spent_at) or its lr has "
                 "fallen to 1% of its peak (optim.schedules.fallen_at), the earlier; then an "
                 "experiment: the run's lr course compressed into the experiment's steps against the same "
                 "schedule stretched so it gives 99% by 2/3 of the run; and (plateau_mode.py) a plateau schedule's "
                 "mode against its monitor's direction (train.metrics.monitor_mode: a loss falls, an accuracy "
                 "rises), with the lr course a copy of it gives over the run's epochs on a metric that improves "
                 "every epoch",
        threshold="99% of the lr given, or the lr at 1% of its peak or below, within the first half of the run, and "
                  "the stretched schedule trains "
                  "helpfully better (interventions.helpful); else info; a plateau's mode against its monitor is a "
                  "warning when that course falls to 1% of the lr within the first half of the run, else info",
        source="notes 003: staircase decay 'divide it by a factor (e.g. 5 or 10) every L (say, 10) epochs'; "
               "Loshchilov & Hutter 2017 (cosine annealing over the whole run); PyTorch's ReduceLROnPlateau docs "
               "(mode 'min' stops reducing when the quantity stops decreasing, 'max' when it stops increasing)",
        fix="let the schedule span the run: fewer or later lr cuts (a step schedule's every_epochs about a third "
            "of the epochs), a cosine over the whole run, or a smaller decay rate; a plateau schedule's mode "
            "follows its monitor (\"max\" for an accuracy, \"min\" for a loss: leave mode out)",
        groups=(Group.SLOW,),
        explains=(Group.SLOW,),
        thresholds=("schedule_check.SPENT_SHARE", "schedule_check.FALLEN", "schedule_check.EARLY",
                    "schedule_check.STRETCH_TO", "schedule_check.DEAD_SHARE"),
        plan=plan_schedule_decays_early,
    ),
    # --- the run's own options the experiment trains without (schedule_check.py, interventions.py)
    FindingSpec(
        "schedule_starts_late", "preflight", "warning",
        measures="the configured lr schedule over the run's planned steps, evaluated without training: the "
                 "fraction of the run at which the lr first reaches half its configured value "
                 "(optim.schedules.reached_at); then an experiment: the run's whole lr course compressed into the "
                 "experiment's steps against the same schedule with its warmup cut to 5% of the run",
        threshold="half the lr reached only after half the run (or never), and the fitted warmup trains "
                  "significantly better (interventions.significant, by held accuracy or by held loss); else info",
        source="Goyal et al. 2017 'Accurate, Large Minibatch SGD' (gradual warmup over 5 of 90 epochs); "
               "notes 003: the lr is the one setting to get right first",
        fix="a warmup of a few percent of the run (warmup_steps about 5% of the planned steps)",
        groups=(Group.SLOW,),
        explains=("lr_too_low", "update_ratio_low", "plateau", "underfitting"),
        thresholds=("schedule_check.HALF", "schedule_check.LATE", "schedule_check.WARMUP_SHARE"),
        plan=plan_schedule_starts_late,
    ),
    FindingSpec(
        "too_few_updates", "preflight", "warning",
        measures="the run's planned optimizer steps and batch size; then an experiment: the run's own number of "
                 "steps at its batch against the same rows seen in batches 8x smaller (8x the steps, the lr kept) "
                 "and the run's batch at 8x the lr",
        threshold="fewer than 100 steps in the run at a batch of >= 64 rows and >= a quarter of the training rows "
                  "(not L-BFGS / BFGS / Newton), and the smaller batches train significantly better "
                  "(interventions.significant); else info",
        source="Goyal et al. 2017 'Accurate, Large Minibatch SGD' (linear scaling rule: k x the batch, k x the lr); "
               "notes 000: SGD takes many small noisy steps",
        fix="a smaller batch, or the lr scaled with the batch",
        groups=(Group.SLOW,),
        explains=("lr_too_low", "update_ratio_low", "plateau", "underfitting"),
        thresholds=("batch_check.FEW_UPDATES", "batch_check.SPLIT", "batch_check.MIN_ROWS",
                    "batch_check.FEW_PER_EPOCH"),
        plan=plan_too_few_updates,
    ),
    # --- the run's own stop (stopping.py)
    FindingSpec(
        "stops_too_soon", "preflight", "warning",
        measures="the run itself, trained on copies through fit's trainer: the run as configured (its max_steps, "
                 "its early stopping with patience and min_delta) to its own stop, a repeat on other batches, and "
                 "the same setup trained on to 3x the steps it stopped at (at most its planned epochs); the "
                 "validation split's loss and accuracy at the end of each; at the end of a watched run that early "
                 "stopping or max_steps ended (stop_watch.StopWatch): a least-squares line through the monitored "
                 "metric's last 5 epochs (patience + 1 when longer)",
        threshold="max_steps ends the run before its epochs, or early stopping ends it before its epochs, and "
                  "the run trained on ends significantly better (interventions.significant, by validation "
                  "accuracy or by validation loss with the accuracy no worse); else info. At a watched run's end: "
                  "the line's slope improves the metric beyond 2 standard errors and by at least 10% of the first "
                  "epoch's loss (3 points of accuracy) over the window, from at least 4 epochs, and early "
                  "stopping's last patience epochs improved on the epoch before them (by less than min_delta)"
                  "; a user callback that can stop the run (on_after_step, on_epoch_end, on_validation_end) stops it within the first quarter of its steps, and the run trained on with the callbacks kept but their stop taken back ends significantly better",
        source="notes 003 (early stopping: stop when the validation error stops improving, not while it "
               "falls); notes 000 (an epoch is one pass over the data; max_steps counts optimizer steps)",
        fix="let the run end when it stops learning: max_steps counts optimizer steps, not epochs (raise it, or "
            "drop it and set epochs); early stopping's min_delta is an absolute change of the monitored "
            "metric (set it below the metric's epoch-to-epoch changes, 0 by default), or a longer patience",
        groups=(Group.SLOW,),
        explains=("underfitting", "plateau"),
        thresholds=("stopping.LONGER", "stopping.CALLBACK_SHARE", "interventions.NOISE_FACTOR", "interventions.SAMPLING_Z",
                    "interventions.MIN_LIFT", "interventions.MIN_GAIN", "stop_watch.TREND_EPOCHS", "stop_watch.MIN_EPOCHS"),
        plan=not_repairable,
    ),
    FindingSpec(
        "augmentation_hurts", "preflight", "warning",
        measures="an intervention: the held (un-augmented) rows' accuracy and loss after the experiment's steps of "
                 "the setup trained with the run's augmentation against one arm per transform trained without it, "
                 "and both trained on to 3x the steps; each transform's added variance: the variance of 512 "
                 "augmented training rows over the clean rows' (summed over the input values) minus 1",
        threshold="the arm without the transform trains significantly better (interventions.significant) and is "
                  "still ahead trained on (interventions.ahead_at_end; by held loss too, with the accuracy no "
                  "worse, for a transform that adds more variance than the rows have: augment_check.added_variance "
                  "> 1); an experiment where the setup and its repeat stay flat (held loss falls < 5%: "
                  "interventions.STUCK; an arm without the augmentation that moves a little is no verdict while "
                  "the setup has not left its start: set 26's SimCLR colour jitter in a 20-step pass, the setup "
                  "4.8 %, the arm 9.8 %) under a transform above the signal runs again: a pass shorter than the "
                  "experiment's 100 steps (the repairer's 20-step settings test) first at the run's own lr for those "
                  "100 steps (at most the run's; augment_check.raised_steps) where the setup alone with it learns "
                  "there (the stall was the steps', not the lr's: a CNN leaves chance after some 40 steps), else at "
                  "10x the lr (augment_check.RAISED_LR) for those steps where the setup alone with it stays flat "
                  "there too, and a transform that hurts there while the raised lr with it trains no better than "
                  "the run's own explains lr_too_low",
        source="notes 002: augmentations are transformations 'that yield a valid image' of the same class; "
               "Simard et al. 2003 (a transform must leave the label unchanged); first principles: above a "
               "signal-to-noise ratio of 1 (0 dB) an augmented row holds more noise than data",
        fix="drop the transform from augment (a horizontal flip of left/right classes, a rotation of 6/9, a crop that "
            "cuts the object out, noise above the signal)",
        explains=("underfitting", "plateau", "overfitting"),
        thresholds=("interventions.NOISE_FACTOR", "interventions.SAMPLING_Z", "interventions.MIN_LIFT",
                    "interventions.LONGER", "augment_check.ABOVE_SIGNAL", "augment_check.SCALE_ROWS",
                    "interventions.STUCK", "augment_check.RAISED_LR"),
        plan=plan_augmentation_hurts,
    ),
    FindingSpec(
        "frozen_parameters", "preflight", "warning",
        measures="an intervention: the held loss and accuracy after the experiment's steps of the setup against "
                 "the same steps with every parameter trainable (parameter tensors with requires_grad=False "
                 "never move: their update ratio is exactly 0 while the others' is not)"
                 "; the graph cut (cut_gradient.py, doctor only): on one training-mode forward and loss of the untrained model, the modules called with gradients enabled whose own trainable parameters all get a None gradient, and how far the eval-mode output moves when each one's parameters move by NUDGE of their RMS, or, where that moves it by at most CHANGED, the most it moves over up to REDRAWS moves by REDRAW of their RMS (an output read through a step function of them, each row sent to the expert of a gate's arg max, changes only where a move carries a row across a boundary)"
                 "; the run's own freeze option (no unfreeze arm: a decision) is tried all the same where every frozen weight tensor of at least MIN_VALUES values is its initial draw (fresh_weights.py: a two-sample Kolmogorov-Smirnov test against a fresh reset_parameters draw of its module, p above ALPHA)"
                 "; a user's callback whose on_after_step holds weights at 0 (callback_check.py, doctor only): the experiment's steps from the same start with and without the hook called after every step, the held loss after each and the share of weight entries exactly 0",
        threshold="the unfrozen copy trains significantly better (interventions.significant: beyond 3x the "
                  "repeat's difference, 2 standard errors and 3 points of held accuracy, or 10% of the "
                  "starting loss, or a loss 1.25x lower by 2% of the start)"
                  "; the graph cut: the output moves by more than CHANGED of its RMS (it depends on parameters no gradient reaches; a module the forward called under torch.no_grad, or did not use, is quiet)"
                  "; the callback: ZEROED of the weight entries or more exactly 0 after the hooked steps, which keep at most 1 - UNDONE of the gain the steps make without the hook",
        source="notes 001 'track ratio of weight updates / weight magnitudes' (a ratio of exactly 0 is a layer "
               "that never learns); issue 11's frozen-layers fault"
               "; notes 001: backpropagation is the chain rule through each gate, so a layer trains only through a differentiable path to the loss"
               "; notes 001, transfer learning: a body is fixed as a feature extractor after it was trained (on ImageNet), so a freeze of the initial draw keeps random features",
        fix="train the frozen layers too (requires_grad_(True)), or freeze only a body pretrained for this input"
            "; keep the path from the layers to the loss differentiable (the values of a max, not its indices; torch, not numpy; no .detach() or .item() on the way)",
        explains=(Group.INIT, Group.SLOW, "cannot_overfit_small_subset", "underfitting"),
        thresholds=("interventions.NOISE_FACTOR", "interventions.SAMPLING_Z", "interventions.MIN_LIFT",
                    "interventions.MIN_GAIN", "interventions.KILL_RATIO", "interventions.MIN_POINTS",
                    "cut_gradient.NUDGE", "cut_gradient.REDRAW", "cut_gradient.REDRAWS", "cut_gradient.CHANGED",
                    "fresh_weights.ALPHA", "fresh_weights.MIN_VALUES", "callback_check.ZEROED", "callback_check.UNDONE"),
        plan=not_repairable,
    ),
    FindingSpec(
        "low_rank_logits", "preflight", "warning",
        measures="the numerical rank of the untrained model's class scores on a batch, centered over the rows "
                 "and over the classes (softmax ignores a constant added to every score)",
        threshold="rank 1 for C >= 3 classes (a singular value counts above 1e-4 of the largest): the classes "
                  "are sorted intervals of one line; rank >= 2 (convex cells of a plane, no order) is no finding, "
                  "constant scores (rank 0) are left to the init checks",
        source="Yang et al. ICLR 2018 'Breaking the Softmax Bottleneck': the log-probabilities' rank is bounded "
               "by the width feeding the output layer",
        fix="widen the narrow layer that feeds the output or remove it",
        explains=("cannot_overfit_small_subset", "underfitting", Group.SLOW),
        thresholds=("loss_checks.MAX_LOW_RANK", "loss_checks.RANK_TOLERANCE"),
        plan=not_repairable,
    ),
    FindingSpec(
        "cannot_overfit_small_subset", "preflight", "error",
        measures="training accuracy (or loss) after a short full-batch run on ~20 examples with dropout, "
                 "weight decay and penalties off; retried with Adam lr=1e-3 before blaming the model",
        threshold="accuracy < 100% (classification) or loss > 5% of the initial (regression) after both runs; a "
                  "regression run that moved its loss >= 10% and ends at or below the reference's is no failure"
                  "; a classification or regression run whose loss still fell >= 10% over its last 10% of steps runs again to 2x the steps first",
        source="notes 004 'make sure that you can overfit a very small portion of the training data'",
        fix="check that the loss sees the model's output and the right targets, that gradients reach every "
            "layer, and that the model has enough capacity",
        thresholds=("preflight.OVERFIT_ROWS", "overfit.OVERFIT_STEPS", "overfit.REFERENCE_STEPS",
                    "overfit.REGRESSION_FIT", "overfit.BARELY_MOVED", "overfit.STALL_SHARE"),
    ),
    FindingSpec(
        "class_imbalance", "preflight", "warning",
        measures="class counts: largest / smallest; the doctor compares the class mix of the validation and "
                 "test splits given with training's (total-variation distance); the class prior the loss's class "
                 "weights train to (training counts x weights) against the evaluated mix (class_weighting.py: the "
                 "exponent a of trained ~ evaluated^a)",
        threshold="ratio > 10; info when every split measured holds the training mix (distance <= 0.2 or <= 4x "
                  "what random splits show); class weights: a warning when a <= -0.5 (balanced twice) and the "
                  "evaluated mix is off balance by that distance rule, else info",
        source="He & Garcia 2009 'Learning from Imbalanced Data' (imbalance of 10:1 and beyond); a model's scores "
               "follow its training class shares (Saerens et al. 2002, prior shift); a class weight acts as a "
               "redraw of the rows (Elkan 2001), an alternative to resampling (Buda et al. 2018)",
        fix="use class weights in the loss, resample, or report balanced accuracy",
        thresholds=("data_checks.IMBALANCE", "split_checks.TV_HIGH", "split_checks.NOISE_FACTOR",
                    "class_weighting.TWICE"),
    ),
    FindingSpec(
        "nonfinite_loss", "training", "error",
        measures="the training loss on every step (a device-side flag, read when sampled); before training, the "
                 "loss at the targets as a confident model's float32 outputs reach them (a sigmoid's 1, tanh's "
                 "+-1, a ReLU's 0, a softmax row's 1.0: output_range.check_loss_at_targets), and the loss on the "
                 "untrained outputs (loss_checks.check_initial_loss)",
        threshold="NaN or inf; before training: NaN or inf at the targets while finite on the untrained outputs, "
                  "or NaN or inf on the untrained outputs and on a uniform guess (zeros for a regression) while the "
                  "outputs and the targets are finite and no output activation makes it finite (the loss's own "
                  "arithmetic overflows)",
        source="notes 004 'cost: NaN almost always means high learning rate'",
        fix="lower the lr about 10x, clip gradients (clip_norm=1.0), check inputs for NaN",
        thresholds=("output_range.REACH",),
        groups=(Group.DIVERGED, Group.OPTIMIZATION),
        explains=("cannot_overfit_small_subset", Group.EPOCH_CURVES),   # no subset is fit through a NaN loss
        explains_in_training=(Group.UNIT_STATISTICS,),
        runs=Runs.PER_SAMPLE,
        stops_run=True,
        stops_unrepaired=True,
        unhealthy=True,
        plan=plan_diverged,
    ),
    FindingSpec(
        "loss_exploding", "training", "error",
        measures="the run's recent training loss level (2 of the last 3 sampled losses, or the epoch's mean) "
                 "against the first sampled loss",
        threshold="> divergence_factor x the first sampled loss (the run's setting, default 3), held by 2 of the "
                  "last 3 sampled losses or by the epoch's mean training loss (one minibatch's loss is no level: "
                  "a heavy-tailed target's outlying row lifts one batch 30x in a healthy run)",
        source="notes 004 'if the cost is ever > 3 * original cost, break out early'",
        fix="lower the lr about 10x or clip gradients",
        groups=(Group.DIVERGED, Group.OPTIMIZATION),
        explains=(Group.EPOCH_CURVES,),
        explains_in_training=(Group.UNIT_STATISTICS,),
        runs=Runs.PER_SAMPLE,
        thresholds=("rules.DIVERGENCE_FACTOR", "rules.HELD_BY", "rules.HELD_OF"),
        stops_unrepaired=True,
        unhealthy=True,
        plan=plan_diverged,
    ),
    FindingSpec(
        "exploding_gradients", "training", "error",
        measures="total gradient norm against the first sampled one; per-layer relative gradients",
        threshold="non-finite, or > 10x the first sampled norm while the sampled loss is not falling "
                  "(gradients that grow as a net leaves a flat start are healthy; nor is it where the norm grew: "
                  "the last two samples' loss 5% below the window's first half), unless a strong decay (lr "
                  "x weight_decay >= 1e-2) collapsed the weights and the loss never rose above its initial "
                  "value (they regrow; `underfitting` names the decay)",
        source="notes 001 gradient clipping; Pascanu et al. 2013",
        fix="clip gradients (clip_norm=1.0) or lower the lr",
        groups=(Group.DIVERGED, Group.OPTIMIZATION),
        explains=(Group.EPOCH_CURVES,),
        explains_in_training=(Group.UNIT_STATISTICS,),
        runs=Runs.SAMPLES_ONLY,
        thresholds=("rules.GRAD_GROWTH", "rules.BASELINE_SAMPLES", "ratios.STRONG_DECAY", "rules.FALLING"),
        unhealthy=True,
        plan=plan_exploding_gradients,
    ),
    FindingSpec(
        "oscillating_loss", "training", "warning",
        measures="median |difference| of consecutive sampled losses relative to the initial loss, with no "
                 "downward trend; rises of the per-epoch mean training loss",
        threshold="median |delta| > 0.25 x initial loss and the loss has not fallen below half the initial; "
                  "or the epoch's mean training loss (free of batch noise) rose by > 20% at least twice in "
                  "the last 6 epochs while the lr was not raised (a warm restart raises it on purpose), "
                  "each rise ending above 10% of the initial loss (a converged loss's noise is no "
                  "oscillation)",
        source="notes 001 'monitor and visualize the loss curve'; Goodfellow et al. 2016 §8.1.3",
        fix="lower the lr about 3x, add momentum damping, or raise the batch size",
        groups=(Group.DIVERGED, Group.OPTIMIZATION),
        explains=(Group.EPOCH_CURVES,),
        explains_in_training=(Group.UNIT_STATISTICS,),
        runs=Runs.PER_EPOCH,
        thresholds=("rules.OSCILLATION", "rules.SETTLED", "rules.OSCILLATION_EPOCHS", "rules.EPOCH_RISE",
                    "rules.CONVERGED"),
        graded_by=('lr x0.1', 'lr x0.01'),
        plan=plan_oscillating,
    ),
    FindingSpec(
        "lr_too_high", "training", "warning",
        measures="the trend of the sampled loss: rising (median of the last third above the first third by "
                 "10% and by 3 standard errors of the two medians, each from its third's median absolute "
                 "deviation: the samples are single minibatches' losses) or NaN with finite inputs; and (peak_check.py, before training) the lr schedule's largest "
                 "multiplier over the run's planned steps, then a copy trained at the configured lr, and from it "
                 "25 steps at the schedule's peak lr next to 25 at the configured lr",
        threshold="rising loss, 10% and 3 standard errors (not once the last third is below 10% of the initial "
                  "loss: a converged model's small losses are noisy), or an explosion with finite inputs; a schedule that reaches >= 2x the "
                  "configured lr whose peak makes the held loss non-finite, above divergence_factor x the untrained "
                  "model's, or 10% above the snapshot's while the configured lr's does not rise",
        source="notes 004 'loss exploding: learning rate too high'",
        fix="lower the lr about 10x",
        groups=(Group.DIVERGED, Group.OPTIMIZATION),
        explains=(Group.EPOCH_CURVES,),
        explains_in_training=(Group.UNIT_STATISTICS,),
        runs=Runs.PER_SAMPLE,
        thresholds=("rules.RISE", "rules.RISE_Z", "rules.CONVERGED", "rules.DIVERGENCE_FACTOR",
                    "peak_check.PEAK_RATIO", "peak_check.PEAK_STEPS"),
        unhealthy=True,
        graded_by=('lr x0.1', 'lr x0.01'),
        plan=plan_diverged,
    ),
    FindingSpec(
        "vanishing_gradients", "training", "warning",
        measures="per-layer relative gradient ||g|| / ||w|| and update ratio ||dw|| / ||w|| beyond the decay's "
                 "share (lr x weight_decay), a lookup table's (nn.Embedding, nn.EmbeddingBag) on the rows its "
                 "batches read (probes.touched_row_norms): each against the largest, and the total gradient; "
                 "before training (doctor, repair), hidden sigmoids: ReLU with He init trained beside the setup "
                 "(interventions.RELU_ARM)",
        threshold="a layer whose relative gradient and whose update ratio are both < 1e-3 of the largest (an "
                  "adaptive optimizer's step moves a layer of small gradient: it learns; rules.barely_learning) "
                  "among the parameters whose gradient is not exactly 0 in every sample (one "
                  "that is 0 in all is unused by the loss, not vanishing: rules.unused_parameters); those exactly 0 "
                  "at the fit's first sampled step only (a zero-initialized trained gate downstream, ReZero or a "
                  "zero last BN gamma, held them and has opened since: rules.gated_at_init) compared among "
                  "themselves, not with the others; or total gradient norm < 1e-8",
        source="notes 004 'saturated neurons kill the gradients'; Glorot & Bengio 2010; notes 003 'derivatives "
               "for early layers tend to be order of magnitude smaller' (why adaptive methods); notes 001 'track "
               "ratio of weight updates / weight magnitudes'",
        fix="use ReLU with He init, batch normalization, or residual connections",
        groups=(Group.OPTIMIZATION, Group.REINIT),
        explains=("update_ratio_high", "cannot_overfit_small_subset", Group.SLOW),
        explains_in_training=(Group.UNIT_STATISTICS,),
        runs=Runs.SAMPLES_ONLY,
        thresholds=("rules.VANISH", "rules.NO_GRADIENT"),
        plan=plan_vanishing,
    ),
    FindingSpec(
        "update_ratio_high", "training", "warning",
        measures="per-layer ||lr-scaled update|| / ||w|| (the change of the weights over one step), median "
                 "over the sampled steps",
        threshold="median > 3e-2 while the sampled loss is not falling (second half of the window not 5% "
                  "below the first) and not below 10% of the initial loss, or median > 0.3, or any one "
                  "sampled step > 1 (the update overwrites the layer: Adam's first step at lr 0.1). Only the "
                  "part beyond the decay counts (ratio - lr x weight_decay per sample, a lower bound of the "
                  "gradient's share): weights that shrink under a strong decay are left to `underfitting` "
                  "(healthy about 1e-3; notes 001 '0.01 is probably too high' — Adam's first steps sit near "
                  "1e-2 in healthy runs, hence the margin); not judged for L-BFGS / Newton, whose steps are "
                  "sized by curvature",
        source="notes 001 'track ratio of weight updates / weight magnitudes'; CS231n ~1e-3",
        fix="lower the lr (for this layer group)",
        groups=(Group.DIVERGED, Group.OPTIMIZATION),
        explains=(Group.EPOCH_CURVES,),
        explains_in_training=(Group.UNIT_STATISTICS,),
        runs=Runs.SAMPLES_ONLY,
        thresholds=("ratios.RATIO_HIGH", "ratios.EXTREME_RATIO", "ratios.STEP_REPLACES", "rules.FALLING",
                    "rules.CONVERGED"),
        graded_by=('lr x0.1', 'lr x0.01'),
        plan=plan_update_ratio_high,
    ),
    FindingSpec(
        "lr_too_low", "training", "warning",
        measures="relative decrease of the sampled loss over at least one epoch and the median update/weight "
                 "ratio, with gradients that do not vanish",
        threshold="loss down < 5% from the first step's (a single batch's loss, itself a few % noisy) and "
                  "median update ratio < 1e-4 (10x below the healthy 1e-3)",
        source="notes 004 'loss barely changing: learning rate is probably too low' (2.302576 -> 2.302420)",
        fix="raise the lr about 10x",
        groups=(Group.SLOW, Group.OPTIMIZATION),
        explains=(Group.EPOCH_CURVES,),
        runs=Runs.PER_EPOCH,
        thresholds=("rules.BARELY", "ratios.SLOW_RATIO"),
        settle_epochs=1,
        graded_by=('lr x10', 'lr x100', 'lr x1000'),
        plan=plan_lr_too_low,
    ),
    FindingSpec(
        "update_ratio_low", "training", "warning",
        measures="per-layer ||update|| / ||w|| median over the sampled steps",
        threshold="median < 1e-5 (two decades below the healthy 1e-3); not judged for L-BFGS / Newton, nor "
                  "for layers whose group has lr_mult 0 (frozen), nor once the window's median loss is below "
                  "rules.CONVERGED (10%) of the initial loss (a converged model's gradient vanishes at its "
                  "minimum, as for update_ratio_high)",
        source="notes 001 / CS231n: about 1e-3 is healthy; far below means the layer barely learns",
        fix="raise the lr, or check that this layer's gradients are not vanishing",
        groups=(Group.SLOW, Group.OPTIMIZATION),
        explains=(Group.EPOCH_CURVES,),
        runs=Runs.SAMPLES_ONLY,
        thresholds=("ratios.RATIO_LOW", "rules.ANNEALING", "rules.CONVERGED"),
        settle_epochs=1,
        graded_by=('lr x10', 'lr x100', 'lr x1000'),
        plan=plan_update_ratio_low,
    ),
    FindingSpec(
        "plateau", "training", "warning",
        measures="relative improvement of the epoch training loss over the last 3 epochs, while the loss is "
                 "still well above zero",
        threshold="improvement < 1% over 3 epochs with loss > 20% of the initial, while the lr is at least "
                  "10% of its peak (a schedule's annealed tail is convergence, not a stall) and the training "
                  "accuracy is below 0.98 (a fitted training set has converged: label smoothing keeps its "
                  "loss at ~26% of the initial)",
        source="notes 003 'watch the objective and decrease the LR when it stagnates'",
        fix="decay the lr (plateau schedule), or check init/normalization",
        groups=(Group.SLOW, Group.OPTIMIZATION, Group.EPOCH_CURVES),
        runs=Runs.PER_EPOCH,
        thresholds=("rules.FLAT", "rules.PLATEAU_LEVEL", "rules.LEARNED", "rules.ANNEALED", "rules.FITTED"),
        settle_epochs=3,
        graded_by=('lr x10', 'lr x100', 'lr x1000'),
        plan=plan_plateau,
    ),
    FindingSpec(
        "overfitting", "training", "warning",
        measures="train accuracy - validation accuracy (or val/train loss), with the validation loss rising "
                 "from its best; before training, a prediction (learning_curve.py): where a validation or test "
                 "split has more than twice the training rows, the evaluated splits' own learning curve, the better of a "
                 "linear and a nearest-neighbour probe fitted on the training split's size and on all their rows "
                 "beyond a held-out third",
        threshold="on two consecutive epochs: gap > 0.10 and val loss >= 1.2x its minimum, gap > 0.20, or gap"
                  " >= 0.10 with train accuracy >= 0.99 (the training set is memorized); before training: the fit "
                  "on >= 2x the training size better by 3 points of accuracy (25% less squared error), paired "
                  "test p < 1e-3",
        source="notes 004 'big gap = overfitting => increase regularization strength'; notes 004 'preventing "
               "overfitting, approach 1: get more data', read from a learning curve (Perlich, Provost & "
               "Simonoff 2003)",
        fix="more regularization (weight decay, dropout), augmentation, or early stopping",
        groups=(Group.EPOCH_CURVES,),
        runs=Runs.PER_EPOCH,
        thresholds=("rules.GAP_HIGH", "rules.GAP_SEVERE", "rules.VAL_RISE", "rules.MEMORIZED",
                    "rules.REGRESSION_VAL_RISE", "rules.REGRESSION_GAP", "learning_curve.MIN_GROWTH",
                    "learning_curve.HELD_OUT"),
        settle_epochs=1,
        plan=plan_overfitting,
    ),
    FindingSpec(
        "underfitting", "training", "warning",
        measures="train accuracy and the train/val gap once the training loss has stalled or training ended",
        threshold="train accuracy < 0.8 with gap < 0.05 (regression: loss > 50% of initial) once the loss "
                  "stalled (< 5% better over 3 epochs); at the end of a run whose loss still falls: info "
                  "(train longer). When lr x weight_decay >= 1e-2 (the decay alone takes 10x a healthy 1e-3 "
                  "update off the weights each step) the finding names the decay (evidence `decay_per_step`, "
                  "`cause` = weight_decay), ranks before its symptoms and is judged from the second epoch on "
                  "without waiting for a stall",
        source="notes 004 'no gap => increase model capacity?'; too much regularization underfits (notes 004,"
               " regularization strength)",
        fix="more capacity (wider/deeper), train longer, or a higher lr; under strong decay: lower "
            "weight_decay about 100x",
        groups=(Group.SLOW, Group.OPTIMIZATION, Group.EPOCH_CURVES),
        runs=Runs.PER_EPOCH,
        thresholds=("rules.UNDERFIT_ACC", "rules.UNDERFIT_GAP", "rules.UNDERFIT_LOSS", "rules.STALLED",
                    "ratios.STRONG_DECAY", "rules.DECAY_EPOCHS"),
        settle_epochs=3,
        plan=plan_underfitting,
    ),
    # --- issue 11 item 5: faults no other code named (docs/babysitter.md)
    FindingSpec(
        "regression_on_class_ids", "preflight", "warning",
        measures="the training targets of a regression loss (mse, l1, huber / smooth_l1, or a user's loss on "
                 "float targets and one output column): whole numbers taking few consecutive values",
        threshold="every target an integer, 2 to 10 distinct values (3 to 10 for a user's loss) forming 0..K-1 "
                  "or 1..K; integer-dtype targets or several outputs are `loss_output_mismatch`'s",
        source="notes 003 design choices: class ids take a softmax output and cross-entropy, a regression "
               "an identity output and the L2 loss",
        fix="use cross_entropy with K outputs on the targets as int64 class ids",
        explains=("bad_initial_loss", "cannot_overfit_small_subset", Group.OPTIMIZATION, Group.EPOCH_CURVES),
        thresholds=("targets.CLASS_VALUES", "targets.MIN_CLASS_VALUES", "targets.MIN_CLASS_VALUES_OTHER"),
        plan=not_repairable,
    ),
    FindingSpec(
        "targets_off_scale", "preflight", "warning",
        measures="mean and standard deviation of each regression target column on the training split"
                 "; inside the band, by experiment (target_scale_arm.py): a copy of the model trained 100 steps on the targets as they are, one on the targets standardized, and a repeat on other batches, each measured as MSE / Var(y) on held training rows, then all three trained on to the run's length",
        threshold="std > 10 or < 1e-2, or |mean| > 10 (the initial loss is then about mean^2 + Var(y), 100x "
                  "that of unit-scale targets)"
                  "; under a user's own loss `info` (a relative or scale-free loss is written for the targets as they are)"
                  "; inside the band (targets not yet standardized): the standardized copy's MSE / Var(y) lower by the kill rule's 1.25x, 2 points and 3x the repeat's difference after 100 steps, and still 1.25x and 3x the repeat's difference lower at the run's own length",
        source="notes 002 preprocessing (normalize to unit scale) applied to the targets; an untrained "
               "network's outputs are about unit scale (notes 000 init)"
               "; Adam's steps of about lr per weight whatever the gradient's scale (Kingma & Ba 2015 sec. 2.1); issue 11's kill rule",
        fix="standardize the targets with training-split statistics, y = (y - mean) / std, and map the "
            "predictions back",
        explains=("bad_initial_loss", "cannot_overfit_small_subset", Group.OPTIMIZATION, Group.EPOCH_CURVES),
        thresholds=("targets.TARGET_STD_HIGH", "targets.TARGET_STD_LOW", "targets.TARGET_MEAN_OFF",
                    "target_scale_arm.STANDARD_TOLERANCE", "target_scale_arm.MIN_ROWS"),
        plan=not_repairable,
    ),
    FindingSpec(
        "split_mismatch", "preflight", "warning",
        measures="the validation and test splits against the training split: classes absent from training, "
                 "training classes a split lacks, each class's feature means (in training stds; signals and "
                 "images add their structure function, half the mean squared difference of values 1, 2, 4 and 8 "
                 "steps apart per axis and channel), and "
                 "(regression) the share of targets outside the training targets' range; the total-variation "
                 "distance of the class shares is reported as info (a resampled split differs there by design)"
                 "; the relation of inputs to targets: per target column (per class for class ids), the R^2 of the split's targets from its own 10 nearest rows (leave-one-out) against from the training split's 10 nearest, over the split's rows that lie among the training rows"
                 "; the split sizes; per column of a table, a one-column probe (deciles' majority class or mean target) fitted on half the training rows and scored on the other half and on the split's rows (label_leak.py)",
        threshold="any class absent from training (an error from 1% of the split's rows); a training class absent "
                  "from a split where its share predicts >= 10 rows; a feature whose class means shift by > 0.5 "
                  "training std and > 5 standard errors; more than 10% of a split's targets outside the training "
                  "range (info: TV > 0.2 and > 4x the distance random splits of the same sizes give)"
                  "; a column (class) with R^2 >= 0.5 from the split's own rows and 0.5 lower from the training split's"
                  "; more than 10% of a split's rows in one-hot input categories with fewer than 10 training rows (none included)"
                  "; a training split with fewer rows than half a validation or test split (info: fewer than the split's)"
                  "; a column whose probe scores >= 0.1 better (balanced accuracy, or squared error in units of Var(y)) on the held-out training rows than on a split's rows, significant at ALPHA over the columns and splits (the training rows hold their own labels: a leak)"
                  "; an input column constant over every training row whose values differ from it on k of a split's m "
                  "rows, with C(m, k) / C(n + m, k) < 1e-3 / the constant columns (k rows all outside training by chance)"
                  "; every warning (not an error) measured by intervention (mismatch_cost.py): info where first_layer's probes fitted on the training rows lose on the split's rows, against held-back training rows, less than the kill rule (3 points of balanced error, 25 % of squared error) or fewer than z(ALPHA) standard errors (a leak: with its columns against without, paired)",
        source="notes 002 'apply the same transformation with values extracted from the training data': "
               "the splits must come from one distribution; E[TV] by the normal approximation to the "
               "multinomial, 2 / (n + 1) outside the range by order statistics; Welch's standard error of a "
               "difference of means"
               "; k-nearest-neighbour regression (Cover & Hart 1967) as a relation any model could learn"
               "; ten events per variable for a fitted coefficient (Peduzzi et al. 1996)"
               "; ESL 7.2 (Hastie et al.): the usual cut trains on the most rows (50 / 25 / 25)"
               "; target leakage (Kaufman et al. 2012) and out-of-fold target encoding (Micci-Barreca 2001)",
        fix="shuffle the rows before splitting (stratified by class: sklearn's train_test_split(..., "
            "stratify=y)) and preprocess every split with the training split's statistics"
            "; export every split's target columns in one order and one encoding"
            "; give training the larger share (test_size is the held-out share)"
            "; encode a column from the labels out of fold (each training row from the other folds' labels)",
        explains=("overfitting", Group.EPOCH_CURVES),
        thresholds=("split_checks.TV_HIGH", "split_checks.NOISE_FACTOR", "split_checks.OUTSIDE_SHARE", "split_checks.UNSEEN_ERROR",
                    "split_checks.MIN_CATEGORIES",
                    "split_checks.ABSENT_EXPECTED", "split_checks.SHIFT", "split_checks.SHIFT_Z",
                    "split_checks.RELATION_K", "split_checks.RELATION_OWN", "split_checks.RELATION_GAP",
                    "split_checks.RELATION_COVER", "split_checks.MIN_CATEGORY_ROWS",
                    "split_checks.SMALL_TRAIN", "label_leak.MIN_GAP", "label_leak.BINS", "label_leak.MIN_ROWS"),
        plan=not_repairable,
    ),
    FindingSpec(
        "unregistered_modules", "preflight", "error",
        measures="the attributes of the model's modules that hold layers or parameters in a plain Python list, "
                 "tuple or dict (PyTorch registers direct attributes and nn.ModuleList / ModuleDict / "
                 "ParameterList contents only), and how many parameters they hold",
        threshold="any such attribute: its parameters are not in model.parameters() (the optimizer never "
                  "trains them), .to(device) does not move them and state_dict() does not save them",
        source="PyTorch's nn.Module docs (submodules are registered by attribute assignment; 'ModuleList "
               "... modules it contains are properly registered'); notes 001 'a layer that never learns'",
        fix="hold the layers in nn.ModuleList / nn.ModuleDict (parameters in nn.ParameterList / ParameterDict)",
        explains=(Group.SLOW, "cannot_overfit_small_subset", "underfitting", "frozen_parameters"),
        plan=not_repairable,
    ),
    FindingSpec(
        "batch_norm_small_batch", "preflight", "warning",
        measures="a model with batch norm trained at a batch under 16 rows; then an intervention: the held "
                 "training rows' eval-mode loss and accuracy after the experiment's steps of the setup against the "
                 "same model with every batch-norm layer on fixed (its running) statistics, on the same batches",
        threshold="the arm without batch statistics trains significantly better (interventions.significant), or "
                  "better by its held loss and still ahead trained on (interventions.ahead_at_end)",
        source="Ioffe & Szegedy 2015 (batch norm's statistics are the minibatch's); Wu & He 2018 'Group "
               "Normalization' (Fig. 1: batch norm's error rises quickly below 16 rows a batch); notes 004",
        fix="a batch of at least 16 rows (a new run), or LayerNorm / GroupNorm in place of BatchNorm",
        groups=(Group.SLOW,),
        explains=("overfitting", "oscillating_loss", "underfitting", "plateau", "lr_too_high", "lr_too_low",
                  "update_ratio_high", "update_ratio_low", "vanishing_gradients", "regularization_too_strong",
                  "eval_mode_gap"),     # tiny batches' noisy running statistics: eval mode worse
        thresholds=("mode_gap.BN_MIN_BATCH",),
        plan=not_repairable,
    ),
    # --- train mode vs eval mode measured on the same rows, whatever module makes the difference
    # (mode_gap.mode_losses)
    FindingSpec(
        "eval_mode_gap", "preflight", "warning",
        measures="after the doctor's experiment's steps of the setup, its held training rows through the model "
                 "in train mode (random draws seeded; batch norm on the rows' own statistics) and twice in eval "
                 "mode under two other seeds, after 44 train-mode passes without gradients over the same rows "
                 "(running statistics that follow the batches settle on train mode's for them): the two "
                 "eval-mode outputs' largest difference relative to their largest value, and the eval-mode loss "
                 "against the train-mode loss"
                 "; a user's callback that sets state.eval_model, or trainwell's own `average` option (average_check.py): a copy started by the "
                 "user's on_fit_start trains the experiment's steps (100) with the user's in-run hooks called in "
                 "the loop's order (epochs cut to at most 100 / 4 steps), the eval model's parameters read after "
                 "each hook: which hook updates them, each update's factor |a_new - w| / |a_old - w| (an "
                 "exponential average's decay), the share of its starting weights the average keeps over the "
                 "run's calls of that hook (factor ^ updates), and the held training rows' loss of that mix of the "
                 "start and the trained weights against the trained weights'",
        threshold="the eval-mode outputs differ by more than 1e-4 of their scale (randomness left on in eval "
                  "mode; info where it costs nothing measurable: with class ids the average of 8 eval draws "
                  "classifies under 3 points more of the rows right than one draw, otherwise the draws' mean loss is "
                  "above the average prediction's by under 0.01 x (|its loss| + 0.05)), or the eval-mode loss above "
                  "the train-mode loss by over 0.5 x (|the train-mode loss| + 0.05) on "
                  "the same rows (eval "
                  "mode computes another function than the one trained)"
                  "; an averaged eval model that keeps half its starting weights or more over the run and whose "
                  "mix scores above the trained weights by the same 0.5 x (|their loss| + 0.05), where the steps "
                  "gained at least 10% of the starting loss",
        source="Srivastava et al. 2014 (dropout: eval mode returns the expected value of the thinned network); "
               "Ioffe & Szegedy 2015 (batch norm: eval mode normalizes by population statistics); notes 004 "
               "(dropout: 'output at test time = expected output at training time'; batch norm at test time: "
               "'a single fixed empirical mean of activations during training is used')"
               "; Polyak & Juditsky 1992 and notes 004 (parameter averaging): an exponential average keeps d^n of "
               "its start after n updates, so its decay is set for the updates it gets",
        fix="make the eval path deterministic and the same function in expectation: pass training=self.training "
            "to functional dropout (F.dropout(x, p, training=self.training)), gate hand-written noise on "
            "self.training, keep batch norm's momentum in (0, 1] so its running statistics follow the batches, "
            "and check any `if self.training` branch computes the same thing as train mode on average"
            "; an averaged eval model: update it after every step, or set its decay for the updates it gets",
        explains=("overfitting", "underfitting", "plateau"),
        thresholds=("mode_gap.EVAL_RANDOM_TOL", "mode_gap.EVAL_GAP", "mode_gap.LOSS_FLOOR",
                    "mode_gap.SETTLE_PASSES", "mode_gap.EVAL_RANDOM_LOSS", "mode_gap.EVAL_DRAWS",
                    "interventions.MIN_LIFT",
                    "average_check.EPOCHS", "average_check.RETAINED", "interventions.MIN_GAIN"),
        plan=not_repairable,
    ),
    # --- the user's callbacks during the run (callback_check.py, reset_watch.py)
    FindingSpec(
        "parameters_reset", "preflight", "error",
        measures="the user's callbacks that define a hook the loop runs again and again (on_epoch_start, "
                 "on_before_step, on_after_step, on_validation_start / _end, on_epoch_end, on_checkpoint): a "
                 "copy of the setup started by the user's on_fit_start, trained the experiment's steps (100) with "
                 "the run's optimizer, then each such hook called once on that state as at the next epoch; the "
                 "held training rows' loss before training (L0), after it (L1) and after the hook (L2), and how "
                 "far the hook moves the weights against how far the steps moved them; in a watched run with such "
                 "a callback (reset_watch.ResetWatch), at each epoch start: the weights' distance from the last "
                 "step's (jump) against the distance the epoch's steps moved them (moved), one host sync an epoch",
        threshold="the hook gives back half or more of what the steps gained, (L2 - L1) / (L0 - L1) >= 0.5, "
                  "where the steps gained at least 10% of the starting loss; in a watched run, jump >= 1 x moved "
                  "at 2 epoch boundaries where the babysitter changed nothing",
        source="issue 11 (parameters reset or overwritten by the user's code during the run); "
               "train/callbacks.py's hook order (on_fit_start runs once, on_epoch_start at every epoch); "
               "first principles: a re-initialization gives back all the learning, a constraint or a restore "
               "of the best weights next to none",
        fix="move the code to on_fit_start (it runs once, before the first step), or guard it to run once",
        groups=(Group.SLOW,),
        explains=("underfitting", "plateau", "cannot_overfit_small_subset", "stops_too_soon", Group.OPTIMIZATION,
                  Group.EPOCH_CURVES),
        thresholds=("callback_check.UNDONE", "interventions.MIN_GAIN", "interventions.STEPS", "reset_watch.JUMP",
                    "reset_watch.REPEATS"),
        plan=plan_parameters_reset,
    ),
    FindingSpec(
        "check_skipped", "preflight", "info",
        measures="nominal seconds charged by the pre-flight checks (budget.py: counted steps at the cost model's price)",
        threshold=("the budget ran out (a pre-flight check, the experiment, an arm or the probe it could not pay "
                   "for: each named), its wall-clock safety stop (30x the budget) fired, or the doctor's "
                   "backstop (wall_s) left out or cut an experiment's training, a run option's check or the probe"),
        source="issue 4: pre-flight within 60 s",
        fix="raise budget_s or pass a smaller sample",
    ),
    # --- babysit50: the trained model against a simple baseline on the same rows (babysit/baseline_check.py,
    # docs/babysitter.md); measured once at the end of a babysat run (train/fit.py), outside the monitor's rules
    FindingSpec(
        "below_baseline", "end", "warning",
        measures="at the end of a babysat run, on up to 1000 validation rows as the model sees them: the "
                 "trained model's accuracy (class ids) or squared error (regression) against a logistic / ridge "
                 "regression on standardized features (first_layer's linear probe), fitted on up to 2000 of the "
                 "training rows, paired on the same rows",
        threshold="the model below the linear model by at least 3 points of accuracy, or with at least 1.25x "
                  "its squared error and an excess of at least 3 points of R^2 (0.03 x the targets' variance), "
                  "and a one-sided paired test (McNemar's exact test on the rows one gets right and the other "
                  "wrong; a Wilcoxon signed-rank test on the squared errors) at p < 1e-3; not judged under 50 "
                  "validation rows, nor where the run ended while its training loss still fell by 5 % or more "
                  "over its last 3 epochs (or it had fewer) and was not stopped early: too short to judge",
        source="Karpathy, 'A Recipe for Training Neural Networks' (2019): 'establish baselines', 'verify ... "
               "beat a dumb baseline'; first principles: a network can represent the linear model and saw the "
               "same rows; issue 11's kill rule (3 points, 25 %) for a material gap",
        fix="read the run's other findings for the cause; with none, look for what keeps the network below a "
            "linear model on its own inputs: a bug in the forward (a feature dropped, a wrong axis), the loss "
            "or the targets' encoding, a schedule or optimizer setting that stops learning early, too few "
            "epochs; overfit one batch, then train on the baseline's features to find the step that loses",
        groups=(Group.EPOCH_CURVES,),
        thresholds=("baseline_check.ROWS", "baseline_check.VAL_ROWS", "baseline_check.VAL_MIN",
                    "baseline_check.VARIANCE_DROP", "baseline_check.STALL_EPOCHS", "rules.STALLED",
                    "first_layer.MIN_DROP", "first_layer.LOSS_RATIO", "first_layer.ALPHA",
                    "first_layer.MAX_FEATURES"),
        plan=not_repairable,        # found after the run, and it names no setting
    ),
    # --- babysit65: how the forward uses the modules the user built (babysit/module_use.py, docs/babysitter.md)
    FindingSpec(
        "partly_used_module", "preflight", "warning",
        measures="on one training-mode forward and loss of the untrained model (doctor only), and again after every "
                 "parameter is moved by NUDGE of its RMS: the trainable tensors whose gradient is None or exactly "
                 "zero at both points, in a module the forward called with gradients enabled, where other tensors "
                 "of that module reach the loss (part of it used) or, for a model with one output tensor, none do "
                 "and its results get a None gradient (its result dropped); a module whose float inputs are all zero "
                 "(behind dead units) is not read; and how far the eval-mode output moves when those tensors move by NUDGE "
                 "and, where that moves it by at most cut_gradient.CHANGED, by REDRAW (cut_gradient.moved); and "
                 "the output units of a linear or convolution layer (module_use.unit_axis) whose output gradient is "
                 "exactly zero in every row and position at both points while other units are reached, and how far "
                 "the eval-mode output moves when their outputs are replaced by noise of the layer's output RMS "
                 "(module_use.units_moved, in the model and its nudged copy)",
        threshold="the output moves by at most SILENT of its RMS (it does not depend on them; where it does, "
                  "the graph cut is frozen_parameters'); a module the forward never called, or called under "
                  "torch.no_grad, and a model none of whose parameters reach the loss are quiet",
        source="notes 001: backpropagation is the chain rule through each gate, so a parameter trains only "
               "through a path to the loss; PyTorch nn.LSTM: h_n holds every layer's and direction's final "
               "state, h_n[-1] the top layer's (the reverse direction's where bidirectional)",
        fix="read the module's full output: the top layer's state (h_n[-1] of a stacked LSTM; both directions, "
            "torch.cat([h_n[-2], h_n[-1]], 1), of a bidirectional one), every step (not out[:, 0]), the variable the "
            "computed layer returned, the whole map (a global pool per channel, not x.flatten(1)[:, :k]); or build the "
            "module without the unused part (num_layers=1, bidirectional=False, no extra layer, fewer units)",
        explains=(Group.SLOW, "cannot_overfit_small_subset", "underfitting"),
        thresholds=("cut_gradient.NUDGE", "cut_gradient.REDRAW", "cut_gradient.REDRAWS", "module_use.SILENT"),
        plan=not_repairable,        # which layers the forward reads is the user's code
    ),
    FindingSpec(
        "shared_module", "preflight", "warning",
        measures="the model's named_modules(remove_duplicate=False): a module instance with trainable "
                 "parameters reachable under several names, and the times one eval-mode forward of two rows "
                 "calls it; graded by an intervention (the experiment's 'copies per layer' arm: the held loss and "
                 "accuracy after the experiment's steps of the setup against a copy of the model with each further "
                 "place of the instance given its own copy, same initial weights)",
        threshold="registered under >= 2 names and called >= 2 times in one forward (an alias called once, "
                  "weight tying between two distinct modules, and one module registered once and called in a "
                  "loop are quiet); a warning where the copies train significantly better (interventions.significant), "
                  "else info (sharing does not hurt this run)",
        source="Python's list repetition copies references ([layer] * n is n references to one object); "
               "PyTorch's named_modules(remove_duplicate=False); Press & Wolf 2017 for tying as a shared "
               "parameter between distinct modules",
        fix="build each layer anew (nn.ModuleList([make_layer() for _ in range(n)]) or copy.deepcopy(layer) per "
            "layer); to share on purpose, register the layer once and call it in a loop",
        explains=(Group.SLOW, "cannot_overfit_small_subset", "underfitting"),
        graded_by=("copies per layer",),
        thresholds=("interventions.NOISE_FACTOR", "interventions.SAMPLING_Z", "interventions.MIN_LIFT",
                    "interventions.MIN_GAIN", "interventions.KILL_RATIO", "interventions.MIN_POINTS"),
        plan=not_repairable,        # the layers' construction is the user's code
    ),
)}
PRIORITY = tuple(CODES)


def members(group: Group) -> tuple:
    """The codes in ``group``, in priority order."""
    return tuple(code for code, spec in CODES.items() if group in spec.groups)


def group_causes(group: Group) -> frozenset:
    """The members of ``group`` that cause its symptoms rather than show them: pre-flight codes whose
    own ``explains`` names one of the group's in-training members (``Group.SLOW``'s warmup that starts
    late, too few updates, a stop too soon, batch norm over tiny batches, a callback that resets the
    weights: each is a setting or a line of the user's code that slows learning, read before training)."""
    measured = {code for code in members(group) if CODES[code].phase != "preflight"}
    return frozenset(code for code in members(group) if CODES[code].phase == "preflight"
                     and _members_of(CODES[code].explains) & measured)


def _members_of(names) -> set:
    out = set()
    for name in names:
        out.update(members(name) if isinstance(name, Group) else (name,))
    return out


def _expand(names) -> set:
    """The codes ``names`` explains: a code itself, a group its symptoms (``group_causes`` left out: a
    low-rank score or vanishing gradients cannot have chosen the run's warmup or batch size; a record
    that explains such a cause names it directly)."""
    out = set()
    for name in names:
        out.update(set(members(name)) - group_causes(name) if isinstance(name, Group) else {name})
    return out


def _explained_by(field: str) -> dict:
    """code -> the codes whose ``field`` names it (directly or through a group), priority order."""
    explains = {code: _expand(getattr(spec, field)) for code, spec in CODES.items()}
    out = {}
    for code in CODES:
        causes = tuple(c for c in CODES if c != code and code in explains[c])
        if causes:
            out[code] = causes
    return out


# symptom -> the codes that explain it when both are found (Diagnosis.ranked puts it after them)
CAUSES = _explained_by("explains")
# a unit statistic measured during training -> what explains it then (it explains nothing itself)
TRAINING_SYMPTOMS = _explained_by("explains_in_training")
