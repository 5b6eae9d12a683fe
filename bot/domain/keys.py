"""Personal keys for the AI gateway: how they are made, recognised and stored.

A key is `abk_` and 43 characters of URL-safe base64: 256 random bits from the operating system's
generator. AccessBot keeps only its SHA-256 digest. A slow password hash (bcrypt, scrypt) protects
secrets people choose, which are guessable; a key of 256 random bits is not, and a plain digest lets the
decision API find the key with one index lookup on every model call.
"""

from __future__ import annotations

import hashlib
import re
import secrets

PREFIX = "abk_"
_SHAPE = re.compile(r"abk_[A-Za-z0-9_-]{43}")
# A person may hold this many unrevoked keys at once (one per machine or tool, say).
MAX_ACTIVE_KEYS = 5
# How many characters of a key's end are kept to tell keys apart in lists.
HINT_LENGTH = 4


def new_key() -> str:
    """A fresh key, `abk_` + 43 characters: shown once to its owner, then forgotten."""
    return PREFIX + secrets.token_urlsafe(32)


def well_formed(text: str) -> bool:
    """Whether `text` has a key's shape (a key AccessBot made may still be unknown or revoked)."""
    return _SHAPE.fullmatch(text) is not None


def digest(key: str) -> str:
    """The hex SHA-256 of the key's UTF-8 bytes (64 characters): what is stored and looked up."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def hint(key: str) -> str:
    """The key's last characters, kept beside the digest."""
    return key[-HINT_LENGTH:]


def masked(hint_text: str) -> str:
    """How lists show a key: its prefix and last characters, `abk_…x3Fq`."""
    return f"{PREFIX}…{hint_text}"
