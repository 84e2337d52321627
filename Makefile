# Two commands for a newcomer: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements

.PHONY: venv demo test lint check bench-issuance bench-audit bench-api stop-demo

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@bash scripts/demo.sh

stop-demo:
	@bash scripts/demo.sh stop

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: $(STAMP)
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

bench-issuance: $(STAMP)
	$(PY) bench/issuance.py

bench-audit: $(STAMP)
	$(PY) bench/audit.py

bench-api: $(STAMP)
	$(PY) bench/api.py
