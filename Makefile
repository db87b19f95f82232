# The two commands a newcomer runs are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Python 3.12+ (Panel 1.10 needs it): the first of these that runs.
PYTHON ?= $(shell for p in python3.13 python3.12 $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/bin/python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done)

.PHONY: demo test install consumers lint bench clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3.12 not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[all,test]' -e extensions/annotation-kit-webvtt \
		-e extensions/annotation-kit-jupyter

# builds the demo workspace if needed, then serves its dashboards until Ctrl+C
demo: install
	$(BIN)/annotation-kit demo
	$(BIN)/annotation-kit serve --url sqlite:///$(CURDIR)/demo-workspace/workspace.db

# the programs that load our exports (lerobot 0.6.1/0.4.4/0.3.3, robomimic, lerobot-doctor):
# built once per machine under ~/.cache/lerobot-oracles, a no-op afterwards
consumers:
	bash tests/consumers/build.sh

test: install consumers
	$(BIN)/ruff check annotation_kit tests bench tools
	$(BIN)/ruff format --check annotation_kit tests bench tools
	$(BIN)/basedpyright --pythonpath $(BIN)/python
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check annotation_kit tests bench tools
	$(BIN)/ruff format --check annotation_kit tests bench tools
	$(BIN)/basedpyright --pythonpath $(BIN)/python

bench: install consumers
	$(BIN)/python bench/store.py
	$(BIN)/python bench/data.py
	$(BIN)/python bench/board_ui.py
	$(BIN)/python bench/annotator_ui.py
	$(BIN)/python bench/served_save.py
	$(BIN)/python bench/served_load.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/export_language.py
	$(BIN)/python bench/login_flood.py
	$(BIN)/python bench/video.py
	$(BIN)/python bench/jobs.py
	$(BIN)/python bench/analytics.py
	$(BIN)/python bench/task_statistics.py

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .hypothesis
