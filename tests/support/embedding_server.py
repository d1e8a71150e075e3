"""A small OpenAI-compatible embedding server that runs the REAL packaged model, with faults.

Which server, and why this one: the tests prefer an existing server, and `infinity-emb`
does run here (in its own virtual environment, `.venv-infinity`, with older pins; see
`tests/support/infinity.py`); the tests use it for protocol compatibility and for model
identity across two implementations. But no existing server can be told to answer 429 with
`Retry-After`, drop a connection, return vectors of the wrong size or die after N requests,
which the fault tests need on cue. So this server (stdlib `ThreadingHTTPServer`) serves the
packaged all-MiniLM-L6-v2 through codesearch's own loader (`--backend torch`: fp32 as
sentence-transformers runs it; `onnx-int8`: the quantised export), and takes faults from
the test over HTTP. `--rotate SEED` multiplies every vector by a fixed random rotation: a
deterministic stand-in for a different model of the same size (no second model is
available offline).

    python -m tests.support.embedding_server [--backend torch] [--port 0] [--rotate SEED]
        [--served-name all-MiniLM-L6-v2] [--api-key-env VAR]

It prints `READY <port>` once the model is loaded and the socket listens.

Routes: `POST /v1/embeddings` (`input` a string or a list, `model`; answers `data[i]`
with `embedding` and `index`, and `usage`), `GET /v1/models`; for tests: `POST /test/faults`
(JSON merged into the fault settings, see Faults) and `GET /test/stats`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


@dataclass
class Faults:
    """What goes wrong, and for how many of the next embedding requests."""

    delay_s: float = 0.0  # every answer waits this long first
    rate_limited: int = 0  # answer 429 with `retry_after` as the Retry-After header
    retry_after: str = "1"
    server_errors: int = 0  # answer `error_status`
    error_status: int = 503
    wrong_dimensions: int = 0  # answer vectors one component short
    drops: int = 0  # close the connection without an answer
    exit_after: int = -1  # after this many more answers, die (os._exit) on the next request
    reject_containing: str = ""  # answer 400 to a request with a text containing this


@dataclass
class Stats:
    requests: int = 0  # embedding requests received
    answered: int = 0  # embedding requests answered with vectors
    texts: int = 0  # texts embedded


class EmbeddingService:
    def __init__(self, backend: str, served_name: str, rotate: int | None, key: str) -> None:
        from codesearch.embedding.registry import load_encoder

        self.model = load_encoder("", backend=backend)
        self.served_name = served_name
        self.key = key
        self.faults = Faults()
        self.stats = Stats()
        self.lock = threading.Lock()  # faults and stats
        self.model_lock = threading.Lock()  # one model, one batch at a time (as one GPU)
        self.rotation: np.ndarray[Any, np.dtype[np.float32]] | None = None
        if rotate is not None:
            rng = np.random.default_rng(rotate)
            q, _ = np.linalg.qr(rng.standard_normal((self.model.dimensions,) * 2))
            self.rotation = q.astype(np.float32)

    def take_fault(self) -> str | None:
        """The fault for this request, consuming one of its count."""
        with self.lock:
            self.stats.requests += 1
            f = self.faults
            if f.exit_after == 0:
                return "exit"
            if f.drops > 0:
                f.drops -= 1
                return "drop"
            if f.rate_limited > 0:
                f.rate_limited -= 1
                return "429"
            if f.server_errors > 0:
                f.server_errors -= 1
                return "5xx"
            if f.wrong_dimensions > 0:
                f.wrong_dimensions -= 1
                return "dims"
            return None

    def embed(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        with self.model_lock:
            vectors = self.model.encode(texts, batch_size=32)
        if self.rotation is not None:
            vectors = vectors @ self.rotation
        return np.asarray(vectors, dtype=np.float32)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers and httpx's pool expect
    service: EmbeddingService

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the test reads stats, not access logs

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self) -> None:
        service = self.service
        if self.path == "/v1/models":
            self._send(
                200,
                {
                    "object": "list",
                    "data": [{"id": service.served_name, "object": "model", "owned_by": "tests"}],
                },
            )
        elif self.path == "/test/stats":
            with service.lock:
                self._send(200, asdict(service.stats))
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        service = self.service
        if self.path == "/test/faults":
            changes = self._body()
            known = {f.name for f in fields(Faults)}
            with service.lock:
                if changes.pop("reset", False):
                    service.faults = Faults()
                for name, value in changes.items():
                    if name not in known:
                        self._send(400, {"error": {"message": f"unknown fault {name}"}})
                        return
                    setattr(service.faults, name, value)
                self._send(200, asdict(service.faults))
            return
        if self.path != "/v1/embeddings":
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        if service.key:
            given = self.headers.get("Authorization", "")
            if given != f"Bearer {service.key}":
                # echoes what it was sent, as careless servers do: the client must scrub it
                self._send(401, {"error": {"message": f"invalid API key: {given!r}"}})
                return
        request = self._body()
        texts = request.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            self._send(400, {"error": {"message": "input must be a string or a list of strings"}})
            return
        if request.get("model") != service.served_name:
            self._send(404, {"error": {"message": f"model {request.get('model')!r} not found"}})
            return
        fault = service.take_fault()
        if fault == "exit":
            os._exit(3)  # killed mid-index: no answer, no cleanup
        delay = service.faults.delay_s
        if delay:
            time.sleep(delay)
        if fault == "drop":
            self.close_connection = True
            return  # the connection closes with no response at all
        if fault == "429":
            self._send(
                429,
                {"error": {"message": "rate limited"}},
                {"Retry-After": service.faults.retry_after},
            )
            return
        if fault == "5xx":
            self._send(service.faults.error_status, {"error": {"message": "overloaded"}})
            return
        marker = service.faults.reject_containing
        if marker and any(marker in t for t in texts):
            self._send(400, {"error": {"message": "input rejected"}})
            return
        vectors = service.embed(texts)
        if fault == "dims":
            vectors = vectors[:, :-1]
        with service.lock:
            service.stats.answered += 1
            service.stats.texts += len(texts)
            if service.faults.exit_after > 0:
                service.faults.exit_after -= 1
        self._send(
            200,
            {
                "object": "list",
                "model": service.served_name,
                "data": [
                    {"object": "embedding", "index": i, "embedding": row.tolist()}
                    for i, row in enumerate(vectors)
                ],
                "usage": {"prompt_tokens": 0, "total_tokens": 0},
            },
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="OpenAI-compatible test embedding server")
    parser.add_argument("--backend", default="torch", choices=("torch", "onnx-int8"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--served-name", default="all-MiniLM-L6-v2")
    parser.add_argument("--rotate", type=int, default=None, help="seed of a fixed rotation")
    parser.add_argument("--api-key-env", default="", help="require the key in this variable")
    args = parser.parse_args(argv)
    key = os.environ.get(args.api_key_env, "") if args.api_key_env else ""
    service = EmbeddingService(args.backend, args.served_name, args.rotate, key)
    handler = type("BoundHandler", (Handler,), {"service": service})
    server = ThreadingHTTPServer((args.host, args.port), handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
