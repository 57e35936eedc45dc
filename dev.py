#!/usr/bin/env python3
"""Bootstrap for a fresh machine: only Python 3.11+ and PyPI are assumed.

    python3 dev.py start          # the whole system on the embedded default
    python3 dev.py test [ARGS]    # the whole test suite (pytest ARGS)
    python3 dev.py bench NAME     # one benchmark from bench/

Each creates or reuses the virtual environment at .venv, installing the pinned
versions from requirements.lock; it reinstalls only when the lock or
pyproject.toml changed (a stamp file records their hash).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".dangjian-installed"


def _inputs_hash() -> str:
    h = hashlib.sha256()
    for name in ("requirements.lock", "pyproject.toml"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"dangjian needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    if not PY.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    want = _inputs_hash()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    print("installing pinned dependencies into .venv ...", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.check_call([*pip, "-c", "requirements.lock", "-e", ".[test]"], cwd=ROOT)
    STAMP.write_text(want)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    ensure_venv()
    cmd, rest = argv[0], argv[1:]
    if cmd == "start":
        return subprocess.call([str(BIN / "dangjian"), "start", *rest], cwd=ROOT)
    if cmd == "test":
        return subprocess.call([str(PY), "-m", "pytest", *rest], cwd=ROOT)
    if cmd == "bench":
        if not rest:
            sys.exit("usage: python3 dev.py bench NAME [--n N]")
        return subprocess.call([str(PY), str(ROOT / "bench" / f"{rest[0]}.py"), *rest[1:]], cwd=ROOT)
    sys.exit(f"unknown command {cmd!r}; try: start, test, bench")


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
