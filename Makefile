# The one entry point for people and CI. Every target installs what it needs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STEWARD := $(VENV)/bin/steward
STAMP := $(VENV)/.installed-stamp
DEMO_HOME ?= .steward-demo
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install test lint demo bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	# The CPU build on disk first: an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: $(STAMP) lint
	$(PY) -m pytest

demo: $(STAMP)
	@rm -rf $(DEMO_HOME)
	@echo "== Ingest the ENS DAO's 129 proposals from the shipped archive (no network, no keys)"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) ingest --from-file config/demo/ens-proposals.jsonl
	@echo "== Again: nothing changed, so nothing is embedded"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) ingest --from-file config/demo/ens-proposals.jsonl --json
	@echo "== Search by meaning"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) search "fund public goods and open source work" --limit 3
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) search "who controls the treasury multisig" --limit 3
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) search "renewal fees and pricing of .eth names" --limit 3 --json
	@echo "== One proposal"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) show ens.eth:ep1.5 | head -30
	@echo "== What is stored"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) status
	@echo "== Analyse every proposal against the ENS constitution (offline analyst: no model, no keys)"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) analyze --pending --policy config/policies/ens-constitution.md > $(DEMO_HOME)/analysis.txt
	@tail -n 25 $(DEMO_HOME)/analysis.txt
	@echo "== One assessment in full"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) analyze ens.eth:ep1.5
	@echo "== The digest: terminal, Markdown and HTML"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) digest --since 30d | head -n 40
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) digest --since 30d --format md --out $(DEMO_HOME)/digest.md
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) digest --since 30d --format html --out $(DEMO_HOME)/digest.html
	@echo "Open $(DEMO_HOME)/digest.html in a browser."

bench: $(STAMP)
	$(PY) bench/ingest_bench.py --out bench/results/latest.json

clean:
	rm -rf $(DEMO_HOME) .pytest_cache .ruff_cache
