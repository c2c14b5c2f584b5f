"""The delegate's signing key: from an encrypted keystore, or (reluctantly) an environment variable.

Why so guarded: a leaked key loses the delegate's funds and voting power. The configuration
only ever names where the key is (a keystore path and the environment variable holding its
password, or the environment variable holding a raw key); a key or password written into
the YAML is refused. No message, repr or log record from here carries a key or a password:
errors name the file or the variable, never the value. ``expected_address`` catches a wrong
key file before anything is signed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys import keys
from eth_utils import is_address, to_checksum_address
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from agent.errors import ConfigError

log = logging.getLogger(__name__)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_CONVENTIONAL_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_HEX_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_INLINE_SECRETS = frozenset({"private_key", "key", "password", "mnemonic", "seed", "secret"})


class SignerConfig(BaseModel):
    """Where the signing key lives: exactly one of ``keystore`` (with ``password_env``) or
    ``private_key_env``."""

    # A misplaced key must not reach a ValidationError's text either.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    keystore: Path | None = None
    """An encrypted JSON keystore (Web3 Secret Storage, as geth and eth-account write it)."""
    password_env: str | None = None
    """The environment variable holding the keystore's password."""
    private_key_env: str | None = None
    """Or: the environment variable holding a raw hex private key (a warning is logged)."""
    expected_address: str | None = None
    """Refuse any key whose address is not this one (catches a wrong key file)."""

    @field_validator("password_env", "private_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if _HEX_KEY.match(value.strip()):
            raise ValueError("holds what looks like a key: name an environment variable instead")
        if not _ENV_NAME.match(value):
            raise ValueError("must be an environment variable name, e.g. STEWARD_SIGNER_KEY")
        return value

    @field_validator("expected_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not is_address(value):
            raise ValueError("is not an Ethereum address")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> SignerConfig:
        if (self.keystore is None) == (self.private_key_env is None):
            raise ValueError("set either keystore (with password_env) or private_key_env")
        if self.keystore is not None and self.password_env is None:
            raise ValueError("a keystore needs password_env, the variable holding its password")
        return self


class Signer(LocalAccount):
    """A ``LocalAccount`` that shows only its address and cannot be pickled or copied."""

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be pickled or copied")


def load_signer(
    config: SignerConfig | Mapping[str, Any], *, environ: Mapping[str, str] | None = None
) -> Signer:
    """The signer ``config`` describes; every failure is a `ConfigError` free of secrets."""
    settings = _settings(config)
    env = os.environ if environ is None else environ
    if settings.keystore is not None:
        assert settings.password_env is not None  # the validator made sure
        password = _env_value(env, settings.password_env, "password_env")
        raw = _decrypt(settings.keystore.expanduser(), password)
        where = f"keystore {settings.keystore}"
    else:
        assert settings.private_key_env is not None
        name = settings.private_key_env
        raw = _parse_key(_env_value(env, name, "private_key_env"), f"${name}")
        where = f"${name}"
    signer = _signer(raw, where)
    if settings.private_key_env is not None:
        log.warning(
            "signer %s comes from a raw private key in $%s; an encrypted keystore "
            "(signer.keystore + signer.password_env) is safer",
            signer.address,
            settings.private_key_env,
        )
    expected = settings.expected_address
    if expected is not None and to_checksum_address(expected) != signer.address:
        raise ConfigError(
            f"signer: the key in {where} is for {signer.address}, not the expected "
            f"{to_checksum_address(expected)}; refusing it (wrong key file?)"
        )
    return signer


def write_keystore(
    path: str | Path,
    key: str | bytes,
    password: str,
    *,
    scrypt_n: int | None = None,
    overwrite: bool = False,
) -> str:
    """Encrypt ``key`` with ``password`` into ``path`` (mode 0600); returns the address.

    ``scrypt_n`` lowers scrypt's cost (a power of two) for tests and demos; None keeps
    eth-account's default (2**18, about a second per load).
    """
    raw = _parse_key(key.hex() if isinstance(key, bytes) else key, "the key given")
    address = _signer(raw, "the key given").address
    document = Account.encrypt(raw, password, kdf="scrypt", iterations=scrypt_n)
    target = Path(path).expanduser()
    if target.exists() and not overwrite:
        raise ConfigError(f"keystore {target} already exists; not overwriting it")
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)  # a leftover could have looser permissions
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(document, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)
    return address


# ------------------------------------------------------------------ internals
def _settings(config: SignerConfig | Mapping[str, Any]) -> SignerConfig:
    if isinstance(config, SignerConfig):
        return config
    inline = sorted(_INLINE_SECRETS.intersection(config))
    if inline:
        raise ConfigError(
            f"signer.{inline[0]}: never put a key or password in the configuration; name an "
            "environment variable (private_key_env, password_env) or a keystore file"
        )
    try:
        return SignerConfig.model_validate(dict(config))
    except ValidationError as exc:
        # Built from locations and messages only: the input values may be secrets.
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = "unknown setting" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(f"signer{'.' + where if where else ''}: {message}") from None


def _env_value(env: Mapping[str, str], name: str, setting: str) -> str:
    value = env.get(name)
    if not value:
        # An unconventional name may be the secret itself, pasted in the wrong place.
        shown = name if _CONVENTIONAL_ENV_NAME.match(name) else f"named in signer.{setting}"
        raise ConfigError(f"signer.{setting}: the environment variable {shown} is not set or empty")
    return value


def _decrypt(path: Path, password: str) -> bytes:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"signer.keystore: cannot read {path}: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except ValueError:
        raise ConfigError(f"signer.keystore: {path} is not a JSON keystore") from None
    if not isinstance(document, dict) or not ({"crypto", "Crypto"} & document.keys()):
        raise ConfigError(f"signer.keystore: {path} is not a JSON keystore (no crypto section)")
    _warn_if_readable(path)
    try:
        return bytes(Account.decrypt(document, password))
    except Exception:  # noqa: BLE001 - any failure here is "wrong password or damaged file"
        raise ConfigError(
            f"signer.keystore: cannot decrypt {path}: wrong password, or the file is damaged"
        ) from None


def _warn_if_readable(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("keystore %s is readable by other users; chmod 600 it", path)


def _parse_key(value: str, where: str) -> bytes:
    text = value.strip()
    if not _HEX_KEY.match(text):
        raise ConfigError(f"signer: {where} does not hold a 32-byte hex private key")
    return bytes.fromhex(text.removeprefix("0x"))


def _signer(raw: bytes, where: str) -> Signer:
    try:
        private_key = keys.PrivateKey(raw)
    except Exception:  # noqa: BLE001 - eth-keys' message could echo the key
        raise ConfigError(f"signer: {where} is not a valid secp256k1 private key") from None
    return Signer(private_key, Account())
