# Two commands run everything: `make demo` and `make test`. Each builds the venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/trainwell demo

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist worksteal -q -m "not slow"

# The slow cases (marked `slow`: fresh interpreters, long convergence runs, a load test); CI runs them after `make test`.
test-slow: $(STAMP)
	$(PY) -m pytest -n 2 --dist worksteal -q -m slow

# Benchmarks run in their own venv: Lightning and skorch are installed only for comparison.
BENCH := .venv-bench
$(BENCH)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install -q --upgrade pip
	$(BENCH)/bin/python -m pip install -q -e . "lightning>=2.4" "skorch>=1.0"
	touch $(BENCH)/.installed

bench: $(BENCH)/.installed
	$(BENCH)/bin/python bench/bench_fit.py
	$(BENCH)/bin/python bench/bench_defaults.py
	$(BENCH)/bin/python bench/bench_augment.py
	$(BENCH)/bin/python bench/bench_sam.py
	$(BENCH)/bin/python bench/babysit_suite.py

clean:
	rm -rf $(VENV) $(BENCH) runs .pytest_cache
