# The two commands of the README. Each installs what it needs first (scripts/bootstrap.sh).
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint screenshots

demo:
	@scripts/bootstrap.sh demo
	$(PY) -m servicepoint demo

test:
	@scripts/bootstrap.sh test
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q -n 2 --dist loadgroup

lint:
	$(PY) -m ruff check .
	$(PY) -m mypy
