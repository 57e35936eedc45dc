"""dangjian against the peer (the `eventsourcing` library, SQLite, in-process), back to back in one run.

    .venv/bin/python bench/vs_peer.py [--n 500000] [--commands 20000] [--peer-dir ../shared/peer]

On first use it creates the peer's own virtual environment (`.venv-peer`, `eventsourcing` pinned below) and
then runs, one after the other on the same machine: the peer's single commands, ours (bench/ingest.py:
record_score over NATS request/reply, services in their own process, fsync on every write), ours through
HTTP (bench/http_scores.py: concurrent clients posting single scores to the gateway of `dangjian start`, then the
bulk path, POST scores/batch, timed until the read-model caught up), the peer's rebuild and ours
(bench/rebuild.py: the star read-model from N events). Each of our benchmarks also measures its raw NATS
limit in the same run (kept in the output as `*_raw_*` and `*_raw_ratio`).
Prints progress, then ONE JSON object as the last line (the issue's keys, the peer's figures of this run,
and the machine's load average before and after, since it is shared).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path

import orjson

from common import emit, say

ROOT = Path(__file__).resolve().parent.parent
PEER_VENV = ROOT / ".venv-peer"
PEER_PIN = "eventsourcing==9.5.6"


def default_peer_dir() -> Path:
    """`shared/peer` beside the checkout (or beside its parent folder, for a git worktree)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "peer").is_dir():
            return base / "shared" / "peer"
    return ROOT.parent / "shared" / "peer"


def peer_python() -> Path:
    """The peer's interpreter, its environment created (and the pinned library installed) on first use."""
    python = PEER_VENV / "bin" / "python"
    stamp = PEER_VENV / ".installed"
    if not (python.exists() and stamp.exists() and stamp.read_text() == PEER_PIN):
        say(f"creating the peer's environment in {PEER_VENV} ({PEER_PIN})")
        venv.EnvBuilder(with_pip=True, clear=True).create(PEER_VENV)
        subprocess.check_call([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", PEER_PIN])
        stamp.write_text(PEER_PIN)
    return python


def last_json(cmd: list[str], what: str) -> dict:
    """Runs a benchmark, passing its progress lines through; returns its last line's JSON object."""
    say(f"{what}: {' '.join(cmd[1:])}")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = []
    for line in proc.stdout:
        lines.append(line)
        print(f"    {line}", end="", flush=True)
    if proc.wait() != 0:
        raise SystemExit(f"{what} failed (exit {proc.returncode})")
    return orjson.loads(lines[-1])


def main() -> None:
    ap = argparse.ArgumentParser(prog="bench/vs_peer.py")
    ap.add_argument("--n", type=int, default=500_000, help="events of the rebuild (default 500,000)")
    ap.add_argument("--commands", type=int, default=20_000, help="single score commands (default 20,000)")
    ap.add_argument("--bulk", type=int, default=200_000, help="scores of the bulk path (default 200,000)")
    ap.add_argument("--peer-dir", type=Path, default=default_peer_dir(),
                    help="the peer's scripts (default ../shared/peer beside the checkout)")
    a = ap.parse_args()
    ours = [sys.executable]
    peer = [str(peer_python())]
    load_before = os.getloadavg()

    peer_cmd = last_json([*peer, str(a.peer_dir / "eventsourcing_commands.py"), "--n", str(a.commands)],
                         "peer commands")
    cmd = last_json([*ours, str(ROOT / "bench" / "ingest.py"), "--n", str(a.commands)], "our commands (NATS)")
    http = last_json([*ours, str(ROOT / "bench" / "http_scores.py"), "--n", str(a.commands), "--bulk", str(a.bulk)],
                     "our commands and bulk scores (HTTP)")
    peer_rb = last_json([*peer, str(a.peer_dir / "eventsourcing_rebuild.py"), "--n", str(a.n)], "peer rebuild")
    rb = last_json([*ours, str(ROOT / "bench" / "rebuild.py"), "--n", str(a.n)], "our rebuild")

    figures = {
        "bench": "vs_peer",
        "commands_per_s": cmd["scores_per_s"],
        "peer_commands_per_s": peer_cmd["commands_per_s"],
        "commands_ratio": round(cmd["scores_per_s"] / peer_cmd["commands_per_s"], 3),
        "http_commands_per_s": http["http_commands_per_s"],
        "http_ratio": round(http["http_commands_per_s"] / peer_cmd["commands_per_s"], 3),
        "bulk_scores_per_s": http["bulk_scores_per_s"],
        "rebuild_events_per_s": rb["events_per_s"],
        "peer_rebuild_events_per_s": peer_rb["rebuild_events_per_s"],
        "rebuild_ratio": round(rb["events_per_s"] / peer_rb["rebuild_events_per_s"], 3),
        "rebuild_peak_rss_mb": rb.get("rebuild_peak_rss_mb") or rb["peak_rss_mb"],
        "process_peak_rss_mb": rb["peak_rss_mb"],  # ours with the write phase and the raw read, as the peer's
        "peer_rebuild_peak_rss_mb": peer_rb["peak_rss_mb"],
        "commands_raw_events_per_s": cmd["raw_events_per_s"], "commands_raw_ratio": cmd["ratio"],
        "rebuild_raw_events_per_s": rb["raw_events_per_s"], "rebuild_raw_ratio": rb["ratio"],
        "http_raw_events_per_s": http["raw_events_per_s"], "http_raw_ratio": http["http_raw_ratio"],
        "bulk_raw_ratio": http["bulk_raw_ratio"], "bulk": a.bulk,
        "n": a.n, "commands": a.commands, "peer": peer_rb.get("version", PEER_PIN),
        "ok": bool(rb["ok"]) and cmd["failures"] == 0 and bool(http["ok"]),
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
    }
    emit(figures)


if __name__ == "__main__":
    main()
