"""Which VoteSink casts a delegate's vote on a proposal, built from settings on first use.

Part of the composition root (`agent.app`): the one other place that picks connectors.

Signers are loaded only when a sink is first needed (a dry run never touches a
key), once per delegate, and kept in memory only.
"""

from __future__ import annotations

from typing import Any

from agent.errors import ConfigError
from agent.models import Proposal
from agent.observe import RequestObserver
from agent.settings import ChainSettings, DelegateSettings, GovernorSettings, Settings
from agent.voting.ports import VoteSink


class VoteSinks:
    """Callable `(delegate, proposal) -> VoteSink | None` for the voting service."""

    def __init__(self, settings: Settings, *, observer: RequestObserver | None = None) -> None:
        self.settings = settings
        self._observer = observer
        self._signers: dict[str, Any] = {}
        self._sinks: dict[tuple[str, str], VoteSink] = {}

    def __call__(self, delegate: DelegateSettings, proposal: Proposal) -> VoteSink | None:
        key = (delegate.id, f"{proposal.source}:{proposal.space}")
        if key not in self._sinks:
            sink = self._build(delegate, proposal)
            if sink is None:
                return None
            self._sinks[key] = sink
        return self._sinks[key]

    def secrets(self) -> list[str]:
        """What must never appear in an error text: keys held, RPC URLs, API keys."""
        out = [s.key.hex() for s in self._signers.values() if hasattr(s, "key")]
        out += [c.url() for c in self.settings.chains]
        if self.settings.snapshot.api_key:
            out.append(self.settings.snapshot.api_key.get_secret_value())
        return out

    def _signer(self, delegate: DelegateSettings) -> Any:
        if delegate.id not in self._signers:
            from connectors.signers import load_signer

            if delegate.signer is None:
                raise ConfigError(f"delegate {delegate.id} has no signer configured")
            cfg = delegate.signer
            self._signers[delegate.id] = load_signer(
                {
                    "keystore": cfg.keystore,
                    "password_env": cfg.password_env,
                    "private_key_env": cfg.key_env,
                    "expected_address": cfg.address,
                }
            )
        return self._signers[delegate.id]

    def _build(self, delegate: DelegateSettings, proposal: Proposal) -> VoteSink | None:
        if proposal.source == "snapshot" and proposal.space in delegate.spaces:
            return self._snapshot(delegate)
        if proposal.source == "chain" and proposal.space in delegate.governors:
            found = self._governor(proposal.space)
            if found is not None:
                return self._chain(delegate, *found)
        return None

    def _snapshot(self, delegate: DelegateSettings) -> VoteSink:
        from connectors.snapshot.client import HubClient
        from connectors.snapshot.sequencer import SequencerClient
        from connectors.snapshot.vote_sink import SnapshotVoteSink

        hub = HubClient.from_settings(self.settings.snapshot, observer=self._observer)
        sequencer = SequencerClient(self.settings.voting.sequencer_url)
        return SnapshotVoteSink(
            hub,
            sequencer,
            self._signer(delegate),
            voter=delegate.address,
            app=delegate.snapshot_app,
        )

    def _governor(self, name: str) -> tuple[ChainSettings, GovernorSettings] | None:
        for chain in self.settings.chains:
            for gov in chain.governors:
                if gov.name == name:
                    return chain, gov
        return None

    def _chain(
        self, delegate: DelegateSettings, chain: ChainSettings, gov: GovernorSettings
    ) -> VoteSink:
        from connectors.chain.governor import GovernorReader
        from connectors.chain.rpc import ChainRpc
        from connectors.chain.vote_sink import ChainVoteSink
        from connectors.chain.vote_tx import ChainVoter

        rpc = ChainRpc.from_settings(chain, observer=self._observer)
        fees = self.settings.voting.chain
        voter = ChainVoter(
            rpc,
            gov.address,
            gov.kind,
            self._signer(delegate),
            chain_id=chain.chain_id,
            max_fee_gwei_cap=fees.max_fee_gwei,
            priority_fee_gwei=fees.priority_fee_gwei,
            receipt_timeout_s=fees.receipt_timeout_s,
            replace_after_s=fees.replace_after_s,
            max_replacements=fees.max_replacements,
        )
        return ChainVoteSink(voter, GovernorReader(rpc, gov.address, gov.kind))
