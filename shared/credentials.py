"""Credentials of each component: an NATS user nkey per component, and the Ed25519 key pair that signs
and verifies bearer tokens (docs/decisions/012-nats-access.md).

A credentials directory holds one file per secret, each mode 0600 in a 0700 directory:

    <component>.nk        NATS user seed (nkey "SU..."): operator, gateway, cli, organizations, ...
    jwt-signing.pem       Ed25519 private key: only the CLI / launcher mints tokens with it
    jwt-verify.pem        its public key: the gateway and the services verify tokens with it
    events-<service>.pem  Ed25519 key each service signs its events with (shared/signing.py)
    events-audit-export.pem  signs audit export manifests (dangjian audit export)
    event-keys.json       the public halves of those keys, with ids: what auditors verify with

The embedded default generates every missing file on first start (`Keyring.ensure`); the clustered
topology mounts each container's own files as secrets (`dangjian credentials init` writes them and
the NATS server configuration naming the public keys). Secrets are read from files and handed to
the NATS client or PyJWT, never logged: `Keyring` has no __repr__ that shows them.
"""
from __future__ import annotations

import os
from pathlib import Path

import nkeys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.signing import EXPORTER, ensure_writer_keys

# who connects to NATS; every one of them has its own nkey and permissions (shared/natsconf.py)
SERVICES = ("organizations", "ratings", "notifications")
COMPONENTS = ("operator", "gateway", "cli", *SERVICES)
SIGNING_KEY = "jwt-signing.pem"
VERIFY_KEY = "jwt-verify.pem"


def new_user_seed() -> str:
    """A fresh NATS user nkey seed ("SU..."), from 32 random bytes."""
    return nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER).decode()


def public_nkey(seed: str) -> str:
    """The public key ("U...") the server configuration names for a seed."""
    return nkeys.from_seed(bytearray(seed.strip().encode())).public_key.decode()


def new_signing_key_pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def verify_key_pem(signing_pem: str) -> str:
    key = serialization.load_pem_private_key(signing_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def write_secret(path: Path, text: str) -> None:
    """Create `path` with mode 0600 from the start (never readable by others, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


class MissingCredential(RuntimeError):
    pass


class Keyring:
    """The credential files of one directory."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"Keyring({str(self.directory)!r})"

    def ensure(self, components: tuple[str, ...] = COMPONENTS, signing: bool = True) -> "Keyring":
        """Generate whatever is missing (first start of the embedded default); existing files are kept."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        for name in components:
            path = self.directory / f"{name}.nk"
            if not path.exists():
                write_secret(path, new_user_seed() + "\n")
        if signing and not (self.directory / SIGNING_KEY).exists():
            pem = new_signing_key_pem()
            write_secret(self.directory / SIGNING_KEY, pem)
            (self.directory / VERIFY_KEY).unlink(missing_ok=True)
        writers = tuple(name for name in components if name in SERVICES)
        ensure_writer_keys(self.directory, writers + ((EXPORTER,) if "cli" in components else ()))
        if (self.directory / SIGNING_KEY).exists() and not (self.directory / VERIFY_KEY).exists():
            (self.directory / VERIFY_KEY).write_text(verify_key_pem(self.signing_key()))
        return self

    def _read(self, name: str) -> str:
        path = self.directory / name
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            raise MissingCredential(f"credential file {path} is missing") from None

    def seed(self, component: str) -> str:
        return self._read(f"{component}.nk")

    def has(self, component: str) -> bool:
        return (self.directory / f"{component}.nk").exists()

    def public_keys(self, components: tuple[str, ...] = COMPONENTS) -> dict[str, str]:
        return {name: public_nkey(self.seed(name)) for name in components if self.has(name)}

    def signing_key(self) -> str:
        return self._read(SIGNING_KEY) + "\n"

    def verify_key(self) -> str:
        if (self.directory / VERIFY_KEY).exists():
            return self._read(VERIFY_KEY) + "\n"
        return verify_key_pem(self.signing_key())
