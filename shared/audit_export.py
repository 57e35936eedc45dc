"""A county's log as a file an auditor can check offline: JSON Lines (one `{"seq", "subject", "envelope"}`
per event, in stream order) and beside it `<file>.manifest.json` — county, count, first and last
sequence, the stream's signing start, the SHA-256 of the lines file — signed with the exporter key
(`events-audit-export.pem`). `verify_export` needs only the published public keys (event-keys.json).
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from shared.authenticity import signed_from_of
from shared.canonical import canonical_json
from shared.direct_wire import read_log
from shared.eventstore import EventStore, stream_name
from shared.signing import EXPORTER, EventKeys, Signer, now_iso
from shared.verify import Break, VerifyReport, verify_lines

FORMAT = "dangjian-audit-export/1"


def manifest_path(path: Path) -> Path:
    return Path(f"{path}.manifest.json")


async def export_county(store: EventStore, county: str, path: Path, signer: Signer) -> dict[str, Any]:
    """Write the county's whole log to `path` and its signed manifest; returns the manifest."""
    info = await store.js.stream_info(stream_name(county))
    digest, count, first, last = hashlib.sha256(), 0, None, None
    path = Path(path)
    # the log names members and what they did: readable by its owner only (0600), like the credentials
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        async for seq, subject, body in read_log(store, county):  # over a connection of its own
            line = b'{"seq":%d,"subject":%s,"envelope":%s}\n' % (seq, orjson.dumps(subject), body)
            f.write(line)
            digest.update(line)
            count, last = count + 1, seq
            first = first or seq
    manifest = {"format": FORMAT, "county": county, "count": count, "first_seq": first, "last_seq": last,
                "stream_last_seq": info.state.last_seq, "signed_from": signed_from_of(info.config.metadata),
                "sha256": digest.hexdigest(), "exported_at": now_iso(), "key_id": signer.key_id}
    manifest["sig"] = signer.sign_bytes(canonical_json(manifest))
    manifest_path(path).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


def _lines(path: Path) -> Iterator[tuple[int, str, bytes]]:
    with Path(path).open("rb") as f:
        for n, raw in enumerate(f, start=1):
            try:
                line = orjson.loads(raw)
                yield int(line["seq"]), str(line["subject"]), orjson.dumps(line["envelope"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                yield -n, "", b""  # an unreadable line: reported by the checker at its line number


def verify_export(path: Path, keys: EventKeys) -> tuple[dict[str, Any] | None, VerifyReport]:
    """The manifest (when readable) and the report: manifest signature and digest, then every event."""
    path = Path(path)
    try:
        manifest = orjson.loads(manifest_path(path).read_bytes())
        county = manifest["county"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
        report = VerifyReport("?")
        report.add(Break(None, None, "manifest", f"no readable manifest {manifest_path(path)}: {exc}"))
        return None, report
    problems = _manifest_problems(path, manifest, keys)
    report = verify_lines(lambda: _lines(path), county, keys, int(manifest.get("signed_from") or 1),
                          manifest.get("stream_last_seq"))
    for problem in problems:
        report.add(Break(None, None, "manifest", problem))
    if report.checked != manifest.get("count"):
        report.add(Break(None, None, "manifest", f"the manifest counts {manifest.get('count')} events, "
                                                 f"the file holds {report.checked}"))
    return manifest, report


def _manifest_problems(path: Path, manifest: dict[str, Any], keys: EventKeys) -> list[str]:
    body = {k: v for k, v in manifest.items() if k != "sig"}
    entry = keys.entries.get(manifest.get("key_id"))
    if entry is None or entry.get("writer") != EXPORTER:
        return [f"the manifest is signed with {manifest.get('key_id')!r}, not a published export key"]
    if not keys.verify_bytes(manifest["key_id"], canonical_json(body), str(manifest.get("sig"))):
        return ["the manifest's signature does not verify (altered manifest)"]
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != manifest.get("sha256"):
        return ["the file's SHA-256 differs from the signed manifest (the file was changed)"]
    return []
