#!/usr/bin/env bash
# The chain half of `make demo`: Governor ingestion, decoded actions, delegated votes, audit.
# Usage: tests/chain/demo.sh DEMO_HOME STEWARD PYTHON   (everything on 127.0.0.1)
set -euo pipefail
home=$1 steward=$2 py=$3
export STEWARD_HOME=$home DEMO_KEYSTORE_PASSWORD=steward-demo-only
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
rm -f "$home/chain.yaml" "$home/llm.url" "$home/chain.out"
"$py" -m tests.chain.demo_chain --config-out "$home/chain.yaml" --state-dir "$home/chain" >"$home/chain.out" 2>&1 &
pids+=($!)
"$py" -m tests.fakes.serve_llm --url-file "$home/llm.url" &
pids+=($!)
for _ in $(seq 300); do grep -q ready "$home/chain.out" 2>/dev/null && test -s "$home/llm.url" && break; sleep 0.1; done
grep -q ready "$home/chain.out" || { cat "$home/chain.out"; exit 1; }
"$py" -m tests.chain.demo_voting --chain-config "$home/chain.yaml" --llm-url-file "$home/llm.url" \
  --keys-dir "$home/keys" --out "$home/vote.yaml"
cfg=(--config "$home/vote.yaml")
uid() { "$py" -c "import json,sys; d=json.load(open('$home/chain/chain.json')); p=[x for x in d['proposals'] if x['key']==sys.argv[1]][0]; print('chain:31337:'+d['addresses']['governor'].lower()+':'+str(p['proposal_id']))" "$1"; }

echo "== Ingest the Governor's proposals and votes over JSON-RPC (incremental, reorg-safe)"
"$steward" "${cfg[@]}" ingest --chain all
echo "== What the executed funding proposal did: decoded actions and risk flags"
"$steward" "${cfg[@]}" show "$(uid funding)" | head -n 40
echo "== What the open upgrade proposal really does, executed on an anvil fork of the chain"
"$steward" "${cfg[@]}" simulate "$(uid upgrade)"
echo "== Delegated voting. The analyst here is a stand-in LLM server on 127.0.0.1 (there is no"
echo "   model on this machine) answering every proposal with the same confident FOR; Steward's"
echo "   own checks still apply: the upgrade fails its hard rule and is not voted."
echo "-- auto mode casts only with a passing backtest of this analyst, prompt and policy against"
echo "   the delegate's own past votes (demo-delegate voted on the two settled proposals)"
delegate=$("$py" -c "from tests.chain.demo_voting import anvil_account; print(anvil_account(5).address)")
"$steward" "${cfg[@]}" backtest --voter "$delegate"
echo "-- a dry run for both delegates: decided and recorded, nothing cast"
"$steward" "${cfg[@]}" vote
echo "-- live: demo-delegate (auto mode, keystore signer) casts on chain; demo-watcher stays dry-run"
"$steward" "${cfg[@]}" vote --live
echo "-- again: nothing is cast twice"
"$steward" "${cfg[@]}" vote --live
echo "== The audit trail: every decision and cast, hash-chained"
"$steward" "${cfg[@]}" audit log
"$steward" "${cfg[@]}" audit verify
echo "-- the vote's provenance bundle (steward audit export ID), its reason as sent on chain:"
"$steward" "${cfg[@]}" audit export "$(uid steward)" | "$py" -c "import json,sys; d=json.load(sys.stdin); i=d['intents'][0]; print('reason:', i['intent']['reason']); print('tx:', i['intent']['external_ref']); print('provenance hash recomputed from the stored bundle matches:', i['provenance']['matches'])"
"$steward" "${cfg[@]}" status | tail -n 5
