# Each target sets up .venv/ first (idempotent; the first run compiles mmcv, ~15 min on 2 cores).
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_OUT ?= outputs/demo

.PHONY: setup test demo
setup:
	bash tools/setup_env.sh

# Prints the set-up's time, then pytest's 30 slowest tests and its own time in its closing line. Two workers
# (pytest-xdist), one per core, one CPU thread each (tests/conftest.py), handed one test at a time in the suite's order
# (slow tests first), except modules marked xdist_group, which one worker runs whole (their fixtures train once).
test:
	@start=$$(date +%s); bash tools/setup_env.sh && \
	echo "make test: set-up took $$(( $$(date +%s) - start )) s; the tests' time is pytest's last line" && \
	$(PY) -m pytest tests -n 2 --dist loadgroup --no-loadscope-reorder --durations=30

demo: setup
	$(VENV)/bin/rhis demo --out $(DEMO_OUT)
