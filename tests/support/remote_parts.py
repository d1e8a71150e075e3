"""Real remote parts for tests, each started on loopback or in a temp folder and stopped after:
the test embedding server (tests/support/embedding_server.py), infinity-emb (an existing
OpenAI-compatible server, in its own virtual environment), and Debian's redis-server."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
INFINITY_VENV_ENV = "CODESEARCH_INFINITY_VENV"
INFINITY_VENV = REPO / ".venv-infinity"


def free_port() -> int:
    """A port nothing listens on now (for servers that cannot report the one they chose)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


# -- the test embedding server ----------------------------------------------------------------
@dataclass
class EmbeddingServer:
    """One `tests.support.embedding_server` process."""

    process: subprocess.Popen[str]
    port: int
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _call(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def faults(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("/test/faults", changes)
        return result

    def reset(self) -> None:
        self.faults(reset=True)

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = self._call("/test/stats")
        return result

    def kill(self) -> None:
        """Killed as a crash kills it: SIGKILL, no cleanup."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        _stop(self.process)

    def restart(self) -> EmbeddingServer:
        """The same server again on the same port (after a kill or a crash)."""
        self.stop()
        return start_embedding_server(*self.args, port=self.port, env=self.env)


def start_embedding_server(
    *args: str, port: int = 0, env: dict[str, str] | None = None, timeout: float = 300.0
) -> EmbeddingServer:
    """Start the server and wait for its READY line (the model is loaded then)."""
    command = [sys.executable, "-m", "tests.support.embedding_server", "--port", str(port), *args]
    full_env = {**os.environ, **(env or {})}
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("READY ") or not line:
            break
    if not line.startswith("READY "):
        _stop(process)
        raise RuntimeError(f"the test embedding server did not start ({command})")
    return EmbeddingServer(process, int(line.split()[1]), list(args), dict(env or {}))


# -- infinity-emb -------------------------------------------------------------------------------
def infinity_executable() -> Path | None:
    venv = Path(os.environ.get(INFINITY_VENV_ENV) or INFINITY_VENV)
    executable = venv / "bin" / "infinity_emb"
    return executable if executable.is_file() else None


@dataclass
class InfinityServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        _stop(self.process, 30)


def start_infinity(model_path: str, served_name: str, log: Path) -> InfinityServer:
    """infinity-emb serving a local model folder on loopback (offline, no usage statistics)."""
    executable = infinity_executable()
    assert executable is not None
    port = free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "INFINITY_ANONYMOUS_USAGE_STATS": "0",
        "DO_NOT_TRACK": "1",
    }
    command = [
        str(executable), "v2",
        "--model-id", model_path,
        "--served-model-name", served_name,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--url-prefix", "/v1",
        "--engine", "torch",
        "--device", "cpu",
        "--no-bettertransformer",  # needs optimum, which current libraries dropped
        "--no-model-warmup",
    ]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = InfinityServer(process, port, log)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{server.base_url}/models", timeout=2) as answer,
        ):
            if answer.status == 200:
                return server
        time.sleep(0.5)
    server.stop()
    tail = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"infinity-emb did not start:\n{tail}")


# -- redis-server ------------------------------------------------------------------------------
def redis_binary() -> str | None:
    return shutil.which("redis-server")


@dataclass
class RedisServer:
    """redis-server in the foreground: no persistence, loopback or a socket in a temp folder."""

    process: subprocess.Popen[bytes]
    folder: Path
    port: int | None  # None: unix socket only
    extra: tuple[str, ...] = ()
    password: str = ""  # --requirepass: the URL then carries it, as users write it

    @property
    def socket_path(self) -> Path:
        return self.folder / "redis.sock"

    @property
    def url(self) -> str:
        secret = f":{self.password}@" if self.password else ""
        if self.port is not None:
            return f"redis://{secret}127.0.0.1:{self.port}/0"
        return f"unix://{secret}{self.socket_path}"

    def client(self) -> Any:
        import redis

        password = self.password or None
        if self.port is not None:
            return redis.Redis(host="127.0.0.1", port=self.port, password=password)
        return redis.Redis(unix_socket_path=str(self.socket_path), password=password)

    def stop(self) -> None:
        _stop(self.process)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): it accepts connections and answers nothing."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def restart(self) -> RedisServer:
        """A new, empty server at the same address."""
        self.stop()
        return start_redis(self.folder, port=self.port, extra=self.extra, password=self.password)


def start_redis(
    folder: Path | None = None,
    *,
    port: int | None = None,
    extra: tuple[str, ...] = (),
    password: str = "",
) -> RedisServer:
    """Start redis-server; `port` None listens on a unix socket in `folder` only; with a
    `password`, clients must give it."""
    binary = redis_binary()
    assert binary is not None
    # a short folder: a unix socket path must fit in about 100 bytes
    folder = folder or Path(tempfile.mkdtemp(prefix="csr-", dir="/tmp"))
    socket_path = folder / "redis.sock"
    command = [
        binary,
        "--bind", "127.0.0.1",
        "--port", str(port or 0),
        "--save", "",
        "--appendonly", "no",
        "--dir", str(folder),
        *extra,
    ]  # fmt: skip
    if port is None:
        command += ["--unixsocket", str(socket_path), "--unixsocketperm", "700"]
    if password:
        command += ["--requirepass", password]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(process, folder, port, extra, password)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(Exception):
            client = server.client()
            try:
                if client.ping():
                    return server
            finally:
                client.close()
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"redis-server did not start ({command})")


@dataclass
class RedisCluster:
    """Three redis-server nodes joined as one cluster (slots split evenly, no replicas)."""

    nodes: list[RedisServer]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_redis_cluster(folder: Path) -> RedisCluster:
    nodes: list[RedisServer] = []
    bus_ports: list[int] = []
    try:
        for number in range(3):
            node_dir = folder / f"node{number}"
            node_dir.mkdir(parents=True)
            bus_ports.append(free_port())  # not port + 10000, the default: that may overflow
            cluster = (
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-port", str(bus_ports[-1]),
            )  # fmt: skip
            nodes.append(start_redis(node_dir, port=free_port(), extra=cluster))
        clients = [node.client() for node in nodes]
        ranges = [(0, 5460), (5461, 10922), (10923, 16383)]
        for client, (low, high) in zip(clients, ranges, strict=True):
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", low, high)
        for node, bus in zip(nodes[1:], bus_ports[1:], strict=True):
            clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, bus)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = [c.execute_command("CLUSTER", "INFO") for c in clients]
            text = [s.decode() if isinstance(s, bytes) else str(s) for s in states]
            if all("cluster_state:ok" in t and "cluster_known_nodes:3" in t for t in text):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the redis cluster did not form")
        for client in clients:
            client.close()
        return RedisCluster(nodes)
    except BaseException:
        for node in nodes:
            node.stop()
        raise
