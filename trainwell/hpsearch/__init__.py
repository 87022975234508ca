"""Hyperparameter search on Optuna (``trainwell.search``; the package is ``hpsearch`` so that the
function does not shadow it), by the notes' method (docs/search.md).

``trainwell.search(model, data, space=..., search={...}, **fit_options)`` and ``trainwell search
CONFIG.toml``: random search in log space, coarse to fine with narrowing and edge-widening, the
3x-first-loss abort, k-fold cross-validation, worker processes and any Optuna storage.
"""
