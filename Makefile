# mlscope: two set-up commands, `make demo` and `make test` (see README).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages the tests and the demo use: Graphviz's `dot` for diagrams, Chromium for the
# report's browser test and PDF, wrk for the serving load benchmark, openssh-client's ssh-keygen
# for signed release approvals.
SYSTEM_PACKAGES := graphviz chromium wrk fonts-dejavu-core openssh-client

.PHONY: demo test lint typecheck unit system-deps bench clean lock

# Install exactly what was tested: every package at the version requirements.lock pins, with
# no dependency resolution (an upstream release cannot change CI), by uv (seconds, where pip
# took minutes), then mlscope itself. recbole (MovieLens-100k in its wheel) is in the lock
# without its torch: mlscope never imports it. tests/test_packaging.py checks the lock against
# pyproject.toml and against the installed environment.
UV_VERSION := $(shell grep -i '^uv==' requirements.lock | cut -d= -f3)
$(STAMP): pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install -q "uv==$(UV_VERSION)"
	$(VENV)/bin/uv pip sync -q --python $(PY) requirements.lock
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Re-resolve every extra into requirements.lock after changing pyproject.toml; commit both.
# pip's resolver decides (uv's picked an Airflow whose FastAPI/pydantic pins break at run
# time); uv only installs.
LOCKENV := build/lockenv
lock:
	rm -rf $(LOCKENV) && python3 -m venv $(LOCKENV)
	$(LOCKENV)/bin/python -m pip install -q --upgrade pip
	$(LOCKENV)/bin/python -m pip install -q -e '.[all,test]'
	$(LOCKENV)/bin/python -m pip install -q --no-deps 'recbole>=1.2'
	$(LOCKENV)/bin/python -m pip freeze --all --exclude-editable | grep -iv '^mlscope' \
		| sort -f > requirements.lock
	rm -rf $(LOCKENV)

system-deps:
	@if command -v dot >/dev/null && command -v chromium >/dev/null && command -v wrk >/dev/null && command -v ssh-keygen >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	else echo "Missing system packages; run: sudo apt-get install -y $(SYSTEM_PACKAGES)"; exit 2; fi

# The main job: the sponsor report for the bundled recommender (summary table + report path).
demo: $(STAMP) system-deps
	$(VENV)/bin/mlscope report examples/recommender/mlscope.yaml -o build/report

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks tools examples

typecheck: $(STAMP)
	$(PY) -m mypy

unit: $(STAMP) system-deps
	$(PY) -m pytest

test: lint typecheck unit

bench: $(STAMP) system-deps
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
