# Two commands on a fresh machine: `make demo` and `make test` (each builds .venv on first use).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install -q -e '.[test]'
	touch $@

$(VENV)/.demo: $(VENV)/.base
	$(PY) -m pip install -q -e '.[demo]'
	touch $@

demo: $(VENV)/.demo
	$(PY) examples/demo.py

test: $(VENV)/.test
	$(PY) -m pytest -n 2 tests

bench: $(VENV)/.test
	$(PY) -m benchmarks.report

clean:
	rm -rf $(VENV) build *.egg-info
