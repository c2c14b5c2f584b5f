"""TokenDirectory: symbol and decimals of tokens, from configuration or the chain."""

from __future__ import annotations

from collections.abc import Sequence

from web3 import Web3
from web3.exceptions import ContractLogicError

from agent.decode import KnownContract, TokenInfo
from agent.errors import SourceError, SourceUnavailable
from connectors.chain.governor import load_abi
from connectors.chain.rpc import ChainRpc


class TokenDirectory:
    """Configured tokens win; others are asked for `symbol()`/`decimals()` once."""

    def __init__(self, rpc: ChainRpc, known: Sequence[KnownContract]) -> None:
        self.rpc = rpc
        self._cache: dict[str, TokenInfo | None] = {
            c.address.lower(): TokenInfo(symbol=c.symbol, decimals=c.decimals)
            for c in known
            if c.symbol is not None and c.decimals is not None
        }

    def info(self, address: str) -> TokenInfo | None:
        key = address.lower()
        if key not in self._cache:
            self._cache[key] = self._read(address)
        return self._cache[key]

    def _read(self, address: str) -> TokenInfo | None:
        contract = self.rpc.w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=load_abi("erc20")
        )
        try:
            symbol = self.rpc.call("symbol()", contract.functions.symbol().call)
            decimals = self.rpc.call("decimals()", contract.functions.decimals().call)
        except SourceUnavailable:
            raise
        except (ContractLogicError, SourceError):
            return None  # not an ERC-20 (or not a well-behaved one)
        if not isinstance(symbol, str) or not isinstance(decimals, int) or not 0 <= decimals <= 77:
            return None
        return TokenInfo(symbol=symbol[:20], decimals=decimals)
