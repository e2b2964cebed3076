# Set-up and the everyday commands. `make demo` and `make test` are the README's quick start.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

ASSIGNMENTS := optimizers init conv cross_entropy mixup weight_decay dropout normalization

.PHONY: setup demo demo-all test lint clean

# torch==2.13.0 (CPU) first: pyproject's range admits it, so installing the project adds no other torch.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test,dask]'
	touch $@

# The sandboxed workers' interpreter: a venv of the system's Python, whose files any uid can read
# (the default Python here lives under /root, which the workers' unprivileged uid cannot enter).
# Without /usr/bin/python3.11 the grader still works, with fewer protections (it says which).
WORKER_VENV ?= .venv-worker
$(WORKER_VENV)/.installed: pyproject.toml
	if [ -x /usr/bin/python3.11 ]; then \
	    /usr/bin/python3.11 -m venv $(WORKER_VENV) && \
	    $(WORKER_VENV)/bin/python -m pip install --quiet torch==2.13.0 && \
	    $(WORKER_VENV)/bin/python -m pip install --quiet numpy scipy; \
	else echo "no /usr/bin/python3.11: workers will run without namespaces"; mkdir -p $(WORKER_VENV); fi
	touch $@

setup: $(VENV)/.installed $(WORKER_VENV)/.installed

demo: setup
	$(VENV)/bin/grader grade optimizers examples/optimizers/*.py --out grades/optimizers

demo-all: setup
	for a in $(ASSIGNMENTS); do $(VENV)/bin/grader grade $$a examples/$$a/*.py --out grades/$$a || exit 1; done
	$(VENV)/bin/grader export course $(addprefix grades/,$(ASSIGNMENTS)) --out grades/course

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check grader tests assignments reference student_template benchmarks tools

clean:
	rm -rf $(VENV) $(WORKER_VENV) grades build *.egg-info
