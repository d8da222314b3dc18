# The two commands of the README. Each installs what it needs first (scripts/bootstrap.sh).
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint screenshots bench

demo:
	@scripts/bootstrap.sh demo
	$(PY) -m servicepoint demo

test:
	@scripts/bootstrap.sh test
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports  # every import points down (contracts in pyproject.toml)
	$(PY) -m pytest -q -n 2 --dist loadgroup

lint:
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

# Benchmarks (not part of the two commands): each writes its figures to bench/results/<name>.txt.
# They take about 20 minutes in all; see BENCHMARKS.md. http_load needs wrk (installed here when
# missing); they need the test extras too (make test installs them).
BENCHES := ingest_throughput alert_latency http_load kiosk_startup kiosk_walk sensor_node

bench:
	@scripts/bootstrap.sh test
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get install -y wrk || \
		{ apt-get update && apt-get install -y wrk; }; else sudo apt-get install -y wrk || \
		{ sudo apt-get update && sudo apt-get install -y wrk; }; fi; }
	@mkdir -p bench/results
	@for b in $(BENCHES); do \
		echo "== bench/$$b.py (load: $$(cut -d' ' -f1-3 /proc/loadavg))"; \
		$(PY) bench/$$b.py > bench/results/$$b.txt 2>&1 || { echo "bench/$$b.py failed:"; \
			tail -20 bench/results/$$b.txt; exit 1; }; \
		grep -v -e '^WARNING' -e '^ERROR' bench/results/$$b.txt | tail -12; \
	done
	@$(PY) bench/summary.py | tee bench/results/summary.md  # one table: every issue-21 target
