"""Event signatures: every event is signed by the service that wrote it (docs/decisions/016-audit-log.md).

Each writer (organizations, ratings, ...) holds an Ed25519 key of its own, `events-<writer>.pem` in the
credentials directory (0600). Its public half is published in `event-keys.json` beside it, with a key
id, the writer, and when the key was created and retired (rotation). An envelope names its `key_id`
(covered by the hash) and carries `sig`: the signature of its hash. The hash covers the whole envelope
including `prev_hash`, so a signature vouches for the event and the chain it continues.

A key signs only its writer's contexts (ratings' key cannot sign an org event, as NATS permissions
would not let ratings publish one either). Rotation gives a writer a new key and marks the old one
retired: what it signed stays valid. A key rotated because it leaked is revoked as well: nothing it
signed that was stored after the revocation's position in each county's stream is accepted
(`revoked_from`; an event's own recorded_at is the forger's choice). Writers and readers follow the key
files as they change: no restart.
Events stored before signing existed carry no `sig`: they are accepted only below the county stream's
`dangjian_signed_from` sequence (stream metadata, set by the operator credential alone).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from shared.canonical import chain_hash

# the event contexts (subject token after evt.) each writer writes: shared/catalog, subject_for, natsconf
WRITES: dict[str, tuple[str, ...]] = {"organizations": ("org",), "ratings": ("ratings",),
                                      "notifications": ("notifications",)}
EXPORTER = "audit-export"      # signs export manifests only, never an event
EVENT_KEYS = "event-keys.json"
SIGNED_FROM = "dangjian_signed_from"  # stream metadata: the first sequence every event must be signed


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def private_key_file(writer: str) -> str:
    return f"events-{writer}.pem"


def key_id_of(writer: str, public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{writer}-{hashlib.sha256(raw).hexdigest()[:12]}"


class Signer:
    """The writer's current key: seals the key id into an envelope and signs its hash."""

    def __init__(self, writer: str, key: Ed25519PrivateKey, path: Path | None = None):
        self.writer, self._path = writer, path
        self._use(key)
        self._stamp = _mtime(path) if path else 0
        self._looked_at = time.monotonic()

    def _follow(self) -> None:
        """A rotated key is used within RELOAD_S: `dangjian audit rotate-key` waits that long before it
        records a revocation, so a running writer signs nothing after it with the revoked key."""
        if self._path is None or time.monotonic() - self._looked_at < RELOAD_S:
            return
        self._looked_at = time.monotonic()
        stamp = _mtime(self._path)
        if stamp != self._stamp:
            fresh = Signer.load(self._path.parent, self.writer)
            self._use(fresh._key)
            self._stamp = fresh._stamp

    def _use(self, key: Ed25519PrivateKey) -> None:
        # signed with libsodium (PyNaCl): the same deterministic Ed25519 signature, ~1.4x faster here
        self._key, self._sodium = key, SigningKey(key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()))
        self.key_id = self._own_id = key_id_of(self.writer, key.public_key())

    def __repr__(self) -> str:
        return f"Signer({self.key_id!r})"

    def sign(self, env: dict[str, Any]) -> dict[str, Any]:
        """`env` without hash: adds key_id, hash and sig (in place) and returns it."""
        self._follow()
        env["key_id"] = self.key_id
        env["hash"] = chain_hash(env)
        env["sig"] = _b64(self._sodium.sign(env["hash"].encode()).signature)
        if self.key_id == self._own_id:  # (a signer claiming another key's id is remembered by nobody)
            _remember(_SIGNED_HERE, f"{self.key_id} {env['hash']} {env['sig']}")
        return env

    def sign_bytes(self, data: bytes) -> str:
        self._follow()
        return _b64(self._sodium.sign(data).signature)

    @classmethod
    def load(cls, directory: Path, writer: str) -> "Signer":
        path = Path(directory) / private_key_file(writer)
        return cls(writer, serialization.load_pem_private_key(path.read_bytes(), password=None), path)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


_SHARED: dict[tuple[str, int], "EventKeys"] = {}
# (key id, hash, signature) of what this process signed itself: a reader in the same process trusts its own
# signature without the Ed25519 check (~70–250 µs here) once the hash it recomputed equals the one it signed
_SIGNED_HERE: OrderedDict[str, None] = OrderedDict()
MAX_REMEMBERED = 200_000
RELOAD_S = 1.0  # a writer looks at its key file at most this often


def _remember(cache: OrderedDict[str, None], seen: str) -> None:
    cache[seen] = None
    if len(cache) > MAX_REMEMBERED:
        cache.popitem(last=False)


class EventKeys:
    """The published public keys (event-keys.json): who may have signed what."""

    def __init__(self, entries: dict[str, dict[str, Any]]):
        self.entries = entries
        # verified with libsodium (PyNaCl): ~1.6x faster here than OpenSSL through cryptography
        self._public = {kid: VerifyKey(_unb64(e["public_key"])) for kid, e in entries.items()}
        self._verified: OrderedDict[str, None] = OrderedDict()  # sigs already checked in this process

    @classmethod
    def load(cls, path: Path) -> "EventKeys":
        path = Path(path)
        if path.is_dir():
            path = path / EVENT_KEYS
        try:
            return cls(json.loads(path.read_text())["keys"])
        except FileNotFoundError:
            return cls({})

    @classmethod
    def shared(cls, path: Path) -> "EventKeys":
        """One instance per published key file (and version of it) in this process: the services of one
        process share what they have verified (each event's signature is checked once, not per service)."""
        path = Path(path) / EVENT_KEYS if Path(path).is_dir() else Path(path)
        stamp = (str(path), path.stat().st_mtime_ns if path.exists() else 0)
        found = _SHARED.get(stamp)
        if found is None:
            found = _SHARED[stamp] = cls.load(path)
        return found

    def document(self) -> dict[str, Any]:
        return {"keys": self.entries}

    def check_key(self, env: dict[str, Any], seq: int | None = None, county: str | None = None) -> str | None:
        """The cheap half: the key is published, allowed for the event's context and was not revoked
        when the event was stored at `seq` of `county`'s stream (see `revoked_from`)."""
        kid = env.get("key_id")
        entry = self.entries.get(kid) if isinstance(kid, str) else None
        if entry is None:
            return f"signed with an unknown key {str(kid)[:40]!r}"
        if env.get("context") not in WRITES.get(entry["writer"], ()):
            return f"key {kid} of {entry['writer']} may not sign {env.get('context')!r} events"
        if entry.get("revoked_at") and (refused := _revoked(entry, seq, county or env.get("county"))):
            return f"key {kid} was revoked at {entry['revoked_at']} ({refused})"
        if not isinstance(env.get("sig"), str):
            return "signature is not a string"
        return None

    def check_signature(self, env: dict[str, Any]) -> str | None:
        """The costly half (~50–250 µs here): the Ed25519 signature of the hash."""
        seen = f"{env['key_id']} {env['hash']} {env['sig']}"  # what was verified: this key, hash and signature
        if seen in self._verified or seen in _SIGNED_HERE:
            return None
        try:
            self._public[env["key_id"]].verify(env["hash"].encode(), _unb64(env["sig"]))
        except (BadSignatureError, ValueError, TypeError, KeyError):
            return f"signature does not verify with key {env.get('key_id')} (forged or altered)"
        _remember(self._verified, seen)
        return None

    def check(self, env: dict[str, Any], seq: int, signed_from: int, signature: bool = True,
              county: str | None = None) -> str | None:
        """None when the envelope is authentic: its hash matches its content, and it is signed by a
        writer key allowed for its context (or it is older than signing, below `signed_from`).
        `signature=False` leaves the Ed25519 check to the caller (a chain's head vouches for the chain)."""
        body = {k: v for k, v in env.items() if k not in ("hash", "sig")}
        if chain_hash(body) != env.get("hash"):
            return "hash does not match the envelope's content (altered after it was sealed)"
        if "sig" not in env:
            return None if seq < signed_from else "unsigned event (written by no writer key)"
        return self.check_key(env, seq, county) or (self.check_signature(env) if signature else None)

    def verify_bytes(self, key_id: str, data: bytes, sig: str) -> bool:
        try:
            self._public[key_id].verify(data, _unb64(sig))
            return True
        except (KeyError, BadSignatureError, ValueError, TypeError):
            return False


def _revoked(entry: dict[str, Any], seq: int | None, county: Any) -> str | None:
    """Why an event of a revoked key is refused, else None. The event's own recorded_at is the forger's
    choice, so revocation goes by where the event sits in the log: `revoked_from` holds, per county, the
    first stream sequence stored after the revocation (a thief's later events can only come after it).
    A county whose stream did not exist then, or a revocation whose positions were never recorded,
    accepts nothing signed with the key."""
    first_refused = (entry.get("revoked_from") or {}).get(county)
    if first_refused is None:
        return f"nothing signed with it is accepted in county {county}"
    if seq is None or seq >= first_refused:
        return f"county {county} refuses it from stream sequence {first_refused}"
    return None


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.replace(tmp, path)


def _update_keys(directory: Path, change) -> None:
    path = directory / EVENT_KEYS
    doc = json.loads(path.read_text()) if path.exists() else {"keys": {}}
    change(doc["keys"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True))
    os.replace(tmp, path)


def _publish(directory: Path, writer: str, key: Ed25519PrivateKey, retire: str | None = None) -> str:
    now = now_iso()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = key_id_of(writer, key.public_key())

    def change(keys: dict[str, Any]) -> None:
        if retire:
            keys[retire]["retired_at"] = now
        keys[kid] = {"writer": writer, "public_key": _b64(raw), "created_at": now, "retired_at": None,
                     "revoked_at": None}

    _update_keys(directory, change)
    return kid


def ensure_writer_keys(directory: Path, writers: tuple[str, ...]) -> None:
    """Generate a missing writer key and publish its public half (first start of the embedded default)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for writer in writers:
        path = directory / private_key_file(writer)
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            _write_private(path, key)
            _publish(directory, writer, key)


def rotate_writer_key(directory: Path, writer: str) -> tuple[str, str]:
    """A new key for `writer`; the old one is retired (what it signed stays valid) and its private half
    replaced. Returns (old key id, new key id). Running writers switch to it within RELOAD_S."""
    directory = Path(directory)
    old = Signer.load(directory, writer).key_id
    key = Ed25519PrivateKey.generate()
    new = _publish(directory, writer, key, retire=old)  # published before any writer can sign with it
    _write_private(directory / private_key_file(writer), key)
    return old, new


def revoke_key(directory: Path, key_id: str, revoked_from: dict[str, int]) -> None:
    """Mark a (leaked, already rotated) key revoked: in each county nothing it signed is accepted from
    the stream sequence given (the county's next sequence when the revocation was made); in a county
    not listed, nothing it signed at all."""
    def change(keys: dict[str, Any]) -> None:
        keys[key_id].update(revoked_at=now_iso(), revoked_from=dict(sorted(revoked_from.items())))

    _update_keys(Path(directory), change)
