"""load_signer / write_keystore: the right key or a clear ConfigError, and never a leaked secret.

Each failure is checked three ways for the key and the password: the error's text, its
repr (and anything chained to it), and every log record captured during the test.
"""

from __future__ import annotations

import copy
import json
import logging
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import ValidationError

from agent.errors import ConfigError
from connectors.signers import SignerConfig, load_signer, write_keystore

KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ADDRESS = Account.from_key(KEY).address
PASSWORD = "correct horse battery staple"
LIGHT = 2**4
"""scrypt n for tests: milliseconds instead of a second per keystore."""


@pytest.fixture
def keystore(tmp_path: Path) -> Path:
    path = tmp_path / "voter.json"
    assert write_keystore(path, KEY, PASSWORD, scrypt_n=LIGHT) == ADDRESS
    return path


def _keystore_config(path: Path, **over: Any) -> dict[str, Any]:
    return {"keystore": path, "password_env": "STEWARD_PW", **over}


def _assert_secret_free(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    texts = [str(exc), repr(exc), caplog.text]
    chained = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if chained is not None:
        texts += [str(chained), repr(chained)]
    for text in texts:
        for secret in (KEY, KEY[2:], KEY[2:].upper(), PASSWORD, "Hunter2_x"):
            assert secret not in text


def test_keystore_round_trip(keystore: Path) -> None:
    signer = load_signer(_keystore_config(keystore), environ={"STEWARD_PW": PASSWORD})
    assert isinstance(signer, LocalAccount) and signer.address == ADDRESS
    assert repr(signer) == str(signer) == f"Signer({ADDRESS})"
    assert keystore.stat().st_mode & 0o777 == 0o600
    assert json.loads(keystore.read_text())["crypto"]["kdfparams"]["n"] == LIGHT
    tx = {"type": 2, "chainId": 1, "nonce": 0, "to": ADDRESS, "value": 0, "gas": 21_000}
    signed = signer.sign_transaction({**tx, "maxFeePerGas": 2, "maxPriorityFeePerGas": 1})
    assert Account.recover_transaction(signed.raw_transaction) == ADDRESS


def test_expected_address_guards_against_a_wrong_key_file(
    keystore: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"STEWARD_PW": PASSWORD}
    assert load_signer(_keystore_config(keystore, expected_address=ADDRESS.lower()), environ=env)
    other = Account.create().address
    with pytest.raises(ConfigError, match="wrong key file") as info:
        load_signer(_keystore_config(keystore, expected_address=other), environ=env)
    assert ADDRESS in str(info.value) and other in str(info.value)
    _assert_secret_free(info.value, caplog)


@pytest.mark.parametrize("value", [KEY, KEY[2:], f"  {KEY}\n"])
def test_raw_key_from_the_environment_warns(value: str, caplog: pytest.LogCaptureFixture) -> None:
    signer = load_signer({"private_key_env": "STEWARD_KEY"}, environ={"STEWARD_KEY": value})
    assert signer.address == ADDRESS
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "keystore" in record.getMessage() and "STEWARD_KEY" in record.getMessage()
    for secret in (KEY, KEY[2:]):
        assert secret not in caplog.text


def test_signer_cannot_be_pickled_or_copied() -> None:
    signer = load_signer({"private_key_env": "K"}, environ={"K": KEY})
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="private key"):
            attempt(signer)


Case = tuple[str, Callable[[Path], tuple[Any, dict[str, str]]], str]
CASES: list[Case] = [
    (
        "missing file",
        lambda p: (_keystore_config(p / "nope.json"), {"STEWARD_PW": PASSWORD}),
        "cannot read",
    ),
    (
        "wrong password",
        lambda p: (_keystore_config(p / "voter.json"), {"STEWARD_PW": "x" + PASSWORD}),
        "wrong password",
    ),
    ("password unset", lambda p: (_keystore_config(p / "voter.json"), {}), "STEWARD_PW is not set"),
    (
        "not a keystore",
        lambda p: (_keystore_config(p / "junk.json"), {"STEWARD_PW": PASSWORD}),
        "not a JSON keystore",
    ),
    ("key unset", lambda p: ({"private_key_env": "STEWARD_KEY"}, {}), "STEWARD_KEY is not set"),
    ("short key", lambda p: ({"private_key_env": "K"}, {"K": KEY[:-2]}), "32-byte hex"),
    ("not hex", lambda p: ({"private_key_env": "K"}, {"K": KEY[:-1] + "z"}), "32-byte hex"),
    ("zero key", lambda p: ({"private_key_env": "K"}, {"K": "0x" + "00" * 32}), "not a valid"),
    ("key past n", lambda p: ({"private_key_env": "K"}, {"K": "0x" + "ff" * 32}), "not a valid"),
    ("inline key", lambda p: ({"private_key": KEY}, {}), "never put a key"),
    ("inline password", lambda p: (_keystore_config(p, password=PASSWORD), {}), "never put"),
    ("key as env name", lambda p: ({"private_key_env": KEY}, {}), "looks like a key"),
    ("bare key as env name", lambda p: ({"private_key_env": KEY[2:]}, {}), "looks like a key"),
    (
        "unknown setting",
        lambda p: ({"private_key_env": "K", "privkey": KEY}, {}),
        "unknown setting",
    ),
    ("password as env", lambda p: (_keystore_config(p, password_env="Hunter2_x"), {}), "named in"),
    ("not an env name", lambda p: ({"private_key_env": "my key!"}, {}), "variable name"),
    ("two sources", lambda p: ({"private_key_env": "K", **_keystore_config(p)}, {}), "either"),
    ("no source", lambda p: ({}, {}), "either"),
    ("no password_env", lambda p: ({"keystore": p / "voter.json"}, {}), "needs password_env"),
    (
        "bad expected",
        lambda p: ({"private_key_env": "K", "expected_address": "0x12"}, {}),
        "address",
    ),
]


@pytest.mark.parametrize(("name", "make", "match"), CASES, ids=[c[0] for c in CASES])
def test_failures_are_clear_and_secret_free(
    name: str,
    make: Callable[[Path], tuple[Any, dict[str, str]]],
    match: str,
    keystore: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (keystore.parent / "junk.json").write_text(
        json.dumps({"address": ADDRESS, "password": PASSWORD})
    )
    caplog.set_level(logging.DEBUG)
    config, environ = make(keystore.parent)
    with pytest.raises(ConfigError, match=match) as info:
        load_signer(config, environ=environ)
    assert str(info.value).startswith("signer")
    _assert_secret_free(info.value, caplog)


def test_config_model_is_usable_directly(keystore: Path) -> None:
    config = SignerConfig(keystore=keystore, password_env="STEWARD_PW")
    assert "STEWARD_PW" in repr(config)  # names only: nothing secret to hide
    assert load_signer(config, environ={"STEWARD_PW": PASSWORD}).address == ADDRESS


def test_config_model_errors_hide_their_input() -> None:
    with pytest.raises(ValidationError) as info:
        SignerConfig(private_key_env=KEY)
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_world_readable_keystore_is_warned_about(
    keystore: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keystore.chmod(0o644)
    load_signer(_keystore_config(keystore), environ={"STEWARD_PW": PASSWORD})
    assert "chmod 600" in caplog.text


def test_write_keystore_refuses_to_overwrite(keystore: Path) -> None:
    other = Account.create()
    with pytest.raises(ConfigError, match="already exists"):
        write_keystore(keystore, other.key, PASSWORD, scrypt_n=LIGHT)
    assert write_keystore(keystore, other.key, PASSWORD, scrypt_n=LIGHT, overwrite=True)
    loaded = load_signer(_keystore_config(keystore), environ={"STEWARD_PW": PASSWORD})
    assert loaded.address == other.address
    with pytest.raises(ConfigError, match="32-byte hex") as info:
        write_keystore(keystore.parent / "bad.json", KEY[:-2], PASSWORD)
    assert KEY[2:-2] not in str(info.value)


def test_write_keystore_defaults_to_eth_accounts_scrypt(tmp_path: Path) -> None:
    path = tmp_path / "strong.json"
    write_keystore(path, KEY, PASSWORD)
    assert json.loads(path.read_text())["crypto"]["kdfparams"]["n"] == 2**18
