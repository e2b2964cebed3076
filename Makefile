# Set-up and the everyday commands. `make demo` and `make test` are the README's quick start.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

ASSIGNMENTS := optimizers init conv cross_entropy mixup weight_decay

.PHONY: setup demo demo-all test lint clean

# torch==2.13.0 (CPU) first: pyproject's range admits it, so installing the project adds no other torch.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/grader grade optimizers examples/optimizers/*.py --out grades/optimizers

demo-all: setup
	for a in $(ASSIGNMENTS); do $(VENV)/bin/grader grade $$a examples/$$a/*.py --out grades/$$a || exit 1; done

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check grader tests assignments reference student_template benchmarks

clean:
	rm -rf $(VENV) grades build *.egg-info
