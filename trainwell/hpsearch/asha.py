"""Asynchronous promotion (``eta``): the stages become rungs, and a configuration goes up a rung
as soon as it ranks among the best of its rung so far.

Asynchronous successive halving (ASHA, Li et al. 2020, Algorithm 2): the first stage draws
configurations and trains each for its few epochs (rung 0); whenever a worker is free it takes,
from the highest rung down, the best trial of rung ``k`` that ranks in the top
``floor(n_k / eta)`` of rung ``k``'s finished trials (``n_k``: finished or pruned) and that rung
``k + 1`` has not taken yet, and trains it at rung ``k + 1``'s epochs; only when no trial is due
does it draw a new configuration. A good configuration thus reaches a full run after a handful of
draws, not after the whole coarse stage (the synchronous stages wait for every coarse trial).
``eta`` is the rung's selectivity: one in ``eta`` of the finished trials goes up.

In a search with ``eta`` set, the first stage's ``trials`` is the number of configurations drawn;
a later stage's ``trials`` caps the promotions into it. A promotion re-evaluates the earlier
trial's configuration (its ``reevaluates``), continued from its paused run with ``promote =
"resume"`` (promotion.py) or trained from scratch with ``"retrain"``; which trials a rung has
taken is read from the storage under the ask lock (study.py), so parallel workers and a restarted
search never promote a configuration twice.
"""
from __future__ import annotations

from optuna.trial import FrozenTrial, TrialState

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def promotion_due(rungs: list[list[FrozenTrial]], *, eta: int, maximize: bool,
                  caps: list[int]) -> tuple[int, FrozenTrial] | None:
    """``(k, trial)``: the trial of rung ``k`` to promote to rung ``k + 1`` now, or None.
    ``rungs``: each rung's trials (any state); ``caps[k]``: the most promotions rung ``k`` takes
    (``caps[0]`` is unused: rung 0 draws)."""
    for k in reversed(range(len(rungs) - 1)):
        above = rungs[k + 1]
        taken = {t.user_attrs["reevaluates"] for t in above if "reevaluates" in t.user_attrs}
        if len(taken) >= caps[k + 1]:
            continue
        finished = [t for t in rungs[k] if t.state in FINISHED]
        top = ranked_values(finished, maximize)[:len(finished) // eta]
        for t in top:
            if t.number not in taken:
                return k, t
    return None


def ranked_values(trials: list[FrozenTrial], maximize: bool) -> list[FrozenTrial]:
    """The completed trials among ``trials``, best first (a pruned trial ranks below them all; it
    counts in the rung's size all the same). Ties: the earlier trial first."""
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    return sorted(done, key=lambda t: (-t.value if maximize else t.value, t.number))
