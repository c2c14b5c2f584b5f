"""Build Steward's bundled address book from public lists that npm serves.

    .venv/bin/python scripts/build_address_book.py [--out agent/decode/data/address_book.json]

Downloads pinned versions with `npm pack` (the registry's own client), reads them
with node (some ship as CommonJS modules), and writes one JSON file: every contract
with its chain, name, kind and, for tokens, symbol and decimals, plus where each list
came from (package, version, licence). Nothing in the output is typed by hand; to
refresh, bump a version below and run again.

Sources (permissive licences only: Steward is MIT; @uniswap/default-token-list, GPL-3.0,
is left out on purpose):
- @bgd-labs/aave-address-book: Aave's governance (executors, ArcTimelock, governance v2
  and v3), treasury (collector, ecosystem reserve), pools, configurators, oracles and
  listed assets, on Ethereum and the L2s Aave runs on;
- @compound-finance/compound-js: Compound's governor, Comptroller, cTokens and their
  underlying tokens on Ethereum;
- @uniswap/sdk-core: Uniswap's governors, timelock, factories and routers, and the ENS
  registry, per chain;
- @ensdomains/ensjs: ENS's registry, registrars, controllers, resolvers and name wrapper on
  Ethereum (an ES module that needs viem: its address table is read as text).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "agent" / "decode" / "data" / "address_book.json"
AAVE = ("@bgd-labs/aave-address-book", "4.44.22")
COMPOUND = ("@compound-finance/compound-js", "0.6.2")
UNISWAP_SDK = ("@uniswap/sdk-core", "7.19.4")
ENSJS = ("@ensdomains/ensjs", "4.3.1")
CHAINS = {
    1: "Ethereum",
    10: "OP Mainnet",
    56: "BNB Chain",
    100: "Gnosis",
    137: "Polygon",
    324: "zkSync Era",
    8453: "Base",
    59144: "Linea",
    534352: "Scroll",
    42161: "Arbitrum One",
    42170: "Arbitrum Nova",
    43114: "Avalanche",
}
"""Chains kept (names as their own projects write them); test networks are left out."""
AAVE_MODULES = {
    "AaveGovernanceV2": "Aave governance v2",
    "GovernanceV3Ethereum": "Aave governance v3",
    "AaveSafetyModule": "Aave safety module",
    "MiscEthereum": "Aave",
    "AaveV2Ethereum": "Aave v2",
    "AaveV3Ethereum": "Aave v3",
    "AaveV2Polygon": "Aave v2 Polygon",
    "AaveV3Polygon": "Aave v3 Polygon",
    "AaveV3Arbitrum": "Aave v3 Arbitrum",
    "AaveV3Optimism": "Aave v3 Optimism",
    "AaveV3Base": "Aave v3 Base",
    "GovernanceV3Polygon": "Aave governance v3 Polygon",
    "GovernanceV3Arbitrum": "Aave governance v3 Arbitrum",
    "GovernanceV3Optimism": "Aave governance v3 Optimism",
    "GovernanceV3Base": "Aave governance v3 Base",
}
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_KINDS = (
    (re.compile(r"EXECUTOR|TIMELOCK"), "timelock"),
    (re.compile(r"COLLECTOR$|ECOSYSTEM_RESERVE$|RESERVOIR"), "treasury"),
    (re.compile(r"^GOVERNANCE$|GOVERNOR|^GOVERNANCE_(ALPHA|BRAVO)"), "governor"),
    (re.compile(r"^ENS_REGISTRAR"), "ens_registry"),
    (re.compile(r"PROXY_ADMIN"), "proxy"),
    (re.compile(r"SAFE$|GUARDIAN$"), "multisig"),
)
Entry = tuple[int, str, str, str, str | None, int | None, str | None]
"""(chain id, address, name, kind, symbol, decimals, underlying token or `ETH`)."""


def fetch(package: str, version: str, into: Path) -> tuple[Path, dict[str, Any]]:
    """`npm pack` one pinned version and unpack it; returns its folder and package.json."""
    out = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--json", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    )
    filename = json.loads(out.stdout)[0]["filename"]
    folder = into / filename.removesuffix(".tgz")
    with tarfile.open(into / filename) as tar:
        tar.extractall(folder, filter="data")
    root = folder / "package"
    return root, json.loads((root / "package.json").read_text())


def node_exports(module: Path) -> Any:
    """What a CommonJS module exports, as JSON (getters resolved)."""
    script = "console.log(JSON.stringify(require(process.argv[1])))"
    out = subprocess.run(
        ["node", "-e", script, str(module)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def _kind(name: str) -> str:
    return next((kind for pattern, kind in _KINDS if pattern.search(name)), "other")


def aave_contracts(root: Path) -> Iterator[Entry]:
    for module, label in AAVE_MODULES.items():
        exports = node_exports(root / "dist" / f"{module}.js")
        chain = int(exports.get("CHAIN_ID", 0))
        if chain not in CHAINS:
            continue
        for name, value in sorted(exports.items()):
            if isinstance(value, str) and _ADDRESS.match(value):
                yield chain, value, f"{label} {name}", _kind(name), None, None, None


def aave_assets(root: Path) -> Iterator[Entry]:
    """Listed assets and their aTokens (Aave's keys: `USDCn` is native USDC, hence
    after the token list, whose symbols are the tokens' own)."""
    for module, label in AAVE_MODULES.items():
        exports = node_exports(root / "dist" / f"{module}.js")
        chain = int(exports.get("CHAIN_ID", 0))
        if chain not in CHAINS:
            continue
        for symbol, asset in sorted((exports.get("ASSETS") or {}).items()):
            decimals = int(asset["decimals"])
            underlying = asset["UNDERLYING"]
            yield chain, underlying, symbol, "token", symbol, decimals, None
            if _ADDRESS.match(asset.get("A_TOKEN", "")):
                name = f"{label} a{symbol}"
                yield chain, asset["A_TOKEN"], name, "token", f"a{symbol}", decimals, underlying


def compound_contracts(root: Path) -> Iterator[Entry]:
    constants = node_exports(root / "dist" / "nodejs" / "constants.js")
    decimals: dict[str, int] = constants["decimals"]
    mainnet: dict[str, str] = constants["address"]["mainnet"]
    markets = set(constants["cTokens"])
    for name, address in sorted(mainnet.items()):
        if not isinstance(address, str) or not _ADDRESS.match(address):
            continue
        if name in decimals:
            # compound-js's own convention: cDAI holds DAI, cETH holds ether
            held = name[1:] if name in markets else None
            underlying = "ETH" if held == "ETH" else mainnet.get(held or "")
            label = f"Compound {name}" if name in markets else name
            yield 1, address, label, "token", name, int(decimals[name]), underlying
        else:
            kind = "governor" if "Governor" in name else _kind(name.upper())
            yield 1, address, f"Compound {name}", kind, None, None, None


def uniswap_contracts(root: Path) -> Iterator[Entry]:
    """`*_ADDRESSES` maps (chain → address) and `*_ADDRESS` constants (Ethereum)."""
    exports = node_exports(root / "dist" / "cjs" / "src" / "addresses.js")
    for name, value in sorted(exports.items()):
        base = name.removesuffix("_ADDRESSES").removesuffix("_ADDRESS")
        label = "ENS registry" if base == "ENS_REGISTRAR" else f"Uniswap {base}"
        per_chain = value if isinstance(value, dict) else {"1": value}
        if base == "UNI":
            continue  # a token: the token list has it, with its decimals
        for chain, address in sorted(per_chain.items()):
            if int(chain) in CHAINS and isinstance(address, str) and _ADDRESS.match(address):
                yield int(chain), address, label, _kind(base), None, None, None


_ENS_BLOCK = re.compile(r"\[mainnet\.id\]: \{(.*?)\n    \},", re.S)
_ENS_ENTRY = re.compile(r"(\w+): \{\s*address: '(0x[0-9a-fA-F]{40})'")


def ens_contracts(root: Path) -> Iterator[Entry]:
    text = (root / "dist" / "contracts" / "consts.js").read_text()
    block = _ENS_BLOCK.search(text)
    for name, address in _ENS_ENTRY.findall(block.group(1) if block else ""):
        words = re.sub(r"([A-Z])", r" \1", name).strip()
        kind = (
            "ens_registry"
            if name == "ensRegistry"
            else ("ens_resolver" if name.endswith("Resolver") else "other")
        )
        label = words[0].upper() + words[1:]
        label = label.replace("Ens ", "ENS ", 1) if name.startswith("ens") else f"ENS {label}"
        yield 1, address, label, kind, None, None, None


def merge(*sources: Iterator[Entry]) -> list[Entry]:
    """First source wins for an address on a chain (DAO lists before the token list)."""
    seen: dict[tuple[int, str], Entry] = {}
    for source in sources:
        for entry in source:
            seen.setdefault((entry[0], entry[1].lower()), entry)
    return sorted(seen.values(), key=lambda e: (e[0], e[1].lower()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="steward-book-") as tmp:
        folder = Path(tmp)
        packages = (COMPOUND, AAVE, UNISWAP_SDK, ENSJS)
        fetched = {pkg: fetch(pkg, version, folder) for pkg, version in packages}
        entries = merge(
            compound_contracts(fetched[COMPOUND[0]][0]),
            aave_contracts(fetched[AAVE[0]][0]),
            ens_contracts(fetched[ENSJS[0]][0]),
            uniswap_contracts(fetched[UNISWAP_SDK[0]][0]),
            aave_assets(fetched[AAVE[0]][0]),
        )
        sources = [
            {
                "package": meta["name"],
                "version": meta["version"],
                "license": meta.get("license"),
                "registry": "npm",
            }
            for _, meta in fetched.values()
        ]
    book = {
        "_about": "Generated by scripts/build_address_book.py; do not edit by hand. "
        "contracts: [chain id, address, name, kind, symbol, decimals, underlying].",
        "sources": sources,
        "chains": {str(k): v for k, v in CHAINS.items()},
        "contracts": [list(e) for e in entries],
    }
    args.out.write_text(json.dumps(book, indent=0, ensure_ascii=False) + "\n")
    print(f"{len(entries)} contracts from {len(sources)} lists → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
