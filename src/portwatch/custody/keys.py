"""Ed25519 keys of seal devices: generate, store, load, sign and verify.

A private key file holds the 32-byte raw seed in base64 on one line; a public key is
the 32-byte raw key in base64, as it appears in ``shipment.json``.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from portwatch.custody.envelope import encode_line, signing_bytes
from portwatch.domain.errors import InputError

_RAW = serialization.Encoding.Raw


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh device key from the operating system's random source."""
    return Ed25519PrivateKey.generate()


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """A device key from a 32-byte seed (reproducible simulations draw the seed)."""
    if len(seed) != 32:
        raise InputError(f"private key seed: must be 32 bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The base64 raw public key of a private or public key."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(pub.public_bytes(_RAW, serialization.PublicFormat.Raw)).decode()


def load_public_key(text: str, where: str = "public_key") -> Ed25519PublicKey:
    """A public key from its base64 raw form; ``where`` names the field in errors."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{where}: not valid base64") from exc
    if len(raw) != 32:
        raise InputError(f"{where}: must be a 32-byte Ed25519 key, got {len(raw)} bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def save_private_key(key: Ed25519PrivateKey, path: Path) -> None:
    """Write the key's seed to ``path``, readable by its owner only."""
    seed = key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(seed).decode() + "\n")


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a key written by ``save_private_key``."""
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise InputError(f"{path}: cannot read key file ({exc.strerror})") from exc
    try:
        seed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{path}: not a base64 Ed25519 key") from exc
    if len(seed) != 32:
        raise InputError(f"{path}: must hold a 32-byte Ed25519 seed, got {len(seed)} bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def sign_fields(key: Ed25519PrivateKey, fields: dict[str, object]) -> str:
    """Sign a message's fields and return its canonical line."""
    return encode_line(fields, key.sign(signing_bytes(fields)))


def verify_signature(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is the key's Ed25519 signature of ``data``."""
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


__all__ = [
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    "private_key_from_seed",
    "public_key_b64",
    "save_private_key",
    "sign_fields",
    "verify_signature",
]
