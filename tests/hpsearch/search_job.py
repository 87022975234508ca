"""Searches in a process of their own (the ``forked`` fixture of tests/conftest.py), for the tests
of tests/hpsearch that kill one (test_study, test_asha) or read its ``sys.modules`` (test_study).

``main(argv, err)``: the command's own ``trainwell.cli.main(argv)``, its status the exit status;
stdout goes to /dev/null and stderr to the file ``err`` (the test prints it if the search ended
before its kill).

``report_imports(prefixes, space, study_dir, out, err)``: worker 0's preload (``preload``,
``_preload_report``), then a 3-trial search that draws report.html; writes to ``out`` (JSON) the
modules named by ``prefixes`` that were loaded before the preload (``at_start``: the forked
server's own imports, which the test needs empty, else it could not see them imported late) and
those the search loaded after it (``late``); stderr as ``main``'s.
"""
import json
import os
import sys
from pathlib import Path

from trainwell.cli import main as cli_main


def _output_to(err):
    """stdout to /dev/null, stderr to the file ``err``."""
    for fd, path, flags in ((1, os.devnull, os.O_WRONLY), (2, err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        target = os.open(path, flags, 0o644)
        os.dup2(target, fd)
        os.close(target)


def main(argv, err):
    _output_to(err)
    sys.exit(cli_main(argv))


def report_imports(prefixes, space, study_dir, out, err):
    _output_to(err)
    import trainwell
    import trainwell.hpsearch.study as study

    def named():
        return {m for m in sys.modules if m.startswith(tuple(prefixes))}

    at_start = named()
    study.preload()
    study._preload_report()
    seen = set(sys.modules)
    trainwell.search({"type": "mlp", "widths": [8]}, "digits", space=space, progress=False,
                     search={"dir": study_dir, "pruner": "none", "trials": 3, "stages": [{"trials": 3}]},
                     device="cpu", epochs=1, babysit="off")
    late = sorted(named() - seen)
    Path(out).write_text(json.dumps({"at_start": sorted(at_start), "late": late}))
