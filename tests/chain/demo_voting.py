"""Write the demo's voting configuration: two delegates on the demo chain's governor.

- `demo-watcher` (anvil account 4) in dry-run: decides and records, casts nothing;
- `demo-delegate` (anvil account 5, who has not voted on the open proposals) in auto mode
  with no veto window, its key in an encrypted keystore (the recommended set-up), the
  password in `$DEMO_KEYSTORE_PASSWORD`.

The keys are anvil's public development keys (the "test … junk" mnemonic): never use them
on a real chain. The LLM is the stand-in server (`tests.fakes.serve_llm`).

    python -m tests.chain.demo_voting --chain-config chain.yaml --llm-url-file llm.url \\
        --keys-dir .steward-demo/keys --out vote.yaml
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import yaml
from eth_account import Account

from connectors.signers import write_keystore

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
PASSWORD_ENV = "DEMO_KEYSTORE_PASSWORD"
POLICY = "config/policies/ens-constitution.md"


def anvil_account(index: int) -> Any:
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def voting_config(chain: dict[str, Any], llm_url: str, keystore: Path) -> dict[str, Any]:
    governor = chain["chains"][0]["governors"][0]["name"]
    watcher, delegate = anvil_account(4), anvil_account(5)
    common = {"policy": POLICY, "governors": [governor], "window_h": 1000, "min_confidence": 0.75}
    return {
        **chain,
        "llm": {"model": "openai:fake-model", "base_url": llm_url, "api_key": "stand-in"},
        "voting": {
            "enabled": True,
            "delegates": [
                {"id": "demo-watcher", "address": watcher.address, "mode": "dry-run", **common},
                {
                    "id": "demo-delegate",
                    "address": delegate.address,
                    "mode": "auto",
                    "veto_window_h": 0,
                    # auto mode needs a passing backtest against the delegate's own votes;
                    # the demo chain gives them two, so the demo's bar is low on purpose.
                    "min_backtest_n": 2,
                    "min_backtest_kappa": 0.0,
                    "signer": {
                        "keystore": str(keystore),
                        "password_env": PASSWORD_ENV,
                        "address": delegate.address,
                    },
                    **common,
                },
            ],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain-config", type=Path, required=True)
    parser.add_argument("--llm-url-file", type=Path, required=True)
    parser.add_argument("--keys-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        parser.error(f"set {PASSWORD_ENV} (the demo keystore's password)")
    args.keys_dir.mkdir(parents=True, exist_ok=True)
    keystore = args.keys_dir / "demo-delegate.json"
    write_keystore(keystore, anvil_account(5).key, password, scrypt_n=2**12, overwrite=True)
    chain = yaml.safe_load(args.chain_config.read_text(encoding="utf-8"))
    llm_url = args.llm_url_file.read_text(encoding="utf-8").strip()
    config = voting_config(chain, llm_url, keystore.resolve())
    args.out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    print(f"wrote {args.out}: delegates demo-watcher (dry-run), demo-delegate (auto)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
