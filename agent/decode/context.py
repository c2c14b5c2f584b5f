"""What one `decode_actions` call knows: the named contracts, token metadata, its budget.

Configured contracts win over what a token says about itself on chain: anyone can
deploy a token whose `symbol()` is "USDC". Token look-ups are memoised per call, so
a batch of a hundred transfers of one token asks the chain once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from agent.decode import book
from agent.decode.models import KnownContract, TokenInfo
from agent.decode.values import clean_text, short

TokenLookup = Callable[[str], TokenInfo | None]
_INTERNAL = frozenset({"treasury", "timelock", "governor"})
MAX_DECIMALS = 77
"""10**77 is the largest power of ten below 2**256: more decimals is nonsense."""


def index_known(
    known: Mapping[str, KnownContract] | Sequence[KnownContract],
) -> dict[str, KnownContract]:
    """Known contracts by lower-cased address (a mapping's keys count as addresses too)."""
    items = list(known.items()) if isinstance(known, Mapping) else [(c.address, c) for c in known]
    index: dict[str, KnownContract] = {}
    for key, contract in items:
        index[contract.address.lower()] = contract
        index.setdefault(key.lower(), contract)
    return index


def _executor(known: dict[str, KnownContract]) -> str:
    """Who executes top-level actions: the one configured timelock, else "the DAO"."""
    timelocks = {c.address.lower(): c.name for c in known.values() if c.kind == "timelock"}
    return clean_text(next(iter(timelocks.values())), 60) if len(timelocks) == 1 else "the DAO"


@dataclass
class Context:
    known: dict[str, KnownContract]
    token_lookup: TokenLookup | None = None
    budget: int = 5000
    """Actions (nested ones included) still to decode; hostile batches stop here."""
    executor: str = ""
    home_chain: int = 1
    """The proposal's chain: the user's configuration and chain look-ups speak for it."""
    use_book: bool = True
    chain_id: int = field(init=False, default=0)
    """The chain the call being decoded runs on (0: one the address book does not know)."""
    _tokens: dict[tuple[int, str], TokenInfo | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.executor = self.executor or _executor(self.known)
        self.chain_id = self.home_chain

    def contract(self, address: str) -> KnownContract | None:
        """The user's configuration first (it runs on the proposal's chain), then the book."""
        home = self.chain_id == self.home_chain
        configured = self.known.get(address.lower()) if home else None
        if configured is not None or not self.use_book:
            return configured
        return book.lookup(self.chain_id, address)

    @contextmanager
    def on_chain(self, name: str | None) -> Iterator[None]:
        """Decode what a cross-chain message carries with that chain's address book."""
        if name is None:
            yield
            return
        before, self.chain_id = self.chain_id, book.chain_ids().get(name, 0)
        try:
            yield
        finally:
            self.chain_id = before

    def name(self, address: str) -> str | None:
        contract = self.contract(address)
        return clean_text(contract.name, 60) if contract else None

    def label(self, address: str) -> str:
        """A contract's configured name, else the short address."""
        return self.name(address) or short(address)

    def is_internal(self, address: str) -> bool:
        """A configured contract the DAO itself holds: moving tokens there is no outflow."""
        contract = self.contract(address)
        return contract is not None and contract.kind in _INTERNAL

    def spend(self) -> bool:
        """Take one action from the budget; False once it is used up."""
        self.budget -= 1
        return self.budget >= 0

    def token(self, address: str) -> TokenInfo | None:
        """Symbol and decimals: configuration first, then the chain (sanitised)."""
        key = (self.chain_id, address.lower())
        if key not in self._tokens:
            self._tokens[key] = self._resolve_token(address)
        return self._tokens[key]

    def seen_token(self, address: str) -> TokenInfo | None:
        """What an earlier look-up found, without asking the chain again."""
        return self._tokens.get((self.chain_id, address.lower()))

    def _resolve_token(self, address: str) -> TokenInfo | None:
        configured = self.contract(address) or KnownContract(address=address, name="")
        if configured.symbol and configured.decimals is not None:
            return TokenInfo(symbol=configured.symbol, decimals=configured.decimals)
        on_home = self.chain_id == self.home_chain
        looked = self.token_lookup(address) if self.token_lookup and on_home else None
        symbol = configured.symbol or (looked.symbol if looked else "") or configured.name
        decimals = configured.decimals
        if decimals is None and looked is not None:
            decimals = looked.decimals
        symbol = clean_text(symbol, 24).strip()
        if not symbol or decimals is None or not 0 <= decimals <= MAX_DECIMALS:
            return None
        return TokenInfo(symbol=symbol, decimals=decimals)
