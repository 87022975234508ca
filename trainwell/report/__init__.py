"""Run reports: plots (one function per figure) and a self-contained report.html."""
from trainwell.report.html import read_run, write_report
from trainwell.train.metrics import read_metrics

__all__ = ["write_report", "read_metrics", "read_run"]
