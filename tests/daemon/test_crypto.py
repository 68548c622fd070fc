"""The callback crypto against the published WeCom vectors (tests/daemon/fixtures)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wesync.daemon.wecom_crypto import CallbackCryptoError, WeComCrypto, aes_key, signature

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "crypto_vectors.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("v", VECTORS["vectors"], ids=lambda v: v["name"])
def test_published_vectors_verify_and_decrypt(v: dict[str, Any]) -> None:
    crypto = WeComCrypto.from_settings(
        token=v["token"],
        encoding_aes_key=v["encoding_aes_key"],
        receive_id=v["expected_receive_id"],
    )
    crypto.verify(v["msg_signature"], v["timestamp"], v["nonce"], v["encrypted"])
    assert crypto.decrypt(v["encrypted"]) == v["expected_message"].encode()


@pytest.mark.parametrize("v", VECTORS["vectors"], ids=lambda v: v["name"])
def test_wrong_receive_id_is_refused(v: dict[str, Any]) -> None:
    crypto = WeComCrypto.from_settings(
        token=v["token"], encoding_aes_key=v["encoding_aes_key"], receive_id="ww-someone-else"
    )
    with pytest.raises(CallbackCryptoError) as info:
        crypto.decrypt(v["encrypted"])
    assert info.value.reason == "bad_receiveid"
    assert crypto.decrypt_raw(v["encrypted"]).receive_id == v["expected_receive_id"]


def test_tampered_signature_and_nonce_fail() -> None:
    go, wx = VECTORS["vectors"][0], VECTORS["vectors"][2]
    c = WeComCrypto.from_settings(
        token=go["token"], encoding_aes_key=go["encoding_aes_key"], receive_id="x"
    )
    with pytest.raises(CallbackCryptoError, match="msg_signature"):
        c.verify(go["bad_signature"], go["timestamp"], go["nonce"], go["encrypted"])
    c2 = WeComCrypto.from_settings(
        token=wx["token"], encoding_aes_key=wx["encoding_aes_key"], receive_id="x"
    )
    with pytest.raises(CallbackCryptoError):
        c2.verify(wx["msg_signature"], wx["timestamp"], wx["bad_nonce"], wx["encrypted"])


def test_wechatpy_post_body_decrypts() -> None:
    p = VECTORS["wechatpy_post"]
    encrypted = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", p["body_xml"])
    assert encrypted is not None
    c = WeComCrypto.from_settings(
        token=p["token"], encoding_aes_key=p["encoding_aes_key"], receive_id=p["receive_id"]
    )
    c.verify(p["msg_signature"], p["timestamp"], p["nonce"], encrypted.group(1))
    assert c.decrypt(encrypted.group(1)).decode() == p["expected_message"]


def test_encrypt_with_fixed_prefix_matches_published_ciphertext() -> None:
    e = VECTORS["wechatpy_encrypt"]
    c = WeComCrypto.from_settings(
        token=e["token"], encoding_aes_key=e["encoding_aes_key"], receive_id=e["receive_id"]
    )
    encrypted = c.encrypt(e["plaintext"].encode(), random_prefix=e["random_prefix"].encode())
    assert encrypted == e["expected_encrypt"]
    assert c.sign(e["timestamp"], e["nonce"], encrypted) == e["expected_msg_signature"]
    assert (
        signature(e["token"], e["timestamp"], e["nonce"], encrypted) == e["expected_msg_signature"]
    )


@pytest.mark.parametrize("key", VECTORS["invalid_encoding_aes_keys"])
def test_invalid_keys_are_refused(key: str) -> None:
    with pytest.raises(CallbackCryptoError):
        aes_key(key)


@settings(max_examples=200, deadline=None)
@given(message=st.binary(max_size=300), receive_id=st.text(max_size=20))
def test_round_trip_any_message(message: bytes, receive_id: str) -> None:
    c = WeComCrypto.from_settings(
        token="tok",
        encoding_aes_key="4Ma3YBrSBbX2aez8MJpXGBne5LSDwgGqHbhM9WPYIws",
        receive_id=receive_id,
    )
    encrypted = c.encrypt(message)
    assert c.decrypt(encrypted) == message


def test_garbage_ciphertext_is_a_crypto_error_not_a_crash() -> None:
    c = WeComCrypto.from_settings(
        token="tok", encoding_aes_key="4Ma3YBrSBbX2aez8MJpXGBne5LSDwgGqHbhM9WPYIws", receive_id="x"
    )
    for bad in ["", "not base64!!", "QUJD", "A" * 44]:
        with pytest.raises(CallbackCryptoError):
            c.decrypt(bad)


def test_repr_hides_the_key_and_token() -> None:
    c = WeComCrypto.from_settings(
        token="tok123456",
        encoding_aes_key="4Ma3YBrSBbX2aez8MJpXGBne5LSDwgGqHbhM9WPYIws",
        receive_id="ww1",
    )
    assert "tok123456" not in repr(c)
    assert "key" not in repr(c).replace("receive_id", "")
