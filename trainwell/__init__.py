"""trainwell: train deep networks well, and be told when training goes wrong.

Three levels of use: ``trainwell.fit(model, data, **options)``; a ``Trainer`` with callbacks or
your own step; and the building blocks (optimizers, schedules, penalties) in your own loop.
"""
from trainwell.babysit.doctor import doctor
from trainwell.babysit.lr_find import lr_find
from trainwell.config import Config
from trainwell.ensembles.distill import distill
from trainwell.ensembles.methods import ensemble
from trainwell.errors import CheckpointError, ConfigError, DataError, TrainwellError
from trainwell.geometry.connect import connect
from trainwell.geometry.run_landscape import landscape
from trainwell.geometry.run_sharpness import sharpness
from trainwell.geometry.run_visualize import visualize
from trainwell.nn.init import init
from trainwell.hpsearch.api import search
from trainwell.train.callbacks import Callback, EarlyStopping
from trainwell.train.fit import fit
from trainwell.train.loop import StepParts, Trainer
from trainwell.train.precision import Precision
from trainwell.train.run import Run, load_run
from trainwell.train.state import Stop, StopKind, TrainState

__all__ = [
    "fit", "doctor", "lr_find", "load_run", "Run", "Trainer", "StepParts", "TrainState", "Stop",
    "StopKind", "Callback", "EarlyStopping", "Config", "init", "TrainwellError", "ConfigError",
    "DataError", "CheckpointError",
    "ensemble", "distill", "search", "landscape", "sharpness", "connect", "visualize",
    "Precision",
]
__version__ = "0.1.0"
