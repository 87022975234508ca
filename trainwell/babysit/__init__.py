"""The babysitter: pre-flight checks (preflight.py), in-training monitor and rules (monitor.py,
rules.py), repairs (repair.py), the lr finder (lr_find.py) and ``doctor`` (doctor.py).

Functions named like their module (``preflight``, ``lr_find``, ``doctor``) are imported from the
module (``from trainwell.babysit.preflight import preflight``) or used as ``trainwell.doctor`` /
``trainwell.lr_find``, so the module names stay importable.
"""
from trainwell.babysit.findings import Diagnosis, Finding
from trainwell.babysit.monitor import Monitor
from trainwell.babysit.registry import CODES
from trainwell.babysit.rules import RULES

__all__ = ["CODES", "Diagnosis", "Finding", "Monitor", "RULES"]
