"""The update/weight ratio scale: the thresholds the in-training rules judge and the repairs aim at.

The ratio is ||lr-scaled update|| / ||w|| of a layer over one step (notes 001: "track ratio of
weight updates / weight magnitudes"; CS231n: about 1e-3 is healthy). The rules (rules.py) flag
ratios far from it and the repair planners (plans.py) size their lr changes by it, so both read
the numbers here.
"""
from __future__ import annotations

HEALTHY_RATIO = 1e-3     # notes 001 / CS231n: updates about 1e-3 of the weights per step
SLOW_RATIO = 1e-4        # lr_too_low: median ratio 10x below the healthy 1e-3
RATIO_LOW = 1e-5         # update_ratio_low: two decades below the healthy 1e-3
RATIO_HIGH = 3e-2        # notes 001: "0.01 is probably too high"; healthy Adam starts near 1e-2
EXTREME_RATIO = 0.3      # 10x RATIO_HIGH: flagged even while the loss still falls
STEP_REPLACES = 1.0      # one sampled step moved a layer farther than its own norm
# lr x weight_decay is the share of its norm the decay alone takes off a layer in one step; at
# 1e-2 it is 10x a whole healthy update (notes 004: too much regularization underfits)
STRONG_DECAY = 1e-2
