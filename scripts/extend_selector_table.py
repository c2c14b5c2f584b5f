"""Add the state-changing functions of public ABIs, and the signatures real proposals use,
to the bundled selector table (`agent/decode/data/selectors.json`).

    .venv/bin/python scripts/extend_selector_table.py [--data /work/shared/data] [--npm]

Reads every ABI under `<data>/abis` (and, with `--npm`, the ABIs inside
@compound-finance/compound-js, fetched with `npm pack`) and the `signatures` field of
`<data>/governor-proposals.jsonl`. Signatures are written as text only, canonical and
sorted, into the group `from_public_abis_and_proposals`; selectors are computed at load
time. Functions already named elsewhere (another group, effects.json, the known ABIs)
are left out, so running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.decode.selectors import known_functions, table_signatures  # noqa: E402
from agent.decode.signatures import parse_signature  # noqa: E402

TABLE = ROOT / "agent" / "decode" / "data" / "selectors.json"
GROUP = "from_public_abis_and_proposals"
COMPOUND = ("@compound-finance/compound-js", "0.6.2")


def _type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_type(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def abi_signatures(abi: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Canonical signatures of the functions that change state."""
    for item in abi:
        if (
            not isinstance(item, dict)
            or item.get("type", "function") != "function"
            or "name" not in item
        ):
            continue
        if item.get("stateMutability") in ("view", "pure") or item.get("constant") is True:
            continue
        yield f"{item['name']}({','.join(_type(p) for p in item.get('inputs', []))})"


def _abis(value: Any) -> Iterator[list[dict[str, Any]]]:
    """ABIs wherever they sit in a JSON document (a list, `abi` keys, nested maps)."""
    if isinstance(value, str) and value.startswith("["):
        yield from _abis(json.loads(value))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        if any("type" in v or "inputs" in v for v in value):
            yield value
    elif isinstance(value, dict):
        for child in value.values():
            yield from _abis(child)


def shared_signatures(data: Path) -> Iterator[str]:
    for path in sorted((data / "abis").glob("*.json")):
        for abi in _abis(json.loads(path.read_text())):
            yield from abi_signatures(abi)
    for line in (data / "governor-proposals.jsonl").read_text().splitlines():
        yield from json.loads(line).get("signatures") or []


def npm_signatures() -> Iterator[str]:
    from build_address_book import fetch, node_exports  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory(prefix="steward-abis-") as tmp:
        root, _ = fetch(*COMPOUND, Path(tmp))
        constants = node_exports(root / "dist" / "nodejs" / "constants.js")
        for abi in _abis(constants["abi"]):
            yield from abi_signatures(abi)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--npm", action="store_true", help="also compound-js's ABIs (npm)")
    args = parser.parse_args(argv)
    found = list(shared_signatures(args.data))
    if args.npm:
        sys.path.insert(0, str(ROOT / "scripts"))
        found += list(npm_signatures())
    table = json.loads(TABLE.read_text())
    table.pop(GROUP, None)
    TABLE.write_text(json.dumps(table, indent=2) + "\n")
    known = {fn.signature for fn in known_functions().values()} | set(table_signatures())
    canonical = {fn.signature for fn in map(parse_signature, found) if fn is not None}
    fresh = sorted(s for s in canonical if s not in known and s in found)
    table[GROUP] = fresh
    TABLE.write_text(json.dumps(table, indent=2) + "\n")
    print(f"{len(fresh)} signatures added to {GROUP} in {TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
