"""Endpoint secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, `cryptography`) under a key
kept in the credentials directory (0600, generated on first use). The events of a subscription carry only
the ciphertext, so neither the log, a read-model nor a backup of either reveals a secret; every
notifications instance needs the same key file (mounted like the other secrets in the cluster)."""
from __future__ import annotations

import base64
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE = "notifications-secrets.key"


def ensure_key(directory: Path) -> Path:
    """The key file, generated if missing (the embedded default; `dangjian credentials` writes it for the
    cluster, where /run/secrets is read-only and every instance mounts the same file)."""
    path = Path(directory) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
        except FileExistsError:  # another instance wrote it a moment ago
            pass
    return path


@lru_cache(maxsize=8)
def _fernet(directory: str) -> Fernet:
    return Fernet(ensure_key(Path(directory)).read_bytes().strip())


def seal(directory: Path, secret: str) -> str:
    return _fernet(str(directory)).encrypt(secret.encode()).decode()


def unseal(directory: Path, sealed: str) -> str:
    try:
        return _fernet(str(directory)).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise ValueError("the secret cannot be decrypted with this key file (was it replaced?)") from None


def new_webhook_secret() -> str:
    """whsec_ + base64 of 32 random bytes (the Standard Webhooks format)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
