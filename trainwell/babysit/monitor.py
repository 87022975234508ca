"""The live monitor: a callback that samples training statistics and runs the rules.

On a sampled step it snapshots the weight matrices before the optimizer step
(``on_before_step``), and after it (``on_after_step``, gradients still populated) reads the
loss, per-layer gradient norms, weight norms and update/weight ratios (and a lookup table's weight
norm over the rows the batch read: probes.touched_row_norms) in one host sync; every
``activation_every``-th sample it also records activation statistics during that step's forward
pass. At each epoch end the epoch-level rules run on the history the trainer already synced (the
rules that read only samples run again only when new samples arrived). Findings are
deduplicated by (code, where) into ``self.findings`` and ``state.extras["babysit"]``; one whose
record says ``stops_run`` (``nonfinite_loss``) sets ``state.stop``. When each rule runs comes from
its record (``registry.CODES[code].runs``). It never raises: a failing probe is recorded once in
``self.errors`` and monitoring carries on.

``every=None`` samples by step count: step 1 (it gives the initial loss), then every
``cost.sampling_period`` steps, the period that keeps the monitor's modelled work under
``overhead`` (2%) of a step's (babysit/cost.py: counted from the forward pass's shapes on the first
step, with per-device constants). No clock enters the schedule, so a run samples the same steps on
a quiet and on a loaded machine. The second sample comes by the first epoch's last step. The
monitor still times its own work (``overhead``) for the benchmarks.

Under DDP (``use_distributed``) every rank runs a monitor and they sample the same steps: on a
sampled step each rank adds up its shard (the loss x rows, the inputs' sums, the activations'
``probes.activation_sums``, and on the first sample the counted work, so the period is the same
on every rank) and one all-reduce of one flat tensor gives every rank the job's values, the ones
one process computes on the whole global batch. Gradient norms, weights and update ratios are
already the same on every rank after DDP's gradient average. Rank 0's monitor alone runs the
rules (its findings, stops and the repairer's decisions reach the other ranks at the checks,
train/journal.py); the others' schedule follows rank 0's there (``schedule`` / ``follow``: a
repair's ``reset_trajectory`` moves it on rank 0).

``state_dict`` / ``load_state_dict``: the samples, findings, schedule and references (initial loss,
largest lr, counted work) go into every checkpoint (train/loop.py checkpoints a callback's
``state_dict``), so a resumed run samples the same steps and judges the same samples as the run
that never stopped (the timings are not carried: they measure this process).
"""
from __future__ import annotations

import dataclasses
import math
import time

import torch

from trainwell.babysit.cost import StepWork, count_forward, sampling_period
from trainwell.babysit.findings import Diagnosis, Finding, make
from trainwell.babysit.plans import LR_STEP
from trainwell.babysit.init_checks import check_activations, has_normalization
from trainwell.babysit.probes import (ActivationRecorder, UpdateProbe, gradient_norms, input_std, layer_stats,
                                      lookup_tables, touched_row_norms, weight_parameters)
from trainwell.babysit.registry import CODES, Runs
from trainwell.babysit.rules import BARELY, DIVERGENCE_FACTOR, RULES, evaluate
from trainwell.errors import ConfigError
from trainwell.optim.factory import group_weight_decay
from trainwell.optim.registry import optimizer_info
from trainwell.train.state import Stop, StopKind

# The codes that stop the run when found (their records' ``stops_run``).
STOPS_RUN = tuple(code for code, spec in CODES.items() if spec.stops_run)
# Checked at once on a sample whose loss is non-finite or above the initial loss (a diverging
# run stops or is repaired at that step); the full rule set runs once per epoch at
# on_validation_end on the samples gathered so far, so no problem waits more than one epoch.
PER_SAMPLE_RULES = tuple(code for code in RULES if CODES[code].runs is Runs.PER_SAMPLE)
# Rules that read only the samples (and ctx values fixed by them): with no new sample since the
# last epoch end their answer cannot change, so the epoch end skips them
# (tests/babysit/test_monitor.py checks they ignore the history).
SAMPLE_ONLY_RULES = tuple(code for code in RULES if CODES[code].runs is Runs.SAMPLES_ONLY)
EPOCH_RULES = tuple(code for code in RULES if code not in SAMPLE_ONLY_RULES)
RULE_ORDER = {name: i for i, name in enumerate(RULES)}   # each rule reports its own code
MAX_EVERY = 1000              # the period never exceeds 1000 steps
RECENT_SAMPLES = 5            # a unit symptom's loss test reads the median of the last 5 sampled losses
# Unit statistics measured during training that are facts of every healthy run at some rate (CS231n:
# "as much as 40% of your network can be dead"): a warning only with evidence that they hurt.
# Large activations are one too: a net that fits grows its weights and with them its activations
# (cross-entropy keeps pushing the margins up), so only non-finite ones are an error by themselves.
UNIT_SYMPTOMS = {"dead_units": "dead", "vanishing_activations": "std", "saturated_units": "saturated",
                 "exploding_activations": "std"}
WORSENED = 0.1                # dead / saturated: a tenth more of the layer than at the earliest record kept ...
SHRUNK = 0.5                  # vanishing: the layer's std below half of its std at the earliest record kept
# exploding: the layer's std above 100x its std at the earliest record kept. A ReLU net is positively
# homogeneous in each layer's weights, so its activations grow as the product of its layers' weight
# growth: a fit that doubles the weights of three or four layers multiplies them by ~10 (cross-entropy
# grows the margins as long as it trains). A hundredfold is a decade beyond what fitting explains.
GROWN = 100.0
WORK_COUNTS = ("macs", "elements", "calls")   # cost.count_forward's counts, averaged over the ranks


class Monitor:
    """Duck-typed trainer callback (see trainwell.train.callbacks.HOOKS)."""

    def __init__(self, *, every: int | None = None, overhead: float = 0.02, activation_every: int = 4,
                 rules=None, stop_on=STOPS_RUN, max_samples: int = 10_000):
        if every is not None and (not isinstance(every, int) or every < 1):
            raise ConfigError(f"Monitor every = {every!r}: must be a positive integer or None (auto)")
        if not 0 < overhead < 1:
            raise ConfigError(f"Monitor overhead = {overhead!r}: must be in (0, 1)")
        unknown = set(rules or ()) - set(RULES)
        if unknown:
            raise ConfigError(f"Monitor rules: unknown {sorted(unknown)}; allowed: {', '.join(RULES)}")
        self.fixed_every = every
        self.every = every or 1
        self.overhead_target = overhead
        self.activation_every = activation_every
        self.rules = rules
        self.stop_on = tuple(stop_on)
        self.max_samples = max_samples
        self.samples: list[dict] = []
        self.activations: list[dict] = []       # {"step", "layers": {...}} for reports: the last max_samples
        self._recorded = 0            # activation records taken (monotonic: the list is capped)
        self.diagnosis = Diagnosis()
        self.errors: list[str] = []
        self.monitor_seconds = 0.0
        self.train_seconds = 0.0
        self._first_tick = None
        self._steps_seen = 0
        self._sampled = 0             # samples taken (monotonic: reset_trajectory clears self.samples)
        self._evaluated = -1          # self._sampled when the sample-only rules last ran
        self._epoch_seconds = 0.0     # monitor seconds spent at epoch ends
        self._counting = None         # (counts, remove) of the forward hooks counting the step's work
        self.work: StepWork | None = None   # the step's work, counted on the first sampled step
        self._next = 1
        self._names, self._params, self._probe = [], [], None
        self._lookups = []            # positions in _params of lookup tables (probes.lookup_tables)
        self._activation_recorder = None  # one per fit: it learns how to record this model cheaply
        self._recorder = None             # the activation recorder while a sampled step runs
        self._max_lr = 0.0
        self._initial_loss = None
        self._first_sample = None         # the fit's first sample: the gradient at the initial weights
        self._second_order = False
        self._dist = None                 # DDP: the job's Distributed record (use_distributed)
        self._resets = 0                  # reset_trajectory calls (rank 0's, followed elsewhere)
        self._resumed = False             # load_state_dict ran: on_fit_start continues its schedule

    # ------------------------------------------------------------------ public results
    @property
    def findings(self) -> list:
        return self.diagnosis.findings

    @property
    def overhead(self) -> float:
        """The monitor's share of the wall time from its first hook call to its last."""
        total = self.train_seconds
        return self.monitor_seconds / total if total > 0 else 0.0

    @property
    def initial_loss(self) -> float | None:
        """The first finite sampled loss (the rules' reference), None before it."""
        return self._initial_loss

    # ------------------------------------------------------------------ under DDP
    def use_distributed(self, d) -> None:
        """Watch as rank ``d.rank`` of a data-parallel job (train/distributed.py's
        ``Distributed``): sampled statistics are all-reduced; only rank 0 judges them."""
        self._dist = d

    @property
    def judges(self) -> bool:
        """Whether this monitor runs the rules: on one process, or rank 0 of a job."""
        return self._dist is None or self._dist.is_main

    def schedule(self) -> dict:
        """Where the sampling stands (rank 0's, sent to the other ranks at a check)."""
        return {"next": self._next, "every": self.every, "sampled": self._sampled, "resets": self._resets}

    def follow(self, schedule: dict) -> None:
        """Take rank 0's ``schedule``: the same steps sampled on every rank."""
        self._next, self.every, self._sampled = schedule["next"], schedule["every"], schedule["sampled"]
        if schedule["resets"] != self._resets:     # rank 0 judges afresh: so do the samples here
            self._resets, self.samples = schedule["resets"], []

    # ------------------------------------------------------------------ for the repairer
    def reset_trajectory(self, step: int) -> list:
        """Judge the run afresh from ``step`` on (after a rollback or a change of the model): the
        samples restart, the next step is sampled, and the findings so far are taken out of the
        diagnosis and returned (so the same code can be reported again). The initial loss, the
        largest lr seen and the fit's first sample (``rules.gated_at_init`` reads it) are kept."""
        abandoned, self.diagnosis.findings = self.diagnosis.findings, []
        self.samples = []
        self._resets += 1
        self._next = step + 1
        return abandoned

    def withdraw(self, findings) -> None:
        """Take ``findings`` out of the diagnosis: they can be reported again later."""
        self.diagnosis.findings = [f for f in self.diagnosis.findings if f not in findings]

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """What a resumed run needs to sample and judge as the uninterrupted run: JSON values
        (the samples' floats as they are, NaN included; train/checkpoint.py keeps them exactly)."""
        return {"samples": self.samples, "activations": self.activations,
                "findings": [finding_state(f) for f in self.findings], "errors": self.errors,
                "every": self.every, "next": self._next, "sampled": self._sampled, "evaluated": self._evaluated,
                "recorded": self._recorded, "resets": self._resets, "steps_seen": self._steps_seen,
                "max_lr": self._max_lr,
                "initial_loss": self._initial_loss, "first_sample": self._first_sample,
                "work": None if self.work is None else dataclasses.asdict(self.work)}

    def load_state_dict(self, saved: dict) -> None:
        """Continue from ``state_dict()``'s values (read before ``on_fit_start`` of a resumed run)."""
        self.samples, self.activations = list(saved["samples"]), list(saved["activations"])
        self.diagnosis = Diagnosis([finding_from_state(f) for f in saved["findings"]])
        self.errors = list(saved["errors"])
        self.every, self._next, self._sampled = saved["every"], saved["next"], saved["sampled"]
        self._evaluated, self._resets, self._steps_seen = saved["evaluated"], saved["resets"], saved["steps_seen"]
        self._max_lr, self._initial_loss = saved["max_lr"], saved["initial_loss"]
        # older checkpoints kept none: {} (not None), so no later sample, taken mid-run, is read as the first
        self._first_sample = saved.get("first_sample", {})
        self._recorded = saved.get("recorded", len(self.activations))   # older checkpoints: uncapped
        self.work = None if saved["work"] is None else StepWork(**saved["work"])
        self._resumed = True

    # ------------------------------------------------------------------ hooks
    def on_fit_start(self, state):
        t0 = time.perf_counter()
        try:
            # layers a parameter group holds still on purpose (lr_mult 0: frozen for fine-tuning)
            # have no update to judge
            optimizer = getattr(state, "optimizer", None)
            groups = getattr(optimizer, "param_groups", None) or ()
            held = {id(p) for g in groups if g.get("lr_mult", 1.0) == 0 for p in g["params"]}
            # (quasi-)Newton steps are sized by curvature, not by a small lr: the notes' ~1e-3
            # update/weight ratio (a first-order rule of thumb) does not apply to them
            info = optimizer_info(optimizer) if optimizer is not None else None
            self._second_order = info is not None and info.second_order
            pairs = [(n, p) for n, p in weight_parameters(state.model) if id(p) not in held]
            self._names = [n for n, _ in pairs]
            self._params = [p for _, p in pairs]
            self._probe = UpdateProbe(self._params)
            self._lookups = lookup_tables(state.model, self._params)
            self._activation_recorder = ActivationRecorder(state.model, forward_only=True,
                                                           reducible=self._dist is not None)
            if not self._resumed:         # a resumed monitor keeps its checkpointed schedule
                self._next = state.step + 1
            self._resumed = False
        except Exception as exc:      # never raise into training
            self._error("on_fit_start", exc)
        self._tick(t0)

    def on_before_step(self, state):
        if state.step + 1 < self._next or self._probe is None:
            return                      # the unsampled path: one comparison
        t0 = time.perf_counter()
        try:
            if self.fixed_every is None and self.work is None and self._counting is None:
                self._counting = count_forward(state.model)
            self._probe.before()
            if (self.activation_every and self._sampled % self.activation_every == 0
                    and self._activation_recorder is not None):
                self._recorder = self._activation_recorder.start()
        except Exception as exc:
            self._error("on_before_step", exc)
        self._tick(t0)

    def on_after_step(self, state):
        self._steps_seen += 1
        if state.step < self._next or self._probe is None or not self._probe.pending:
            return
        t0 = time.perf_counter()
        try:
            self._sample(state)
        except Exception as exc:
            self._error("on_after_step", exc)
        finally:
            if self._recorder is not None:
                self._recorder.stop()
                self._recorder = None
        self._tick(t0)
        t0 = time.perf_counter()
        self._schedule(state)           # counted in the next sample's cost
        self._tick(t0)

    def on_validation_end(self, state):
        if not self.judges:
            return
        t0 = time.perf_counter()
        history = list(getattr(state, "history", [])) + ([state.metrics] if getattr(state, "metrics", None) else [])
        found = self._evaluate(state, history, EPOCH_RULES, hook="on_validation_end")
        self._epoch_seconds += self._tick(t0)
        if self._sampled != self._evaluated:
            t0 = time.perf_counter()        # run because samples arrived: counted as their cost
            self._evaluated = self._sampled
            found += self._evaluate(state, history, SAMPLE_ONLY_RULES, hook="on_validation_end")
            self._tick(t0)
        t0 = time.perf_counter()
        found += self._divergence_stop(state, found)
        for f in sorted(found, key=lambda f: RULE_ORDER.get(f.code, len(RULE_ORDER))):
            self._add(state, f)             # in RULES order, as one evaluation gives them
        self._epoch_seconds += self._tick(t0)

    def _divergence_stop(self, state, found) -> list:
        """The trainer's divergence check (notes 004: loss > 3x the initial, or NaN) stopped the run
        between two samples, on a window mean the rules never saw: report it as they would."""
        diverged = getattr(state, "diverged", None)
        codes = {f.code for f in [*self.findings, *found]}
        if not diverged or codes & {"nonfinite_loss", "loss_exploding"}:
            return []
        loss, initial, lr = diverged.get("loss"), diverged.get("initial_loss"), diverged.get("lr")
        evidence = {"loss": loss, "initial_loss": initial, "lr": lr, "step": diverged.get("step")}
        fix = f"lower lr from {lr:.3g} to about {lr / LR_STEP:.3g}, or clip gradients" if lr else None
        if loss is None or not math.isfinite(loss):
            return [make("nonfinite_loss", f"the training loss became {loss} by step {diverged.get('step')} and "
                         f"the trainer stopped the run (notes 004: NaN almost always means high lr)",
                         evidence=evidence, fix=fix)]
        return [make("loss_exploding", f"the training loss rose to {loss:.4g}, {loss / initial:.1f}x its initial "
                     f"{initial:.4g}, by step {diverged.get('step')}: the trainer stopped the run (notes 004: "
                     f"above {diverged.get('factor', DIVERGENCE_FACTOR):g}x, break out)",
                     evidence={**evidence, "ratio": loss / initial}, fix=fix)]

    def on_fit_end(self, state):
        if not self.judges:
            return
        t0 = time.perf_counter()
        for f in self._evaluate(state, list(getattr(state, "history", [])), None, final=True, hook="on_fit_end"):
            self._add(state, f)
        self._tick(t0)
        state.extras["babysit"] = self._summary()

    # ------------------------------------------------------------------ internals
    def _tick(self, t0) -> float:
        now = time.perf_counter()
        self.monitor_seconds += now - t0
        if self._first_tick is None:
            self._first_tick = t0
        self.train_seconds = now - self._first_tick
        return now - t0

    def _error(self, where, exc):
        message = f"{where}: {type(exc).__name__}: {exc}"
        if message not in self.errors:
            self.errors.append(message)

    def _sample(self, state):
        update, weight = self._probe.after()
        loss = state.loss.detach().float().reshape(()) if isinstance(state.loss, torch.Tensor) else \
            torch.tensor(float(state.loss))
        device = update.device
        # fp16: a step the GradScaler skipped (inf/NaN in the scaled gradient) changed nothing and
        # its gradient is not the model's: not a sample (train/precision.py)
        skipped = getattr(getattr(state, "precision", None), "skipped", None)
        skipped = [] if skipped is None else [skipped.to(device).float().reshape(1)]
        touched = touched_row_norms([self._params[i] for i in self._lookups]).to(device)
        local = torch.cat([loss.to(device).reshape(1), gradient_norms(self._params).to(device), update, weight,
                           touched, *skipped])
        xb = state.batch[0] if state.batch is not None else None
        job = self._job_values(state, xb, device) if self._dist is not None else None
        values = local.tolist() if job is None else torch.cat([local.double(), job.total]).tolist()
        if job is not None:
            values = job.read(values, local.numel())      # the job's loss in place of this rank's
        if skipped and values.pop() > 0:
            return
        k = len(self._params)
        loss_v = values[0]
        g, u, w = values[1:1 + k], values[1 + k:1 + 2 * k], values[1 + 2 * k:1 + 3 * k]
        touched = dict(zip((self._names[i] for i in self._lookups), values[1 + 3 * k:]))
        # whether the batch is finite matters only to explain a non-finite loss: checked then
        finite_batch = math.isfinite(loss_v) or (job.batch_finite() if job is not None else not (
            isinstance(xb, torch.Tensor) and xb.is_floating_point() and not bool(torch.isfinite(xb).all())))
        lr = float(getattr(state, "lr", 0.0) or state.optimizer.param_groups[0]["lr"])
        self._max_lr = max(self._max_lr, lr)
        if self._initial_loss is None and math.isfinite(loss_v):
            self._initial_loss = loss_v
        groups = getattr(getattr(state, "optimizer", None), "param_groups", None) or ()
        decay = max((group_weight_decay(g) for g in groups), default=0.0)
        sample = {"step": state.step, "epoch": state.epoch, "loss": loss_v, "lr": lr, "weight_decay": decay,
                  "batch_finite": finite_batch,
                  "grad_norm": dict(zip(self._names, g)), "weight_norm": dict(zip(self._names, w)),
                  "update_ratio": {n: (ui / wi if wi > 0 else None) for n, ui, wi in zip(self._names, u, w)},
                  "touched_weight_norm": touched}
        if len(self.samples) >= self.max_samples:
            del self.samples[0]
        self.samples.append(sample)
        if self._first_sample is None:
            self._first_sample = {"step": sample["step"], "grad_norm": sample["grad_norm"]}
        self._sampled += 1
        if self._recorder is not None:
            self._record_activations(state, xb, job)
        initial = self._initial_loss or 0.0
        if self.judges and (not math.isfinite(loss_v) or loss_v > initial):
            for f in self._evaluate(state, state.history, PER_SAMPLE_RULES):
                self._add(state, f)

    def _record_activations(self, state, xb, job) -> None:
        """The sampled step's activation record (the job's under DDP), kept for the reports and,
        where this monitor judges, checked for unit symptoms graded by ``grade_unit_symptom``."""
        recorder, self._recorder = self._recorder, None
        recorder.stop()
        self.monitor_seconds += recorder.seconds      # spent inside the forward pass
        if job is not None:
            layers, x_std = job.layers(), job.input_std()
        else:
            layers = recorder.stats()
            x_std = input_std(xb) if isinstance(xb, torch.Tensor) else 0.0
        if len(self.activations) >= self.max_samples:
            del self.activations[0]
        self.activations.append({"step": state.step, "layers": layers})
        self._recorded += 1
        if not self.judges:
            return
        # the first record (before any update) is the pre-flight's to judge: vanishing units
        # there are the init's; from the second on they are the training's
        for f in check_activations(layers, x_std, normalized=has_normalization(state.model)):
            if f.code != "vanishing_activations" or self._recorded > 1:
                self._add_unit_symptom(state, grade_unit_symptom(
                    f, layers, self.activations[0]["layers"] if len(self.activations) > 1 else None,
                    self._recent_loss(), self._initial_loss))

    def _job_values(self, state, xb, device) -> "_JobValues":
        """This rank's shard of the sampled step as sums, all-reduced over the ranks in one
        collective (``_JobValues`` reads them)."""
        job = _JobValues(self._dist.world)
        loss = state.loss.detach().double().reshape(()) if isinstance(state.loss, torch.Tensor) else \
            torch.tensor(float(state.loss), dtype=torch.float64)
        floating = isinstance(xb, torch.Tensor) and xb.is_floating_point()
        rows = float(xb.shape[0]) if isinstance(xb, torch.Tensor) and xb.ndim else 1.0
        nonfinite = (~torch.isfinite(xb)).sum().double() if floating else torch.zeros((), dtype=torch.float64)
        parts = [torch.stack([loss.to(device) * rows, torch.tensor(rows, dtype=torch.float64, device=device),
                              nonfinite.to(device)])]
        if self._recorder is not None:       # the activations and, to compare them, the inputs
            if floating:
                x = torch.nan_to_num(xb.detach().double(), nan=0.0, posinf=0.0, neginf=0.0)
                parts.append(torch.stack([torch.tensor(float(x.numel()), dtype=torch.float64, device=x.device),
                                          x.sum(), (x * x).sum()]).to(device))
            else:
                parts.append(torch.zeros(3, dtype=torch.float64, device=device))
            job.layout, flat = self._recorder.sums()
            parts.append(flat.to(device))
        if self._counting is not None:       # the first sample: the period from the ranks' mean work
            job.counts = self._counting[0]
            parts.append(torch.tensor([float(job.counts[k]) for k in WORK_COUNTS], dtype=torch.float64,
                                      device=device))
        job.total = self._dist.all_reduce_sum(torch.cat(parts))
        return job

    def _schedule(self, state):
        """The next sampled step: ``every`` steps on (``every=None``: the cost model's period,
        fixed once the first step's work is counted; the second sample comes by the first epoch's
        last step, not sooner: the first steps' large update ratios are no alarm)."""
        if self.fixed_every is None:
            first = self.work is None
            if first:
                counts, remove = self._counting or (dict.fromkeys(WORK_COUNTS, 0), lambda: None)
                remove()
                self._counting = None
                params = sum(p.numel() for p in state.model.parameters() if p.requires_grad)
                device = next((p.device.type for p in state.model.parameters()), "cpu")
                self.work = StepWork(counts["macs"], counts["elements"], counts["calls"], params,
                                     len(self._params), device)
            self.every = sampling_period(self.work, overhead=self.overhead_target,
                                         activation_every=self.activation_every, max_every=MAX_EVERY)
            if first and getattr(state, "steps_per_epoch", None):
                self.every = min(self.every, max(1, state.steps_per_epoch - 1))
        self._next = state.step + self.every

    def _evaluate(self, state, history, rules, *, final=False, hook="on_after_step") -> list:
        """The findings of ``rules`` (None: all) on the samples and ``history``; never raises."""
        if self.rules is not None:
            rules = [r for r in (self.rules if rules is None else rules) if r in self.rules]
        ctx = {"initial_loss": self._initial_loss or getattr(state, "initial_loss", None),
               "steps_per_epoch": getattr(state, "steps_per_epoch", None), "max_lr": self._max_lr,
               "final": final, "second_order": self._second_order, "first_sample": self._first_sample,
               "divergence_factor": getattr(getattr(state, "config", None), "divergence_factor", None)}
        try:
            return evaluate(self.samples, history, ctx, rules=rules)
        except Exception as exc:
            self._error(hook, exc)
            return []

    def _recent_loss(self) -> float | None:
        """The median of the last ``RECENT_SAMPLES`` sampled losses (one batch's loss is noisy)."""
        recent = [x["loss"] for x in self.samples[-RECENT_SAMPLES:] if math.isfinite(x["loss"])]
        return sorted(recent)[len(recent) // 2] if recent else None

    def _add_unit_symptom(self, state, finding):
        """Add a unit statistic measured in training; one found before as ``info`` (harmless then)
        becomes the warning when a later record shows it hurting (``grade_unit_symptom``)."""
        same = next((f for f in self.findings if f.key == finding.key), None)
        if same is not None and same.severity == "info" and finding.severity != "info":
            self.diagnosis.findings.remove(same)
        self._add(state, finding)

    def _add(self, state, finding):
        if not self.diagnosis.add(finding):
            return
        finding.evidence.setdefault("step", getattr(state, "step", None))
        finding.evidence.setdefault("epoch", getattr(state, "epoch", None))
        extras = getattr(state, "extras", None)
        if isinstance(extras, dict):
            extras.setdefault("babysit", {}).setdefault("findings", []).append(finding.to_dict())
        if finding.code in self.stop_on and getattr(state, "stop", None) is None:
            state.stop = Stop(StopKind.DIVERGED, f"babysitter: {finding.message}. Fix: {finding.fix}")

    def _summary(self) -> dict:
        return {"findings": [f.to_dict() for f in self.findings], "every": self.every,
                "samples": len(self.samples), "overhead": self.overhead, "errors": list(self.errors)}


def finding_state(finding) -> dict:
    """A finding as checkpointable values (``finding_from_state`` rebuilds it equal): its fields,
    the evidence's numbers as they are (NaN kept, unlike ``to_dict``'s JSON)."""
    return {"code": finding.code, "severity": finding.severity, "message": finding.message,
            "evidence": _plain(finding.evidence), "where": finding.where, "fix": finding.fix}


def finding_from_state(saved: dict) -> Finding:
    return Finding(**saved)


def _plain(value):
    """``value`` with containers copied and scalars of other types (0-d tensors, numpy) as Python ones."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return str(value)


class _JobValues:
    """A DDP job's values of one sampled step, from the ranks' sums (``Monitor._job_values``):
    ``total`` the all-reduced tensor, ``values`` its entries on the host (set by the caller after
    the one transfer). Its layout: [Σ loss x rows, rows, non-finite inputs], then with
    activations [input elements, Σx, Σx²] and the recorder's ``layout``, then on the first sample
    the work counts (``WORK_COUNTS``), which ``read`` replaces by their mean over the ranks."""

    def __init__(self, world: int):
        self.world = world
        self.layout: list | None = None
        self.counts: dict | None = None
        self.total: torch.Tensor | None = None
        self.values: list = []

    def read(self, values: list, local: int) -> list:
        """Take the job's values from ``values`` (this rank's ``local`` first entries, then the
        reduced ones); returns the local entries with the job's mean loss as the first."""
        self.values = values[local:]
        if self.counts is not None:
            mean = [v / self.world for v in self.values[len(self.values) - len(WORK_COUNTS):]]
            self.counts.update({k: int(round(v)) for k, v in zip(WORK_COUNTS, mean)})
        loss_rows, rows = self.values[0], self.values[1]
        return [loss_rows / rows if rows else math.nan, *values[1:local]]

    def batch_finite(self) -> bool:
        return self.values[2] == 0

    def input_std(self) -> float:
        n, s1, s2 = self.values[3:6]
        if n == 0:                            # inputs that are not floats (probes.input_std)
            return 0.0
        return math.sqrt(max(s2 - s1 * s1 / n, 0.0) / (n - 1)) if n > 1 else math.nan

    def layers(self) -> dict:
        end = len(self.values) - (len(WORK_COUNTS) if self.counts is not None else 0)
        return layer_stats(self.layout or [], self.values[6:end])


def grade_unit_symptom(finding: Finding, layers: dict, first: dict | None, loss: float | None,
                       initial_loss: float | None) -> Finding:
    """A unit statistic measured during training (``UNIT_SYMPTOMS``) stays a warning only with
    evidence that it hurts: the loss is not falling (the recent sampled losses' median less than
    ``rules.BARELY`` below the initial loss), or the symptom grew since the earliest activation
    record kept (``first``: a share of dead / saturated units ``WORSENED`` higher, a vanishing
    layer's std below ``SHRUNK`` of its own, an exploding one's above ``GROWN`` times its own).
    Otherwise it is ``info``: dead or quiet units at a rate the net trains with are normal, and so
    are activations that grow with the weights of a net that fits (notes 004, babysitting: the
    loss and the error are what to watch; the statistics diagnose them). Non-finite activations
    stay the error they were found as. ``first=None`` (the first record: the init's, nothing
    trained yet) leaves only the loss test, which then has nothing to compare and keeps it info."""
    key = UNIT_SYMPTOMS.get(finding.code)
    if key is None or finding.severity == "error":      # non-finite activations: an error as found
        return finding
    layer = finding.where
    now = (layers.get(layer) or {}).get(key)
    then = ((first or {}).get(layer) or {}).get(key)
    grew = None not in (now, then) and (
        now > then + WORSENED if key != "std" else
        now < SHRUNK * then if finding.code == "vanishing_activations" else
        not math.isfinite(now) or now > GROWN * then)
    stalled = (first is not None and loss is not None and bool(initial_loss) and initial_loss > 0
               and (not math.isfinite(loss) or (initial_loss - loss) / initial_loss < BARELY))
    finding.evidence["harm"] = {"grew": grew, "since": then, "now": now, "loss": loss, "initial_loss": initial_loss,
                                "stalled": stalled, "hurts": bool(grew or stalled)}
    if grew or stalled:
        finding.message += ("; the loss is not falling" if stalled else "") + (
            f"; {layer}'s {key} went from {then:.3g} to {now:.3g} since the earliest record" if grew else "")
        return finding
    finding.severity = "info"
    if first is None:
        finding.message += "; measured before any update: the pre-flight grades the init"
    elif finding.code == "exploding_activations":
        growth = f"{now / then:.3g}x" if then and now is not None else "by an unknown factor"
        falls = f" ({initial_loss:.3g} -> {loss:.3g})" if None not in (initial_loss, loss) else ""
        finding.message += (f"; the loss falls{falls} and {layer}'s std grew {growth} since the earliest record, "
                            f"under {GROWN:.0f}x: a net that fits grows its weights and with them its activations")
    else:
        finding.message += ("; the loss falls and it has not grown since the earliest record: a rate the net "
                            "trains with (CS231n: as much as 40% of a network can be dead)")
    return finding
