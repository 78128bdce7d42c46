"""Personal numbers at rest: one swappable provider, chosen in settings.

- `REGISTRY_CIPHER`: "aes-gcm" (default), "sm4-gcm" (GB/T 32907, for deployments whose security
  assessment asks for the national commercial ciphers), or the dotted path of another provider class.
- `REGISTRY_ENCRYPTION_KEYS`: {key id: master key bytes}, the first one encrypts; the others only decrypt,
  so rotating a key (put the new one first, keep the old ones) loses nothing.
- `REGISTRY_HASH_KEY`: its own key for the keyed hash (HMAC) that exact search matches on;
  `REGISTRY_HASH_ALGORITHM` is "sha256" (default) or "sm3".

A token names its cipher and key id (`aes-gcm$k2026$<base64>`), so values written under an older key or
an older cipher still read after a rotation or a switch. Each value is bound to its column (AEAD
associated data), so a ciphertext copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(Exception):
    """A token that no configured key opens (wrong key, tampered, or another column's value)."""


class Provider(Protocol):
    name: str

    def encrypt(self, plaintext: str, *, column: str) -> str: ...

    def decrypt(self, token: str, *, column: str) -> str: ...

    def current_prefix(self) -> str: ...


def _derive(master: bytes, *, length: int, algorithm: hashes.HashAlgorithm, info: bytes) -> bytes:
    return HKDF(algorithm=algorithm, length=length, salt=None, info=info).derive(master)


class _KeyringCipher:
    """Encrypts with the first key, decrypts with the key the token names."""

    name = ""

    def __init__(self, keys: dict[str, bytes]):
        if not keys:
            raise ImproperlyConfigured("REGISTRY_ENCRYPTION_KEYS holds no key")
        self._keys = {kid: self._subkey(master) for kid, master in keys.items()}
        self._current = next(iter(keys))

    def _subkey(self, master: bytes) -> bytes:
        raise NotImplementedError

    def _seal(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        raise NotImplementedError

    def _open(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        raise NotImplementedError

    def encrypt(self, plaintext: str, *, column: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._seal(self._keys[self._current], nonce, plaintext.encode(), column.encode())
        return f"{self.name}${self._current}${base64.b64encode(nonce + sealed).decode()}"

    def decrypt_body(self, kid: str, body: str, *, column: str) -> str:
        key = self._keys.get(kid)
        if key is None:
            raise DecryptionError("unknown key id")
        raw = base64.b64decode(body)
        try:
            return self._open(key, raw[:NONCE_BYTES], raw[NONCE_BYTES:], column.encode()).decode()
        except InvalidTag:
            raise DecryptionError("token does not open") from None


class AesGcm(_KeyringCipher):
    name = "aes-gcm"

    def __init__(self, keys: dict[str, bytes]):
        super().__init__(keys)
        # One AESGCM object per key, reused: it holds the expanded key only (each call takes its own
        # fresh nonce), so an import of 100,000 rows does not expand the same key 200,000 times.
        self._aead = {key: AESGCM(key) for key in self._keys.values()}

    def _subkey(self, master: bytes) -> bytes:
        return _derive(master, length=32, algorithm=hashes.SHA256(), info=b"ruian-grid registry aes-256-gcm")

    def _seal(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        return self._aead[key].encrypt(nonce, data, aad)

    def _open(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        return self._aead[key].decrypt(nonce, data, aad)


class Sm4Gcm(_KeyringCipher):
    name = "sm4-gcm"

    def _subkey(self, master: bytes) -> bytes:
        return _derive(master, length=16, algorithm=hashes.SM3(), info=b"ruian-grid registry sm4-gcm")

    def _seal(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        return enc.update(data) + enc.finalize() + enc.tag

    def _open(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, data[-TAG_BYTES:])).decryptor()
        dec.authenticate_additional_data(aad)
        return dec.update(data[:-TAG_BYTES]) + dec.finalize()


BUILTIN = {AesGcm.name: AesGcm, Sm4Gcm.name: Sm4Gcm}


class KeyringProvider:
    """The default provider: the configured cipher encrypts; every built-in cipher can decrypt."""

    def __init__(self, cipher: str, keys: dict[str, bytes]):
        if cipher not in BUILTIN:
            raise ImproperlyConfigured(f"REGISTRY_CIPHER must be one of {sorted(BUILTIN)} or a dotted path")
        self._ciphers = {name: cls(keys) for name, cls in BUILTIN.items()}
        self.name = cipher

    def encrypt(self, plaintext: str, *, column: str) -> str:
        return self._ciphers[self.name].encrypt(plaintext, column=column)

    def current_prefix(self) -> str:
        """What tokens written now start with; rows whose tokens do not are due for `rekey`."""
        return f"{self.name}${self._ciphers[self.name]._current}$"  # noqa: SLF001 - same module

    def decrypt(self, token: str, *, column: str) -> str:
        try:
            cipher, kid, body = token.split("$", 2)
        except ValueError:
            raise DecryptionError("not a registry token") from None
        if cipher not in self._ciphers:
            raise DecryptionError("unknown cipher")
        return self._ciphers[cipher].decrypt_body(kid, body, column=column)


def parse_keys(entries: list[str] | dict[str, bytes]) -> dict[str, bytes]:
    """`["k2026:<base64>", "k2025:<base64>"]` (the environment's form) to {id: bytes}, in order."""
    if isinstance(entries, dict):
        return dict(entries)
    keys: dict[str, bytes] = {}
    for entry in entries:
        kid, sep, b64 = entry.partition(":")
        if not sep or not kid or "$" in kid:
            raise ImproperlyConfigured("each registry key is written <key id>:<base64 key>")
        try:
            key = base64.b64decode(b64, validate=True)
        except ValueError:
            raise ImproperlyConfigured(f"registry key {kid} is not valid base64") from None
        if len(key) < 32:
            raise ImproperlyConfigured(f"registry key {kid} must be at least 32 bytes")
        keys[kid] = key
    return keys


@lru_cache(maxsize=1)
def provider() -> Provider:
    keys = parse_keys(settings.REGISTRY_ENCRYPTION_KEYS)
    name = settings.REGISTRY_CIPHER
    if "." in name:
        return import_string(name)(keys)
    return KeyringProvider(name, keys)


@lru_cache(maxsize=1)
def _hash_key() -> tuple[bytes, str]:
    try:
        key = base64.b64decode(settings.REGISTRY_HASH_KEY, validate=True)
    except ValueError:
        raise ImproperlyConfigured("REGISTRY_HASH_KEY is not valid base64") from None
    if len(key) < 32:
        raise ImproperlyConfigured("REGISTRY_HASH_KEY must be at least 32 bytes")
    algorithm = settings.REGISTRY_HASH_ALGORITHM
    if algorithm not in ("sha256", "sm3"):
        raise ImproperlyConfigured('REGISTRY_HASH_ALGORITHM is "sha256" or "sm3"')
    if any(key == master for master in parse_keys(settings.REGISTRY_ENCRYPTION_KEYS).values()):
        raise ImproperlyConfigured("REGISTRY_HASH_KEY must differ from every encryption key")
    return key, algorithm


@lru_cache(maxsize=1)
def _hmac_sha256() -> hmac.HMAC:
    """HMAC-SHA256 keyed once (its inner and outer pads hashed); each value hashes a copy of it."""
    return hmac.new(_hash_key()[0], digestmod=hashlib.sha256)


def blind_index(value: str, *, column: str) -> str:
    """The keyed hash exact search matches on (hex, 64 characters)."""
    key, algorithm = _hash_key()
    message = column.encode() + b"\x00" + value.encode()
    if algorithm == "sm3":
        from cryptography.hazmat.primitives import hmac as chmac

        mac = chmac.HMAC(key, hashes.SM3())
        mac.update(message)
        return mac.finalize().hex()
    mac = _hmac_sha256().copy()
    mac.update(message)
    return mac.hexdigest()


def encrypt(value: str, *, column: str) -> str:
    return provider().encrypt(value, column=column)


def decrypt(token: str, *, column: str) -> str:
    return provider().decrypt(token, column=column)


def mask_id(number: str) -> str:
    """330381********1234 for an 18-character ID; other documents keep two characters at each end."""
    if len(number) == 18:
        return number[:6] + "*" * 8 + number[-4:]
    return number[:2] + "*" * max(len(number) - 4, 1) + number[-2:]


def mask_phone(number: str) -> str:
    return number[:3] + "****" + number[-4:]


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("REGISTRY_"):
        provider.cache_clear()
        _hash_key.cache_clear()
        _hmac_sha256.cache_clear()
