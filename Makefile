# The one entry point for people and CI. Every target installs what it needs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STEWARD := $(VENV)/bin/steward
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := contracts/node_modules/.installed-stamp
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

# solc-js, OpenZeppelin and anvil (a real JSON-RPC node for the chain tests), exact versions.
$(NODE_STAMP): contracts/package-lock.json
	npm ci --prefix contracts --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

lint: $(STAMP) $(NODE_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	# The committed contract artifacts are exactly what the pinned compiler makes.
	node contracts/build.mjs --check

test: $(STAMP) $(NODE_STAMP) lint
	$(PY) -m pytest

demo: $(STAMP) $(NODE_STAMP)
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
	@echo "== Snapshot ingestion from a local hub on 127.0.0.1 (the test suite's stand-in for"
	@echo "   hub.snapshot.org), serving the real Yearn proposals with seeded votes"
	@rm -f $(DEMO_HOME)/hub.url; $(PY) -m tests.fakes.serve_hub --url-file $(DEMO_HOME)/hub.url & \
	  echo $$! > $(DEMO_HOME)/hub.pid; \
	  for i in $$(seq 100); do test -s $(DEMO_HOME)/hub.url && break; sleep 0.1; done; \
	  STEWARD_HOME=$(DEMO_HOME) STEWARD__SNAPSHOT__HUB_URL=$$(cat $(DEMO_HOME)/hub.url) \
	    $(STEWARD) ingest --space yearn; status=$$?; kill $$(cat $(DEMO_HOME)/hub.pid); exit $$status
	@echo "== Analyse the ENS proposals against the ENS constitution (offline analyst: no model, no keys)"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) analyze --pending --policy config/policies/ens-constitution.md > $(DEMO_HOME)/analysis-ens.txt
	@tail -n 12 $(DEMO_HOME)/analysis-ens.txt
	@echo "== One assessment in full"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) analyze ens.eth:ep1.5 --policy config/policies/ens-constitution.md
	@echo "== Analyse the Yearn proposals as a conservative treasury delegate"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) analyze --pending --space yearn --policy config/policies/conservative-treasury.yaml > $(DEMO_HOME)/analysis-yearn.txt
	@tail -n 12 $(DEMO_HOME)/analysis-yearn.txt
	@echo "== The digest of the last 30 days: terminal (Markdown), Markdown file, HTML file"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) digest --since 30d --policy config/policies/conservative-treasury.yaml | head -n 60
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) digest --since 30d --policy config/policies/conservative-treasury.yaml --format md --out $(DEMO_HOME)/digest.md
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) digest --since 30d --policy config/policies/conservative-treasury.yaml --format html --out $(DEMO_HOME)/digest.html
	@echo "Open $(DEMO_HOME)/digest.html in a browser."
	@echo "== What the Discord bot would post now (no token, no Discord)"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) bot --dry-run | head -n 40
	@echo "== What /ask would answer"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) ask "who controls the treasury multisig"
	@echo "== Backtest: real Aave delegates' on-chain votes (shipped subset), replayed in time order;"
	@echo "   the precedent analyst sees only what was known before each proposal opened"
	STEWARD_HOME=$(DEMO_HOME) STEWARD__CHUNKING__MAX_CHUNKS=2 $(STEWARD) ingest --from-file config/demo/aave-governor-proposals.jsonl --from-file config/demo/aave-governor-votes.jsonl
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) backtest --voter 0x80DC468671316E50D4E9023D3db38D3105c1C146 --analyst precedent --policy config/policies/conservative-treasury.yaml --limit 15 --format html --out $(DEMO_HOME)/backtest.html
	@echo "Open $(DEMO_HOME)/backtest.html in a browser."
	@echo "== On-chain governance: a local chain (anvil on 127.0.0.1) with an OpenZeppelin Governor,"
	@echo "   five proposals modelled on ENS executable proposals, with real treasury actions and votes"
	@bash tests/chain/demo.sh $(DEMO_HOME) $(STEWARD) $(PY)
	@echo "== Who decides: one delegate's voting record (real Aave votes, shipped subset) and an"
	@echo "   open Yearn vote that two voters decide (the digest warns)"
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) ingest --no-index --from-file config/demo/aave-governor-proposals.jsonl --from-file config/demo/aave-governor-votes.jsonl > /dev/null
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) delegate 0x80DC468671316E50D4E9023D3db38D3105c1C146 --space aave | head -n 16
	STEWARD_HOME=$(DEMO_HOME) $(STEWARD) digest --since 30d --space yearn | grep -m1 -B3 -A2 "Few voters decide"

bench: $(STAMP) $(NODE_STAMP)
	$(PY) bench/ingest_bench.py --out bench/results/latest.json
	$(PY) bench/retrieval_bench.py --out bench/results/retrieval.json
	$(PY) bench/offline_bench.py --out bench/results/offline.json
	$(PY) bench/analysis_bench.py --out bench/results/analysis.json
	$(PY) bench/chain_bench.py --out bench/results/chain_ingest.json
	$(PY) bench/who_decides_bench.py --out bench/results/who_decides.json
	$(PY) bench/backtest_bench.py --out bench/results/backtest.json

clean:
	rm -rf $(DEMO_HOME) .pytest_cache .ruff_cache
