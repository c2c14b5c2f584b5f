"""The composition root: builds real stores and connectors from settings.

The only place that knows which connector backs which port. Heavy pieces
(Chroma, the embedding model) are built on first use, so commands that do not
need them start fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.errors import ConfigError, StewardError
from agent.observe import NullObserver, Observer, vote_reporter
from agent.ports import Embedder, ProposalSource, VectorIndex
from agent.settings import Settings
from agent.store import RecordStore

if TYPE_CHECKING:
    from agent.analysis.policy import Policy
    from agent.analysis.service import Analyst
    from agent.analysis.tools import AsOf
    from agent.chat.ask import Answer
    from agent.models import Proposal
    from agent.records.assessment import Assessment
    from agent.settings import ChainSettings, DelegateSettings
    from agent.simulate.service import SimulationService, Simulator
    from agent.voters.service import VoterFigures
    from agent.voting.backtest_gate import TrackRecord
    from agent.voting.lock import VoteLockPort
    from agent.voting.service import SharedPause, VotingService
    from connectors.discord_bot.bot import StewardBot
    from connectors.ratelimit import Limiter

    LimiterFor = Callable[[str, int, float], Limiter]


class App:
    """Everything a command needs, built lazily from one Settings object.

    `observer` hears what the connectors and the service do (`steward run --http` sets
    `agent.metrics.Metrics` before building anything); by default nobody listens.
    """

    def __init__(self, settings: Settings, *, observer: Observer | None = None) -> None:
        self.settings = settings
        self.observer: Observer = observer or NullObserver()
        self._embedder: Embedder | None = None
        self.limiter_for: LimiterFor | None = None
        """Cluster mode: the request budget shared by all workers, per (bucket, limit,
        window); None: each client paces itself."""

    @cached_property
    def store(self) -> RecordStore:
        return RecordStore(self.settings.database_url)

    @cached_property
    def index(self) -> VectorIndex:
        from agent.passage_index import PassageIndex
        from connectors.chroma_index import ChromaVectors, open_chroma_client

        vs = self.settings.vector_store
        client = open_chroma_client(url=vs.url, path=self.settings.chroma_path)
        return PassageIndex(self.store, ChromaVectors(client, vs.collection))

    def embedder(self) -> Embedder:
        if self._embedder is None:
            from connectors.embeddings import SentenceTransformerEmbedder

            cfg = self.settings.embedding
            self._embedder = SentenceTransformerEmbedder(
                cfg.model, batch_size=cfg.batch_size, device=cfg.device
            )
        return self._embedder

    @property
    def embedder_factory(self) -> Callable[[], Embedder]:
        return self.embedder

    def snapshot_source(self, spaces: list[str] | None = None) -> ProposalSource:
        from connectors.snapshot import HubClient, SnapshotSource
        from connectors.snapshot.client import TARGET

        cfg = self.settings.snapshot
        limiter = (
            self.limiter_for(TARGET, cfg.requests_per_minute, 60.0) if self.limiter_for else None
        )
        hub = HubClient.from_settings(cfg, observer=self.observer, limiter=limiter)
        return SnapshotSource(hub, cfg, spaces or cfg.spaces)

    def chain_sources(
        self, chains: list[str], governors: list[str] | None = None
    ) -> list[ProposalSource]:
        """One ChainSource per chain named (`all`: every configured chain)."""
        from connectors.chain.rpc import ChainRpc
        from connectors.chain.source import ChainSource

        configured = {c.name: c for c in self.settings.chains}
        names = list(configured) if "all" in chains else chains
        if not configured:
            raise ConfigError("no chains configured: add a chains: section to your config")
        unknown = [n for n in names if n not in configured]
        if unknown:
            raise ConfigError(
                f"unknown chain {', '.join(unknown)}; configured: {', '.join(configured)}"
            )
        sources: list[ProposalSource] = []
        wanted = set(governors or [])
        for name in names:
            cfg = configured[name]
            mine = [g.name for g in cfg.governors if not wanted or g.name in wanted]
            if not mine:
                continue
            limiter = None
            if self.limiter_for:  # per second, as the providers count
                limiter = self.limiter_for(f"rpc:{name}", max(1, int(cfg.requests_per_second)), 1.0)
            rpc = ChainRpc.from_settings(cfg, observer=self.observer, limiter=limiter)
            sources.append(ChainSource(rpc, cfg, mine))
        missing = wanted - {g for s in sources for g in s.scopes()}
        if missing:
            raise ConfigError(f"no governor named {', '.join(sorted(missing))} on those chains")
        return sources

    def simulation_service(self) -> SimulationService:
        """Fork simulations of on-chain proposals (anvil started per simulation)."""
        from agent.simulate.service import SimulationService

        return SimulationService(self.store, list(self.settings.chains), _fork_simulator)

    def policy(self, path: str | Path | None = None) -> Policy:
        from agent.analysis.policy import load_policy

        return load_policy(path or self.settings.analysis.policy)

    def discord_bot(self, voting: VotingService | None = None) -> StewardBot:
        """The Discord bot: commands, scheduled posts and, with `voting`, approvals."""
        from agent.app.discord import discord_bot

        return discord_bot(self, voting)

    def webhook_sender(self) -> Any:
        """The Discord webhook poster (`discord.webhook_url`); close it when done."""
        from connectors.discord_webhook import WebhookSender

        url = self.settings.discord.webhook_url
        if url is None:
            raise ConfigError("discord.webhook_url is not set (STEWARD__DISCORD__WEBHOOK_URL)")
        return WebhookSender(url.get_secret_value())

    def chat_model(self) -> Any:
        """The configured chat model (any provider through `init_chat_model`), or None."""
        if not self.settings.llm.model:
            return None
        from connectors.llm import build_chat_model

        return build_chat_model(self.settings.llm)

    def answerer(self, spaces: Sequence[str] = ()) -> Callable[[str], Answer]:
        """/ask's answer function: the chat model if one is configured, else quoted passages.
        Discord's /ask and `steward ask` both take it from here, so they answer alike."""
        from agent.chat.ask import answer_question

        chat_model = self.chat_model()

        def ask(question: str) -> Answer:
            return answer_question(
                question,
                index=self.index,
                embedder=self.embedder(),
                store=self.store,
                text_index=self.store,
                spaces=spaces,
                chat_model=chat_model,
            )

        return ask

    def analyst(
        self,
        kind: str | None = None,
        *,
        voter: str | None = None,
        as_of: Callable[[Proposal], datetime] | None = None,
        tools_as_of: AsOf | None = None,
    ) -> Analyst:
        """The analyst `kind` names (default: analysis.analyst; `auto` is the LLM analyst when
        a model is configured, else the precedent analyst). `voter`, `as_of`: whose votes
        the precedent analyst cites and the moment it may see up to (a backtest's)."""
        cfg = self.settings.analysis
        kind = kind or cfg.analyst
        if kind == "auto":
            kind = "llm" if self.settings.llm.model else "precedent"
        if kind == "llm":
            if not self.settings.llm.model:
                raise ConfigError("the llm analyst needs llm.model in your config")
            from agent.analysis.llm import LLMAnalyst
            from agent.analysis.tools import AnalysisTools

            model = self.chat_model()
            tools = AnalysisTools(
                self.store, self.index, self.embedder, self.voter_figures(), as_of=tools_as_of
            )
            return LLMAnalyst(
                model,
                self.settings.llm.model,
                tools=tools,
                max_input_tokens=cfg.max_input_tokens,
                retries=cfg.output_retries,
            )
        if kind == "precedent":
            from agent.analysis.history import History
            from agent.analysis.precedent import PrecedentAnalyst

            history = History(self.store, self.index, self.embedder)
            return PrecedentAnalyst(history, voter=voter or cfg.precedent_voter, as_of=as_of)
        if kind != "heuristic":
            raise ConfigError(f"unknown analyst {kind!r}: heuristic, precedent or llm")
        from agent.analysis.offline import OfflineAnalyst

        return OfflineAnalyst(self.embedder(), relevance=cfg.relevance_threshold)

    def confidence_cap(self, analyst: Analyst, policy: Policy | None = None) -> float:
        """The offline cap binds the heuristic analyst always, and the precedent analyst
        unless a delegate voting under `policy` has a passing backtest of it (its track
        record, agent/voting/backtest_gate.py): evidence earns confidence, nothing else."""
        cap = self.settings.analysis.offline_confidence_cap
        if analyst.id == "offline":
            return cap
        if analyst.id == "precedent":
            return 1.0 if policy is not None and self._backtest_lifts_cap(policy) else cap
        return 1.0

    def _backtest_lifts_cap(self, policy: Policy) -> bool:
        for delegate in self.settings.voting.delegates:
            try:
                same = self.policy(delegate.policy).hash == policy.hash
            except StewardError:
                continue
            if same and self.track_record(delegate).passed:
                return True
        return False

    def archive_source(
        self, path: Path | Sequence[Path], space: str | None = None
    ) -> ProposalSource:
        from connectors.archive import ArchiveSource

        return ArchiveSource(path, space=space)

    def voting_service(
        self, *, live: bool = True, locks: VoteLockPort | None = None
    ) -> VotingService:
        """The voting loop over this data directory (`live=False`: everything dry-run)."""
        from agent.analysis.service import analyse
        from agent.app.vote_sinks import VoteSinks
        from agent.voting.audit import head_path
        from agent.voting.audit_log import AuditLog
        from agent.voting.service import VotingService

        sinks = VoteSinks(self.settings, observer=self.observer)
        policies: dict[str, Policy] = {}

        def policy(path: str) -> Policy:
            if path not in policies:
                policies[path] = self.policy(path)
            return policies[path]

        def assess(proposal: Proposal, pol: Policy) -> Assessment:
            analyst = self._voting_analyst()
            cap = self.confidence_cap(analyst, pol)
            return analyse(proposal, pol, analyst, self.store, confidence_cap=cap).assessment

        return VotingService(
            self.store,
            self.settings.voting,
            home=self.settings.home,
            pause_path=self.settings.pause_path,
            policy=policy,
            analyse=assess,
            sink_for=sinks,
            audit=AuditLog(
                self.store.engine,
                head_path(self.settings.home),
                on_append=vote_reporter(self.observer),
            ),
            secrets=sinks.secrets,
            live=live,
            track_record=lambda d: self.track_record(d),
            locks=locks,
            shared_pause=self._shared_pause(),
        )

    def _shared_pause(self) -> SharedPause | None:
        """Cluster mode: the kill switch lives in the database, seen by every worker."""
        if not self.settings.cluster_mode:
            return None
        from agent.cluster.pause import DbPause

        return DbPause(self.store.engine)

    def track_record(self, delegate: DelegateSettings) -> TrackRecord:
        """The delegate's latest backtest of the analyst, prompt and policy that vote."""
        from agent.voting.backtest_gate import evaluate, voter_of

        analyst = self._voting_analyst()
        policy = self.policy(delegate.policy)
        record = self.store.latest_backtest(
            analyst=analyst.id,
            prompt_hash=analyst.prompt_hash,
            policy_hash=policy.hash,
            voter=voter_of(delegate),
        )
        return evaluate(delegate, record, now=datetime.now(UTC))

    def voter_figures(self) -> VoterFigures:
        """Delegate records, concentration and signals; names from the config, and each
        configured delegate's record compared with Steward's recommendations for them."""
        from agent.voters.service import Recommend, VoterFigures

        names = {c.address: c.name for chain in self.settings.chains for c in chain.contracts}
        delegates: dict[str, tuple[str, Recommend]] = {}
        for d in self.settings.voting.delegates:
            names.setdefault(d.address, d.id)
            delegates[d.address] = (d.id, self._recommendations(d.policy))
        return VoterFigures(self.store, self.settings.voters, names=names, delegates=delegates)

    def _recommendations(self, policy_path: str) -> Callable[[list[str]], dict[str, str]]:
        def recommended(uids: list[str]) -> dict[str, str]:
            try:
                policy_id = self.policy(policy_path).id
            except ConfigError:
                return {}  # a broken policy file is reported where it is used to vote
            found = self.store.latest_assessments(uids, policy_id)
            return {uid: a.choice or a.recommendation for uid, a in found.items()}

        return recommended

    def _voting_analyst(self) -> Analyst:
        if "_analyst" not in self.__dict__:
            self.__dict__["_analyst"] = self.analyst()
        analyst: Analyst = self.__dict__["_analyst"]
        return analyst

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        """For /healthz: one cheap question to each store; each raises when unanswered.
        The vector store is opened on first ask, so one down at start-up is retried."""
        return {
            "record store": lambda: self.store.ping(),
            "vector store": lambda: self.index.heartbeat(),
        }

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()


def _fork_simulator(chain: ChainSettings) -> Simulator:
    from agent.decode.models import KnownContract
    from connectors.chain.simulator import ForkSimulator

    return ForkSimulator(
        chain.url(),
        known=[KnownContract(**c.model_dump()) for c in chain.contracts],
        timeout_s=chain.simulate_timeout_s,
        anvil=chain.simulate_anvil,
    )
