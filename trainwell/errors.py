"""The errors trainwell raises for bad input. Each message names the key, file, row or value."""


class TrainwellError(Exception):
    """Base class: the CLI prints these as one line and exits with status 2."""


class ConfigError(TrainwellError, ValueError):
    """A configuration key or value is not allowed."""


class DataError(TrainwellError, ValueError):
    """Data cannot be read or does not have the expected form."""


class LabelError(DataError):
    """Class labels are not ids 0..K-1, one per sample (the doctor reports it as ``label_problem``)."""


class NonFiniteError(DataError):
    """A split holds NaN or inf values (the doctor reports it as ``nonfinite_data``)."""


class ModelError(TrainwellError, RuntimeError):
    """The user's model or loss code raised in a babysat run: the babysitter's ``model_raises``
    finding (type, message and the user's line) as the message, the original exception as its cause."""


class CheckpointError(TrainwellError):
    """A checkpoint is missing, corrupted, or would need unpickling."""
