# crash_at (a callback that stands for a process dying mid-run) lives in tests/conftest.py:
# the geometry tests use it too.
