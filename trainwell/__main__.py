"""``python -m trainwell``: the command line, as the ``trainwell`` script runs it."""
import sys

from trainwell.cli import main

sys.exit(main())
