# Each target sets up .venv/ first (idempotent; the first run compiles mmcv, ~15 min on 2 cores).
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_OUT ?= outputs/demo

.PHONY: setup test demo
setup:
	bash tools/setup_env.sh

test: setup
	$(PY) -m pytest tests --durations=30

demo: setup
	$(VENV)/bin/rhis demo --out $(DEMO_OUT)
