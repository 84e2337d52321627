"""Holder ID numbers at rest: AES-256-GCM with a key ring, plus a keyed blind index.

- Ciphertext format `v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The key id says which key
  of the ring decrypts it, so keys can be rotated: put a new key first in `ID_NUMBER_KEYS`, then
  `manage.py rotate_id_number_key` re-encrypts every row under it; old keys are removed after.
- The ID type is bound in as associated data: a ciphertext copied onto a row of another ID type
  does not decrypt.
- The blind index is HMAC-SHA256 under a separate key over `id_type:normalised number`; it allows
  exact-match search and uniqueness without decrypting, and says nothing without the key.

Nothing here logs or puts a plaintext into an exception message.
"""

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

from registry.validators import normalise_id_number

TOKEN_VERSION = "v1"  # noqa: S105 - a format tag, not a secret
_KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class DecryptionError(Exception):
    """A ciphertext could not be decrypted (unknown key id, tampered or wrong row)."""


def _decode_key(text: str, *, what: str, exact: int | None = None, minimum: int = 32) -> bytes:
    text = text.strip()
    try:
        raw = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{what} is not valid base64") from exc
    if exact is not None and len(raw) != exact:
        raise ImproperlyConfigured(f"{what} must decode to {exact} bytes, not {len(raw)}")
    if len(raw) < minimum:
        raise ImproperlyConfigured(f"{what} must decode to at least {minimum} bytes")
    return raw


@dataclass(frozen=True)
class KeyRing:
    current_id: str
    keys: dict  # key id -> AESGCM


@lru_cache(maxsize=8)
def _parse_ring(spec: str) -> KeyRing:
    keys: dict[str, AESGCM] = {}
    order = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kid, sep, material = item.partition(":")
        if not sep or not _KID_RE.match(kid):
            raise ImproperlyConfigured("ID_NUMBER_KEYS entries must look like '<key id>:<base64 key>'")
        if kid in keys:
            raise ImproperlyConfigured(f"ID_NUMBER_KEYS names key id {kid!r} twice")
        keys[kid] = AESGCM(_decode_key(material, what=f"ID_NUMBER_KEYS key {kid!r}", exact=32))
        order.append(kid)
    if not order:
        raise ImproperlyConfigured("ID_NUMBER_KEYS holds no key")
    return KeyRing(order[0], keys)


@lru_cache(maxsize=8)
def _parse_index_key(spec: str) -> bytes:
    return _decode_key(spec, what="ID_NUMBER_INDEX_KEY")


def key_ring() -> KeyRing:
    return _parse_ring(settings.ID_NUMBER_KEYS)


def current_key_id() -> str:
    return key_ring().current_id


def key_id_of(token: str) -> str:
    parts = (token or "").split(":")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION:
        raise DecryptionError("not an ID number ciphertext")
    return parts[1]


def _aad(id_type: str) -> bytes:
    return f"registry.holder.id_number|{id_type}".encode()


@sensitive_variables("id_number", "normalised")
def encrypt_id_number(id_type: str, id_number: str) -> str:
    """Encrypt the normalised number under the current key; returns the storable token."""
    ring = key_ring()
    normalised = normalise_id_number(id_number)
    nonce = os.urandom(12)
    sealed = ring.keys[ring.current_id].encrypt(nonce, normalised.encode(), _aad(id_type))
    body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{TOKEN_VERSION}:{ring.current_id}:{body}"


@sensitive_variables("plain")
def decrypt_id_number(id_type: str, token: str) -> str:
    kid = key_id_of(token)
    aead = key_ring().keys.get(kid)
    if aead is None:
        raise DecryptionError(f"ID number was encrypted under key {kid!r}, which is not in ID_NUMBER_KEYS")
    body = token.split(":", 2)[2]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        plain = aead.decrypt(raw[:12], raw[12:], _aad(id_type))
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise DecryptionError("ID number ciphertext failed authentication") from exc
    return plain.decode()


def reveal_id_number(holder) -> str:
    """The holder's ID number in clear. Only for code paths entitled to it (never for display)."""
    return decrypt_id_number(holder.id_type, holder.id_number_ciphertext)


@sensitive_variables("id_number", "message")
def blind_index(id_type: str, id_number: str) -> str:
    """Keyed HMAC-SHA256 (hex, 64 chars) of `id_type:normalised number`, for exact-match search."""
    key = _parse_index_key(settings.ID_NUMBER_INDEX_KEY)
    message = f"{id_type}:{normalise_id_number(id_number)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def blind_indexes_any_type(id_number: str) -> dict[str, str]:
    """`{index: id_type}` for a number typed without its ID type (admin search box)."""
    from registry.models import IdType

    return {blind_index(code, id_number): code for code in IdType.values}
