"""docker-compose.yml started as local processes: no Docker engine runs here, so each service is started
with exactly the command and environment its container gets, remapped to this machine:

* addresses: `<service>:<port>` (nats-1:4222, postgres:5432 ...) → 127.0.0.1:<a free port>, and
  0.0.0.0 listeners → 127.0.0.1 (loopback only); the gateway's published port → a free port;
* mounts: each container's `/run/secrets` (or other secret/config targets) → a directory holding only the
  files that service mounts; named volumes → directories of the test; the image's `python` → this one;
* PostgreSQL: the database of DANGJIAN_TEST_POSTGRES_URL (its user and database replace the compose file's
  `dangjian`), reached through a TCP proxy the test controls (tests/tcp_proxy.py).

Services start in the order their `depends_on: condition: service_healthy` gives, each stage waiting
until the compose healthcheck of every instance passes (the same command, remapped). The secrets are the
ones `dangjian credentials` writes, as an operator would generate them.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from shared.natsserver import free_port, nats_server_binary

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def mounts_of(spec: dict, kind: str) -> list[tuple[str, str]]:
    """(source, target path) of a service's `secrets:` or `configs:` (short or long syntax)."""
    found = []
    for item in spec.get(kind, []):
        source, target = (item, item) if isinstance(item, str) else (item["source"], item.get("target", item["source"]))
        found.append((source, target if target.startswith("/") else f"/run/{kind}/{target}"))
    return found


@dataclass
class Instance:
    service: str
    index: int
    proc: subprocess.Popen
    env: dict[str, str]
    replace: dict[str, str]
    cmd: list[str]
    log_path: Path

    @property
    def name(self) -> str:
        return f"{self.service}-{self.index}"

    def healthcheck(self, spec: dict) -> bool:
        """The service's compose healthcheck (CMD form), remapped; True when it passes."""
        test = [self._map(a) for a in spec["healthcheck"]["test"][1:]]
        if test[0] == "wget":  # busybox wget --spider URL: the same GET with urllib
            try:
                with urllib.request.urlopen(test[-1], timeout=3) as r:
                    return r.status == 200
            except (OSError, urllib.error.URLError):
                return False
        test[0] = sys.executable if test[0] == "python" else test[0]
        return subprocess.run(test, capture_output=True, timeout=20).returncode == 0

    def _map(self, text: str) -> str:
        return substitute(text, self.replace)


def substitute(text: str, replace: dict[str, str]) -> str:
    for old, new in sorted(replace.items(), key=lambda kv: -len(kv[0])):  # longest first: /run/secrets before /run
        text = text.replace(old, new)
    return text


@dataclass
class LocalCompose:
    root: Path
    postgres: str  # the PostgreSQL URL the services use (through the proxy)
    doc: dict = field(default_factory=compose)
    ports: dict[str, int] = field(default_factory=dict)  # "nats-1:4222" → local port
    instances: list[Instance] = field(default_factory=list)
    proxy: object = None  # the TcpProxy in front of PostgreSQL (the cluster fixture sets it)

    # -- preparation ---------------------------------------------------------------------------
    def generate_secrets(self) -> Path:
        secrets = self.root / "secrets"
        done = subprocess.run([sys.executable, "-m", "services.cli", "credentials", str(secrets)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
        assert done.returncode == 0, done.stdout + done.stderr
        return secrets

    def port(self, host: str, port: int) -> int:
        return self.ports.setdefault(f"{host}:{port}", free_port())

    def address_map(self) -> dict[str, str]:
        """Every `<service>:<port>` the compose file names → 127.0.0.1:<local port>."""
        text = (ROOT / "docker-compose.yml").read_text() + (ROOT / "deploy" / "nats.conf").read_text()
        text += (self.root / "secrets" / "nats-auth.conf").read_text()
        mapped = {}
        for host, port in set(re.findall(r"\b(nats-\d|postgres):(\d+)\b", text)):
            if host == "postgres":
                continue  # the proxy: DANGJIAN_DATABASE_URL is replaced whole
            mapped[f"{host}:{port}"] = f"127.0.0.1:{self.port(host, int(port))}"
        return mapped

    def container_files(self, name: str, spec: dict, secrets: Path) -> dict[str, str]:
        """The container's mounted files and volumes as local paths (only what it mounts)."""
        files: dict[str, str] = {}
        sources = {**self.doc.get("secrets", {}), **self.doc.get("configs", {})}
        for kind in ("secrets", "configs"):
            for source, target in mounts_of(spec, kind):
                local = self.root / name / target.lstrip("/")
                local.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / sources[source]["file"].replace("./secrets/", f"{secrets}/"), local)
                files[str(Path(target).parent)] = str(local.parent)
        for volume in spec.get("volumes", []):
            source, target = volume.split(":")[:2]
            files[target] = str(self.root / name / "volumes" / source)
            Path(files[target]).mkdir(parents=True, exist_ok=True)
        return files

    # -- starting ----------------------------------------------------------------------------
    def start(self, timeout: float = 120.0) -> "LocalCompose":
        secrets = self.generate_secrets()
        addresses = self.address_map()
        services = self.doc["services"]
        started: set[str] = {"postgres"}  # the test's PostgreSQL (already healthy)
        while len(started) < len(services):
            stage = [n for n, s in services.items() if n not in started and set(s.get("depends_on", {})) <= started]
            assert stage, f"depends_on cycle among {set(services) - started}"
            for name in stage:
                for i in range(services[name].get("deploy", {}).get("replicas", 1)):
                    self.instances.append(self._spawn(name, i + 1, services[name], secrets, addresses))
            self.wait_healthy(stage, timeout)
            started |= set(stage)
        return self

    def _spawn(self, name: str, index: int, spec: dict, secrets: Path, addresses: dict[str, str]) -> Instance:
        key = f"{name}-{index}"
        files = self.container_files(key, spec, secrets)
        status = self.port(key, 9464)
        replace = {**addresses, **files, "0.0.0.0": "127.0.0.1", "127.0.0.1:9464": f"127.0.0.1:{status}",
                   "127.0.0.1:8222": self._local_http(name)}
        if name.startswith("nats-"):
            self._localize_nats_config(name, files, addresses)
            cmd = [nats_server_binary(), *[substitute(a, files) for a in spec["command"]]]
            env = {"PATH": os.environ["PATH"]}
        else:
            env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}  # only the compose file's
            env |= {k: substitute(str(v), replace) for k, v in spec.get("environment", {}).items()}
            env |= {"DANGJIAN_DATABASE_URL": self.postgres, "DANGJIAN_DATA_DIR": str(self.root / key / "data"),
                    "DANGJIAN_METRICS_PORT": str(status), "DANGJIAN_HTTP_PORT": str(self.port(key, 8000))}
            cmd = [sys.executable, "-m", "services.cli", *spec["command"]]
        inst = Instance(name, index, None, env, replace, cmd, self.root / f"{key}.log")
        self.launch(inst)
        return inst

    @staticmethod
    def launch(inst: Instance) -> None:
        """(Re)start an instance's process: the same command, environment and files (a container restart)."""
        with open(inst.log_path, "ab") as log:
            inst.proc = subprocess.Popen(inst.cmd, cwd=ROOT, env=inst.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    @staticmethod
    def kill(inst: Instance) -> None:
        """kill -9, as a crashed container."""
        os.killpg(inst.proc.pid, signal.SIGKILL)
        inst.proc.wait()

    def _localize_nats_config(self, name: str, files: dict[str, str], addresses: dict[str, str]) -> None:
        """The mounted nats.conf and nats-auth.conf with this node's ports and paths (the files only)."""
        conf_dir = Path(files["/etc/nats"])
        node = {"0.0.0.0:4222": addresses[f"{name}:4222"], "0.0.0.0:8222": self._local_http(name),
                "0.0.0.0:6222": addresses[f"{name}:6222"], "store_dir: /data": f"store_dir: \"{files['/data']}\"",
                **addresses}
        for path in conf_dir.iterdir():
            path.write_text(substitute(path.read_text(), node))

    def _local_http(self, name: str) -> str:
        return f"127.0.0.1:{self.port(name, 8222)}"

    def wait_healthy(self, names: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = [i for i in self.instances if i.service in names]
        specs = self.doc["services"]
        while pending:
            for inst in list(pending):
                assert inst.proc.poll() is None, f"{inst.name} exited with {inst.proc.returncode}: {self.log(inst)[-3000:]}"
                if inst.healthcheck(specs[inst.service]):
                    pending.remove(inst)
            assert time.monotonic() < deadline, f"not healthy within {timeout}s: {[i.name for i in pending]}"
            time.sleep(0.3) if pending else None

    # -- using and stopping ---------------------------------------------------------------------
    def log(self, inst: Instance) -> str:
        return inst.log_path.read_text(errors="replace")

    def of(self, service: str) -> list[Instance]:
        return [i for i in self.instances if i.service == service]

    def by_pid(self, pid: int) -> Instance:
        return next(i for i in self.instances if i.proc.pid == pid)

    def nats_urls(self) -> list[str]:
        return [f"nats://127.0.0.1:{self.ports[f'nats-{i}:4222']}" for i in (1, 2, 3)]

    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway-1:8000']}"

    def status_url(self, inst: Instance) -> str:
        return f"http://127.0.0.1:{self.ports[f'{inst.name}:9464']}"

    def stop(self) -> None:
        for inst in reversed(self.instances):
            if inst.proc.poll() is None:
                inst.proc.send_signal(signal.SIGTERM)
        for inst in self.instances:
            try:
                inst.proc.wait(20)
                os.killpg(inst.proc.pid, signal.SIGKILL)  # anything the process left in its group
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:  # never leave a process behind
                os.killpg(inst.proc.pid, signal.SIGKILL)
                inst.proc.wait()


def postgres_through(url: str, port: int) -> str:
    """The test database's URL with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return parts._replace(netloc=f"{userinfo}127.0.0.1:{port}").geturl()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """docker-compose.yml running as local processes, PostgreSQL behind `cluster.proxy` (tests/tcp_proxy.py);
    started once for the topology and fault tests (registered in tests/conftest.py)."""
    from tests.conftest import POSTGRES_URL
    from tests.tcp_proxy import TcpProxy

    if not POSTGRES_URL:
        pytest.skip("the compose topology runs on PostgreSQL: set DANGJIAN_TEST_POSTGRES_URL (.ci/run does)")
    pg = urlsplit(POSTGRES_URL)
    proxy = TcpProxy(pg.hostname or "127.0.0.1", pg.port or 5432).start()
    local = LocalCompose(tmp_path_factory.mktemp("compose"), postgres_through(POSTGRES_URL, proxy.port))
    local.proxy = proxy
    try:
        yield local.start()
    finally:
        local.stop()
        proxy.stop()
