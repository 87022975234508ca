"""``python -m trainwell``: the command line, as the ``trainwell`` script runs it."""
import sys

from trainwell.cli import main

if __name__ == "__main__":      # importing this module (as the import tests do) runs nothing
    sys.exit(main())
