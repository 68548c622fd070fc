"""WeCom callback message crypto: signature, AES-256-CBC, the 32-byte PKCS#7 padding.

Written from WeCom's published scheme (加解密方案说明): the AES key is the
43-character EncodingAESKey base64-decoded with one "=" appended, the IV is
the key's first 16 bytes, and the plaintext is

    16 random bytes | msg length (4 bytes, big-endian) | msg | receiveid

padded PKCS#7-style to a multiple of 32 bytes (not AES's 16). The signature
is the SHA-1 hex of the sorted concatenation of token, timestamp, nonce and
the encrypted text. The emulator's sender is a separate implementation; both
are checked against the published vectors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wesync.errors import WesyncError

PAD_BLOCK = 32


class CallbackCryptoError(WesyncError):
    """A callback that cannot be trusted: bad signature, key, padding or receiveid.

    `reason` is a short fixed word for logs and metrics; the message never
    carries the token, the key or the decrypted text.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey."""
    if len(encoding_aes_key) != 43:
        raise CallbackCryptoError("bad_key", "EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise CallbackCryptoError("bad_key", "EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise CallbackCryptoError("bad_key", "EncodingAESKey does not decode to 32 bytes")
    return key


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """WeCom's msg_signature: sha1 over the sorted, concatenated parts."""
    parts = sorted([token, timestamp, nonce, encrypted])
    return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    # constant time, so a forger learns nothing from how fast a guess fails
    return hmac.compare_digest(
        expected.encode("ascii", "replace"), given.encode("ascii", "replace")
    )


def _pad(data: bytes) -> bytes:
    n = PAD_BLOCK - len(data) % PAD_BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    if not data:
        raise CallbackCryptoError("bad_padding", "empty plaintext")
    n = data[-1]
    if not 1 <= n <= PAD_BLOCK or n > len(data) or data[-n:] != bytes([n]) * n:
        raise CallbackCryptoError("bad_padding", "bad padding")
    return data[:-n]


@dataclass(frozen=True)
class Decrypted:
    message: bytes
    receive_id: str


@dataclass(frozen=True)
class WeComCrypto:
    """One app's callback crypto. `receive_id` is the corpid for a self-built app."""

    token: str
    key: bytes
    receive_id: str

    @classmethod
    def from_settings(cls, *, token: str, encoding_aes_key: str, receive_id: str) -> WeComCrypto:
        return cls(token=token, key=aes_key(encoding_aes_key), receive_id=receive_id)

    def __repr__(self) -> str:
        return f"WeComCrypto(receive_id={self.receive_id!r})"

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        if not signature_matches(self.sign(timestamp, nonce, encrypted), msg_signature):
            raise CallbackCryptoError("bad_signature", "msg_signature does not match")

    def decrypt_raw(self, encrypted: str) -> Decrypted:
        """Decrypt without checking the receiveid (for tests and diagnostics)."""
        try:
            blob = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise CallbackCryptoError("bad_ciphertext", "ciphertext is not base64") from None
        if not blob or len(blob) % 16:
            raise CallbackCryptoError("bad_ciphertext", "ciphertext length is not whole blocks")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = _unpad(decryptor.update(blob) + decryptor.finalize())
        if len(plain) < 20:
            raise CallbackCryptoError("bad_ciphertext", "plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CallbackCryptoError("bad_ciphertext", "message length runs past the end")
        message = plain[20 : 20 + length]
        try:
            receive_id = plain[20 + length :].decode("utf-8")
        except UnicodeDecodeError:
            raise CallbackCryptoError("bad_receiveid", "receiveid is not UTF-8") from None
        return Decrypted(message=message, receive_id=receive_id)

    def decrypt(self, encrypted: str) -> bytes:
        """The message, after checking that it was meant for this app."""
        result = self.decrypt_raw(encrypted)
        if not hmac.compare_digest(result.receive_id.encode(), self.receive_id.encode()):
            raise CallbackCryptoError("bad_receiveid", "receiveid does not match the corpid")
        return result.message

    def encrypt(self, message: bytes, *, random_prefix: bytes | None = None) -> str:
        prefix = os.urandom(16) if random_prefix is None else random_prefix
        if len(prefix) != 16:
            raise ValueError("the random prefix must be 16 bytes")
        plain = prefix + struct.pack(">I", len(message)) + message + self.receive_id.encode()
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        blob = encryptor.update(_pad(plain)) + encryptor.finalize()
        return base64.b64encode(blob).decode("ascii")
