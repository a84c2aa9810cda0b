"""Real servers on 127.0.0.1 for the tests: `chroma run`, `python -m llama_cpp.server`, and a
TCP proxy that drops connections on purpose (in front of a real server, or of nothing).

Each server's output goes to a file (a pipe a busy server could fill would block it)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from advisor.load import free_port

BIN = Path(sys.executable).parent
ESTABLISHED = "01"  # TCP state in /proc/net/tcp


def wait_for_http(url: str, proc: subprocess.Popen[bytes], log: Path, limit_s: float) -> None:
    """Until ``url`` answers 200; fails with the server's log if it exits or never does."""
    deadline = time.monotonic() + limit_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{url} did not come up (exit {proc.poll()}): {tail}")
        time.sleep(0.2)


class Process:
    """A server process with its log; stop() on exit."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.args, self.log, self.env = args, log, env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen(
                self.args,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(self.env or {})},
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)  # a stopped process dies on SIGKILL too
            self.proc.kill()
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGCONT)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


class ChromaServer(Process):
    """``chroma run --path DIR --host 127.0.0.1 --port N`` (chromadb's own server)."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.path = path
        super().__init__(
            [str(BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1"]
            + ["--port", str(self.port)],
            path.parent / f"chroma-{self.port}.log",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        super().start()
        assert self.proc is not None
        wait_for_http(self.url + "/api/v2/heartbeat", self.proc, self.log, 120)

    def request_waiting(self) -> bool:
        """True when a request has reached the server's socket and is not read yet (the
        server is stopped): an established connection to its port with bytes queued."""
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            port = int(fields[1].rpartition(":")[2], 16)
            rx_queue = int(fields[4].partition(":")[2], 16)
            if port == self.port and fields[3] == ESTABLISHED and rx_queue > 0:
                return True
        return False


class LlamaServer(Process):
    """``python -m llama_cpp.server``: llama.cpp's OpenAI-compatible server, one model."""

    def __init__(self, model: Path, log_dir: Path, threads: int, n_ctx: int = 2048) -> None:
        self.port = free_port()
        super().__init__(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
            + ["--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(n_ctx)]
            + ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
            + ["--model_alias", "smollm2", "--seed", "0"]
            # by default a new request cuts off the answer being streamed (see DEPLOY.md)
            + ["--interrupt_requests", "False"],
            log_dir / f"llama-{self.port}.log",
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        super().start()
        assert self.proc is not None
        wait_for_http(self.base_url + "/models", self.proc, self.log, 300)


class FlakyProxy:
    """A TCP proxy on 127.0.0.1 that drops its first ``drop_first`` connections after the
    request arrived (no answer, as a server dying mid-request), then forwards the rest to
    ``target_port``; with no target it drops every connection. ``connections`` counts them."""

    def __init__(self, target_port: int | None, drop_first: int = 0) -> None:
        self.target_port = target_port
        self.drop_first = drop_first
        self.connections = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                drop = self.target_port is None or self.connections <= self.drop_first
                self.dropped += drop
            threading.Thread(target=self._serve, args=(conn, drop), daemon=True).start()

    def _serve(self, conn: socket.socket, drop: bool) -> None:
        if drop:
            with contextlib.suppress(OSError):
                conn.recv(65536)  # the request arrived; the "server" dies without answering
            conn.close()
            return
        assert self.target_port is not None
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        self._open += [conn, upstream]
        for a, b in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self._sock.close()
        for s in self._open:
            with contextlib.suppress(OSError):
                s.close()
